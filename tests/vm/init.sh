#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# PID 1 of the test VM (busybox sh), packed as /init by tests/vm/run-vm.sh.
#
# Stage 1 copies the initramfs into a tmpfs and switch_roots into it:
# pivot_root(2) refuses a root on the initial rootfs, and the runtime
# pivot_roots every container.  Stage 2 mounts a pure cgroup v2 system,
# runs /tests.sh and prints its TAP output between markers on the console,
# then powers off.  The kernel command line may carry berth.tests=NAME,...
# to run a subset.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

if [ "$$" = 1 ] && [ ! -e /.stage2 ]; then
        mount -t tmpfs -o mode=0755 tmpfs /newroot
        for f in /*; do
                case "$f" in
                /newroot | /proc | /sys | /dev) ;;
                *) cp -a "$f" /newroot/ ;;
                esac
        done
        mkdir -p /newroot/proc /newroot/sys /newroot/dev
        : > /newroot/.stage2
        exec switch_root /newroot /init
        echo "init: switch_root failed" >&2
        poweroff -f
fi

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
# Kernel messages (the OOM killer's reports) must not interleave with TAP.
echo 1 > /proc/sys/kernel/printk
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup ||
        mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
for c in cpuset cpu io memory hugetlb pids rdma misc; do
        grep -qw "$c" /sys/fs/cgroup/cgroup.controllers &&
                echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control
done
hostname berth-vm
# overlayfs for the engine's containers (built in, or the module run-vm.sh packed)
grep -qw overlay /proc/filesystems || { [ -e /overlay.ko ] && insmod /overlay.ko; }

tests=$(sed -n 's/.*berth\.tests=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "@@BERTH-VM-TAP-BEGIN@@"
BERTH_VM_TESTS=$tests sh /tests.sh 2>&1
rc=$?
echo "@@BERTH-VM-TAP-END rc=$rc@@"
sync
poweroff -f
