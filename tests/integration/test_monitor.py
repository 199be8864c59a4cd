# SPDX-License-Identifier: GPL-2.0-or-later
"""berth-monitor and berth-init, driven directly (src/engine/monitor.h).

Each test makes a container directory DIR holding a busybox bundle and a
monitor.json, starts `berth-monitor DIR` with fd 3 a pipe, reads its report
line and talks to DIR/attach.sock.  The runtime is $BERTH_RUNTIME with a
--root of the test's own (the `root` fixture deletes what is left and fails
the test on leaked containers, processes or cgroups); runc and crun get
their own roots.  Binaries: $BERTH_MONITOR and $BERTH_INIT, by default
build/src/cli/berth-monitor and build/src/cli/berth-init.
"""

import copy
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import (REPO, cgroups_named, make_rootfs, orphans, pid_alive, python_default_spec,
                      reap_orphans, wait_for)

MONITOR = os.environ.get("BERTH_MONITOR") or str(REPO / "build" / "src" / "cli" / "berth-monitor")
INIT = os.environ.get("BERTH_INIT") or str(REPO / "build" / "src" / "cli" / "berth-init")


def crun_usable():
    # crun 1.8 refuses hybrid cgroup hierarchies whose v2 half has controllers
    # (this host's hugetlb): it can run no container there at all
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            return not f.read().split()
    except OSError:
        return True


OTHER_RUNTIMES = [p for p in ("/usr/sbin/runc", "/usr/bin/crun")
                  if os.access(p, os.X_OK) and (not p.endswith("crun") or crun_usable())]


def other_runtime_args(path):
    # crun 1.8 refuses hybrid cgroup hierarchies (cgroup v1 with an empty
    # v2 mount); without its cgroup manager it runs anywhere
    return ["--cgroup-manager=disabled"] if os.path.basename(path) == "crun" else []

# monitor.h
MON_ATTACH, MON_STDIN, MON_CLOSE_IN, MON_RESIZE = b"A", b"i", b"c", b"w"
MON_STOP, MON_KILL, MON_PAUSE, MON_RESUME, MON_LOGS = b"K", b"k", b"P", b"U", b"L"
MON_STARTED, MON_STDOUT, MON_STDERR, MON_EXIT = b"s", b"o", b"e", b"x"
MON_LOG_POS, MON_LOG_LINE, MON_OK, MON_ERROR = b"p", b"l", b"+", b"!"
MON_MAX_PAYLOAD = 65536


@pytest.fixture(scope="module", autouse=True)
def binaries():
    for path in (MONITOR, INIT):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: build it or set BERTH_MONITOR / BERTH_INIT")


class Monitor:
    """One container directory and its berth-monitor."""

    def __init__(self, testenv, runtime, state_root, cid, config, args):
        self.testenv = testenv
        self.runtime = runtime
        self.state_root = state_root
        self.id = cid
        self.dir = testenv.mkdir(f"m-{cid}", mode=0o700)
        self.bundle = self.dir / "bundle"
        make_rootfs(self.bundle / "rootfs")
        self.spec = copy.deepcopy(config)
        self.spec["process"]["terminal"] = False
        self.spec["process"]["args"] = list(args)
        self.spec["root"] = {"path": "rootfs", "readonly": False}
        # unique, and named so that the leak check finds it
        self.spec.setdefault("linux", {})["cgroupsPath"] = f"/berth-{cid}"
        self.log = self.dir / "ctr.log"
        self.conf = {
            "id": cid, "runtime": runtime, "runtime_args": ["--root", str(state_root)],
            "tty": False, "stdin": False, "wait_attach": False,
            "log_path": str(self.log), "log_max_size": 10 << 20, "log_max_files": 3,
            "restart": "no", "restart_max": 0, "stop_signal": 15, "stop_timeout": 10,
            "health": None, "oom": [], "exit_command": [],
        }
        self.proc = None
        self.dirfd = None

    # -- running it

    def start(self, expect="started"):
        with open(self.bundle / "config.json", "w") as f:
            json.dump(self.spec, f, indent=1)
        with open(self.dir / "monitor.json", "w") as f:
            json.dump(self.conf, f)
        r, w = os.pipe()
        try:
            # fd 3 the pipe, stdio /dev/null, a new session: as the engine does
            self.proc = subprocess.Popen(
                ["/bin/bash", "-c", f'exec "$0" "$1" 3>&{w} {w}>&-', MONITOR, str(self.dir)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(w,), start_new_session=True)
        finally:
            os.close(w)
        try:
            self.report = read_until_eof(r, 60).decode()
        finally:
            os.close(r)
        if expect:
            assert self.report.startswith(expect), self.report
        return self.report

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def status(self):
        with open(self.dir / "status.json") as f:
            return json.load(f)

    def wait_status(self, pred, timeout=15):
        got = wait_for(lambda: self._try_status(pred), timeout=timeout)
        assert got, f"status never matched: {self._try_status(lambda s: True)}"
        return got

    def _try_status(self, pred):
        try:
            s = self.status()
        except (OSError, ValueError):
            return None
        return s if pred(s) else None

    def lock_free(self):
        fd = os.open(self.dir / "monitor.lock", os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def connect(self):
        if self.dirfd is None:
            self.dirfd = os.open(self.dir, os.O_PATH | os.O_DIRECTORY)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(20)
        # the path may exceed sun_path: go through the directory's fd
        s.connect(f"/proc/self/fd/{self.dirfd}/attach.sock")
        return s

    def request(self, kind, payload=b""):
        """Send one request and return the first answer."""
        with self.connect() as s:
            send(s, kind, payload)
            return recv(s)

    def stop(self, sig=0, timeout=-1):
        with self.connect() as s:
            send(s, MON_STOP, f"{sig} {timeout}".encode())
            return wait_exit(s)

    def log_entries(self, path=None):
        with open(path or self.log) as f:
            return [json.loads(line) for line in f]

    def runtime_ids(self):
        p = subprocess.run([self.runtime, "--root", str(self.state_root), "list", "-q"],
                           capture_output=True, text=True, timeout=20)
        return p.stdout.split()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        subprocess.run([self.runtime, "--root", str(self.state_root), "delete", "--force", self.id],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if self.dirfd is not None:
            os.close(self.dirfd)
            self.dirfd = None


def read_until_eof(fd, timeout):
    out = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no EOF on the report pipe; got {out!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                return out
            out += chunk


def send(s, kind, payload=b""):
    s.send(kind + payload)


def recv(s):
    data = s.recv(MON_MAX_PAYLOAD + 16)
    if not data:
        return None, None
    return data[:1], data[1:]


def wait_exit(s):
    """Collect messages until a final MON_EXIT: (code, messages)."""
    msgs = []
    while True:
        kind, payload = recv(s)
        assert kind is not None, f"connection closed before the exit; got {msgs}"
        msgs.append((kind, payload))
        if kind == MON_EXIT:
            code, restarting = payload.decode().split()
            if restarting == "0":
                return int(code), msgs


def logged(m, name):
    return [e["log"] for e in m.log_entries() if e["stream"] == name]


def stream(msgs, kind):
    return b"".join(p for k, p in msgs if k == kind)


@pytest.fixture
def monitor(testenv, runtime, root, base_config):
    """Factory: monitor(*args, runtime=..., state_root=..., spec=...) -> Monitor."""
    made = []

    def make(*args, runtime_path=None, state_root=None, spec=None):
        cid = testenv.new_id()
        m = Monitor(testenv, runtime_path or runtime, state_root or root, cid,
                    spec or base_config, args or ("true",))
        made.append(m)
        return m

    yield make
    for m in made:
        m.cleanup()


def assert_clean(m):
    """Nothing of the container left: runtime state, cgroups, socket, lock."""
    assert m.id not in m.runtime_ids()
    assert not cgroups_named([m.id])
    assert not (m.dir / "attach.sock").exists()
    assert m.lock_free()


# ---------------------------------------------------------------------------
# start, exit, logs


def test_start_and_exit_code(monitor):
    m = monitor("sh", "-c", "echo out; echo err >&2; exit 7")
    report = m.start()
    pid = int(report.split()[1])
    assert pid > 1
    assert m.wait() == 0  # no exit command
    st = m.status()
    assert st["state"] == "exited"
    assert st["exit_code"] == 7
    assert st["pid"] == 0 and st["monitor_pid"] == m.pid
    assert st["started_at"].endswith("Z") and st["finished_at"] >= st["started_at"]
    assert st["restart_count"] == 0 and not st["oom_killed"] and st["error"] == ""
    assert st["health"] is None
    entries = m.log_entries()
    assert logged(m, "stdout") == ["out\n"] and logged(m, "stderr") == ["err\n"]
    for e in entries:
        assert len(e["time"]) == 30 and e["time"].endswith("Z"), e
    assert_clean(m)


def test_signal_exit_code(monitor):
    m = monitor("sh", "-c", "echo ready; sleep 1000 & wait")
    m.start()
    wait_for(lambda: m.log.exists() and "ready" in m.log.read_text())
    with m.connect() as s:
        send(s, MON_KILL, b"9")
        code, _ = wait_exit(s)
    assert code == 137
    assert m.wait() == 0
    assert m.status()["exit_code"] == 137
    assert not m.status()["stopped_by_user"]
    assert_clean(m)


def test_log_long_line_and_escapes(monitor):
    # 40000 bytes without a newline, then control characters, quotes,
    # backslashes, UTF-8 and an invalid byte
    m = monitor("sh", "-c", "head -c 40000 /dev/zero | tr '\\0' a; echo;"
                " printf 'q\"b\\\\t\\tc\\001\\303\\251\\377z\\n' >&2")
    m.start()
    m.wait()
    entries = m.log_entries()
    logs = [e["log"] for e in entries if e["stream"] == "stdout"]
    assert [len(x) for x in logs] == [16384, 16384, 40000 - 2 * 16384 + 1]
    assert "".join(logs) == "a" * 40000 + "\n"
    err = [e["log"] for e in entries if e["stream"] == "stderr"]
    assert err == ['q"b\\t\tc\x01\u00e9\ufffdz\n']
    raw = m.log.read_text()
    assert "\\u0001" in raw and "\\ufffd" in raw and '\\"' in raw


def test_log_rotation(monitor):
    m = monitor("sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done")
    m.conf.update(log_max_size=4096, log_max_files=3)
    m.start()
    m.wait()
    files = [m.log, m.dir / "ctr.log.1", m.dir / "ctr.log.2"]
    for f in files:
        assert f.exists(), f
        assert 0 < f.stat().st_size <= 4096
    assert not (m.dir / "ctr.log.3").exists()
    lines = [e["log"] for f in reversed(files) for e in m.log_entries(f)]
    n = len(lines)
    assert lines == [f"line-{i}\n" for i in range(300 - n, 300)]


def test_log_single_file_truncates(monitor):
    m = monitor("sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done")
    m.conf.update(log_max_size=2048, log_max_files=1)
    m.start()
    m.wait()
    assert not (m.dir / "ctr.log.1").exists()
    assert 0 < m.log.stat().st_size <= 2048
    assert m.log_entries()[-1]["log"] == "line-199\n"


# ---------------------------------------------------------------------------
# attach


def test_attach_stdin_and_exit(monitor):
    m = monitor("sh", "-c", "read line; echo got:$line; cat >&2; echo done")
    m.conf.update(stdin=True, wait_attach=True)
    m.start(expect="created")
    assert m.status()["state"] == "created"
    with m.connect() as s:
        send(s, MON_ATTACH, b"oei")
        kind, payload = recv(s)
        assert kind == MON_STARTED, (kind, payload)
        assert int(payload) > 1
        assert m.status()["state"] == "running"
        send(s, MON_STDIN, b"hello\n")
        send(s, MON_STDIN, b"to stderr\n")
        send(s, MON_CLOSE_IN)
        code, msgs = wait_exit(s)
        assert s.recv(100) == b""  # then the monitor closes the connection
    assert code == 0
    assert stream(msgs, MON_STDOUT) == b"got:hello\ndone\n"
    assert stream(msgs, MON_STDERR) == b"to stderr\n"
    assert m.wait() == 0
    # two pipes: the order holds within each stream only
    assert logged(m, "stdout") == ["got:hello\n", "done\n"]
    assert logged(m, "stderr") == ["to stderr\n"]


def test_attach_streams_and_wait(monitor):
    # one client attached to stdout only, one just waiting for the exit
    m = monitor("sh", "-c", "read x; echo o1; echo e1 >&2; echo o2")
    m.conf.update(stdin=True)
    m.start()
    with m.connect() as a, m.connect() as w:
        send(a, MON_ATTACH, b"oi")
        send(a, MON_STDIN, b"go\n")
        code, msgs = wait_exit(a)
        assert code == 0
        assert stream(msgs, MON_STDOUT) == b"o1\no2\n"
        assert stream(msgs, MON_STDERR) == b""
        kind, payload = recv(w)
        assert (kind, payload) == (MON_EXIT, b"0 0")
    m.wait()


def test_slow_client_is_disconnected(monitor):
    """A client that does not read is dropped; the log gets everything and
    the monitor keeps answering."""
    size = 24 << 20
    m = monitor("sh", "-c", f"read x; head -c {size} /dev/zero | tr '\\0' x; echo; read y")
    m.conf.update(stdin=True, log_max_size=0)
    m.start()
    slow = m.connect()
    with m.connect() as ctl:
        send(slow, MON_ATTACH, b"o")
        send(ctl, MON_ATTACH, b"i")
        send(ctl, MON_STDIN, b"go\n")

        def logged():
            return m.log.stat().st_size > size
        assert wait_for(logged, timeout=60)
        t0 = time.monotonic()
        kind, _ = m.request(MON_LOGS)
        assert kind == MON_LOG_POS and time.monotonic() - t0 < 2
        # the slow client got some output, then the end of its connection
        got = 0
        while True:
            kind, payload = recv(slow)
            if kind is None:
                break
            assert kind == MON_STDOUT
            got += len(payload)
        assert 0 < got < size
        send(ctl, MON_STDIN, b"end\n")
        code, _ = wait_exit(ctl)
        assert code == 0
    slow.close()
    m.wait()
    total = sum(len(e["log"]) for e in m.log_entries())
    assert total == size + 1


# ---------------------------------------------------------------------------
# stop, kill, restart


def test_stop_graceful(monitor):
    m = monitor("sh", "-c", "trap 'echo bye; exit 0' TERM; echo ready; sleep 1000 & wait")
    m.start()
    wait_for(lambda: m.log.exists() and "ready" in m.log.read_text())
    t0 = time.monotonic()
    code, _ = m.stop(15, 10)
    assert code == 0
    assert time.monotonic() - t0 < 3
    assert m.wait() == 0
    st = m.status()
    assert st["state"] == "exited" and st["stopped_by_user"] and st["exit_code"] == 0
    assert "bye\n" in [e["log"] for e in m.log_entries()]
    assert_clean(m)


def test_stop_escalates_to_sigkill(monitor):
    m = monitor("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
    m.conf.update(stop_timeout=2)
    m.start()
    wait_for(lambda: m.log.exists() and "ready" in m.log.read_text())
    t0 = time.monotonic()
    code, _ = m.stop()  # the configured signal (15) and timeout (2 s)
    took = time.monotonic() - t0
    assert code == 137
    assert 1.8 <= took < 5, took
    assert m.wait() == 0
    assert m.status()["stopped_by_user"]
    assert_clean(m)


def test_sigterm_to_monitor_stops(monitor):
    m = monitor("sh", "-c", "trap 'exit 3' TERM; echo ready; sleep 1000 & wait")
    m.start()
    wait_for(lambda: m.log.exists() and "ready" in m.log.read_text())
    os.kill(m.pid, signal.SIGTERM)
    assert m.wait() == 0
    st = m.status()
    assert st["exit_code"] == 3 and st["stopped_by_user"] and st["state"] == "exited"
    assert_clean(m)


def test_restart_on_failure(monitor):
    m = monitor("sh", "-c", "echo run; exit 2")
    m.conf.update(restart="on-failure", restart_max=3)
    t0 = time.monotonic()
    m.start()
    exits = []
    with m.connect() as s:
        while True:
            kind, payload = recv(s)
            if kind is None:
                break
            if kind == MON_EXIT:
                exits.append(payload)
    assert m.wait() == 0
    took = time.monotonic() - t0
    st = m.status()
    assert st["state"] == "exited" and st["exit_code"] == 2 and st["restart_count"] == 3
    assert [e["log"] for e in m.log_entries()] == ["run\n"] * 4
    # whatever exits the client saw: all but the last restart
    assert exits and exits[-1] == b"2 0" and all(e == b"2 1" for e in exits[:-1])
    assert took >= 0.1 + 0.2 + 0.4  # the back-off
    assert_clean(m)


def test_on_failure_success_does_not_restart(monitor):
    m = monitor("sh", "-c", "echo run; exit 0")
    m.conf.update(restart="on-failure", restart_max=3)
    m.start()
    assert m.wait() == 0
    assert m.status()["restart_count"] == 0


def test_restart_always_then_stop(monitor):
    m = monitor("sh", "-c", "trap 'exit 0' TERM; echo run; sleep 1000 & wait")
    m.conf.update(restart="always")
    m.start()
    first = m.wait_status(lambda s: s["state"] == "running")["pid"]
    with m.connect() as s:
        send(s, MON_KILL, b"15")  # not a stop: the policy restarts it
        kind, payload = recv(s)
        assert (kind, payload) == (MON_EXIT, b"0 1")
    st = m.wait_status(lambda s: s["state"] == "running" and s["restart_count"] == 1)
    assert st["pid"] != first and not st["stopped_by_user"]
    code, msgs = m.stop(15, 10)
    assert code == 0
    assert m.wait() == 0
    st = m.status()
    assert st["state"] == "exited" and st["stopped_by_user"] and st["restart_count"] == 1
    assert [e["log"] for e in m.log_entries()] == ["run\n"] * 2
    assert_clean(m)


def test_stop_while_restarting(monitor):
    m = monitor("sh", "-c", "exit 1")
    m.conf.update(restart="always")
    m.start()
    m.wait_status(lambda s: s["restart_count"] >= 2 and s["state"] == "restarting")
    code, _ = m.stop()
    assert code == 1
    assert m.wait() == 0
    st = m.status()
    assert st["state"] == "exited" and st["stopped_by_user"]
    assert_clean(m)


def test_stop_created(monitor):
    # under WAIT_ATTACH, never attached: a stop removes it
    m = monitor("sh", "-c", "echo never")
    m.conf.update(wait_attach=True)
    m.start(expect="created")
    code, _ = m.stop(15, 10)
    assert code == 137
    assert m.wait() == 0
    st = m.status()
    assert st["state"] == "exited" and st["stopped_by_user"] and st["started_at"] == ""
    assert not m.log.read_text()
    assert_clean(m)


def test_oom_killed(monitor):
    # the counters are files the monitor reads at the start and the exit
    m = monitor("cat")
    events = m.dir / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 0\noom 1\noom_kill 2\noom_kill_disable 0\n")
    m.conf.update(stdin=True, oom=[{"path": str(events), "key": "oom_kill"},
                                   {"path": str(m.dir / "absent"), "key": "oom_kill"}])
    m.start()
    events.write_text("low 0\nhigh 0\nmax 0\noom 2\noom_kill 3\noom_kill_disable 0\n")
    with m.connect() as s:
        send(s, MON_ATTACH, b"i")
        send(s, MON_CLOSE_IN)
        code, _ = wait_exit(s)
    assert code == 0
    m.wait()
    assert m.status()["oom_killed"] is True


def test_pause_resume(monitor):
    m = monitor("sh", "-c", "trap 'exit 5' TERM; sleep 1000 & wait")
    m.start()
    assert m.request(MON_RESUME)[0] == MON_ERROR  # not paused
    assert m.request(MON_PAUSE) == (MON_OK, b"")
    assert m.status()["state"] == "paused"
    assert m.request(MON_PAUSE)[0] == MON_ERROR
    assert m.request(MON_RESUME) == (MON_OK, b"")
    assert m.status()["state"] == "running"
    assert m.request(MON_PAUSE) == (MON_OK, b"")
    code, _ = m.stop(15, 10)  # a paused container is thawed to get its signal
    assert code == 5
    assert m.wait() == 0


# ---------------------------------------------------------------------------
# health checks


def test_health_healthy_then_unhealthy(monitor):
    m = monitor("sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 1000")
    m.conf.update(health={"test": ["CMD-SHELL", "echo checking; test -e /tmp/ok"],
                          "interval": 300_000_000, "timeout": 5_000_000_000,
                          "start_period": 0, "retries": 2})
    m.start()
    assert m.status()["health"]["status"] == "starting"
    st = m.wait_status(lambda s: s["health"]["status"] == "healthy")
    log = st["health"]["log"]
    assert log[-1]["exit_code"] == 0 and log[-1]["output"] == "checking\n"
    assert log[-1]["start"] <= log[-1]["end"]
    st = m.wait_status(lambda s: s["health"]["status"] == "unhealthy", timeout=20)
    h = st["health"]
    assert h["failing_streak"] >= 2
    assert h["log"][-1]["exit_code"] == 1 and h["log"][-1]["output"] == "checking\n"
    assert len(h["log"]) <= 5
    m.wait_status(lambda s: len(s["health"]["log"]) == 5)
    m.stop(9, 0)
    assert m.wait() == 0
    assert not [p for p in orphans() if p != m.pid]


def test_health_timeout_and_start_period(monitor):
    m = monitor("sleep", "1000")
    m.conf.update(health={"test": ["CMD", "sleep", "10"], "interval": 200_000_000,
                          "timeout": 300_000_000, "start_period": 60_000_000_000, "retries": 1})
    m.start()
    st = m.wait_status(lambda s: s["health"]["log"])
    r = st["health"]["log"][-1]
    assert r["exit_code"] == -1 and "exceeded timeout" in r["output"]
    # inside the start period, before any success: no failure counts
    time.sleep(1)
    h = m.status()["health"]
    assert h["status"] == "starting" and h["failing_streak"] == 0
    m.stop(9, 0)
    m.wait()


# ---------------------------------------------------------------------------
# logs following


def test_logs_position_and_follow(monitor):
    m = monitor("sh", "-c", "echo one; read x; echo two; echo three >&2; read y")
    m.conf.update(stdin=True)
    m.start()
    wait_for(lambda: m.log.exists() and m.log.stat().st_size > 0)
    with m.connect() as f, m.connect() as ctl:
        send(f, MON_LOGS)
        kind, payload = recv(f)
        assert kind == MON_LOG_POS
        ino, off = map(int, payload.split())
        st = os.stat(m.log)
        assert ino == st.st_ino and off == st.st_size
        assert json.loads(m.log.read_bytes()[:off])["log"] == "one\n"
        send(ctl, MON_ATTACH, b"i")
        send(ctl, MON_STDIN, b"x\n")
        lines = []
        for _ in range(2):
            kind, payload = recv(f)
            assert kind == MON_LOG_LINE
            lines.append(payload)
        assert [json.loads(x)["log"] for x in lines] == ["two\n", "three\n"]
        assert all(x.endswith(b"\n") for x in lines)
        # the lines sent are the lines written, after the position
        assert m.log.read_bytes()[off:] == b"".join(lines)
        send(ctl, MON_STDIN, b"y\n")
        code, _ = wait_exit(f)
        assert code == 0
    m.wait()


# ---------------------------------------------------------------------------
# the monitor's own life


def test_monitor_killed_leaves_status_and_frees_lock(monitor):
    m = monitor("sleep", "1000")
    m.start()
    assert not m.lock_free()
    st = m.status()
    assert st["state"] == "running"
    os.kill(m.pid, signal.SIGKILL)
    m.wait()
    # what the engine sees: "running", and no monitor holding the lock
    assert m.status()["state"] == "running"
    assert m.lock_free()
    assert pid_alive(st["pid"])  # the container lives on, orphaned
    m.cleanup()
    assert wait_for(lambda: not pid_alive(st["pid"]))


def test_second_monitor_refused(monitor):
    m = monitor("sleep", "1000")
    m.start()
    r, w = os.pipe()
    p = subprocess.Popen(["/bin/bash", "-c", f'exec "$0" "$1" 3>&{w} {w}>&-', MONITOR, str(m.dir)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    line = read_until_eof(r, 30).decode()
    os.close(r)
    assert p.wait(timeout=10) == 1
    assert line.startswith("error ") and "monitor" in line
    assert m.status()["state"] == "running"
    m.stop(9, 0)
    m.wait()


def test_idle_rss(monitor):
    m = monitor("sh", "-c", "echo hello; sleep 1000")
    m.start()
    wait_for(lambda: m.log.exists() and m.log.stat().st_size > 0)
    with m.connect() as s:
        send(s, MON_LOGS)
        assert recv(s)[0] == MON_LOG_POS
    time.sleep(2.5)  # idle: the monitor trims after a second without events

    def status():
        with open(f"/proc/{m.pid}/status") as f:
            return {k: v.strip() for k, v in (line.split(":", 1) for line in f)}
    st = status()
    rss = int(st["VmRSS"].split()[0])
    print(f"berth-monitor idle: VmRSS {st['VmRSS']}, RssAnon {st['RssAnon']}, "
          f"RssFile {st['RssFile']}, threads {st['Threads']}")
    assert st["Threads"] == "1"
    assert rss < 512, st["VmRSS"]
    # and it still works after the trim
    code, _ = m.stop(9, 0)
    assert code == 137
    assert m.wait() == 0


def test_exit_command(monitor):
    m = monitor("sh", "-c", "exit 4")
    out = m.dir / "exit-ran"
    script = (f'st=$(cat "{m.dir}/status.json"); '
              f'if flock -n "{m.dir}/monitor.lock" true; then free=yes; else free=no; fi; '
              f'echo "$$ $1 $free" > "{out}"; '
              f'[ -e "{m.dir}/attach.sock" ] && echo sock >> "{out}"; '
              f'echo "$st" >> "{out}"; exit 9')
    m.conf["exit_command"] = ["/bin/sh", "-c", script, "sh", "arg1"]
    m.start()
    assert m.wait() == 9  # the monitor became the exit command
    lines = out.read_text().splitlines()
    assert lines[0] == f"{m.pid} arg1 yes"
    assert json.loads(lines[1])["state"] == "exited" and json.loads(lines[1])["exit_code"] == 4


def test_exit_command_not_executable(monitor):
    m = monitor("true")
    m.conf["exit_command"] = [str(m.dir / "no-such-command")]
    m.start()
    assert m.wait() != 0
    assert m.status()["state"] == "exited"
    assert m.lock_free()


def test_create_fails(monitor):
    m = monitor("true")
    m.spec["root"]["path"] = "no-such-rootfs"
    report = m.start(expect="error ")
    assert report.endswith("\n") and report.count("\n") == 1
    msg = report[len("error "):].strip()
    assert msg
    assert m.wait() == 1
    st = m.status()
    assert st["error"] == msg and st["state"] == "created" and st["pid"] == 0
    assert_clean(m)
    reap_orphans()
    assert not [p for p in orphans()]
    assert not (m.dir / "pid").exists()


def test_bad_monitor_json(monitor):
    m = monitor("true")
    m.conf = {"id": m.id}  # no runtime, no log path
    report = m.start(expect="error ")
    assert "required" in report
    assert m.wait() == 1
    assert not (m.dir / "status.json").exists()


def test_missing_executable_fails_at_create_or_exits_127(monitor):
    m = monitor("/no/such/program")
    report = m.start(expect=None)
    m.wait()
    st = m.status()
    if report.startswith("error "):
        assert st["exit_code"] == 127 and st["error"]
    else:
        assert st["exit_code"] == 127 or st["exit_code"] == 255, st
    assert_clean(m)


def failing_runtime(m, verb, when):
    """A runtime that fails VERB (with an error on stderr) while WHEN exists."""
    wrapper = m.dir / "runtime-wrapper"
    wrapper.write_text(f"""#!/bin/sh
for a; do
    if [ "$a" = {verb} ] && [ -e "{when}" ]; then
        echo "noise before the error" >&2
        echo "{verb} refused: permission denied" >&2
        exit 1
    fi
done
exec "{m.runtime}" "$@"
""")
    wrapper.chmod(0o755)
    m.conf["runtime"] = str(wrapper)


def test_start_fails(monitor):
    m = monitor("true")
    failing_runtime(m, "start", "/")
    report = m.start(expect="error ")
    assert report == "error start refused: permission denied\n"
    assert m.wait() == 1
    st = m.status()
    assert st["state"] == "created" and st["exit_code"] == 126
    assert st["error"] == "start refused: permission denied"
    assert_clean(m)


def test_start_fails_under_wait_attach(monitor):
    m = monitor("true")
    failing_runtime(m, "start", "/")
    ran = m.dir / "exit-ran"
    m.conf.update(wait_attach=True, exit_command=["/bin/sh", "-c", f"echo ran > {ran}"])
    m.start(expect="created")
    with m.connect() as s:
        send(s, MON_ATTACH, b"oe")
        assert recv(s) == (MON_ERROR, b"start refused: permission denied")
        assert recv(s) == (None, None)
    assert m.wait() == 0
    assert ran.read_text() == "ran\n"
    st = m.status()
    assert st["error"] == "start refused: permission denied" and st["exit_code"] == 126
    assert_clean(m)


def test_restart_fails_then_stop(monitor):
    m = monitor("sh", "-c", "exit 1")
    flag = m.dir / "fail-create"
    failing_runtime(m, "create", flag)
    m.conf.update(restart="always")
    m.start()
    flag.write_text("")
    st = m.wait_status(lambda s: s["error"] == "create refused: permission denied"
                       and s["state"] == "restarting")
    assert st["exit_code"] == 126
    n = st["restart_count"]
    st = m.wait_status(lambda s: s["restart_count"] > n)  # the policy keeps trying
    code, _ = m.stop()
    assert code == 126
    assert m.wait() == 0
    assert m.status()["state"] == "exited"
    assert_clean(m)


# ---------------------------------------------------------------------------
# tty


def test_tty(monitor):
    m = monitor("sh", "-c", "stty size; [ -t 0 ] && echo tty; read x; echo got:$x; stty size; echo err >&2")
    m.spec["process"]["terminal"] = True
    m.conf.update(tty=True, stdin=True, wait_attach=True)
    m.start(expect="created")
    with m.connect() as s:
        send(s, MON_RESIZE, b"30 100")
        send(s, MON_ATTACH, b"oei")
        kind, _ = recv(s)
        assert kind == MON_STARTED
        out = b""
        while b"tty" not in out:
            kind, payload = recv(s)
            assert kind == MON_STDOUT, (kind, payload, out)
            out += payload
        assert out.startswith(b"30 100\r\n"), out
        send(s, MON_RESIZE, b"40 120")
        send(s, MON_STDIN, b"hi\n")
        code, msgs = wait_exit(s)
    assert code == 0
    out += stream(msgs, MON_STDOUT)
    assert b"got:hi\r\n40 120\r\nerr\r\n" in out, out
    assert stream(msgs, MON_STDERR) == b""
    m.wait()
    entries = m.log_entries()
    assert {e["stream"] for e in entries} == {"stdout"}
    assert "got:hi\r\n" in [e["log"] for e in entries]
    assert not (m.dir / "console.sock").exists()


def test_tty_restart_keeps_size(monitor):
    m = monitor("sh", "-c", "stty size; exit 1")
    m.spec["process"]["terminal"] = True
    m.conf.update(tty=True, wait_attach=True, restart="on-failure", restart_max=1)
    m.start(expect="created")
    with m.connect() as s:
        send(s, MON_RESIZE, b"33 77")
        send(s, MON_ATTACH, b"o")
        assert recv(s)[0] == MON_STARTED
        code, msgs = wait_exit(s)
    assert code == 1
    m.wait()
    assert [e["log"] for e in m.log_entries()] == ["33 77\r\n"] * 2


# ---------------------------------------------------------------------------
# berth-init


def with_init(m, *argv):
    shutil.copy2(INIT, m.bundle / "rootfs" / "sbin" / "berth-init")
    m.spec["process"]["args"] = ["/sbin/berth-init", "--", *argv]


def zombies_of(ppid):
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == ppid:
            found.append(int(d))
    return found


def test_init_reaps_and_forwards(monitor):
    m = monitor()
    # orphans re-parented to PID 1 and left to die: zombies unless reaped
    with_init(m, "sh", "-c", "for i in 1 2 3 4 5; do (sleep 0.2 &); done;"
              " trap 'echo got TERM; exit 42' TERM; echo ready; sleep 1000 & wait")
    m.start()
    init_pid = m.wait_status(lambda s: s["state"] == "running")["pid"]
    wait_for(lambda: m.log.exists() and "ready" in m.log.read_text())
    time.sleep(1)
    assert zombies_of(init_pid) == []
    with open(f"/proc/{init_pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"/sbin/berth-init"
    t0 = time.monotonic()
    code, _ = m.stop(15, 10)  # to PID 1, forwarded to sh
    assert code == 42
    assert time.monotonic() - t0 < 5
    assert "got TERM\n" in [e["log"] for e in m.log_entries()]
    m.wait()


def test_init_exit_status(monitor):
    m = monitor()
    with_init(m, "sh", "-c", "kill -USR1 $$")  # the child dies of a signal
    m.start()
    m.wait()
    assert m.status()["exit_code"] == 128 + signal.SIGUSR1


@pytest.mark.parametrize("prog,code", [("/no/such/program", 127), ("/etc/passwd", 126)])
def test_init_exec_failure(monitor, prog, code):
    m = monitor()
    with_init(m, prog)
    m.start()
    m.wait()
    assert m.status()["exit_code"] == code
    err = "".join(e["log"] for e in m.log_entries() if e["stream"] == "stderr")
    assert err.startswith("berth-init: exec " + prog), err


def test_init_tty_foreground(monitor):
    # PROG must own the terminal: reading it from a background group stops it
    m = monitor()
    with_init(m, "sh", "-c", "read x; echo got:$x")
    m.spec["process"]["terminal"] = True
    m.conf.update(tty=True, stdin=True, wait_attach=True)
    m.start(expect="created")
    with m.connect() as s:
        send(s, MON_ATTACH, b"oi")
        assert recv(s)[0] == MON_STARTED
        send(s, MON_STDIN, b"hi\n")
        code, msgs = wait_exit(s)
    assert code == 0
    assert b"got:hi\r\n" in stream(msgs, MON_STDOUT)
    m.wait()


def test_init_outside_container():
    p = subprocess.run([INIT, "--", "sh", "-c", "(sleep 0.1 &); exit 3"], timeout=10)
    assert p.returncode == 3
    p = subprocess.run([INIT], capture_output=True, timeout=10)
    assert p.returncode == 2 and b"usage" in p.stderr


# ---------------------------------------------------------------------------
# other runtimes


@pytest.mark.parametrize("other", OTHER_RUNTIMES)
def test_other_runtime(monitor, testenv, other):
    state = testenv.mkdir("state-" + os.path.basename(other), mode=0o700)
    m = monitor("sh", "-c", "echo out; echo err >&2; read x; echo got:$x; exit 6",
                runtime_path=other, state_root=state, spec=python_default_spec())
    m.conf.update(stdin=True, wait_attach=True)
    m.conf["runtime_args"] += other_runtime_args(other)
    try:
        m.start(expect="created")
        with m.connect() as s:
            send(s, MON_ATTACH, b"oei")
            assert recv(s)[0] == MON_STARTED
            send(s, MON_STDIN, b"in\n")
            code, msgs = wait_exit(s)
        assert code == 6
        assert stream(msgs, MON_STDOUT) == b"out\ngot:in\n"
        assert stream(msgs, MON_STDERR) == b"err\n"
        assert m.wait() == 0
        assert m.status()["exit_code"] == 6
        assert logged(m, "stdout") == ["out\n", "got:in\n"]
        assert logged(m, "stderr") == ["err\n"]
        assert_clean(m)
    finally:
        m.cleanup()


@pytest.mark.parametrize("other", OTHER_RUNTIMES)
def test_other_runtime_create_fails_and_tty(monitor, testenv, other):
    state = testenv.mkdir("state-" + os.path.basename(other), mode=0o700)
    bad = monitor("true", runtime_path=other, state_root=state, spec=python_default_spec())
    bad.spec["root"]["path"] = "no-such-rootfs"
    bad.conf["runtime_args"] += other_runtime_args(other)
    try:
        report = bad.start(expect="error ")
        assert bad.wait() == 1
        assert bad.status()["error"] == report[len("error "):].strip()
        assert "level=" not in report and "time=" not in report
        assert_clean(bad)
    finally:
        bad.cleanup()
    m = monitor("sh", "-c", "stty size; exit 0", runtime_path=other, state_root=state,
                spec=python_default_spec())
    m.spec["process"]["terminal"] = True
    m.conf.update(tty=True, wait_attach=True)
    m.conf["runtime_args"] += other_runtime_args(other)
    try:
        m.start(expect="created")
        with m.connect() as s:
            send(s, MON_RESIZE, b"25 90")
            send(s, MON_ATTACH, b"o")
            assert recv(s)[0] == MON_STARTED
            code, msgs = wait_exit(s)
        assert code == 0 and stream(msgs, MON_STDOUT) == b"25 90\r\n"
        m.wait()
        assert_clean(m)
    finally:
        m.cleanup()


@pytest.mark.parametrize("other", OTHER_RUNTIMES)
def test_other_runtime_health_pause_stop(monitor, testenv, other):
    state = testenv.mkdir("state-" + os.path.basename(other), mode=0o700)
    m = monitor("sh", "-c", "trap '' TERM; touch /tmp/ok; while :; do sleep 1; done",
                runtime_path=other, state_root=state, spec=python_default_spec())
    m.conf["runtime_args"] += other_runtime_args(other)
    m.conf.update(stop_timeout=1, health={"test": ["CMD", "cat", "/tmp/ok", "/etc/passwd"],
                                          "interval": 200_000_000, "timeout": 5_000_000_000,
                                          "start_period": 0, "retries": 3})
    try:
        m.start()
        st = m.wait_status(lambda s: s["health"]["status"] == "healthy")
        assert st["health"]["log"][-1]["exit_code"] == 0
        assert m.request(MON_PAUSE) == (MON_OK, b"")
        assert m.status()["state"] == "paused"
        t0 = time.monotonic()
        code, _ = m.stop()  # paused, ignores SIGTERM: thawed, killed after 1 s
        assert code == 137
        assert 0.8 <= time.monotonic() - t0 < 5
        assert m.wait() == 0
        assert_clean(m)
    finally:
        m.cleanup()
