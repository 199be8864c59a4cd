#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# From a fresh Debian 12 machine (as root) to a running container:
# install the build dependencies, build berth, assemble a bundle around
# Debian's static busybox, and run a container that shows its hostname,
# its PID 1 and its mounts.  Everything it creates is removed at exit.
#
# Then the same root file system becomes an image in a private berth store
# (`berth import`), listed and inspected.
#
# Environment:
#   BERTH_RUNTIME     use this runtime instead of building berth
#                     (e.g. BERTH_RUNTIME=/usr/sbin/runc; the image part
#                     is skipped then)
#   BERTH_BUILD_DIR   build directory (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: run me as root" >&2
    exit 1
fi

# The one dependency line; the same as in README.md and .ci/run.
PACKAGES="meson ninja-build gcc libc6-dev pkg-config libjson-c-dev libseccomp-dev libcap-dev busybox-static python3-pytest iproute2 util-linux podman conmon containerd runc libssl-dev libarchive-dev libcurl4-openssl-dev libsqlite3-dev"

if ! status=$(dpkg-query -W -f '${db:Status-Abbrev}\n' $PACKAGES 2>/dev/null) ||
   printf '%s\n' "$status" | grep -qv '^ii'; then
    echo "== installing dependencies"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q $PACKAGES
fi

if [ -z "${BERTH_RUNTIME:-}" ]; then
    BUILD=${BERTH_BUILD_DIR:-build}
    echo "== building berth in $BUILD"
    [ -d "$BUILD/meson-info" ] || meson setup "$BUILD"
    ninja -C "$BUILD"
    BERTH_RUNTIME=$PWD/$BUILD/src/cli/berth-runtime
    BERTH_CLI=$PWD/$BUILD/src/cli/berth
fi

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
id=berth-demo-$$
cleanup() {
    "$BERTH_RUNTIME" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
    # never rm -rf across a mount, nor a path that is not ours
    case "$work" in
    /tmp/berth-demo.?*)
        if ! grep -q " $work/" /proc/self/mountinfo; then
            rm -rf -- "$work"
        fi
        ;;
    esac
}
trap cleanup EXIT

echo "== assembling a busybox bundle in $work/bundle"
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,dev,etc,proc,sys,tmp,root}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
echo "root:x:0:" > "$rootfs/etc/group"
cat > "$rootfs/demo.sh" <<'EOF'
echo "hostname: $(hostname)"
echo "PID 1:    $(tr '\0' ' ' < /proc/1/cmdline)"
echo "processes:"
ps -o pid,user,args
echo "mounts:"
sed 's/^/  /' /proc/self/mounts
EOF

(cd "$work/bundle" && "$BERTH_RUNTIME" spec)
/usr/bin/python3 - "$work/bundle/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["process"]["terminal"] = False
config["process"]["args"] = ["/bin/sh", "/demo.sh"]
config["hostname"] = "berth-demo"
with open(path, "w") as f:
    json.dump(config, f, indent=2)
EOF

echo "== $BERTH_RUNTIME run $id"
"$BERTH_RUNTIME" --root "$work/state" run --bundle "$work/bundle" "$id"

if [ -n "${BERTH_CLI:-}" ]; then
    echo "== $BERTH_CLI import: the same root file system as an image"
    "$BERTH_CLI" --root "$work/store" import -c 'CMD ["/bin/sh"]' "$rootfs" localhost/demo:latest
    "$BERTH_CLI" --root "$work/store" images
    "$BERTH_CLI" --root "$work/store" image inspect localhost/demo | grep -E '"(Id|Cmd|Architecture)"' -A1 | head -8
fi
