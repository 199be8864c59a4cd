#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# From a fresh Debian 12 machine (as root) to a running container:
# install the build dependencies, build berth, import Debian's static
# busybox as the image busybox:latest (once; no internet needed) and
# `berth run --rm` it: the container shows its hostname, its PID 1, its
# limits, its network and its mounts, and removes itself.
#
# Environment:
#   BERTH_ROOT        data root (default /var/lib/berth)
#   BERTH_RUNTIME     the OCI runtime berth drives (default: the berth-runtime
#                     built beside berth; e.g. /usr/sbin/runc)
#   BERTH_BUILD_DIR   build directory (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: run me as root" >&2
    exit 1
fi

# The one dependency line; the same as in README.md and .ci/run.
PACKAGES="meson ninja-build gcc libc6-dev pkg-config libjson-c-dev libseccomp-dev libcap-dev busybox-static python3-pytest iproute2 util-linux podman conmon containerd runc libssl-dev libarchive-dev libcurl4-openssl-dev libsqlite3-dev libmnl-dev libnftables-dev"

if ! status=$(dpkg-query -W -f '${db:Status-Abbrev}\n' $PACKAGES 2>/dev/null) ||
   printf '%s\n' "$status" | grep -qv '^ii'; then
    echo "== installing dependencies"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q $PACKAGES
fi

BUILD=${BERTH_BUILD_DIR:-build}
echo "== building berth in $BUILD"
[ -d "$BUILD/meson-info" ] || meson setup "$BUILD"
ninja -C "$BUILD"

BERTH_CLI=${BERTH_CLI:-$PWD/${BERTH_BUILD_DIR:-build}/src/cli/berth}
if [ ! -x "$BERTH_CLI" ]; then
    echo "demo.sh: $BERTH_CLI is not built" >&2
    exit 1
fi

# The built-in image: Debian's static busybox as busybox:latest in the
# data root (default /var/lib/berth, or $BERTH_ROOT), imported once.
if ! "$BERTH_CLI" image inspect busybox:latest >/dev/null 2>&1; then
    work=$(mktemp -d /tmp/berth-demo.XXXXXX)
    trap 'case "$work" in /tmp/berth-demo.?*) rm -rf -- "$work";; esac' EXIT
    rootfs=$work/rootfs
    mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root}
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $("$rootfs/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
    done
    echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
    echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >> "$rootfs/etc/passwd"
    echo "root:x:0:" > "$rootfs/etc/group"
    echo "nogroup:x:65534:" >> "$rootfs/etc/group"
    echo "== importing Debian's busybox-static as busybox:latest"
    "$BERTH_CLI" import -c 'CMD ["/bin/sh"]' "$rootfs" busybox:latest
fi

echo "== berth run --rm -i --hostname berth-demo --memory 64m --pids-limit 100 --cpus 0.5 busybox sh -s"
"$BERTH_CLI" run --rm -i --hostname berth-demo --memory 64m --pids-limit 100 --cpus 0.5 busybox sh -s <<'EOF'
echo "hostname: $(hostname)"
echo "PID 1:    $(tr '\0' ' ' < /proc/1/cmdline)"
echo "user:     $(id)"
echo "processes:"; ps -o pid,user,args
if [ -e /sys/fs/cgroup/memory.max ]; then
    echo "limits:   memory.max=$(cat /sys/fs/cgroup/memory.max) pids.max=$(cat /sys/fs/cgroup/pids.max) cpu.max=$(cat /sys/fs/cgroup/cpu.max)"
else
    echo "limits:   memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) pids=$(cat /sys/fs/cgroup/pids/pids.max) cpu quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)/$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi
echo "network:  $(ip -o -4 addr | awk '{print $2, $4}' | tr '\n' ' ')(via $(ip route | awk '/^default/ {print $3}'))"
echo "mounts:"; sed 's/^/  /' /proc/self/mounts
EOF
echo "== berth ps -a (the container removed itself)"
"$BERTH_CLI" ps -a
