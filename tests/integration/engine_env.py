# SPDX-License-Identifier: GPL-2.0-or-later
"""A private berth engine for a test: its own data root with a busybox image.

`engine` (a pytest fixture in test_engine*.py via `from engine_env import
engine`) gives an Engine: the berth CLI on a fresh --root under /tmp with
"busybox:latest" imported from Debian's busybox-static.  At teardown every
container is removed with `rm -f`, then the test fails if anything is left:
a mount under the root, a cgroup berth-ID of one of its containers (or a
shared "berth" parent: a container's cgroup is /berth-ID), a live
monitor, a runtime state directory or network namespace (run/*/*), a veth
of one of its containers, IPv4 forwarding changed.  The data root is removed last.
"""

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# the suite's own: mount points below a path, deepest first; a live pid
from conftest import mountpoints_under as mounts_under, pid_alive  # noqa: F401 (re-exported)

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_CLI") or str(REPO / "build" / "src" / "cli" / "berth")
BUSYBOX = "/bin/busybox"
TMP_PREFIX = "berth-eng-"
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
"""
GROUP = """root:x:0:
daemon:x:1:
audio:x:29:app
staff:x:50:app
nogroup:x:65534:
app:x:1000:
"""


def make_busybox_rootfs(path):
    """A busybox root file system: /bin with every applet, /etc/passwd and /etc/group."""
    path = Path(path)
    (path / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, path / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", path / "bin" / a)
    for d in ("etc", "tmp", "root", "home/app", "proc", "sys", "dev", "var/data"):
        (path / d).mkdir(parents=True, exist_ok=True)
    os.chmod(path / "tmp", 0o1777)
    os.chown(path / "home/app", 1000, 1000)
    (path / "etc/passwd").write_text(PASSWD)
    (path / "etc/group").write_text(GROUP)
    (path / "var/data/seed.txt").write_text("from the image\n")


class Result:
    def __init__(self, p):
        self.returncode = p.returncode
        self.raw = p.stdout
        self.stdout = p.stdout.decode(errors="replace")
        self.stderr = p.stderr.decode(errors="replace")

    def __repr__(self):
        return f"<exit {self.returncode} stdout={self.stdout!r} stderr={self.stderr!r}>"


class Engine:
    """The berth CLI on a private data root."""

    def __init__(self, root):
        self.root = Path(root)

    def argv(self, *args):
        return [BERTH, "--root", str(self.root), *map(str, args)]

    def run(self, *args, ok=True, input=None, timeout=60, env=None):
        p = subprocess.run(self.argv(*args), capture_output=True, input=input, timeout=timeout,
                           env=dict(os.environ, **(env or {})))
        r = Result(p)
        if ok and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(map(str, args))} failed: {r!r}")
        return r

    def out(self, *args, **kw):
        return self.run(*args, **kw).stdout

    def inspect(self, name):
        return json.loads(self.out("inspect", "--type", "container", name))[0]

    def status(self, name):
        return self.inspect(name)["State"]["Status"]

    def ids(self):
        return self.out("ps", "-a", "-q", "--no-trunc").split()

    def wait_status(self, name, want, timeout=15.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.status(name) == want:
                return
            time.sleep(0.05)
        raise AssertionError(f"{name} did not become {want}: {self.inspect(name)['State']}")

    def id(self, name):
        return self.inspect(name)["Id"]

    def pid(self, name):
        return self.inspect(name)["State"]["Pid"]

    def sh(self, name, script):
        return self.out("exec", name, "sh", "-c", script)

    def rootfs(self, name):
        return self.root / "containers" / self.id(name) / "rootfs"

    def monitor_pid(self, cid):
        try:
            return json.loads((self.root / "containers" / cid / "status.json").read_text()).get("monitor_pid", 0)
        except (OSError, ValueError):
            return 0


def cgroups_of(ids):
    """The cgroups of containers IDS, in every hierarchy."""
    base = "/sys/fs/cgroup"
    found = [f"{base}/berth-{cid}" for cid in ids if os.path.isdir(f"{base}/berth-{cid}")]
    for ctrl in os.listdir(base):
        found += [f"{base}/{ctrl}/berth-{cid}" for cid in ids if os.path.isdir(f"{base}/{ctrl}/berth-{cid}")]
    return sorted(set(found))


def shared_parents():
    """A "berth" cgroup in any hierarchy: the engine makes none."""
    base = "/sys/fs/cgroup"
    return [p for p in [f"{base}/berth", *(f"{base}/{c}/berth" for c in os.listdir(base))] if os.path.isdir(p)]


_IMAGE_CACHE = {}


def _image_archive():
    """A tar of the busybox rootfs, made once per session."""
    if "tar" not in _IMAGE_CACHE:
        d = tempfile.mkdtemp(prefix=TMP_PREFIX + "img-")
        make_busybox_rootfs(Path(d) / "rootfs")
        subprocess.run(["tar", "-C", str(Path(d) / "rootfs"), "-cf", str(Path(d) / "busybox.tar"), "."],
                       check=True)
        shutil.rmtree(Path(d) / "rootfs")
        _IMAGE_CACHE["tar"] = Path(d) / "busybox.tar"
        _IMAGE_CACHE["dir"] = d
    return _IMAGE_CACHE["tar"]


@pytest.fixture(scope="session", autouse=False)
def busybox_tar():
    tar = _image_archive()
    yield tar
    shutil.rmtree(_IMAGE_CACHE["dir"], ignore_errors=True)


@contextlib.contextmanager
def managed_engine(source, *import_args, prefix=TMP_PREFIX):
    """An Engine on a new data root under /tmp/PREFIX* with SOURCE imported
    as busybox:latest; at exit everything is removed and checked."""
    root = tempfile.mkdtemp(prefix=prefix)
    os.chmod(root, 0o755)
    e = Engine(root)
    e.run("import", *import_args, source, "busybox:latest")
    parents_before = set(shared_parents())
    forward_before = Path(IP_FORWARD).read_text()
    seen = set()
    try:
        yield e
    finally:
        problems = []
        ids = []
        try:
            ids = e.ids()
        except AssertionError as err:
            problems.append(f"ps failed: {err}")
        seen.update(ids)
        monitors = [e.monitor_pid(i) for i in ids]
        if ids:
            r = e.run("rm", "-f", "-v", *ids, ok=False, timeout=120)
            if r.returncode != 0:
                problems.append(f"rm -f failed: {r!r}")
        for pid in monitors:
            if pid:
                end = time.monotonic() + 10
                while pid_alive(pid) and time.monotonic() < end:
                    time.sleep(0.05)
                if pid_alive(pid):
                    problems.append(f"monitor {pid} still running")
        # every container directory names one the test made
        cdir = Path(root) / "containers"
        if cdir.is_dir():
            seen.update(os.listdir(cdir))
        left = mounts_under(root)
        if left:
            problems.append(f"mounts left: {left}")
            for mp in left:  # deepest first
                subprocess.run(["umount", "-l", mp])
        cgs = cgroups_of(seen) + sorted(set(shared_parents()) - parents_before)
        if cgs:
            problems.append(f"cgroups left: {cgs}")
            for p in cgs:
                try:
                    os.rmdir(p)
                except OSError:
                    pass
        # networks: the containers' veths (vb + 12 hex of the id), network namespaces, forwarding
        # (the kernel deletes a veth with its namespace, just after rm returns)
        end = time.monotonic() + 5
        while True:
            link_names = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
            veths = sorted({m for m in re.findall(r"^\d+: (vb[0-9a-f]{13})[@:]", link_names, re.M)
                            if any(m[2:14] == cid[:12] for cid in seen)})
            if not veths or time.monotonic() > end:
                break
            time.sleep(0.05)
        if veths:
            problems.append(f"veths left: {veths}")
        # a network's bridge (and berth's tables, and forwarding) go half a
        # second after its last container (NETWORK_GC_DELAY_MS)
        bridges = set()
        with contextlib.suppress(Exception):
            db = sqlite3.connect(Path(root) / "berth.db")
            try:
                bridges = {r[0] for r in db.execute("SELECT bridge FROM networks")}
            finally:
                db.close()
        end = time.monotonic() + 5
        while True:
            up = sorted(b for b in bridges if os.path.exists(f"/sys/class/net/{b}"))
            if (not up and Path(IP_FORWARD).read_text() == forward_before) or time.monotonic() > end:
                break
            time.sleep(0.05)
        if up:
            problems.append(f"bridges left: {up}")
        if Path(IP_FORWARD).read_text() != forward_before:
            problems.append(f"{IP_FORWARD} was {forward_before.strip()}, is {Path(IP_FORWARD).read_text().strip()}")
        rundir = Path(root) / "run"
        states = [str(p) for p in rundir.glob("*/*")] if rundir.is_dir() else []
        if states:
            problems.append(f"runtime state left: {states}")
        if cdir.is_dir() and os.listdir(cdir):
            problems.append(f"container directories left: {os.listdir(cdir)}")
        assert root.startswith("/tmp/" + prefix)
        shutil.rmtree(root, ignore_errors=True)
        if problems:
            pytest.fail("teardown: " + "; ".join(problems))


@pytest.fixture
def engine(busybox_tar):
    with managed_engine(busybox_tar, "--change", 'CMD ["sh"]') as e:
        yield e
