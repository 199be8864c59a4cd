#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run berth-runtime's resource tests (tests/vm/tests.sh) on a pure cgroup v2
# system: a qemu VM booting Debian's kernel with an initramfs that holds
# busybox, berth-runtime and its shared libraries.  Most hosts run pure v2;
# a CI or developer machine with v1 or hybrid cgroups cannot test it
# otherwise.
#
# Installs nothing.  Needs, on Debian 12:
#   apt-get install -y --no-install-recommends \
#       qemu-system-x86 linux-image-amd64 busybox-static cpio
# (as root: reading /boot/vmlinuz-* and /dev/kvm).  With TCG the run takes
# about 30 s (boot ~6 s, the tests ~20 s), with KVM less.
#
# Usage: tests/vm/run-vm.sh [TEST...]
#   TEST   run only these tests of tests.sh (its test_* names without test_)
# Environment:
#   BERTH_RUNTIME     the berth-runtime binary (default build/src/cli/berth-runtime)
#   BERTH_VM_KERNEL   kernel image (default the newest /boot/vmlinuz-*-amd64)
#   BERTH_VM_ACCEL    kvm or tcg (default: kvm when /dev/kvm is usable, and
#                     tcg when the guest kernel did not start under kvm within
#                     10 s, as with broken nested virtualisation)
#   BERTH_VM_TIMEOUT  seconds for the whole VM run (default 300)
#   BERTH_VM_CONSOLE  also copy the whole console log to this file
# Prints the TAP stream of the tests.  Exit status: 0 all passed, 1 a test
# failed, 2 the VM did not finish (no end marker: crash, hang, timeout),
# 77 a prerequisite is missing (the message starts with "host limit:").
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VMDIR=$REPO/tests/vm
RUNTIME=${BERTH_RUNTIME:-$REPO/build/src/cli/berth-runtime}
TIMEOUT=${BERTH_VM_TIMEOUT:-300}
BEGIN_MARK='@@BERTH-VM-TAP-BEGIN@@'
END_MARK='@@BERTH-VM-TAP-END'

missing() {
        echo "host limit: $*" >&2
        exit 77
}

QEMU=$(command -v qemu-system-x86_64 || true)
[ -n "$QEMU" ] || missing "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
[ "$(uname -m)" = x86_64 ] || missing "the VM test needs an x86_64 host"
KERNEL=${BERTH_VM_KERNEL:-$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)}
[ -n "$KERNEL" ] && [ -f "$KERNEL" ] && [ -r "$KERNEL" ] ||
        missing "no readable Debian kernel /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
        missing "$BUSYBOX is not a static busybox (apt-get install busybox-static)"
command -v cpio >/dev/null || missing "cpio not found (apt-get install cpio)"
command -v gzip >/dev/null || missing "gzip not found"
[ -x "$RUNTIME" ] || { echo "runtime under test $RUNTIME is missing: build it or set BERTH_RUNTIME" >&2; exit 2; }

WORK=$(mktemp -d /tmp/berth-vm.XXXXXX)
qemu_pid=
cleanup() {
        stop_qemu
        # $WORK is mktemp's, never empty; nothing is mounted below it
        case "$WORK" in /tmp/berth-vm.?*) rm -rf -- "$WORK" ;; esac
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the initramfs --------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,newroot,etc,root}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
        [ -e "$ROOT/bin/$applet" ] || ln -s busybox "$ROOT/bin/$applet"
done
cp "$RUNTIME" "$ROOT/bin/berth-runtime"
# the engine (berth, its monitor and init, found beside it) and overlayfs,
# a module in Debian's kernel
CLI=${BERTH_CLI:-$REPO/build/src/cli/berth}
[ -x "$CLI" ] || { echo "berth CLI $CLI is missing: build it or set BERTH_CLI" >&2; exit 2; }
for b in "$CLI" "$(dirname "$CLI")/berth-monitor" "$(dirname "$CLI")/berth-init"; do
        cp "$b" "$ROOT/bin/"
done
OVERLAY=/lib/modules/$(basename "$KERNEL" | sed 's/^vmlinuz-//')/kernel/fs/overlayfs/overlay.ko
[ -r "$OVERLAY" ] && cp "$OVERLAY" "$ROOT/overlay.ko"
# the shared libraries and the dynamic loader, at the paths ldd names
# (none for a static build)
for lib in $(ldd "$RUNTIME" "$CLI" "$ROOT/bin/berth-monitor" 2>/dev/null |
             sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p' | sort -u); do
        mkdir -p "$ROOT$(dirname "$lib")"
        cp -L "$lib" "$ROOT$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\n' > "$ROOT/etc/group"
install -m 0755 "$VMDIR/init.sh" "$ROOT/init"
install -m 0755 "$VMDIR/tests.sh" "$ROOT/tests.sh"
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$WORK/initrd.gz"

# ---- boot -------------------------------------------------------------------
# No "quiet": the kernel's "Linux version" line tells that the guest runs;
# init silences the kernel (printk level 1) before the tests start.
append="console=ttyS0 panic=-1 oops=panic"
if [ $# -gt 0 ]; then
        append="$append berth.tests=$(IFS=,; echo "$*")"
fi
CONSOLE=$WORK/console.log

# boot ACCEL: start qemu in the background (its pid in $qemu_pid)
boot() {
        local cpu
        case "$1" in
        kvm) cpu=host ;;
        tcg) cpu=max ;;
        *) echo "BERTH_VM_ACCEL: kvm or tcg, not $1" >&2; exit 2 ;;
        esac
        : > "$CONSOLE"
        rm -f "$WORK/timeout.pid"
        # qemu under timeout(1), whose pid goes to timeout.pid for
        # stop_qemu(), in a subshell that exits rather than dies: no
        # "Aborted" notice from bash when qemu does
        (
                timeout -k 5 "$TIMEOUT" "$QEMU" -accel "$1" -cpu "$cpu" -m 1024 -smp 2 \
                        -nodefaults -display none -no-reboot -monitor none \
                        -serial "file:$CONSOLE" \
                        -kernel "$KERNEL" -initrd "$WORK/initrd.gz" -append "$append" \
                        </dev/null >"$WORK/qemu.out" 2>&1 &
                echo $! > "$WORK/timeout.pid"
                wait $!
        ) 2>/dev/null &
        qemu_pid=$!
}

# Stop the VM started by boot(), if any: timeout(1) passes SIGTERM to qemu.
stop_qemu() {
        local i pid=
        [ -n "$qemu_pid" ] || return 0
        for ((i = 0; i < 40; i++)); do
                pid=$(cat "$WORK/timeout.pid" 2>/dev/null || true)
                [ -z "$pid" ] || break
                sleep 0.05
        done
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=
}

# Did the guest kernel start within $1 seconds?  A /dev/kvm that exists can
# still be unusable (nested virtualisation): qemu aborts or the guest hangs.
guest_started() {
        local i
        for ((i = 0; i < $1 * 4; i++)); do
                grep -q 'Linux version' "$CONSOLE" && return 0
                kill -0 "$qemu_pid" 2>/dev/null || break
                sleep 0.25
        done
        grep -q 'Linux version' "$CONSOLE"
}

ACCEL=${BERTH_VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
        if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi
start=$(date +%s)
boot "$ACCEL"
if [ "$ACCEL" = kvm ] && [ -z "${BERTH_VM_ACCEL:-}" ] && ! guest_started 10; then
        stop_qemu
        echo "# kvm: the guest did not start ($(head -n 1 "$WORK/qemu.out")), using tcg"
        ACCEL=tcg
        start=$(date +%s)
        boot "$ACCEL"
fi
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=
elapsed=$(($(date +%s) - start))
[ -z "${BERTH_VM_CONSOLE:-}" ] || cp "$CONSOLE" "$BERTH_VM_CONSOLE"

# ---- the result -------------------------------------------------------------
tr -d '\r' < "$CONSOLE" > "$WORK/console.txt" || true
if ! grep -q "^$BEGIN_MARK" "$WORK/console.txt" || ! grep -q "^$END_MARK" "$WORK/console.txt"; then
        echo "VM run failed: no TAP markers on the console (qemu exit $qemu_rc after ${elapsed}s," \
                "timeout ${TIMEOUT}s, kernel $KERNEL, accel $ACCEL)" >&2
        echo "--- qemu output:" >&2
        tail -n 20 "$WORK/qemu.out" >&2
        echo "--- end of the console:" >&2
        tail -n 60 "$WORK/console.txt" >&2
        exit 2
fi
sed -n "/^$BEGIN_MARK/,/^$END_MARK/p" "$WORK/console.txt" | sed '1d;$d' > "$WORK/tap"
cat "$WORK/tap"
script_rc=$(sed -n "s/^$END_MARK rc=\([0-9]*\)@@.*/\1/p" "$WORK/console.txt")

failed=$(grep -c '^not ok' "$WORK/tap" || true)
passed=$(grep -c '^ok' "$WORK/tap" || true)
planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$WORK/tap" | tail -n 1)
echo "# VM: $(basename "$KERNEL"), accel $ACCEL, ${elapsed}s; $passed passed, $failed failed"
if [ -z "$planned" ] || [ "$planned" != $((passed + failed)) ]; then
        echo "VM run failed: TAP plan '${planned:-none}' but $((passed + failed)) results" >&2
        exit 2
fi
if [ "$failed" -gt 0 ] || [ "${script_rc:-1}" != 0 ]; then
        exit 1
fi
exit 0
