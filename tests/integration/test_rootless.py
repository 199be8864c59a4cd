# SPDX-License-Identifier: GPL-2.0-or-later
"""berth-runtime run by an unprivileged user.

The module creates a throwaway user berthtest<random> with its own
/etc/subuid and /etc/subgid ranges, an XDG_RUNTIME_DIR (/run/user/UID) and
a copy of the runtime it can execute, runs the runtime as that user with
setpriv(1), and removes all of it at the end (the user, its subordinate id
entries, its runtime dir, its processes).

What is checked: `spec --rootless` works as is; state lives under
$XDG_RUNTIME_DIR/berth; maps of the caller's own ids are written directly,
larger ones through newuidmap/newgidmap; no cgroup is made without a
delegated cgroup v2 subtree, and kill, delete, ps, exec, state and list
cope; clear errors for what needs privileges the user does not have.
"""

import json
import os
import pwd
import random
import shutil
import signal
import string
import subprocess
from pathlib import Path

import pytest

from conftest import (BUSYBOX, RUNTIME, cgroups_named, invoke, make_rootfs,
                      pid_alive, settle_orphans, skip_host_limit, wait_for)

# berth's promises: its state dir, its `spec --rootless`, its errors
pytestmark = pytest.mark.berth_only

SUBID_COUNT = 65536
# Far above what useradd hands out by default (SUB_UID_MIN 100000 and
# SUB_UID_COUNT 65536 per user), and checked against the files anyway.
SUBID_BASE = 1_600_000_000


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def subid_ranges(path):
    ranges = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    ranges.append((int(parts[1]), int(parts[1]) + int(parts[2])))
    except FileNotFoundError:
        pass
    return ranges


def free_subid_start():
    taken = subid_ranges("/etc/subuid") + subid_ranges("/etc/subgid")
    for _ in range(100):
        start = SUBID_BASE + random.randrange(0, 4096) * SUBID_COUNT
        if all(start + SUBID_COUNT <= lo or start >= hi for lo, hi in taken):
            return start
    pytest.fail("no free subordinate id range found")


def remove_subid_lines(path, name):
    """Drop NAME's lines from /etc/subuid or /etc/subgid (if userdel left
    them), rewriting the file in place."""
    try:
        with open(path) as f:
            lines = f.readlines()
    except FileNotFoundError:
        return
    keep = [line for line in lines if not line.startswith(name + ":")]
    if keep != lines:
        with open(path, "w") as f:
            f.writelines(keep)


def processes_of(uids):
    """Live (not zombie) processes whose real, effective or saved uid is in
    UIDS."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if fields.get("State", "").split()[:1] == ["Z"]:
            continue
        if any(int(u) in uids for u in fields.get("Uid", "").split()[:3]):
            found.append(int(d))
    return found


def lchown_tree(top, uid, gid):
    os.lchown(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


class RootlessUser:
    def __init__(self, name, uid, gid, home, run_dir, binary, subid):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.run_dir = run_dir
        self.binary = binary
        self.subid = subid

    def env_argv(self):
        return ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid), "--init-groups",
                "env", "-i", f"HOME={self.home}", f"USER={self.name}", f"LOGNAME={self.name}",
                f"XDG_RUNTIME_DIR={self.run_dir}", "PATH=/usr/local/bin:/usr/bin:/bin"]

    def uids(self):
        return {self.uid} | set(range(self.subid, self.subid + SUBID_COUNT))

    def processes(self):
        return processes_of(self.uids())


def as_user_ok(user, argv):
    p = subprocess.run(user.env_argv() + argv, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    return p


@pytest.fixture(scope="module")
def rl_user(runtime, session_dir):
    """The throwaway unprivileged user, removed with everything it owns at
    the end of the module."""
    for tool in ("useradd", "usermod", "userdel", "setpriv", "newuidmap", "newgidmap"):
        if shutil.which(tool) is None:
            skip_host_limit(f"{tool} is missing (packages passwd, util-linux, uidmap)")
    if read_int("/proc/sys/kernel/unprivileged_userns_clone") == 0:
        skip_host_limit("unprivileged user namespaces are disabled "
                        "(kernel.unprivileged_userns_clone = 0)")
    if read_int("/proc/sys/user/max_user_namespaces") == 0:
        skip_host_limit("user namespaces are disabled (user.max_user_namespaces = 0)")
    if read_int("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1:
        skip_host_limit("AppArmor restricts unprivileged user namespaces")

    name = "berthtest" + "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    home = session_dir / f"home-{name}"
    bindir = session_dir / f"bin-{name}"
    subid = free_subid_start()
    created = False
    run_dir = None
    made_run_user = False
    try:
        subprocess.run(["useradd", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0",
                        "-M", "-d", str(home), "-s", "/bin/sh", "-U", name],
                       check=True, stdin=subprocess.DEVNULL, capture_output=True)
        created = True
        subprocess.run(["usermod",
                        "--add-subuids", f"{subid}-{subid + SUBID_COUNT - 1}",
                        "--add-subgids", f"{subid}-{subid + SUBID_COUNT - 1}", name],
                       check=True, stdin=subprocess.DEVNULL, capture_output=True)
        pw = pwd.getpwnam(name)
        home.mkdir(mode=0o700)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        run_dir = Path(f"/run/user/{pw.pw_uid}")
        assert not run_dir.exists(), f"{run_dir} exists for a brand-new uid"
        if not run_dir.parent.exists():
            run_dir.parent.mkdir(mode=0o755)
            made_run_user = True
        run_dir.mkdir(mode=0o700)
        os.chown(run_dir, pw.pw_uid, pw.pw_gid)
        # the repository may not be traversable by the user: a copy it can run
        bindir.mkdir(mode=0o755)
        binary = bindir / "berth-runtime"
        shutil.copy2(RUNTIME, binary)
        binary.chmod(0o755)
        user = RootlessUser(name, pw.pw_uid, pw.pw_gid, home, run_dir, binary, subid)
        p = as_user_ok(user, ["unshare", "--user", "--map-root-user", "true"])
        if p.returncode != 0:
            skip_host_limit(f"an unprivileged user cannot create a user namespace here: {p.stderr.strip()}")
        yield user
    finally:
        if created:
            uid = pwd.getpwnam(name).pw_uid
            # every process of the user or its subordinate ids is ours
            ids = {uid} | set(range(subid, subid + SUBID_COUNT))
            for pid in processes_of(ids):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            wait_for(lambda: not processes_of(ids), timeout=5)
            settle_orphans(timeout=1)
            subprocess.run(["userdel", name], stdin=subprocess.DEVNULL, capture_output=True)
            remove_subid_lines("/etc/subuid", name)
            remove_subid_lines("/etc/subgid", name)
        # guarded: only the directory made above, never a path built from
        # something empty
        if run_dir is not None and str(run_dir).startswith("/run/user/") and run_dir.name.isdigit() \
                and int(run_dir.name) > 0 and run_dir.is_dir():
            shutil.rmtree(run_dir, ignore_errors=True)
        if made_run_user:
            try:
                os.rmdir("/run/user")
            except OSError:
                pass  # someone else's runtime dir appeared meanwhile
        for d in (home, bindir):
            if str(d).startswith(str(session_dir) + "/"):
                shutil.rmtree(d, ignore_errors=True)


class Rootless:
    """The runtime as the unprivileged user (default --root, i.e.
    $XDG_RUNTIME_DIR/berth), stdio in files like conftest's Runtime."""

    def __init__(self, user, testenv):
        self.user = user
        self.env = testenv
        self.root = user.run_dir / "berth"

    def __call__(self, *args, timeout=30):
        argv = self.user.env_argv() + [str(self.user.binary)] + [str(a) for a in args]
        return invoke(argv, self.env, timeout=timeout)

    def state(self, cid):
        return json.loads(self("state", cid).ok().stdout)

    def status(self, cid):
        r = self("state", cid)
        return json.loads(r.stdout)["status"] if r.returncode == 0 else None

    def list_ids(self):
        return self("list", "-q").ok().stdout.split()

    def bundle(self, *args, readonly=False):
        """A bundle owned by the user, config.json from `spec --rootless`
        (as the user), process.terminal false and the given args."""
        path = self.env.mkdir("rl-bundles", f"b{self.env.seq()}")
        rootfs = path / "rootfs"
        make_rootfs(rootfs)
        # make_rootfs hard-links the host's busybox when it can: never chown that
        bb = rootfs / "bin" / "busybox"
        bb.unlink()
        shutil.copy2(BUSYBOX, bb)
        lchown_tree(path, self.user.uid, self.user.gid)
        self("spec", "--rootless", "--bundle", path).ok()
        b = RootlessBundle(path)
        b.config["process"]["terminal"] = False
        b.config["root"]["readonly"] = readonly
        if args:
            b.config["process"]["args"] = [str(a) for a in args]
        return b.save()

    def run(self, b, cid, *extra, **kw):
        b.save()
        return self("run", "--bundle", b.path, *extra, cid, **kw)

    def create(self, b, cid, *extra, **kw):
        b.save()
        return self("create", "--bundle", b.path, *extra, cid, **kw)


class RootlessBundle:
    def __init__(self, path):
        self.path = path
        self.rootfs = path / "rootfs"
        with open(path / "config.json") as f:
            self.config = json.load(f)

    @property
    def linux(self):
        return self.config["linux"]

    def save(self):
        with open(self.path / "config.json", "w") as f:
            json.dump(self.config, f, indent=1)
        return self


@pytest.fixture
def rl(rl_user, testenv):
    r = Rootless(rl_user, testenv)
    yield r
    problems = []
    listed = r("list", "-q")
    ids = [i for i in listed.stdout.split() if listed.returncode == 0]
    for cid in dict.fromkeys(ids + [i for i in testenv.ids if (r.root / i).exists()]):
        d = r("delete", "--force", cid, timeout=10)
        if d.returncode != 0:
            problems.append(f"delete --force {cid} failed: {d.stderr.strip()}")
    left = [i for i in testenv.ids if (r.root / i).exists()]
    if left:
        problems.append(f"state entries after delete --force: {left}")
    settle_orphans(timeout=2)
    procs = rl_user.processes()
    if procs:
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        problems.append(f"processes of the rootless user (killed now): {procs}")
    settle_orphans(timeout=2)
    cgroups = cgroups_named(testenv.ids)
    if cgroups:
        problems.append(f"cgroups made for a rootless container: {cgroups}")
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems))


def test_spec_rootless_runs_as_is(rl, cid):
    b = rl.bundle(readonly=True)
    cfg = b.config
    assert {"containerID": 0, "hostID": rl.user.uid, "size": 1} in cfg["linux"]["uidMappings"]
    assert {"containerID": 0, "hostID": rl.user.gid, "size": 1} in cfg["linux"]["gidMappings"]
    assert any(n["type"] == "user" for n in cfg["linux"]["namespaces"])
    assert "resources" not in cfg["linux"]
    assert not any("gid=" in o for m in cfg["mounts"] for o in m.get("options", []))
    # only process.args and terminal differ from what spec --rootless wrote
    cfg["process"]["args"] = ["sh", "-c",
                              "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
                              "hostname; ls /sys/class/net; cat /proc/self/setgroups; "
                              "touch /x 2>/dev/null && echo root-writable || echo root-readonly"]
    r = rl.run(b, cid)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "0" and lines[1] == "0", lines
    assert lines[2].split() == ["0", str(rl.user.uid), "1"]
    assert lines[3].split() == ["0", str(rl.user.gid), "1"]
    assert lines[4] == "berth"
    assert lines[5] == "lo", "spec --rootless keeps a network namespace of its own"
    assert lines[6] == "deny"
    assert lines[7] == "root-readonly"
    assert rl.list_ids() == []


def test_rootless_lifecycle(rl, new_id):
    cid = new_id()
    b = rl.bundle("sh", "-c", "trap 'exit 0' TERM; echo ready > /tmp/ready; "
                  "while :; do sleep 0.1; done")
    rl.create(b, cid).ok()
    # state under $XDG_RUNTIME_DIR/berth, owned by the user
    st = os.stat(rl.root / cid)
    assert st.st_uid == rl.user.uid
    assert rl.state(cid)["status"] == "created"
    rl("start", cid).ok()
    assert wait_for(lambda: (b.rootfs / "tmp" / "ready").exists())
    state = rl.state(cid)
    assert state["status"] == "running"
    pid = state["pid"]
    assert rl.list_ids() == [cid]
    # exec lands in every namespace of the init, the user namespace first
    r = rl("exec", cid, "sh", "-c",
           "id -u; for n in user pid mnt; do readlink /proc/self/ns/$n; done").ok()
    out = r.stdout.split()
    assert out[0] == "0"
    assert out[1:] == [os.readlink(f"/proc/{pid}/ns/{n}") for n in ("user", "pid", "mnt")]
    # exec's own steps after joining the user namespace still work as the
    # user: a --pid-file in its home
    pid_file = rl.user.home / f"{cid}.pid"
    rl("exec", "-d", "--pid-file", pid_file, cid, "sleep", "1000").ok()
    exec_pid = int(pid_file.read_text())
    pids = json.loads(rl("ps", "--format", "json", cid).ok().stdout)
    assert pid in pids and exec_pid in pids, pids
    pidns = os.readlink(f"/proc/{pid}/ns/pid")
    for p in pids:
        try:
            assert os.readlink(f"/proc/{p}/ns/pid") == pidns
        except FileNotFoundError:
            pass  # one of the init's short sleeps
    # no cgroup: kill --all signals every process of the pid namespace
    rl("kill", "--all", cid, "TERM").ok()
    assert wait_for(lambda: rl.status(cid) == "stopped"), rl.status(cid)
    assert wait_for(lambda: not rl.user.processes(), timeout=5), rl.user.processes()
    rl("delete", cid).ok()
    assert rl.list_ids() == []
    assert not (rl.root / cid).exists()


def test_rootless_delete_force_kills_everything(rl, cid):
    b = rl.bundle("sleep", "1000")
    rl.create(b, cid).ok()
    rl("start", cid).ok()
    rl("exec", "-d", cid, "sleep", "1000").ok()
    assert len(json.loads(rl("ps", "--format", "json", cid).ok().stdout)) == 2
    rl("delete", cid).failed()
    rl("delete", "--force", cid).ok()
    assert wait_for(lambda: not rl.user.processes(), timeout=5), rl.user.processes()
    assert rl.list_ids() == []


def test_rootless_kill_all_without_pid_namespace(rl, cid):
    b = rl.bundle("sh", "-c", "sleep 1000 & sleep 1000 & echo ready > /tmp/ready; wait")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    # no pid namespace of our own: a new procfs is refused, bind the host's
    b.config["mounts"] = [m if m["destination"] != "/proc" else
                          {"destination": "/proc", "type": "bind", "source": "/proc",
                           "options": ["rbind", "nosuid", "noexec", "nodev"]}
                          for m in b.config["mounts"]]
    rl.create(b, cid).ok()
    rl("start", cid).ok()
    assert wait_for(lambda: (b.rootfs / "tmp" / "ready").exists())
    init = rl.state(cid)["pid"]
    pids = json.loads(rl("ps", "--format", "json", cid).ok().stdout)
    assert init in pids and len(pids) == 3, pids
    rl("kill", "--all", cid, "KILL").ok()
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=5)
    rl("delete", cid).ok()


def test_rootless_needs_user_namespace(rl, cid):
    b = rl.bundle("true")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "user"]
    b.linux.pop("uidMappings")
    b.linux.pop("gidMappings")
    r = rl.run(b, cid).failed()
    assert "linux.namespaces: rootless containers need a user namespace" in r.stderr, r
    assert rl.list_ids() == []


def test_rootless_subordinate_ids_through_newuidmap(rl, cid):
    sub = rl.user.subid
    b = rl.bundle("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id; "
                  "echo x > /tmp/by-1000; cat /proc/self/setgroups; sleep 1000")
    maps = [{"containerID": 0, "hostID": rl.user.uid, "size": 1},
            {"containerID": 1, "hostID": sub, "size": SUBID_COUNT - 1}]
    b.linux["uidMappings"] = maps
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": rl.user.gid, "size": 1},
                              {"containerID": 1, "hostID": sub, "size": SUBID_COUNT - 1}]
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10]}
    rl.run(b, cid, "-d").ok()
    pid = rl.state(cid)["pid"]
    assert wait_for(lambda: (b.rootfs / "tmp" / "by-1000").exists())
    with open(f"/proc/{pid}/status") as f:
        status = {k: v.split() for k, v in (line.split(":", 1) for line in f)}
    # container uid 1000 is subordinate id 999 above the range start
    assert status["Uid"][0] == str(sub + 999) and status["Gid"][0] == str(sub + 999), status
    st = os.stat(b.rootfs / "tmp" / "by-1000")
    assert (st.st_uid, st.st_gid) == (sub + 999, sub + 999)
    rl("delete", "--force", cid).ok()


def test_rootless_subordinate_ids_output(rl, cid):
    sub = rl.user.subid
    b = rl.bundle("sh", "-c", "cat /proc/self/uid_map; id; cat /proc/self/setgroups")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": rl.user.uid, "size": 1},
                              {"containerID": 1, "hostID": sub, "size": SUBID_COUNT}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": rl.user.gid, "size": 1},
                              {"containerID": 1, "hostID": sub, "size": SUBID_COUNT}]
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10]}
    r = rl.run(b, cid)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", str(rl.user.uid), "1"]
    assert lines[1].split() == ["1", str(sub), str(SUBID_COUNT)]
    assert lines[2] == "uid=1000(user) gid=1000(user) groups=10(wheel)", lines[2]
    assert lines[3] == "allow"


def test_rootless_ids_outside_subuid_are_refused(rl, cid):
    outside = rl.user.subid + SUBID_COUNT  # just past the user's range
    b = rl.bundle("true")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": outside, "size": 1000}]
    r = rl.run(b, cid).failed()
    assert "linux.uidMappings" in r.stderr and "/etc/subuid" in r.stderr and \
        "not delegated" in r.stderr, r
    assert rl.list_ids() == []
    assert not rl.user.processes()


def test_rootless_additional_gids_need_subgid(rl, cid):
    b = rl.bundle("true")
    b.config["process"]["user"] = {"uid": 0, "gid": 0, "additionalGids": [10]}
    r = rl.run(b, cid).failed()
    assert "process.user.additionalGids" in r.stderr and "setgroups" in r.stderr, r


def test_rootless_resources_without_cgroup(rl, cid):
    """Hybrid/v1 hosts delegate nothing to users: resources are skipped
    silently, pause and update say why they cannot work."""
    b = rl.bundle("sleep", "1000")
    b.linux["resources"] = {"memory": {"limit": 256 << 20}, "pids": {"limit": 100}}
    rl.create(b, cid).ok()
    rl("start", cid).ok()
    with open(f"/proc/{rl.state(cid)['pid']}/cgroup") as f:
        lines = f.read().splitlines()
    assert not any(cid in line for line in lines), lines
    assert not cgroups_named([cid])
    r = rl("pause", cid).failed()
    assert "no cgroup" in r.stderr, r
    assert rl.status(cid) == "running"
    r = rl("update", "--memory", "100000000", cid).failed()
    assert "no cgroup" in r.stderr, r
    r = rl("events", "--stats", cid).failed()
    assert "no cgroup" in r.stderr, r
    rl("kill", cid, "KILL").ok()
    assert wait_for(lambda: rl.status(cid) == "stopped")
    rl("delete", cid).ok()


def test_rootless_idmapped_mount_refused(rl, cid, testenv):
    d = testenv.mkdir("host", "idm")
    b = rl.bundle("true")
    b.config["mounts"].append({"destination": "/mnt", "type": "bind", "source": str(d),
                               "options": ["bind", "idmap"]})
    r = rl.run(b, cid).failed()
    assert "mounts[" in r.stderr and "idmapped" in r.stderr and "rootless" in r.stderr, r


def test_rootless_devices_are_bind_mounted(rl, cid):
    if not os.path.exists("/dev/net/tun"):
        skip_host_limit("no /dev/net/tun on the host")
    b = rl.bundle("sh", "-c", "stat -c '%t:%T %F' /dev/net/tun /dev/null; "
                  "grep -c ' /dev/net/tun ' /proc/self/mountinfo")
    b.linux["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]
    r = rl.run(b, cid)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "a:c8 character special file", lines
    assert lines[1] == "1:3 character special file", lines
    assert lines[2] == "1", "a bind mount of the host's node, not mknod"


def test_rootless_sysfs_without_network_namespace(rl, cid):
    """sysfs needs a network namespace of the user namespace: without one
    the host's /sys is bound instead."""
    b = rl.bundle("sh", "-c", "ls /sys/kernel >/dev/null && echo sys-ok")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    b.config["mounts"] = [m if m["destination"] != "/sys" else
                          {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                           "options": ["nosuid", "noexec", "nodev", "ro"]}
                          for m in b.config["mounts"]]
    r = rl.run(b, cid)
    assert r.returncode == 0, r
    assert r.stdout.strip() == "sys-ok"

