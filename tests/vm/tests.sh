#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# berth-runtime's resource limits on pure cgroup v2, each proven from inside
# the container.  Runs inside the VM of tests/vm/run-vm.sh (busybox sh, no
# python, no jq) as root, with cgroup2 at /sys/fs/cgroup and every
# controller enabled at the root; prints TAP.  The pytest twin for v1 and
# hybrid hosts is tests/integration/test_resources.py.
#
# BERTH_VM_TESTS=memory_run,pids runs only those test_* functions.

RT=${BERTH_RUNTIME:-berth-runtime}
STATE=/run/berth-vm-state
CG=/sys/fs/cgroup
PARENT=berth-vm               # every container's cgroupsPath is /$PARENT/ID
WORK=/bundles                 # on the root tmpfs, so busybox can be hard-linked
# A runtime call that hangs must not hang the VM until run-vm.sh's timeout.
CALL_TIMEOUT=60

n=0
failures=0

# ---- TAP --------------------------------------------------------------------

pass() {
        n=$((n + 1))
        echo "ok $n - $*"
}

fail() {
        n=$((n + 1))
        failures=$((failures + 1))
        echo "not ok $n - $*"
}

diag() {
        printf '%s\n' "$*" | sed 's/^/#   /'
}

# check DESC COMMAND...: the command's success is the test
check() {
        desc=$1
        shift
        if "$@"; then pass "$desc"; else fail "$desc"; diag "failed: $*"; fi
}

# is GOT WANT DESC
is() {
        if [ "$1" = "$2" ]; then
                pass "$3"
        else
                fail "$3"
                diag "got:  '$1'" "want: '$2'"
        fi
}

# cmp_num GOT OP WANT DESC (OP: -le -ge -gt -lt -eq)
cmp_num() {
        case "$1" in
        '' | *[!0-9]*) fail "$4"; diag "not a number: '$1'"; return ;;
        esac
        if test "$1" "$2" "$3"; then
                pass "$4"
        else
                fail "$4"
                diag "got $1, want $2 $3"
        fi
}

# show FILE: its content as diagnostics (after a failure)
show() {
        [ -e "$1" ] && sed "s|^|#   $(basename "$1"): |" "$1"
}

# ---- helpers ----------------------------------------------------------------

rt() {
        timeout -s KILL "$CALL_TIMEOUT" "$RT" --root "$STATE" "$@"
}

# rt_ok DESC ARGS...: a runtime call that must succeed, as a test point
rt_ok() {
        desc=$1
        shift
        if rt "$@" > "$WORK/last.out" 2> "$WORK/last.err"; then
                pass "$desc"
                return 0
        fi
        fail "$desc"
        diag "berth-runtime $* failed (exit $?)"
        show "$WORK/last.out"
        show "$WORK/last.err"
        return 1
}

# wait_for SECONDS COMMAND...: poll every 0.1 s
wait_for() {
        tries=$(($1 * 10))
        shift
        while [ "$tries" -gt 0 ]; do
                "$@" && return 0
                sleep 0.1
                tries=$((tries - 1))
        done
        "$@"
}

# the value of KEY in a "key value" file (memory.events, cpu.stat, ...)
kv() {
        sed -n "s/^$2 \([0-9]*\)$/\1/p" "$1" 2> /dev/null
}

status_of() {
        rt state "$1" 2> /dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'
}

pid_of() {
        rt state "$1" 2> /dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'
}

is_status() {
        [ "$(status_of "$1")" = "$2" ]
}

# A process that is gone or a zombie (a zombie is dead, only not reaped).
is_dead() {
        st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2> /dev/null)
        [ -z "$st" ] || [ "$st" = Z ]
}

# the object "KEY":{...} (one level, no nested braces) in JSON text
json_obj() {
        printf '%s' "$1" | sed -n "s/.*\"$2\":{\([^{}]*\)}.*/\1/p"
}

# the number of "KEY":N in a flat JSON object text
json_num() {
        printf '%s' "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# The rootfs every bundle copies (cp -a keeps the hard link and symlinks):
# busybox and its applets, made once, as a fork per applet is slow on TCG.
make_rootfs_template() {
        r=$WORK/.rootfs
        mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/sys" "$r/tmp" "$r/etc"
        ln /bin/busybox "$r/bin/busybox"
        for a in $(/bin/busybox --list); do
                [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
        done
        echo 'root:x:0:0:root:/:/bin/sh' > "$r/etc/passwd"
}

# mkbundle NAME RESOURCES [CAPS] [CGROUP_MOUNT_MODE]: a busybox bundle at
# $WORK/NAME whose process runs the script read from stdin (/t.sh); the
# cgroupsPath is /$PARENT/NAME.  RESOURCES is JSON members to put beside the
# default device rule (deny everything), CAPS a JSON list of extra
# capabilities, CGROUP_MOUNT_MODE ro (default) or rw.
mkbundle() {
        b=$WORK/$1
        res=${2:+, $2}
        caps='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'
        caps="$caps${3:+, $3}"
        cgmode=${4:-ro}
        mkdir -p "$b"
        cp -a "$WORK/.rootfs" "$b/rootfs"
        cat > "$b/rootfs/t.sh"
        cat > "$b/config.json" <<EOF
{
  "ociVersion": "1.1.0",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "sh", "/t.sh" ],
    "env": [ "PATH=/bin" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ $caps ], "effective": [ $caps ], "permitted": [ $caps ]
    },
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": false },
  "hostname": "vm-$1",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": [ "nosuid", "noexec", "nodev", "relatime", "$cgmode" ] }
  ],
  "linux": {
    "cgroupsPath": "/$PARENT/$1",
    "resources": {
      "devices": [ { "allow": false, "access": "rwm" } ]$res
    },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
    ],
    "maskedPaths": [ "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware" ],
    "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
EOF
}

# start_bg NAME: create + start, the container's stdio in $WORK/NAME.out
start_bg() {
        rt create --bundle "$WORK/$1" "$1" > "$WORK/$1.out" 2>&1 || {
                diag "create $1 failed"
                show "$WORK/$1.out"
                return 1
        }
        rt start "$1" >> "$WORK/$1.out" 2>&1 || {
                diag "start $1 failed"
                show "$WORK/$1.out"
                return 1
        }
}

# finish NAME: delete --force, then the container's cgroup must be gone
finish() {
        rt delete --force "$1" > "$WORK/last.err" 2>&1 || {
                diag "delete --force $1 failed"
                show "$WORK/last.err"
        }
        check "$1: delete removes the cgroup $CG/$PARENT/$1" test ! -e "$CG/$PARENT/$1"
}

# ---- (a) memory -------------------------------------------------------------

# awk doubling a string: anonymous memory, so awk is the OOM killer's pick
ALLOC="awk 'BEGIN { s = \"x\"; while (1) s = s s }'"
MEM32='"memory": { "limit": 33554432, "swap": 33554432 }'

test_memory_run() {
        mkbundle mem-run "$MEM32" <<EOF
exec $ALLOC
EOF
        d=$CG/$PARENT/mem-run
        rt run --keep --bundle "$WORK/mem-run" mem-run > "$WORK/mem-run.out" 2>&1
        rc=$?
        is "$rc" 137 "memory: a process allocating past a 32 MiB limit is OOM-killed (run exits 137)"
        [ "$rc" = 137 ] || show "$WORK/mem-run.out"
        is "$(cat "$d/memory.max" 2>&1)" 33554432 "memory: memory.max is the limit"
        is "$(cat "$d/memory.swap.max" 2>&1)" 0 "memory: memory.swap.max is 0 (swap = limit)"
        cmp_num "$(kv "$d/memory.events" oom_kill)" -ge 1 "memory: memory.events counts the oom_kill"
        finish mem-run
}

test_memory_stats() {
        mkbundle mem-ev "$MEM32" <<EOF
$ALLOC
echo "awk-status=\$?"
exec sleep 1000
EOF
        d=$CG/$PARENT/mem-ev
        start_bg mem-ev
        wait_for 60 grep -q awk-status= "$WORK/mem-ev.out"
        is "$(sed -n 's/^awk-status=//p' "$WORK/mem-ev.out")" 137 \
                "memory: a child allocating past the limit is SIGKILLed, the container lives on"
        ev=$(rt events --stats mem-ev 2> "$WORK/last.err")
        # "memory":{"cache":N,"usage":{...},...}: the first nested object
        usage=$(printf '%s' "$ev" | sed -n 's/.*"memory":{[^{}]*"usage":{\([^{}]*\)}.*/\1/p')
        is "$(json_num "$usage" limit)" 33554432 "memory: events --stats memory.usage.limit"
        cmp_num "$(json_num "$usage" failcnt)" -ge 1 "memory: events --stats memory.usage.failcnt counts hitting the limit"
        [ -n "$usage" ] || { diag "events --stats printed:"; diag "$ev"; show "$WORK/last.err"; }
        cmp_num "$(kv "$d/memory.events" oom_kill)" -ge 1 "memory: memory.events oom_kill >= 1 while running"
        finish mem-ev
}

# ---- (b) pids -----------------------------------------------------------------

test_pids() {
        mkbundle pids '"pids": { "limit": 10 }' <<'EOF'
i=0
while [ $i -lt 50 ]; do
        sleep 60 &
        i=$((i + 1))
        echo "started $i"
done
echo "all started"
EOF
        d=$CG/$PARENT/pids
        rt run --keep --bundle "$WORK/pids" pids > "$WORK/pids.out" 2>&1
        started=$(grep -c '^started' "$WORK/pids.out")
        check "pids: the shell's fork fails at pids.limit 10" grep -q "can't fork" "$WORK/pids.out"
        check "pids: the shell forked 5..9 children (it is the 10th process)" \
                test "$started" -ge 5 -a "$started" -le 9
        check "pids: not all 50 children started" not_grep "all started" "$WORK/pids.out"
        [ "$started" -le 9 ] || show "$WORK/pids.out"
        is "$(cat "$d/pids.max" 2>&1)" 10 "pids: pids.max is the limit"
        cmp_num "$(kv "$d/pids.events" max)" -ge 1 "pids: pids.events counts the refused forks"
        finish pids
}

not_grep() {
        ! grep -q "$@"
}

# ---- (c) cpu quota --------------------------------------------------------------

uptime_cs() {
        sed 's/^\([0-9]*\)\.\([0-9][0-9]\).*/\1\2/' /proc/uptime
}

test_cpu_quota() {
        mkbundle cpu '"cpu": { "quota": 20000, "period": 100000 }' <<'EOF'
while :; do :; done
EOF
        d=$CG/$PARENT/cpu
        start_bg cpu
        is "$(cat "$d/cpu.max" 2>&1)" "20000 100000" "cpu: cpu.max is quota period"
        sleep 1
        u0=$(kv "$d/cpu.stat" usage_usec)
        t0=$(uptime_cs)
        sleep 3
        u1=$(kv "$d/cpu.stat" usage_usec)
        t1=$(uptime_cs)
        # CPU time per wall time, in thousandths: usec / (cs * 10)
        permille=$(((u1 - u0) / ((t1 - t0) * 10)))
        diag "busy loop: $((u1 - u0)) us of CPU in $((t1 - t0))0 ms = 0.$(printf %03d "$permille") CPU"
        cmp_num "$permille" -le 300 "cpu: a busy loop gets at most ~0.2 CPU (<= 0.3)"
        cmp_num "$permille" -ge 50 "cpu: the busy loop did run (>= 0.05 CPU)"
        cmp_num "$(kv "$d/cpu.stat" nr_throttled)" -ge 1 "cpu: cpu.stat nr_throttled >= 1"
        ev=$(rt events --stats cpu 2> /dev/null)
        thr=$(json_obj "$ev" throttling)
        cmp_num "$(json_num "$thr" throttledPeriods)" -ge 1 "cpu: events --stats reports throttledPeriods (runc's name)"
        finish cpu
}

# ---- (d) cpuset -----------------------------------------------------------------

test_cpuset() {
        for cpu in 0 1; do
                mkbundle "cpuset$cpu" "\"cpu\": { \"cpus\": \"$cpu\", \"mems\": \"0\" }" <<'EOF'
grep Cpus_allowed_list /proc/self/status
EOF
                out=$(rt run --bundle "$WORK/cpuset$cpu" "cpuset$cpu" 2>&1 | tr -s '\t ' ' ')
                is "$out" "Cpus_allowed_list: $cpu" "cpuset: cpus \"$cpu\" is what the container may run on"
                check "cpuset$cpu: run removes the cgroup" test ! -e "$CG/$PARENT/cpuset$cpu"
        done
}

# ---- (e) devices ----------------------------------------------------------------

test_devices() {
        mkbundle dev '' '"CAP_MKNOD"' <<'EOF'
try() {
        if head -c 1 "$1" > /dev/null 2> /tmp/err; then echo "$1: opened"; else echo "$1: $(cat /tmp/err)"; fi
}
mknod /dev/mem c 1 1 && echo "mknod /dev/mem: ok"
try /dev/mem
mknod /dev/sda b 8 0 && echo "mknod /dev/sda: ok"
try /dev/sda
echo x > /dev/null && echo "/dev/null: written"
echo "/dev/zero: $(head -c 3 /dev/zero | wc -c) bytes"
EOF
        rt run --bundle "$WORK/dev" dev > "$WORK/dev.out" 2>&1
        before=$failures
        check "devices: mknod is allowed (c *:* m)" grep -q "^mknod /dev/mem: ok" "$WORK/dev.out"
        check "devices: opening /dev/mem (c 1:1) fails with EPERM" \
                grep -q "^/dev/mem: .*Operation not permitted" "$WORK/dev.out"
        check "devices: opening /dev/sda (b 8:0) fails with EPERM" \
                grep -q "^/dev/sda: .*Operation not permitted" "$WORK/dev.out"
        check "devices: /dev/null can be written" grep -q "^/dev/null: written" "$WORK/dev.out"
        check "devices: /dev/zero can be read" grep -q "^/dev/zero: 3 bytes" "$WORK/dev.out"
        [ "$failures" = "$before" ] || show "$WORK/dev.out"
}

# ---- (f) update -----------------------------------------------------------------

test_update() {
        mkbundle upd "$MEM32, \"pids\": { \"limit\": 20 }" <<'EOF'
exec sleep 1000
EOF
        d=$CG/$PARENT/upd
        start_bg upd
        rt_ok "update: --memory 64M" update --memory 64M upd &&
                is "$(cat "$d/memory.max")" 67108864 "update: memory.max is 64 MiB"
        echo '{"pids": {"limit": 42}}' > "$WORK/upd.json"
        rt_ok "update: --resources - with pids" update --resources - upd < "$WORK/upd.json" &&
                is "$(cat "$d/pids.max")" 42 "update: pids.max from --resources"
        # what containerd's shim pipes in: the whole LinuxResources, devices too
        cat > "$WORK/upd.json" <<'EOF'
{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":100663296,"swap":100663296},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"},"pids":{"limit":43}}
EOF
        rt_ok "update: --resources - as containerd sends it" update --resources - upd < "$WORK/upd.json"
        is "$(cat "$d/memory.max")" 100663296 "update: memory.max 96 MiB"
        is "$(cat "$d/memory.swap.max")" 0 "update: memory.swap.max 0"
        is "$(cat "$d/cpu.max")" "50000 100000" "update: cpu.max"
        is "$(cat "$d/cpu.weight")" 20 "update: cpu.weight from shares 512"
        is "$(cat "$d/cpuset.cpus")" 0 "update: cpuset.cpus"
        is "$(cat "$d/pids.max")" 43 "update: pids.max"
        out=$(rt exec upd sh -c 'echo x > /dev/null && echo null-ok; head -c 1 /dev/zero | wc -c' 2>&1)
        # shellcheck disable=SC2086,SC2116 # the words on one line
        is "$(echo $out)" "null-ok 1" "update: the default devices still work after an update listing devices"
        finish upd
}

# ---- (g) pause / resume ------------------------------------------------------------

test_pause() {
        mkbundle pause '' <<'EOF'
while :; do :; done
EOF
        d=$CG/$PARENT/pause
        start_bg pause
        rt_ok "pause: pause" pause pause
        is "$(status_of pause)" paused "pause: state says paused"
        is "$(cat "$d/cgroup.freeze")" 1 "pause: cgroup.freeze is 1"
        is "$(kv "$d/cgroup.events" frozen)" 1 "pause: cgroup.events says frozen 1"
        u0=$(kv "$d/cpu.stat" usage_usec)
        sleep 1
        u1=$(kv "$d/cpu.stat" usage_usec)
        cmp_num $((u1 - u0)) -lt 10000 "pause: a frozen busy loop uses no CPU"
        rt_ok "pause: resume" resume pause
        is "$(status_of pause)" running "pause: state says running again"
        is "$(kv "$d/cgroup.events" frozen)" 0 "pause: cgroup.events says frozen 0"
        sleep 1
        u2=$(kv "$d/cpu.stat" usage_usec)
        cmp_num $((u2 - u1)) -ge 50000 "pause: the resumed loop runs again"
        finish pause
}

# ---- (h) ps, kill --all, nested cgroups -------------------------------------------

test_ps_nested() {
        # a writable cgroup2 mount in a cgroup namespace: the container
        # makes its own sub-cgroup and moves a process into it
        mkbundle ps '' '' rw <<'EOF'
mkdir /sys/fs/cgroup/sub || echo "mkdir sub failed"
sh -c 'echo $$ > /sys/fs/cgroup/sub/cgroup.procs && exec sleep 1001' &
exec sleep 1000
EOF
        d=$CG/$PARENT/ps
        start_bg ps
        # (cgroup files have no size: test -s cannot tell)
        check "ps: the container made a sub-cgroup and moved a process there" \
                wait_for 20 grep -qs . "$d/sub/cgroup.procs"
        sub=$(head -n 1 "$d/sub/cgroup.procs" 2> /dev/null)
        init=$(pid_of ps)
        json=$(rt ps --format json ps 2>&1)
        diag "init $init, in sub $sub, ps --format json: $json"
        check "ps: --format json lists the init" \
                eval "echo '$json' | tr '[],' '   ' | grep -qw '$init'"
        check "ps: --format json lists the process in the nested cgroup" \
                eval "echo '$json' | tr '[],' '   ' | grep -qw '${sub:-none}'"
        rt ps ps > "$WORK/ps.table" 2>&1
        check "ps: the table has a PID header" eval "head -n 1 '$WORK/ps.table' | grep -qw PID"
        check "ps: the table shows sleep 1000" grep -q 'sleep 1000' "$WORK/ps.table"
        check "ps: the table shows sleep 1001 (nested cgroup)" grep -q 'sleep 1001' "$WORK/ps.table"
        grep -q 'sleep 1001' "$WORK/ps.table" || show "$WORK/ps.table"
        rt_ok "ps: kill --all TERM" kill --all ps TERM
        check "ps: kill --all reached the process in the nested cgroup" wait_for 20 is_dead "${sub:-1}"
        check "ps: the init (a pid namespace's init ignores TERM) lives" test -e "/proc/$init"
        rt_ok "ps: kill --all KILL" kill --all ps KILL
        check "ps: the container stops" wait_for 20 is_status ps stopped
        check "ps: the nested cgroup is still there before delete" test -d "$d/sub"
        rt_ok "ps: delete" delete ps
        check "ps: delete removes the container's cgroup and the nested one" test ! -e "$d"
}

# ---- (i) events --stats -------------------------------------------------------------

test_events() {
        mkbundle ev '"memory": { "limit": 67108864 }, "pids": { "limit": 20 }' <<'EOF'
i=0
while [ $i -lt 20000 ]; do i=$((i + 1)); done
echo busy-done
exec sleep 1000
EOF
        start_bg ev
        wait_for 30 grep -q busy-done "$WORK/ev.out"
        ev=$(rt events --stats ev 2> "$WORK/last.err")
        check "events: --stats prints a stats event for the container" \
                eval "echo '$ev' | grep -q '^{\"type\":\"stats\",\"id\":\"ev\",\"data\":{'"
        cpu=$(printf '%s' "$ev" | sed -n 's/.*"cpu":{"usage":{\([^{}]*\)}.*/\1/p')
        cmp_num "$(json_num "$cpu" total)" -gt 0 "events: cpu.usage.total > 0"
        mem=$(printf '%s' "$ev" | sed -n 's/.*"memory":{[^{}]*"usage":{\([^{}]*\)}.*/\1/p')
        is "$(json_num "$mem" limit)" 67108864 "events: memory.usage.limit"
        cmp_num "$(json_num "$mem" usage)" -gt 0 "events: memory.usage.usage > 0"
        pids=$(json_obj "$ev" pids)
        is "$(json_num "$pids" current)" 1 "events: pids.current is 1 (sleep)"
        is "$(json_num "$pids" limit)" 20 "events: pids.limit"
        [ -n "$pids" ] || { diag "events --stats printed:"; diag "$ev"; show "$WORK/last.err"; }
        finish ev
}

# ---- the engine on cgroup v2 ----------------------------------------------------

# berth run/stats/rm with limits, an OOM kill seen by the monitor (memory.events), no cgroup left
test_engine() {
        B="berth --root /var/lib/berth-vm"
        # the initramfs loads no netfilter modules: bridge networks are
        # tested on the host (test_network.py), the VM runs --network none
        N="--network none"
        img=/engine-image
        mkdir -p "$img/bin" "$img/etc" "$img/tmp"
        cp /bin/busybox "$img/bin/busybox"
        for a in sh sleep echo cat; do ln -s busybox "$img/bin/$a"; done
        echo 'root:x:0:0:root:/root:/bin/sh' > "$img/etc/passwd"
        check "engine: import an image" sh -c "$B import -c 'CMD [\"sh\"]' $img busybox >/dev/null"
        is "$($B run --rm $N busybox echo hello 2>&1)" hello "engine: run --rm prints what the container said"
        # the initramfs loads no bridge nor nf_tables module: a bridge network is
        # refused with one clear line, and nothing is left
        out=$($B run --name nonet busybox true 2>&1); rc=$?
        case "$rc $out" in
        "125 berth: "*"network bridge"*) pass "engine: no bridge support: a bridge network is refused, exit 125" ;;
        *) fail "engine: no bridge support: a bridge network is refused, exit 125"; diag "$rc $out" ;;
        esac
        is "$(echo "$out" | wc -l)" 1 "engine: no bridge support: one line"
        is "$(ip -o link | grep -c ' vb\| berth')" 0 "engine: no bridge support: no bridge or veth left"
        is "$(ls /var/lib/berth-vm/run/netns 2>/dev/null | wc -l)" 0 "engine: no bridge support: no network namespace left"
        $B rm -f nonet >/dev/null 2>&1
        id=$($B run -d $N --memory 64m --pids-limit 20 --cpus 0.5 busybox sleep 1000 2>&1)
        is "$(cat "$CG/berth-$id/memory.max" 2>&1)" 67108864 "engine: --memory is memory.max"
        is "$(cat "$CG/berth-$id/pids.max" 2>&1)" 20 "engine: --pids-limit is pids.max"
        is "$(cat "$CG/berth-$id/cpu.max" 2>&1)" "50000 100000" "engine: --cpus is cpu.max"
        stats=$($B stats --no-stream --format json "$id" 2>&1)
        case "$stats" in
        *'"MemUsage":"'*' / 64MiB"'*'"PIDs":"1"'*) pass "engine: stats reads the v2 cgroup" ;;
        *) fail "engine: stats reads the v2 cgroup"; diag "$stats" ;;
        esac
        check "engine: rm -f" sh -c "$B rm -f $id >/dev/null"
        check "engine: rm leaves no cgroup" test ! -e "$CG/berth-$id"
        $B run -d $N --name hog --memory 8m --memory-swap 8m busybox sh -c 'x=a; while true; do x=$x$x; done' \
                >/dev/null 2>&1
        is "$($B wait hog 2>&1)" 137 "engine: the OOM-killed container exits 137"
        is "$($B inspect -f '{{.State.OOMKilled}}' hog 2>&1)" true "engine: OOMKilled from memory.events"
        $B rm -f hog >/dev/null 2>&1
        is "$($B ps -a -q 2>&1)" "" "engine: no containers left"
        is "$(grep -c /var/lib/berth-vm /proc/self/mountinfo)" 0 "engine: no mounts left"
}

# ---- main ---------------------------------------------------------------------

ALL="memory_run memory_stats pids cpu_quota cpuset devices update pause ps_nested events engine"

main() {
        echo "# kernel $(uname -r), $(nproc) CPUs, $("$RT" --version | head -n 1)"
        if [ "$(stat -f -c %t "$CG")" != 63677270 ]; then
                echo "Bail out! $CG is not cgroup2"
                exit 1
        fi
        echo "# root subtree_control: $(cat "$CG/cgroup.subtree_control")"
        mkdir -p "$WORK" "$STATE"
        make_rootfs_template
        tests=$(echo "${BERTH_VM_TESTS:-$ALL}" | tr ',' ' ')
        for t in $tests; do
                case " $ALL " in
                *" $t "*)
                        t0=$(uptime_cs)
                        "test_$t"
                        t1=$(uptime_cs)
                        echo "# $t: $(((t1 - t0) / 100)).$(printf %02d $(((t1 - t0) % 100))) s"
                        ;;
                *) fail "unknown test $t" ;;
                esac
        done
        left=$(rt list -q 2>&1)
        is "$left" "" "no containers left in the state directory"
        left=$(find "$CG/$PARENT" -mindepth 1 -type d 2> /dev/null; ls -d "$CG"/berth* 2> /dev/null | grep -v "^$CG/$PARENT\$")
        is "$left" "" "no cgroups left below $CG/$PARENT, nor any $CG/berth*"
        rmdir "$CG/$PARENT" 2> /dev/null
        echo "1..$n"
        [ "$failures" = 0 ]
}

main
