#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/report.py OUT: raw.tsv + meta.env -> results.md, summary.tsv, plot.png.

Called by bench/run.sh; can be rerun on its own on an existing bench/out/.
"""
import csv
import os
import statistics
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
RUNTIMES = ["berth", "crun", "runc"]

meta = {}
with open(os.path.join(OUT, "meta.env")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v

samples = {}  # (metric, runtime) -> list of rows (dicts of ints)
failed = {}   # (metric, runtime) -> failed samples
with open(os.path.join(OUT, "raw.tsv")) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        key = (row["metric"], row["runtime"])
        vals = {k: int(v) for k, v in row.items() if k not in ("metric", "runtime")}
        if vals["failures"]:
            failed[key] = failed.get(key, 0) + 1
            continue
        samples.setdefault(key, []).append(vals)


def values(metric, rt, column):
    return [s[column] for s in samples.get((metric, rt), [])]


def quantile(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    pos = (len(v) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def median(metric, rt, column):
    v = values(metric, rt, column)
    return statistics.median(v) if v else None


bulk = int(meta.get("bulk", 1000))

# Each row: label, plot label, function rt -> value (None if missing), unit
# format, "lower" or "higher" is better, target kind and value.
#   ("ratio", x):  berth/crun <= x (or >= x when higher is better)
#   ("abs", x):    berth's own value >= x (higher) / <= x (lower)
#   None:          no target in the issue
def ms(metric, column="wall_us"):
    return lambda rt: (lambda m: m / 1000 if m is not None else None)(median(metric, rt, column))


def per_second(metric, n):
    def f(rt):
        m = median(metric, rt, "wall_us")
        return n / (m / 1e6) if m else None
    return f


def mib(metric, column):
    return lambda rt: (lambda m: m / 1024 if m is not None else None)(median(metric, rt, column))


def memlimit(rt):
    return median("memlimit", rt, "wall_us")


def userns_ratio(rt):
    u, p = median("userns-run", rt, "wall_us"), median("plain-run", rt, "wall_us")
    return u / p if u and p else None


ROWS = [
    ("`--version`, wall (ms)", "--version", ms("version"), "{:.2f}", "lower", ("ratio", 0.4)),
    ("`run` of `true`, wall (ms)", "run wall", ms("run"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("`run` of `true`, CPU user+sys of the whole process tree (ms)", "run CPU", ms("run", "cpu_us"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("100 sequential `run`s, total wall (s)", "100 runs", lambda rt: (lambda m: m / 1e6 if m else None)(median("seq100", rt, "wall_us")), "{:.2f}", "lower", ("ratio", 0.5)),
    ("`create`, wall (ms)", "create", ms("create"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("`start`, wall (ms)", "start", ms("start"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("`delete` of a stopped container, wall (ms)", "delete", ms("delete"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("`exec` of `true` into a running container, wall (ms)", "exec", ms("exec"), "{:.1f}", "lower", ("ratio", 0.5)),
    ("`delete --force` of a running container, wall (ms)", "delete -f", ms("delete-force"), "{:.1f}", "lower", None),
    ("`run -d` of `sleep`, wall (ms)", "run -d", ms("run-detached"), "{:.1f}", "lower", None),
    ("peak RSS of the runtime process during `run` (MiB)", "peak RSS", mib("rss", "self_hwm_kb"), "{:.2f}", "lower", ("ratio", 0.5)),
    ("peak RSS of any process of the runtime's tree during `run` (MiB)", "tree RSS", mib("rss", "tree_maxrss_kb"), "{:.2f}", "lower", None),
    ("smallest memory limit under which `run true` works (KiB)", "min mem limit", memlimit, "{:.0f}", "lower", ("ratio", 1.0)),
    ("50 containers started at once (`run -d`), wall (ms)", "50 start", ms("par50-start"), "{:.0f}", "lower", None),
    ("50 containers deleted at once (`delete --force`), wall (ms)", "50 delete", ms("par50-delete"), "{:.0f}", "lower", None),
    (f"{bulk} containers, 50 runtimes in flight: starts/s", f"{bulk} starts", per_second("bulk-start", bulk), "{:.0f}", "higher", ("abs", 300)),
    (f"{bulk} containers, 50 runtimes in flight: deletes/s", f"{bulk} deletes", per_second("bulk-delete", bulk), "{:.0f}", "higher", None),
    ("`run` with a user namespace, wall (ms)", "userns run", ms("userns-run"), "{:.1f}", "lower", None),
    ("`run` with a user namespace / plain `run` (same phase)", None, userns_ratio, "{:.2f}×", "lower", ("abs", 1.1)),
]


def fmt(f, v):
    return "n/a" if v is None else f.format(v)


def memfmt(v):
    if v is None:
        return "n/a"
    if v <= 64:
        return "≤ 64"
    if v > 65536:
        return "> 65536"
    return f"{v:.0f}"


lines = []
plot = []
lines.append("| measurement | berth | crun | runc | berth/crun | target | met? |")
lines.append("|---|---:|---:|---:|---:|---|---|")
for label, plabel, fn, f, better, target in ROWS:
    v = {rt: fn(rt) for rt in RUNTIMES}
    cells = [memfmt(v[rt]) if fn is memlimit else fmt(f, v[rt]) for rt in RUNTIMES]
    ratio = None
    if plabel and v["berth"] and v["crun"]:
        ratio = v["berth"] / v["crun"]
    rcell = "—" if ratio is None else f"{ratio:.2f}×"
    tcell, met = "—", ""
    if target:
        kind, x = target
        if kind == "ratio":
            tcell = f"≤ {x:g}× crun" if x != 1.0 else "≤ crun's"
            ok = ratio is not None and ratio <= x
        elif better == "higher":
            tcell = f"≥ {x:g}/s"
            ok = v["berth"] is not None and v["berth"] >= x
        else:
            tcell = f"≤ {x:g}× plain run"
            ok = v["berth"] is not None and v["berth"] <= x
        met = "yes" if ok else "**no**"
    lines.append(f"| {label} | {' | '.join(cells)} | {rcell} | {tcell} | {met} |")
    if plabel and v["crun"]:
        # cost relative to crun: lower is better for every bar
        def rel(x):
            if x is None:
                return "NaN"
            return f"{(x / v['crun']) if better == 'lower' else (v['crun'] / x):.4f}"
        tgt = "NaN"
        if target and target[0] == "ratio":
            tgt = f"{target[1]:.4f}"
        elif target and better == "higher":
            tgt = f"{v['crun'] / target[1]:.4f}"
        plot.append(f'"{plabel}" {rel(v["berth"])} {rel(v["runc"])} {tgt}')

fails = [f"{m} ({rt}): {n}" for (m, rt), n in sorted(failed.items()) if m != "warmup"]

head = [
    f"Measured {meta.get('date')} on {meta.get('nproc')} vCPUs ({meta.get('cpu')}), "
    f"{meta.get('mem')} RAM, kernel {meta.get('kernel')}, cgroup v1 "
    "(`/sys/fs/cgroup/unified` unmounted in a private mount namespace), by `bench/run.sh`.",
    f"Runtimes: {meta.get('berth')}; {meta.get('crun')}; {meta.get('runc')}. "
    f"Busybox bundle from `berth-runtime spec` (terminal off, args `true`); state directories (`--root`) "
    f"on {meta.get('statefs')}.",
    f"Medians of {meta.get('n')} interleaved iterations for single operations "
    f"({meta.get('seq_reps')} for 100 sequential runs, {meta.get('par_reps')} for 50 at once, "
    f"{meta.get('bulk_reps')} for {bulk} containers, {meta.get('userns_n')} for the user namespace pair); "
    f"load average before {meta.get('loadavg_before')}, after {meta.get('loadavg_after')}; "
    f"whole run {meta.get('duration')}.",
    "",
]
tail = ["", "Failed samples (excluded): " + (", ".join(fails) if fails else "none") + "."]
with open(os.path.join(OUT, "results.md"), "w") as f:
    f.write("\n".join(head + lines + tail) + "\n")

with open(os.path.join(OUT, "summary.tsv"), "w") as f:
    f.write("metric\truntime\tcolumn\tn\tfailed\tmedian\tp10\tp90\n")
    for (m, rt), rows in sorted(samples.items()):
        for col in ("wall_us", "cpu_us", "tree_maxrss_kb", "self_hwm_kb"):
            v = [r[col] for r in rows]
            if not any(v):
                continue
            f.write(f"{m}\t{rt}\t{col}\t{len(v)}\t{failed.get((m, rt), 0)}\t"
                    f"{statistics.median(v):.0f}\t{quantile(v, 0.1):.0f}\t{quantile(v, 0.9):.0f}\n")

with open(os.path.join(OUT, "plot.dat"), "w") as f:
    f.write("# label berth/crun runc/crun target (cost relative to crun; lower is better)\n")
    f.write("\n".join(plot) + "\n")

gp = f"""
set terminal pngcairo size 1100,560 font ",10"
set output "{OUT}/plot.png"
set title "berth-runtime and runc relative to crun 1.8.1 (cost, lower is better; log scale)\\n{meta.get('date')}, {meta.get('nproc')} vCPUs, kernel {meta.get('kernel')}"
set logscale y 2
set yrange [0.1:16]
set ytics ("0.125" 0.125, "0.25" 0.25, "0.5" 0.5, "1" 1, "2" 2, "4" 4, "8" 8, "16" 16)
set grid ytics
set ylabel "runtime / crun"
set xtics rotate by -35 nomirror
set xrange [-0.6:{len(plot) - 0.4}]
set key top left
set style fill solid 0.85 border -1
set boxwidth 0.36
set arrow from -0.6,1 to {len(plot) - 0.4},1 nohead lc rgb "#444444" dt 2
plot "{OUT}/plot.dat" using ($0-0.19):2:xtic(1) with boxes lc rgb "#2b7bba" title "berth / crun", \\
     "" using ($0+0.19):3 with boxes lc rgb "#b0b0b0" title "runc / crun", \\
     "" using ($0-0.19):4 with points pt 9 ps 1.6 lc rgb "#d62728" title "target (berth)"
"""
with open(os.path.join(OUT, "plot.gp"), "w") as f:
    f.write(gp)
subprocess.run(["gnuplot", os.path.join(OUT, "plot.gp")], check=True)
