#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# berth-runtime vs crun vs runc, in one run, on a busybox bundle.
#
#   bench/run.sh [--publish]
#
# Builds berth in build-bench/ (release), a busybox bundle and the helper
# bench/measure.c, then runs every measurement inside one private mount
# namespace in which /sys/fs/cgroup/unified is unmounted, so that the three
# runtimes see the same (cgroup v1) layout and none of them pays for a
# wrapper.  The runtimes are interleaved on every iteration, in rotating
# order.  Writes bench/out/results.md (table), bench/out/plot.png (ratios
# to crun), bench/out/summary.tsv (n, median, p10, p90 of everything) and
# bench/out/raw.tsv (every sample).  --publish also copies the table and
# the plot to bench/results.md and bench/plot.png (shown in README.md).
#
# Environment (defaults in brackets):
#   BENCH_N         iterations of the single-operation measurements [50]
#   BENCH_SEQ_REPS  repetitions of "100 sequential runs" [5]
#   BENCH_PAR_REPS  repetitions of "50 at once" [5]
#   BENCH_BULK      containers in the bulk test [1000]
#   BENCH_BULK_REPS repetitions of the bulk test [3]
#   BENCH_USERNS_N  iterations of the user namespace comparison [30]
#   BENCH_OUT       where the results go [bench/out]
#   BERTH_RUNTIME   benchmark this berth-runtime instead of building one
#   CRUN, RUNC      the peers [/usr/bin/crun, /usr/sbin/runc]
#
# Everything it creates (containers, cgroups, state, bundles) lives under
# one temporary directory and is removed at exit, also on Ctrl-C.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNTIMES="berth crun runc"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- helpers
# Which runtime binary a short name stands for.
rt_bin() {
    case $1 in
    berth) echo "$RT_BERTH" ;;
    crun) echo "$RT_CRUN" ;;
    runc) echo "$RT_RUNC" ;;
    esac
}

# Delete every container we may have left, then our cgroups.  Must run where
# /sys/fs/cgroup/unified is not mounted (crun refuses hybrid layouts).
sweep() {
    local rt bin id
    for rt in $RUNTIMES; do
        bin=$(rt_bin "$rt")
        [ -d "$WORK/root-$rt" ] || continue
        "$bin" --root "$WORK/root-$rt" list -q 2>/dev/null |
            xargs -r -P 20 -n 1 "$bin" --root "$WORK/root-$rt" delete --force >/dev/null 2>&1 || true
        # state directories `list` skipped (a create interrupted half way)
        for id in $(ls "$WORK/root-$rt" 2>/dev/null); do
            "$bin" --root "$WORK/root-$rt" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    # cgroups named after our ids (every id starts with $PFX; berth's
    # default is berth-<id>), deepest first
    local d pid pass
    for pass in 1 2; do
        while read -r d; do
            for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
                kill -9 "$pid" 2>/dev/null || true
            done
            rmdir "$d" 2>/dev/null || true
        done < <(find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -depth -type d \( -name "$PFX*" -o -name "berth-$PFX*" \) \
            2>/dev/null)
        [ "$pass" = 2 ] || sleep 0.5
    done
}

# ---------------------------------------------------------------- inner part
# Runs inside `unshare -m`, under `measure reaper`.
inner() {
    trap 'sweep' EXIT
    trap 'log "interrupted"; exit 130' INT TERM
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
        umount /sys/fs/cgroup/unified
    fi

    local RAW=$OUT/raw.tsv
    printf 'metric\truntime\tfailures\twall_us\tcpu_us\ttree_maxrss_kb\tself_hwm_kb\n' >"$RAW"

    # m METRIC RUNTIME [measure options] -- CMD...: one measurement
    m() {
        local metric=$1 rt=$2 line
        shift 2
        line=$("$MEASURE" -e "$OUT/errors-$rt.log" "$@")
        printf '%s\t%s\t%s\n' "$metric" "$rt" "${line// /$'\t'}" >>"$RAW"
        case $line in
        0\ *) ;;
        *) log "warning: $metric ($rt) failed, see bench/out/errors-$rt.log" ;;
        esac
    }
    # order I: the runtimes rotated by I
    order() {
        local a=($RUNTIMES) k=$(($1 % 3))
        echo "${a[@]:k} ${a[@]:0:k}"
    }
    # wait_stopped RT ID: poll the state until the container stopped
    wait_stopped() {
        local bin i
        bin=$(rt_bin "$1")
        for i in $(seq 500); do
            "$bin" --root "$WORK/root-$1" state "$2" 2>/dev/null | grep -q '"status": *"stopped"' && return 0
            sleep 0.01
        done
        log "warning: $2 ($1) did not stop"
    }
    R() { echo "$(rt_bin "$1") --root $WORK/root-$1"; }

    local i rt r

    log "warm-up"
    for rt in $RUNTIMES; do
        for i in 1 2 3; do
            m warmup "$rt" -- $(R "$rt") run -b "$WORK/bundle" "${PFX}w-$rt-$i"
        done
    done

    log "single operations: $N iterations"
    for i in $(seq "$N"); do
        for rt in $(order "$i"); do
            r=$(R "$rt")
            m version "$rt" -- $(rt_bin "$rt") --version
            m run "$rt" -- $r run -b "$WORK/bundle" "${PFX}r-$rt-$i"
            m rss "$rt" -r -- $r run -b "$WORK/bundle" "${PFX}m-$rt-$i"
            m create "$rt" -- $r create -b "$WORK/bundle" "${PFX}c-$rt-$i"
            m start "$rt" -- $r start "${PFX}c-$rt-$i"
            wait_stopped "$rt" "${PFX}c-$rt-$i"
            m delete "$rt" -- $r delete "${PFX}c-$rt-$i"
            m run-detached "$rt" -- $r run -d -b "$WORK/bundle-sleep" "${PFX}e-$rt-$i"
            m exec "$rt" -- $r exec "${PFX}e-$rt-$i" true
            m delete-force "$rt" -- $r delete --force "${PFX}e-$rt-$i"
        done
    done

    log "100 sequential runs: $SEQ_REPS repetitions"
    for i in $(seq "$SEQ_REPS"); do
        for rt in $(order "$i"); do
            m seq100 "$rt" -n 100 -- $(R "$rt") run -b "$WORK/bundle" "${PFX}s$i-$rt-%d"
        done
    done

    log "50 containers at once: $PAR_REPS repetitions"
    for i in $(seq "$PAR_REPS"); do
        for rt in $(order "$i"); do
            r=$(R "$rt")
            m par50-start "$rt" -n 50 -P 50 -- $r run -d -b "$WORK/bundle-sleep" "${PFX}p$i-$rt-%d"
            m par50-delete "$rt" -n 50 -P 50 -- $r delete --force "${PFX}p$i-$rt-%d"
            sleep 0.5
        done
    done

    log "$BULK containers, 50 in flight: $BULK_REPS repetitions"
    for i in $(seq "$BULK_REPS"); do
        for rt in $(order "$i"); do
            r=$(R "$rt")
            m bulk-start "$rt" -n "$BULK" -P 50 -- $r run -d -b "$WORK/bundle-sleep" "${PFX}k$i-$rt-%d"
            m bulk-delete "$rt" -n "$BULK" -P 50 -- $r delete --force "${PFX}k$i-$rt-%d"
            # let the kernel finish tearing down the namespaces
            sleep 2
        done
    done

    log "user namespace: $USERNS_N iterations"
    for i in $(seq "$USERNS_N"); do
        for rt in $(order "$i"); do
            r=$(R "$rt")
            if ((i % 2)); then
                m plain-run "$rt" -- $r run -b "$WORK/bundle" "${PFX}q-$rt-$i"
                m userns-run "$rt" -- $r run -b "$WORK/bundle-userns" "${PFX}u-$rt-$i"
            else
                m userns-run "$rt" -- $r run -b "$WORK/bundle-userns" "${PFX}u-$rt-$i"
                m plain-run "$rt" -- $r run -b "$WORK/bundle" "${PFX}q-$rt-$i"
            fi
        done
    done

    log "smallest memory limit (bisection, 64 KiB .. 64 MiB)"
    memlimit
}

# probe RT KIB: does `run true` succeed twice under a KIB KiB limit?
probe() {
    local rt=$1 kib=$2 bin b t
    bin=$(rt_bin "$rt")
    b=$WORK/bundle-mem-$rt
    sed "s/@LIMIT@/$((kib * 1024))/" "$WORK/config-mem.json.in" >"$b/config.json"
    for t in 1 2; do
        PROBE_N=$((PROBE_N + 1))
        local id=${PFX}l-$rt-$PROBE_N line
        line=$("$MEASURE" -e "$OUT/errors-memlimit.log" -- "$bin" --root "$WORK/root-$rt" run -b "$b" "$id")
        "$bin" --root "$WORK/root-$rt" delete --force "$id" >/dev/null 2>&1 || true
        printf 'probe %s %d KiB: %s\n' "$rt" "$kib" "${line%% *}" >>"$OUT/memlimit.log"
        [ "${line%% *}" = 0 ] || return 1
    done
    return 0
}

memlimit() {
    local rt lo hi mid i=0 busy
    declare -A LO HI
    PROBE_N=0
    : >"$OUT/memlimit.log"
    for rt in $RUNTIMES; do
        mkdir -p "$WORK/bundle-mem-$rt"
        LO[$rt]=64 HI[$rt]=65536
        if probe "$rt" 64; then HI[$rt]=64 LO[$rt]=60; fi
        if ! probe "$rt" 65536; then LO[$rt]=65536 HI[$rt]=999999999; fi
    done
    # interleaved bisection to page (4 KiB) resolution: LO fails, HI works
    busy=1
    while ((busy)); do
        busy=0
        i=$((i + 1))
        for rt in $(order "$i"); do
            lo=${LO[$rt]} hi=${HI[$rt]}
            ((hi - lo > 4 && hi <= 65536)) || continue
            busy=1
            mid=$(((lo + hi) / 2 / 4 * 4))
            ((mid > lo)) || mid=$((lo + 4))
            if probe "$rt" "$mid"; then HI[$rt]=$mid; else LO[$rt]=$mid; fi
        done
    done
    for rt in $RUNTIMES; do
        printf 'memlimit\t%s\t0\t%s\t0\t0\t0\n' "$rt" "${HI[$rt]}" >>"$OUT/raw.tsv"
        log "  $rt: ${HI[$rt]} KiB"
    done
}

# ---------------------------------------------------------------- set-up
setup() {
    if [ "$(id -u)" != 0 ]; then
        echo "bench/run.sh: run me as root" >&2
        exit 1
    fi
    local pkgs="busybox-static gnuplot-nox crun runc python3 gcc libc6-dev meson ninja-build pkg-config libjson-c-dev libseccomp-dev libcap-dev util-linux"
    local status
    if ! status=$(dpkg-query -W -f '${db:Status-Abbrev}\n' $pkgs 2>/dev/null) ||
        printf '%s\n' "$status" | grep -qv '^ii'; then
        log "installing $pkgs"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q $pkgs
    fi

    if [ -z "${BERTH_RUNTIME:-}" ]; then
        log "building berth in build-bench (release)"
        [ -d "$REPO/build-bench/meson-info" ] ||
            meson setup "$REPO/build-bench" "$REPO" -Dbuildtype=release >/dev/null
        local out
        if ! out=$(ninja -C "$REPO/build-bench" 2>&1); then
            printf '%s\n' "$out" >&2
            log "the build failed"
            exit 1
        fi
        BERTH_RUNTIME=$REPO/build-bench/src/cli/berth-runtime
    fi
    export RT_BERTH=$BERTH_RUNTIME RT_CRUN=${CRUN:-/usr/bin/crun} RT_RUNC=${RUNC:-/usr/sbin/runc}

    OUT=${BENCH_OUT:-$BENCH_DIR/out}
    mkdir -p "$OUT"
    rm -f "$OUT"/errors-*.log
    WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
    # the user namespace's root (uid 100000) must reach its rootfs
    chmod 755 "$WORK"
    # every container id and cgroup starts with this
    PFX=bb${WORK##*.}-
    PFX=${PFX,,}
    export OUT WORK PFX
    trap outer_cleanup EXIT
    trap 'exit 130' INT TERM

    log "compiling bench/measure.c"
    cc -O2 -Wall -Wextra -o "$WORK/measure" "$BENCH_DIR/measure.c"
    export MEASURE=$WORK/measure

    log "assembling the bundles in $WORK"
    local rootfs=$WORK/bundle/rootfs applet
    mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root}
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
    echo "root:x:0:" >"$rootfs/etc/group"
    (cd "$WORK/bundle" && "$RT_BERTH" spec)
    mkdir -p "$WORK/bundle-sleep" "$WORK/bundle-userns"
    cp -a "$rootfs" "$WORK/bundle-userns/rootfs"
    chown -R -h 100000:100000 "$WORK/bundle-userns/rootfs"
    python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
with open(f"{work}/bundle/config.json") as f:
    config = json.load(f)
config["process"]["terminal"] = False
config["process"]["args"] = ["true"]

def save(path, c):
    with open(path, "w") as f:
        json.dump(c, f, indent=2)

save(f"{work}/bundle/config.json", config)
c = json.loads(json.dumps(config))
c["process"]["args"] = ["sleep", "1000"]
c["root"]["path"] = f"{work}/bundle/rootfs"
save(f"{work}/bundle-sleep/config.json", c)
c = json.loads(json.dumps(config))
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
save(f"{work}/bundle-userns/config.json", c)
c = json.loads(json.dumps(config))
c["root"]["path"] = f"{work}/bundle/rootfs"
c["linux"].setdefault("resources", {})["memory"] = {"limit": 1234567890123}
with open(f"{work}/config-mem.json.in", "w") as f:
    f.write(json.dumps(c, indent=2).replace("1234567890123", "@LIMIT@"))
EOF
}

outer_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        # the inner part sweeps on its own; this catches anything it missed
        unshare -m bash "$BENCH_DIR/run.sh" --sweep 2>/dev/null || true
        case $WORK in
        /tmp/berth-bench.?*)
            if ! grep -q " $WORK/" /proc/self/mountinfo; then
                rm -rf -- "$WORK"
            fi
            ;;
        esac
    fi
    exit $rc
}

write_meta() {
    local berth_rev
    berth_rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || berth_rev="$berth_rev+local changes"
    {
        echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "nproc=$(nproc)"
        echo "kernel=$(uname -r)"
        echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
        echo "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
        echo "berth=$("$RT_BERTH" --version | head -1) ($berth_rev, release build)"
        echo "crun=$("$RT_CRUN" --version | head -1)"
        echo "runc=$("$RT_RUNC" --version | head -1)"
        echo "n=$N"
        echo "seq_reps=$SEQ_REPS"
        echo "par_reps=$PAR_REPS"
        echo "bulk=$BULK"
        echo "bulk_reps=$BULK_REPS"
        echo "userns_n=$USERNS_N"
        echo "statefs=$(findmnt -n -o FSTYPE --target "$WORK" 2>/dev/null || stat -f -c %T "$WORK")"
        echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$OUT/meta.env"
}

# ---------------------------------------------------------------- main
export N=${BENCH_N:-50} SEQ_REPS=${BENCH_SEQ_REPS:-5} PAR_REPS=${BENCH_PAR_REPS:-5}
export BULK=${BENCH_BULK:-1000} BULK_REPS=${BENCH_BULK_REPS:-3} USERNS_N=${BENCH_USERNS_N:-30}

case ${1:-} in
--inner)
    inner
    exit 0
    ;;
--sweep)
    mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && umount /sys/fs/cgroup/unified
    sweep
    exit 0
    ;;
--publish | "") ;;
*)
    sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

start=$(date +%s)
setup
write_meta
load=$(cut -d' ' -f1 /proc/loadavg)
if [ "${load%%.*}" -ge 1 ]; then
    log "warning: load average $load: something else is running, the numbers will be noisy"
fi
log "measuring, results in $OUT (about 5 minutes)"
"$MEASURE" reaper -- unshare -m bash "$BENCH_DIR/run.sh" --inner
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.env"
echo "duration=$(($(date +%s) - start)) s" >>"$OUT/meta.env"
python3 "$BENCH_DIR/report.py" "$OUT"
if [ "${1:-}" = --publish ]; then
    cp "$OUT/results.md" "$BENCH_DIR/results.md"
    cp "$OUT/plot.png" "$BENCH_DIR/plot.png"
    log "copied to bench/results.md and bench/plot.png"
fi
cat "$OUT/results.md"
