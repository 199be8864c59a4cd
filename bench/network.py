#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What berth's networks cost on the start path, in one run.

    bench/network.py [--publish]

On a private data root with the busybox image of bench/engine.py:

1. `berth run --rm IMAGE true` on the default bridge network against
   `--network none`, interleaved in alternating order (wall, ms): the
   network's cost is the difference of the medians (issue #8's target: at
   most 3 ms).  A second pair runs while another container keeps the
   bridge up, so the first container's bridge and nftables set-up is seen
   apart from a veth's.
2. 50 containers started at once on one user network (`run -d`, all
   launched together): the wall time to the last, whether all started, and
   that their 50 addresses are distinct; then `rm -f` of the 50 at once.

Podman is not run here: its netavark writes iptables rules into the
host's own tables.

Writes bench/out/network.md and bench/out/network.tsv (every sample);
--publish also copies the table to bench/network.md.  Everything it makes
is removed at exit.  Environment: BERTH_CLI (as bench/engine.py),
BENCH_NET_N (iterations, default 30).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import berth_cli, make_image_tar, mounts_under, sh, timed, write_results  # noqa: E402

N = int(os.environ.get("BENCH_NET_N", "30"))
PARALLEL = 50


def p90(v):
    return sorted(v)[int(len(v) * 0.9) - 1] if len(v) >= 10 else max(v)


def main():
    publish = "--publish" in sys.argv[1:]
    if os.geteuid() != 0:
        raise SystemExit("bench/network.py: run me as root")
    cli = berth_cli()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-net."))
    os.chmod(work, 0o755)
    root = work / "berth"

    def b(*args, check=True):
        return sh([cli, "--root", str(root), *map(str, args)], check=check)

    samples = {}
    par = {}
    try:
        b("import", make_image_tar(work), "bench:latest")
        b("run", "--rm", "bench:latest", "true")  # warm up
        modes = [("none", ["--network", "none"]), ("bridge", [])]
        for phase in ("alone", "bridge kept up"):
            keeper = None
            if phase != "alone":
                keeper = b("run", "-d", "bench:latest", "sleep", "1000").stdout.strip()
            for i in range(N):
                for name, flags in (modes if i % 2 == 0 else modes[::-1]):
                    samples.setdefault((phase, name), []).append(
                        timed(lambda: b("run", "--rm", *flags, "bench:latest", "true")))
            if keeper:
                b("rm", "-f", keeper)
        b("network", "create", "benchnet")
        t0 = time.monotonic()
        procs = [subprocess.Popen([cli, "--root", str(root), "run", "-d", "--network", "benchnet", "bench:latest",
                                   "sleep", "1000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(PARALLEL)]
        outs = [p.communicate() for p in procs]
        par["start_ms"] = (time.monotonic() - t0) * 1000
        ids = [o[0].strip() for o, p in zip(outs, procs) if p.returncode == 0]
        par["started"] = len(ids)
        par["errors"] = [o[1].strip() for o, p in zip(outs, procs) if p.returncode != 0][:3]
        addrs = [json.loads(b("inspect", "--type", "container", i).stdout)[0]["NetworkSettings"]["Networks"]
                 ["benchnet"]["IPAddress"] for i in ids]
        par["distinct"] = len(set(addrs))
        t0 = time.monotonic()
        procs = [subprocess.Popen([cli, "--root", str(root), "rm", "-f", i], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for i in ids]
        for p in procs:
            p.wait()
        par["rm_ms"] = (time.monotonic() - t0) * 1000
        b("network", "rm", "benchnet")
    finally:
        left = b("ps", "-aq", check=False).stdout.split()
        if left:
            b("rm", "-f", *left, check=False)
        b("network", "rm", "benchnet", check=False)
        for mp in sorted(mounts_under(work), key=len, reverse=True):
            sh(["umount", "-l", mp], check=False)
        assert str(work).startswith("/tmp/berth-bench-net.")
        if not mounts_under(work):
            shutil.rmtree(work, ignore_errors=True)

    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `bench/network.py`: "
             f"{N} interleaved runs of each (wall, ms; median and p90).", f"{sh([cli, '--version']).stdout.strip()}.",
             "",
             "| measurement | --network none | default bridge | bridge − none (median) | bridge/none | target | met? |",
             "|---|---:|---:|---:|---:|---|---|"]
    tsv = ["phase\tmode\tsample_ms"]
    for phase in ("alone", "bridge kept up"):
        none, br = samples[(phase, "none")], samples[(phase, "bridge")]
        d = statistics.median(br) - statistics.median(none)
        what = "`run --rm IMAGE true`" + (", the only container" if phase == "alone"
                                          else ", another container on the bridge")
        lines.append(f"| {what} | {statistics.median(none):.1f} (p90 {p90(none):.1f}) | "
                     f"{statistics.median(br):.1f} (p90 {p90(br):.1f}) | {d:+.1f} | "
                     f"{statistics.median(br) / statistics.median(none):.2f}× | ≤ +3 ms | {'yes' if d <= 3 else 'no'} |")
        for mode, v in (("none", none), ("bridge", br)):
            tsv += [f"{phase}\t{mode}\t{s:.3f}" for s in v]
    lines += ["",
              f"| {PARALLEL} containers started at once on one network | |",
              "|---|---:|",
              f"| started | {par['started']} of {PARALLEL} |",
              f"| distinct addresses | {par['distinct']} |",
              f"| wall time to the last start (ms) | {par['start_ms']:.0f} |",
              f"| wall time to remove them at once (ms) | {par['rm_ms']:.0f} |"]
    if par["errors"]:
        lines.append("")
        lines += [f"error: {e}" for e in par["errors"]]
    write_results("network", lines, tsv, publish)


if __name__ == "__main__":
    main()
