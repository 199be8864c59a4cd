#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""berth's engine against Podman, side by side in one run.

    bench/engine.py [--publish]

Both get a private data root under one temporary directory, the same
busybox image (Debian's busybox-static, imported from one tar), no network
(`--network none`) and the same OCI runtime where that is possible: berth
runs with its own berth-runtime and with runc, Podman with runc (crun
refuses this host's hybrid cgroups without a wrapper, which Podman cannot
be given cleanly).  Podman uses overlay storage, cgroupfs and file events,
and ulimits within the current hard limits (root here may lack
CAP_SYS_RESOURCE).  Every measurement is interleaved, in rotating order.

Measured: `run --rm IMAGE true` (wall), `run -d IMAGE sleep` and `rm -f`
(wall; Podman's with `--time 0`, which kills at once as Docker's does), `ps` with 10 containers running (wall), and what each idle
container's supervisor costs: berth-monitor against Podman's conmon, their
resident (VmRSS) and proportional (Pss) memory with 10 containers running.

Writes bench/out/engine.md and bench/out/engine.tsv (every sample);
--publish also copies the table to bench/engine.md.  Everything it makes
(containers, storage, mounts, cgroups) is removed at exit.

Environment: BERTH_CLI (default: build-bench/src/cli/berth, built here
when missing), BENCH_ENGINE_N (iterations, default 20).
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
N = int(os.environ.get("BENCH_ENGINE_N", "20"))
OUT = REPO / "bench" / "out"
RUNC = shutil.which("runc") or "/usr/sbin/runc"
# Podman's containers (and its conmons, in .../conmon) go below this cgroup,
# removed at exit
PODMAN_CGROUP = f"berth-bench-podman-{os.getpid()}"


def sh(argv, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise SystemExit(f"bench/engine.py: {' '.join(map(str, argv))} failed ({p.returncode}):\n{p.stderr}")
    return p


def berth_cli():
    cli = os.environ.get("BERTH_CLI")
    if cli:
        return cli
    build = REPO / "build-bench"
    if not (build / "meson-info").is_dir():
        sh(["meson", "setup", "--buildtype=release", str(build), str(REPO)])
    sh(["ninja", "-C", str(build)])
    return str(build / "src" / "cli" / "berth")


def ulimits():
    """Within the current hard limits, as tests/integration/test_podman.py."""
    import resource
    nofile = min(1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    nproc = min(4096, resource.getrlimit(resource.RLIMIT_NPROC)[1])
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


class Engine:
    def __init__(self, name, argv, run_flags, rm_flags=()):
        self.name, self.argv, self.run_flags, self.rm_flags = name, argv, run_flags, list(rm_flags)

    def __call__(self, *args, check=True):
        return sh([*self.argv, *map(str, args)], check=check)

    def run(self, *args, check=True):
        return self(*args[:1], *self.run_flags, *args[1:], check=check)


def timed(fn):
    t = time.monotonic()
    fn()
    return (time.monotonic() - t) * 1000


def mem_kib(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def supervisor_pids(eng, ids, root):
    pids = []
    for cid in ids:
        if eng.name.startswith("berth"):
            status = (root / "containers" / cid / "status.json").read_text()
            pids.append(int(re.search(r'"monitor_pid":\s*(\d+)', status).group(1)))
        else:
            pids.append(int(eng("inspect", "--format", "{{.State.ConmonPid}}", cid).stdout.strip()))
    return pids


def make_image_tar(work):
    rootfs = work / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for a in ("sh", "true", "sleep"):
        os.symlink("busybox", rootfs / "bin" / a)
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    tar = work / "busybox.tar"
    sh(["tar", "-C", str(rootfs), "-cf", str(tar), "."])
    return tar


def write_results(name, lines, tsv, publish):
    """bench/out/NAME.md (the table LINES, also printed) and NAME.tsv (TSV);
    with PUBLISH the table is copied to bench/NAME.md."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.md").write_text("\n".join(lines) + "\n")
    (OUT / f"{name}.tsv").write_text("\n".join(tsv) + "\n")
    print("\n".join(lines))
    if publish:
        shutil.copy(OUT / f"{name}.md", REPO / "bench" / f"{name}.md")


def mounts_under(prefix):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f if l.split()[4].startswith(str(prefix) + "/")]


def main():
    publish = "--publish" in sys.argv[1:]
    if os.geteuid() != 0:
        raise SystemExit("bench/engine.py: run me as root")
    cli = berth_cli()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-engine."))
    os.chmod(work, 0o755)
    tar = make_image_tar(work)
    broot = work / "berth"
    pm_flags = ["--root", str(work / "podman/root"), "--runroot", str(work / "podman/run"),
                "--tmpdir", str(work / "podman/tmp"), "--storage-driver", "overlay",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", RUNC]
    engines = [
        Engine("berth", [cli, "--root", str(broot)], ["--network", "none"]),
        Engine("berth --runtime runc", [cli, "--root", str(broot)], ["--network", "none", "--runtime", RUNC]),
        # podman rm -f stops with a 10 s timeout first; Docker's (and berth's) rm -f kills at once
        Engine("podman (runc)", ["podman", *pm_flags],
               ["--network", "none", "--cgroup-parent", "/" + PODMAN_CGROUP, *ulimits()], ["--time", "0"]),
    ]
    samples = {}
    mem = {}
    try:
        engines[0]("import", tar, "bench:latest")
        engines[2]("import", tar, "bench:latest")
        for e in engines:  # warm up: page cache, first-use setup
            e.run("run", "--rm", "bench:latest", "true")
        for i in range(N):
            order = engines[i % 3:] + engines[:i % 3]
            for e in order:
                samples.setdefault(("run --rm IMAGE true", e.name), []).append(
                    timed(lambda: e.run("run", "--rm", "bench:latest", "true")))
                cid = []
                samples.setdefault(("run -d IMAGE sleep", e.name), []).append(
                    timed(lambda: cid.append(e.run("run", "-d", "bench:latest", "sleep", "1000").stdout.strip())))
                samples.setdefault(("rm -f of a running container", e.name), []).append(
                    timed(lambda: e("rm", "-f", *e.rm_flags, cid[0])))
        for e in engines:
            ids = [e.run("run", "-d", "bench:latest", "sleep", "1000").stdout.strip() for _ in range(10)]
            time.sleep(3)  # idle: the monitor trims itself after a second
            for _ in range(N):
                samples.setdefault(("ps with 10 running", e.name), []).append(timed(lambda: e("ps")))
            pids = supervisor_pids(e, ids, broot)
            vals = [mem_kib(p) for p in pids]
            mem[e.name] = (statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals))
            e("rm", "-f", *e.rm_flags, *ids)
    finally:
        sh([cli, "--root", str(broot), "rm", "-f", *sh([cli, "--root", str(broot), "ps", "-aq"],
                                                        check=False).stdout.split()], check=False)
        sh(["podman", *pm_flags, "rm", "--all", "--force", "--time", "0"], check=False)
        sh(["podman", *pm_flags, "system", "reset", "--force"], check=False)
        for d in sorted(Path("/sys/fs/cgroup").glob(f"**/{PODMAN_CGROUP}"), key=lambda p: len(p.parts)):
            for sub in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                sh(["rmdir", str(sub)], check=False)
            sh(["rmdir", str(d)], check=False)
        for mp in sorted(mounts_under(work), key=len, reverse=True):
            sh(["umount", "-l", mp], check=False)
        assert str(work).startswith("/tmp/berth-bench-engine.")
        if not mounts_under(work):
            shutil.rmtree(work, ignore_errors=True)

    names = [e.name for e in engines]
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `bench/engine.py`: medians of "
             f"{N} interleaved iterations (wall, ms); supervisor memory with 10 idle containers (KiB).",
             f"{sh([cli, '--version']).stdout.strip()}; "
             f"{sh(['podman', '--version']).stdout.strip()}; {sh([RUNC, '--version']).stdout.splitlines()[0]}; "
             f"conmon {sh(['conmon', '--version'], check=False).stdout.split()[2] if shutil.which('conmon') else '?'}.",
             "",
             "| measurement | " + " | ".join(names) + " | berth/podman |",
             "|---|" + "---:|" * len(names) + "---:|"]
    tsv = ["measurement\tengine\tsample_ms"]
    for what in ("run --rm IMAGE true", "run -d IMAGE sleep", "rm -f of a running container", "ps with 10 running"):
        med = [statistics.median(samples[(what, n)]) for n in names]
        lines.append(f"| `{what}` | " + " | ".join(f"{m:.1f}" for m in med) + f" | {med[0] / med[2]:.2f}× |")
        for n in names:
            tsv += [f"{what}\t{n}\t{s:.3f}" for s in samples[(what, n)]]
    lines.append("| supervisor VmRSS per container (KiB) | " + " | ".join(f"{mem[n][0]:.0f}" for n in names) +
                 f" | {mem[names[0]][0] / mem[names[2]][0]:.2f}× |")
    lines.append("| supervisor Pss per container (KiB) | " + " | ".join(f"{mem[n][1]:.0f}" for n in names) +
                 f" | {mem[names[0]][1] / mem[names[2]][1]:.2f}× |")
    write_results("engine", lines, tsv, publish)


if __name__ == "__main__":
    main()
