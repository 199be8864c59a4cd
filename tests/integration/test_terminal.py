# SPDX-License-Identifier: GPL-2.0-or-later
"""process.terminal with --console-socket: the runtime sends the pty master
over an AF_UNIX socket (SCM_RIGHTS), as conmon and containerd-shim expect."""

import json
import os
import select
import socket
import threading
import time

import pytest


class ConsoleReceiver:
    """Listens on a unix socket and receives one pty master fd."""

    def __init__(self, path):
        self.path = str(path)
        self.fd = None
        self.error = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(30)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(30)
                _, fds, _, _ = socket.recv_fds(conn, 4096, 4)
                if len(fds) != 1:
                    for fd in fds:
                        os.close(fd)
                    raise AssertionError(f"expected one fd, got {len(fds)}")
                self.fd = fds[0]
        except Exception as e:  # reported by master()
            self.error = e

    def master(self, timeout=30):
        self.thread.join(timeout)
        assert self.error is None, f"console socket: {self.error!r}"
        assert self.fd is not None, "no pty master received"
        return self.fd

    def close(self):
        self.sock.close()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def console(testenv):
    # sun_path holds 108 bytes: keep the socket path short
    path = testenv.mkdir("s") / "c.sock"
    assert len(str(path)) < 100, path
    receivers = []

    def make():
        if receivers:
            receivers[-1].close()
            os.unlink(path)
        receivers.append(ConsoleReceiver(path))
        return path, receivers[-1]

    yield make
    for r in receivers:
        r.close()


def read_until(fd, needle, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the last slave fd closed
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")


SCRIPT = ("tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; "
          "stat -c '%t' /dev/console; echo TERM=$TERM; echo done-tty; sleep 1000")


def tty_bundle(bundle):
    b = bundle("sh", "-c", SCRIPT)
    b.process["terminal"] = True
    b.env("TERM=xterm")
    return b


def check_tty_output(text):
    lines = [line.strip() for line in text.replace("\r", "").splitlines()]
    assert lines[0].startswith("/dev/pts/") or lines[0] == "/dev/console", lines
    assert "all-ttys" in lines, lines
    # /dev/console is the pty slave: a devpts (major 136) character device
    assert "88" in lines, lines
    assert "done-tty" in lines, lines


def test_create_with_console_socket(rt, bundle, cid, console):
    path, rx = console()
    b = tty_bundle(bundle)
    rt.create(b, cid, "--console-socket", path).ok()
    master = rx.master()
    rt.start(cid).ok()
    check_tty_output(read_until(master, "done-tty"))
    rt.delete(cid, "--force").ok()


def test_run_detached_with_console_socket(rt, bundle, cid, console):
    path, rx = console()
    b = tty_bundle(bundle)
    rt.run(b, cid, "-d", "--console-socket", path).ok()
    master = rx.master()
    check_tty_output(read_until(master, "done-tty"))
    rt.delete(cid, "--force").ok()


def test_terminal_input(rt, bundle, cid, console):
    path, rx = console()
    b = bundle("sh", "-c", "read line; echo got:$line; sleep 1000")
    b.process["terminal"] = True
    rt.run(b, cid, "-d", "--console-socket", path).ok()
    master = rx.master()
    os.write(master, b"typed-text\n")
    assert "got:typed-text" in read_until(master, "got:typed-text")
    rt.delete(cid, "--force").ok()


def test_exec_tty_with_console_socket(rt, bundle, cid, console, testenv):
    rt.create(bundle("sleep", "1000"), cid).ok()
    rt.start(cid).ok()
    path, rx = console()
    proc = {"terminal": True, "user": {"uid": 0, "gid": 0}, "cwd": "/",
            "args": ["sh", "-c", SCRIPT], "env": ["PATH=/bin", "TERM=xterm"]}
    pfile = testenv.dir / "exec-process.json"
    pfile.write_text(json.dumps(proc))
    pidfile = testenv.dir / "exec.pid"
    rt("exec", "--pid-file", pidfile, "--process", pfile, "--detach", "--tty",
       "--console-socket", path, cid).ok()
    master = rx.master()
    text = read_until(master, "done-tty")
    lines = [line.strip() for line in text.replace("\r", "").splitlines()]
    assert lines[0].startswith("/dev/pts/"), lines
    assert "all-ttys" in lines and "done-tty" in lines, lines
    assert int(pidfile.read_text().strip()) > 0
    rt.delete(cid, "--force").ok()


def test_terminal_without_console_socket_fails_detached(rt, bundle, cid):
    b = tty_bundle(bundle)
    rt.create(b, cid).failed()
    assert rt.list_ids() == []
