#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A throwaway docker-registry (distribution 2.x) for test-registry.
#
#   registry-fixture.sh [USER:PASS]
#
# Starts /usr/bin/docker-registry on 127.0.0.1 on a free port with its
# storage in a new directory under /tmp (with htpasswd auth when USER:PASS
# is given, and then relative Location headers too, so clients see both
# kinds), waits until /v2/ answers, prints one line "ADDR ROOTDIR"
# (ADDR is 127.0.0.1:PORT), then waits for EOF on stdin (or SIGTERM):
# then it kills the registry it started and removes its directory.
# Needs python3 (a free port, the readiness probe) and, for auth,
# htpasswd.  Exit status 77: one of these or docker-registry is missing;
# anything else non-zero: the registry did not come up (its log goes to
# stderr).
set -u

REGISTRY=${BERTH_TEST_DOCKER_REGISTRY:-/usr/bin/docker-registry}
[ -f "$REGISTRY" ] && [ -x "$REGISTRY" ] || exit 77
command -v python3 >/dev/null || exit 77

TMPROOT=$(mktemp -d /tmp/berth-test-registry-XXXXXX) || exit 1
PID=

cleanup() {
        if [ -n "$PID" ]; then
                kill "$PID" 2>/dev/null
                wait "$PID" 2>/dev/null
                PID=
        fi
        case "$TMPROOT" in
        /tmp/berth-test-registry-?*) rm -rf -- "$TMPROOT" ;;
        esac
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

free_port() {
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

write_config() {
        cat >"$TMPROOT/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMPROOT/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$1
EOF
        if [ -n "${AUTH:-}" ]; then
                cat >>"$TMPROOT/config.yml" <<EOF
  relativeurls: true
auth:
  htpasswd:
    realm: berth-test
    path: $TMPROOT/htpasswd
EOF
        fi
}

# /v2/ answers 200, or 401 when auth is on: either way it is up.
probe() {
        python3 -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:%s/v2/" % sys.argv[1], timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)
except Exception:
    sys.exit(1)' "$1" 2>/dev/null
}

wait_up() {
        i=0
        while [ $i -lt 100 ]; do
                kill -0 "$PID" 2>/dev/null || return 1
                probe "$1" && return 0
                sleep 0.1
                i=$((i + 1))
        done
        return 1
}

AUTH=${1:-}
if [ -n "$AUTH" ]; then
        command -v htpasswd >/dev/null || exit 77 # apache2-utils
        # bcrypt (-B): distribution 2.x accepts nothing else
        htpasswd -Bbn "${AUTH%%:*}" "${AUTH#*:}" >"$TMPROOT/htpasswd" 2>/dev/null || exit 1
fi
mkdir "$TMPROOT/storage" || exit 1

# The port is free when we ask but may be taken before the registry binds
# it: try a few.
for attempt in 1 2 3 4 5; do
        PORT=$(free_port) || exit 1
        write_config "$PORT"
        # The registry reads REGISTRY_* variables over its config file.
        env -u REGISTRY_HTTP_ADDR -u REGISTRY_STORAGE -u REGISTRY_AUTH \
                "$REGISTRY" serve "$TMPROOT/config.yml" </dev/null >"$TMPROOT/log" 2>&1 &
        PID=$!
        if wait_up "$PORT"; then
                echo "127.0.0.1:$PORT $TMPROOT/storage"
                # EOF on stdin: the test is done (or died)
                cat >/dev/null
                exit 0
        fi
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
done
cat "$TMPROOT/log" >&2
exit 1
