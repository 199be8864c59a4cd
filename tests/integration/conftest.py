# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for driving an OCI runtime through its runc-compatible CLI.

The runtime under test is $BERTH_RUNTIME, by default the freshly built
build/src/cli/berth-runtime.  Any runc-compatible runtime works, which is how
the suite itself is checked: BERTH_RUNTIME=/usr/sbin/runc must pass.

Every test gets a private work directory under /tmp/berth-it-*/ (world
traversable, so user-namespaced containers can reach their rootfs), a fresh
--root state directory, busybox bundles and unique container ids.  At
teardown every container left in the state directory is deleted with
`delete --force`, then the test fails if anything is left behind: state
entries, processes, cgroups named after the test's ids, or mounts over the
test's bundles.

pytest makes itself a child subreaper, so processes that a runtime leaves
behind are re-parented to it, where the leak check can see them.

BERTH_MUST_WORK=1 (set by .ci/run) turns skips into failures, except skips
whose reason starts with "host limit:" (this machine cannot run the test) or
"not berth:" (a reference runtime such as runc lacks the feature).
"""

import copy
import ctypes
import functools
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME = os.environ.get("BERTH_RUNTIME") or str(REPO / "build" / "src" / "cli" / "berth-runtime")
MUST_WORK = os.environ.get("BERTH_MUST_WORK", "") not in ("", "0")
HOST_LIMIT = "host limit: "
NOT_BERTH = "not berth: "
BUSYBOX = "/bin/busybox"
DEFAULT_TIMEOUT = 30
# After this many runtime calls timed out, a hanging runtime is assumed and
# every later call gets HUNG_TIMEOUT, so that the run still ends in time.
MAX_TIMEOUTS = 5
HUNG_TIMEOUT = 5
TIMEOUTS = []

# Set in the runtime's environment: it must never reach a container or hook.
SENTINEL = "BERTH_IT_SENTINEL=leaked-from-the-caller"

# pids of our direct children that a subprocess.Popen owns: the orphan
# reaper must leave them to Popen.wait().  Filled by the patch below.
DIRECT = set()
SPAWN_LOCK = threading.Lock()


# --------------------------------------------------------------------------
# pytest plumbing


def pytest_configure(config):
    PR_SET_CHILD_SUBREAPER = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    _track_popen_children()
    threading.Thread(target=_reaper, name="orphan-reaper", daemon=True).start()
    # timeout(1) and CI stop us with SIGTERM: unwind like ^C, so that fixture
    # teardown still deletes containers and kills what we adopted.
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _track_popen_children():
    """Record every Popen child in DIRECT from its fork until it is reaped.

    As a subreaper we adopt container processes whose runtime exited, and
    like conmon or containerd-shim we must reap them promptly: a pid
    namespace's init cannot finish exiting while an unreaped zombie of its
    namespace hangs around.  The reaper thread may only touch adopted
    processes, so Popen's own children are tracked here.
    """
    orig_execute = subprocess.Popen._execute_child
    orig_handle = subprocess.Popen._handle_exitstatus

    def execute_child(self, *args, **kw):
        with SPAWN_LOCK:
            orig_execute(self, *args, **kw)
            DIRECT.add(self.pid)

    def handle_exitstatus(self, *args, **kw):
        DIRECT.discard(self.pid)
        return orig_handle(self, *args, **kw)

    subprocess.Popen._execute_child = execute_child
    subprocess.Popen._handle_exitstatus = handle_exitstatus


def _reaper():
    while True:
        time.sleep(0.05)
        try:
            reap_orphans()
        except Exception:  # never let the thread die: leaks would pile up
            pass


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # After fixture teardown (also after ^C or SIGTERM): whatever a test
    # leaked and we adopted must not outlive the session.
    left = settle_orphans(timeout=2)
    if left:
        print(f"\nkilled processes left at the end of the session: {left}")


def pytest_report_header(config):
    return [f"runtime under test: {RUNTIME} ({runtime_version_line()})",
            f"BERTH_MUST_WORK: {int(MUST_WORK)}"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("berth_only") and not is_berth():
            item.add_marker(pytest.mark.skip(
                reason=NOT_BERTH + "checks behaviour only berth promises"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if not MUST_WORK or not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    text = reason.split("Skipped: ", 1)[-1]
    if text.startswith(HOST_LIMIT) or text.startswith(NOT_BERTH):
        return
    rep.outcome = "failed"
    rep.longrepr = f"skip is a failure under BERTH_MUST_WORK=1: {text}"


def skip_host_limit(reason):
    """Skip because this machine cannot run the test (allowed in CI)."""
    pytest.skip(HOST_LIMIT + reason)


# --------------------------------------------------------------------------
# the runtime under test


@functools.lru_cache(maxsize=None)
def runtime_version_line():
    try:
        p = subprocess.run([RUNTIME, "--version"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable: {e}"
    lines = p.stdout.strip().splitlines()
    return lines[0] if lines else f"--version printed nothing (exit {p.returncode})"


@functools.lru_cache(maxsize=None)
def is_berth():
    return "berth" in os.path.basename(RUNTIME) or \
        runtime_version_line().startswith("berth")


@functools.lru_cache(maxsize=None)
def is_runc():
    return runtime_version_line().startswith("runc")


@functools.lru_cache(maxsize=None)
def runtime_features():
    """The runtime's `features` document, or {} if it has none."""
    try:
        p = subprocess.run([RUNTIME, "features"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=10)
        return json.loads(p.stdout) if p.returncode == 0 else {}
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}


def require_feature(what, reason):
    """Skip unless the runtime supports `what`; berth must support it all.

    `what` is a predicate over the features document.  For berth there is no
    skip: the test runs and fails if the feature is missing.
    """
    if is_berth():
        return
    if not what(runtime_features()):
        pytest.skip(NOT_BERTH + f"{runtime_version_line()}: {reason}")


# --------------------------------------------------------------------------
# processes


def spawn(argv, **kw):
    """Popen for a process that runs alongside the test."""
    return subprocess.Popen(argv, **kw)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return None, None


def _children():
    """(pid, state) of our direct children, adopted orphans included."""
    me = os.getpid()
    pids = set()
    try:
        for tid in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{tid}/children") as f:
                pids.update(int(p) for p in f.read().split())
    except FileNotFoundError:  # no CONFIG_PROC_CHILDREN: scan everything
        pids = {int(d) for d in os.listdir("/proc") if d.isdigit()}
    out = []
    for pid in pids:
        st, ppid = _state(pid)
        if st is not None and ppid == me:
            out.append((pid, st))
    return out


def reap_orphans():
    """Reap adopted zombies; Popen children are left to Popen."""
    with SPAWN_LOCK:
        for pid, st in _children():
            if st == "Z" and pid not in DIRECT:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def orphans():
    """Live processes re-parented to us (subreaper) that no Popen owns."""
    reap_orphans()
    return [pid for pid, st in _children() if st != "Z" and pid not in DIRECT]


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    st, _ = _state(pid)
    return st is not None and st != "Z"


def settle_orphans(timeout=5.0):
    """Wait for adopted processes to go; kill (by pid) and report the rest."""
    deadline = time.monotonic() + timeout
    left = orphans()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = orphans()
    described = [f"{pid} ({cmdline(pid)})" for pid in left]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if left:
        time.sleep(0.2)
        reap_orphans()
    return described


def run_in_pty(argv, timeout=60, winsize=None, respond=None):
    """Run argv with a pty as its stdio; (exit code, output).  WINSIZE
    (rows, cols) is set on the terminal first; RESPOND (bytes to wait for,
    bytes to type) answers once when the output shows the first."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    master, slave = pty.openpty()
    try:
        if winsize:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", winsize[0], winsize[1], 0, 0))
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                             start_new_session=True)
        os.close(slave)
        slave = -1
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if respond and respond[0] in out:
                    os.write(master, respond[1])
                    respond = None
            elif p.poll() is not None:
                break
        try:
            rc = p.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        return rc, out.decode(errors="replace")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def wait_for(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------
# mounts and cgroups


def mountpoints_under(prefix):
    """Mount points at or below prefix in our mount namespace, deepest first."""
    prefix = str(prefix).rstrip("/")
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == prefix or mp.startswith(prefix + "/"):
                found.append(mp)
    return sorted(found, key=lambda m: m.count("/"), reverse=True)


def umount_all_under(prefix):
    assert str(prefix).startswith("/tmp/berth-it-"), prefix
    for mp in mountpoints_under(prefix):
        subprocess.run(["umount", "-l", mp], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cgroups_named(ids):
    """cgroup directories named after one of ids (our unique container ids):
    ID itself, berth's default berth-ID, or a systemd-style PREFIX-ID.scope."""
    ids = [i for i in ids if len(i) >= 8]  # never match short or odd names
    found = []
    if not ids:
        return found
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        for d in dirnames:
            if any(d in (i, f"berth-{i}", f"{i}.scope") or d.endswith(f"-{i}.scope") for i in ids):
                found.append(os.path.join(dirpath, d))
    return sorted(found, key=lambda p: p.count("/"), reverse=True)


def cgroup_parents(name):
    """/sys/fs/cgroup/*/NAME: a cgroup parent unique to this test run."""
    assert name.startswith("berth-it-") and len(name) > len("berth-it-"), name
    return sorted(str(p) for p in Path("/sys/fs/cgroup").glob(f"*/{name}") if p.is_dir())


def cgroup_children(name):
    return [os.path.join(p, d) for p in cgroup_parents(name)
            for d in sorted(os.listdir(p)) if os.path.isdir(os.path.join(p, d))]


def remove_cgroup_parent(name):
    """Remove /sys/fs/cgroup/*/NAME and everything below it."""
    remove_cgroups(cgroup_parents(name))


def remove_cgroups(paths):
    for path in paths:
        for sub, _, _ in sorted(os.walk(path), key=lambda w: w[0].count("/"), reverse=True):
            try:
                with open(os.path.join(sub, "cgroup.procs")) as f:
                    pids = [int(x) for x in f.read().split()]
            except OSError:
                pids = []
            # These processes live in a cgroup named after this test's unique
            # container id: the runtime we started put them there.
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_for(lambda: _try_rmdir(sub), timeout=2)


def _try_rmdir(path):
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        reap_orphans()
        return False


# --------------------------------------------------------------------------
# results of runtime calls


class Result:
    """One runtime invocation.  stdout/stderr live in files, not pipes, so a
    detached container that inherits them never blocks us; they are read
    afresh on every access, which is how a detached container's output is
    collected later."""

    def __init__(self, argv, returncode, out_path, err_path):
        self.argv = argv
        self.returncode = returncode
        self.out_path = out_path
        self.err_path = err_path

    @property
    def stdout(self):
        return self.out_path.read_bytes().decode(errors="replace")

    @property
    def stderr(self):
        return self.err_path.read_bytes().decode(errors="replace")

    def __repr__(self):
        return (f"<{' '.join(map(str, self.argv))}: exit {self.returncode}\n"
                f"stdout: {self.stdout[-2000:]!r}\nstderr: {self.stderr[-2000:]!r}>")

    def ok(self):
        assert self.returncode == 0, self
        return self

    def failed(self):
        assert self.returncode != 0, self
        assert self.returncode > 0, f"killed by a signal: {self}"
        return self


class TestEnv:
    """Per-test scratch space, id generator and owned host resources."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, path, name):
        self.dir = path
        self.name = name
        self.ids = []
        self.netns = []
        self.host_mounts = []
        self._n = 0

    def new_id(self, tag=""):
        # also valid for containerd: ^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$
        base = re.sub(r"[^A-Za-z0-9]+", "-", self.name.replace("test_", ""))[:28].strip("-")
        rnd = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
        cid = f"t-{base}{'-' + tag if tag else ''}-{rnd}"
        self.ids.append(cid)
        return cid

    def seq(self):
        self._n += 1
        return self._n

    def mkdir(self, *parts, mode=0o755):
        p = self.dir.joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True)
        p.chmod(mode)
        return p

    def add_netns(self):
        name = "berth-it-" + "".join(random.choices(string.ascii_lowercase, k=8))
        subprocess.run(["ip", "netns", "add", name], check=True, stdin=subprocess.DEVNULL)
        self.netns.append(name)
        return name

    def host_mount(self, *args, target):
        """mount(8) on the host under self.dir/host; unmounted at teardown."""
        target = Path(target)
        assert str(target).startswith(str(self.dir / "host") + "/"), target
        subprocess.run(["mount", *args, str(target)], check=True, stdin=subprocess.DEVNULL)
        self.host_mounts.append(str(target))

    def release(self):
        for mp in reversed(self.host_mounts):
            subprocess.run(["umount", "-l", mp], stdin=subprocess.DEVNULL)
        for name in self.netns:
            subprocess.run(["ip", "netns", "del", name], stdin=subprocess.DEVNULL)


# --------------------------------------------------------------------------
# bundles


def python_default_spec():
    """The same document as `runc spec` (runc 1.1) prints."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(caps) for k in
                             ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


@functools.lru_cache(maxsize=None)
def busybox_applets():
    p = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    return tuple(a for a in p.stdout.split() if a and "/" not in a and a != "busybox")


PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "user:x:1000:1000:user:/home/user:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
GROUP = "root:x:0:\nwheel:x:10:\nusers:x:100:\nuser:x:1000:\nnogroup:x:65534:\n"


def make_rootfs(rootfs):
    """A minimal rootfs: static busybox, one symlink per applet, /etc files."""
    for d in ("bin", "dev", "proc", "sys", "etc", "root", "mnt", "run", "var", "home/user"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").mkdir(mode=0o1777)
    (rootfs / "tmp").chmod(0o1777)
    try:
        os.link(BUSYBOX, rootfs / "bin" / "busybox")
    except OSError:
        shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for applet in busybox_applets():
        os.symlink("busybox", rootfs / "bin" / applet)
    os.symlink("bin", rootfs / "sbin")
    (rootfs / "usr").mkdir()
    os.symlink("../bin", rootfs / "usr" / "bin")
    (rootfs / "etc" / "passwd").write_text(PASSWD)
    (rootfs / "etc" / "group").write_text(GROUP)
    (rootfs / "home" / "user").chmod(0o777)


class Bundle:
    """An OCI bundle: rootfs + config (a dict, written out by save())."""

    def __init__(self, path, config):
        self.path = path
        self.rootfs = path / "rootfs"
        self.config = config

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    def args(self, *argv):
        self.process["args"] = [str(a) for a in argv]
        return self

    def sh(self, script):
        return self.args("sh", "-c", script)

    def env(self, *pairs, replace=False):
        if replace:
            self.process["env"] = list(pairs)
        else:
            self.process.setdefault("env", []).extend(pairs)
        return self

    def mount(self, destination, type, source, options=None):
        m = {"destination": destination, "type": type, "source": str(source)}
        if options is not None:
            m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)
        return self

    def bind(self, source, destination, *options):
        return self.mount(destination, "bind", source, ["rbind", *options])

    def namespaces(self):
        return self.linux.setdefault("namespaces", [])

    def set_namespace(self, type, path=None):
        ns = [n for n in self.namespaces() if n["type"] != type]
        entry = {"type": type}
        if path is not None:
            entry["path"] = str(path)
        ns.append(entry)
        self.linux["namespaces"] = ns
        return self

    def drop_namespace(self, type):
        self.linux["namespaces"] = [n for n in self.namespaces() if n["type"] != type]
        return self

    def has_namespace(self, type):
        return any(n["type"] == type for n in self.namespaces())

    def hook(self, kind, path, args=None, env=None, timeout=None):
        h = {"path": str(path)}
        if args is not None:
            h["args"] = list(args)
        if env is not None:
            h["env"] = list(env)
        if timeout is not None:
            h["timeout"] = timeout
        self.config.setdefault("hooks", {}).setdefault(kind, []).append(h)
        return self

    def add_caps(self, *caps):
        for kind in ("bounding", "effective", "permitted"):
            lst = self.process.setdefault("capabilities", {}).setdefault(kind, [])
            lst.extend(c for c in caps if c not in lst)
        return self

    def write(self, rel, content, mode=0o644):
        p = self.rootfs / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        p.chmod(mode)
        return p

    def save(self):
        with open(self.path / "config.json", "w") as f:
            json.dump(self.config, f, indent=1)
        return self


# --------------------------------------------------------------------------
# the CLI


class Runtime:
    """RUNTIME --root ROOT ... with stdio in files under the test's io/ dir."""

    def __init__(self, path, root, testenv):
        self.path = path
        self.root = root
        self.env = testenv

    def __call__(self, *args, input=None, timeout=DEFAULT_TIMEOUT, env=None,
                 use_root=True, global_args=(), cwd=None):
        argv = [self.path]
        if use_root:
            argv += ["--root", str(self.root)]
        argv += [str(a) for a in global_args] + [str(a) for a in args]
        return invoke(argv, self.env, input=input, timeout=timeout, env=env, cwd=cwd)

    def run(self, bundle, cid, *extra, **kw):
        bundle.save()
        return self("run", "--bundle", bundle.path, *extra, cid, **kw)

    def create(self, bundle, cid, *extra, **kw):
        bundle.save()
        return self("create", "--bundle", bundle.path, *extra, cid, **kw)

    def start(self, cid):
        return self("start", cid)

    def kill(self, cid, *args):
        return self("kill", cid, *args)

    def delete(self, cid, *args):
        return self("delete", *args, cid)

    def state(self, cid):
        r = self("state", cid).ok()
        try:
            return json.loads(r.stdout)
        except ValueError:
            pytest.fail(f"state printed no JSON: {r}")

    def status(self, cid):
        reap_orphans()
        r = self("state", cid)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)["status"]

    def wait_status(self, cid, want, timeout=10):
        got = wait_for(lambda: self.status(cid) == want, timeout=timeout)
        assert got, f"{cid} did not become {want!r} (now {self.status(cid)!r})"

    def list_ids(self):
        r = self("list", "-q").ok()
        return r.stdout.split()


def invoke(argv, testenv, input=None, timeout=DEFAULT_TIMEOUT, env=None, cwd=None,
           fail_on_timeout=True):
    """Run argv with stdio in files; a timeout fails the test (or, for
    cleanup code, returns a Result whose returncode is None)."""
    n = testenv.seq()
    io = testenv.mkdir("io")
    out, err = io / f"{n:03d}.out", io / f"{n:03d}.err"
    full_env = dict(os.environ)
    k, v = SENTINEL.split("=", 1)
    full_env[k] = v
    if env:
        full_env.update(env)
    if len(TIMEOUTS) >= MAX_TIMEOUTS:
        timeout = min(timeout, HUNG_TIMEOUT)
    with open(out, "wb") as fo, open(err, "wb") as fe:
        try:
            p = subprocess.run(argv, stdout=fo, stderr=fe,
                               input=input.encode() if isinstance(input, str) else input,
                               stdin=None if input is not None else subprocess.DEVNULL,
                               timeout=timeout, env=full_env, cwd=cwd or testenv.dir)
        except subprocess.TimeoutExpired:
            TIMEOUTS.append(argv)
            r = Result(argv, None, out, err)
            if not fail_on_timeout:
                return r
            pytest.fail(f"timed out after {timeout}s: {r}")
    return Result(argv, p.returncode, out, err)


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def runtime():
    if not (os.path.isfile(RUNTIME) and os.access(RUNTIME, os.X_OK)):
        pytest.fail(f"runtime under test {RUNTIME} is missing: build it or set BERTH_RUNTIME")
    if os.geteuid() != 0:
        skip_host_limit("the integration suite runs as root")
    return RUNTIME


@pytest.fixture(scope="session")
def session_dir():
    d = Path(tempfile.mkdtemp(prefix="berth-it-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    left = mountpoints_under(d)
    if left:
        # Never rm -rf across a mount: leave it for a human to look at.
        print(f"\nleaving {d}: mounts still below it: {left}")
    elif not os.environ.get("BERTH_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def base_config(runtime, session_dir):
    """`RUNTIME spec`, or a runc-equal default if the runtime cannot make one."""
    d = session_dir / "spec"
    d.mkdir()
    p = subprocess.run([runtime, "spec"], cwd=d, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10)
    try:
        if p.returncode == 0:
            return json.loads((d / "config.json").read_text())
    except (OSError, ValueError):
        pass
    return python_default_spec()


@pytest.fixture
def testenv(request, session_dir):
    name = request.node.name
    short = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
    path = session_dir / f"{len(os.listdir(session_dir)):04d}-{short}"
    path.mkdir()
    path.chmod(0o755)
    env = TestEnv(path, name)
    yield env
    env.release()


@pytest.fixture
def root(request, runtime, testenv):
    """A fresh --root state directory; teardown deletes and checks leftovers."""
    r = testenv.mkdir("state", mode=0o700)
    yield r
    rep = getattr(request.node, "rep_call", None)
    problems = cleanup_root(runtime, r, testenv, test_passed=rep is not None and rep.passed)
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems))


def cleanup_root(runtime, r, testenv, test_passed=True):
    problems = []
    listed = []
    p = invoke([runtime, "--root", r, "list", "-q"], testenv, timeout=10, fail_on_timeout=False)
    if p.returncode == 0:
        listed = [line for line in p.stdout.splitlines() if line]
    entries = [e for e in os.listdir(r) if e in testenv.ids] if r.is_dir() else []
    for cid in dict.fromkeys(listed + entries):
        d = invoke([runtime, "--root", r, "delete", "--force", cid], testenv,
                   timeout=10, fail_on_timeout=False)
        if d.returncode is None:
            problems.append(f"delete --force {cid} timed out")
        elif d.returncode != 0:
            problems.append(f"delete --force {cid} failed: {d.stderr.strip()}")
    if listed and test_passed:
        problems.append(f"containers not deleted by the test: {listed}")
    if r.is_dir():
        left = [e for e in os.listdir(r) if e in testenv.ids + listed]
        if left:
            problems.append(f"state entries after delete --force: {left}")
    procs = settle_orphans()
    if procs:
        problems.append(f"processes (killed now): {procs}")
    cgroups = cgroups_named(testenv.ids)
    if cgroups:
        remove_cgroups(cgroups)
        problems.append(f"cgroups (removed now): {cgroups}")
    mounts = mountpoints_under(testenv.dir / "bundles")
    if mounts:
        umount_all_under(testenv.dir / "bundles")
        problems.append(f"host mounts (unmounted now): {mounts}")
    return problems


@pytest.fixture
def rt(runtime, root, testenv):
    return Runtime(runtime, root, testenv)


@pytest.fixture
def cid(testenv):
    return testenv.new_id()


@pytest.fixture
def new_id(testenv):
    return testenv.new_id


@pytest.fixture
def bundle(base_config, testenv):
    """Factory: bundle(*args) -> Bundle with a busybox rootfs.

    The config is the runtime's `spec` with process.terminal false and a
    writable root (root.readonly false), args as given (default `true`).
    """

    def make(*args):
        path = testenv.mkdir("bundles", f"b{testenv.seq()}")
        make_rootfs(path / "rootfs")
        config = copy.deepcopy(base_config)
        config["process"]["terminal"] = False
        config["root"] = {"path": "rootfs", "readonly": False}
        b = Bundle(path, config)
        b.args(*(args or ("true",)))
        return b.save()

    return make


# --------------------------------------------------------------------------
# small helpers shared by the test files


def host_ns(kind):
    return os.readlink(f"/proc/self/ns/{kind}")


def hard_limit(resource):
    import resource as res
    return res.getrlimit(resource)[1]
