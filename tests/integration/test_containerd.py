# SPDX-License-Identifier: GPL-2.0-or-later
"""containerd 1.6 (runc v2 shim, the path Kubernetes takes) driving the
runtime under test through `ctr --runc-binary`.

A private containerd runs for this module: its own root, state, socket and
config (CRI plugin disabled), started and stopped by pid.  The image is an OCI
archive that the test writes itself (one uncompressed layer holding the
busybox rootfs) and brings in with `ctr images import`: fully offline.
"""

import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import tarfile
import time

import pytest

from conftest import (TestEnv, cgroup_children, invoke, make_rootfs, mountpoints_under,
                      remove_cgroup_parent, remove_cgroups, settle_orphans,
                      run_in_pty, skip_host_limit, spawn, umount_all_under, wait_for)

pytestmark = pytest.mark.containerd

IMAGE = "localhost/berth-it-busybox:latest"


# --------------------------------------------------------------------------
# an OCI image archive, written by hand


def _blob(tar, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def write_oci_archive(path, rootfs, name):
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.PAX_FORMAT) as layer:
        for entry in sorted(os.listdir(rootfs)):
            layer.add(rootfs / entry, arcname=entry)
    layer_data = layer_buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_data).hexdigest()
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "berth integration tests"}],
    }
    with tarfile.open(path, "w") as tar:
        layer_desc = _blob(tar, layer_data)
        config_desc = _blob(tar, _json(config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_desc}],
        }
        manifest_desc = _blob(tar, _json(manifest))
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest_desc,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"io.containerd.image.name": name,
                                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]},
            }],
        }
        for fname, data in (("oci-layout", _json({"imageLayoutVersion": "1.0.0"})),
                            ("index.json", _json(index))):
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


# --------------------------------------------------------------------------
# a private containerd


CONFIG = """version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{sock}"

[ttrpc]
  address = ""

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


class Containerd:
    def __init__(self, runtime, base, namespace):
        self.runtime = runtime
        self.base = base
        self.sock = base / "c.sock"
        self.namespace = namespace
        self.proc = None

    def ctr(self, testenv, *args, timeout=120, input=None, cleanup=False):
        """ctr ARGS; in cleanup code a timeout is returned, not raised."""
        return invoke(["ctr", "--address", str(self.sock), "--namespace", self.namespace,
                       *args], testenv, timeout=20 if cleanup else timeout, input=input,
                      fail_on_timeout=not cleanup)

    def remove_all(self, testenv):
        """Kill and delete every container; returns the ids that existed."""
        left = self.ctr(testenv, "containers", "ls", "-q", cleanup=True).stdout.split()
        for c in left:
            self.ctr(testenv, "tasks", "kill", "-s", "SIGKILL", c, cleanup=True)
            self.ctr(testenv, "tasks", "delete", "--force", c, cleanup=True)
            self.ctr(testenv, "containers", "delete", c, cleanup=True)
        return left

    def shim_socket(self, cid):
        """Where containerd 1.6 puts the shim's socket for a container."""
        key = os.path.join(str(self.sock), self.namespace, cid)
        return "/run/containerd/s/" + hashlib.sha256(key.encode()).hexdigest()

    def runc_flags(self):
        return ["--runc-binary", self.runtime, "--runc-root", str(self.base / "runc-root")]


@pytest.fixture(scope="module")
def containerd(runtime, session_dir):
    for tool in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if not shutil.which(tool):
            skip_host_limit(f"{tool} is not installed")
    # keep the socket path short (sun_path)
    base = session_dir / "ctd"
    base.mkdir()
    env = TestEnv(base, "containerd-setup")
    ns = "berth-it-" + "".join(random.choices(string.ascii_lowercase, k=6))
    cd = Containerd(runtime, base, ns)
    (base / "config.toml").write_text(CONFIG.format(base=base, sock=cd.sock))
    log = open(base / "containerd.log", "wb")
    cd.proc = spawn(["containerd", "--config", str(base / "config.toml"), "--log-level", "info"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        def ready():
            if cd.proc.poll() is not None:
                raise AssertionError(f"containerd exited: {(base / 'containerd.log').read_text()}")
            if not cd.sock.exists():
                return False
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(cd.sock))
                return True
            except OSError:
                return False
            finally:
                s.close()

        assert wait_for(ready, timeout=30), "containerd did not come up"
        rootfs = base / "image-rootfs"
        make_rootfs(rootfs)
        archive = base / "busybox-oci.tar"
        write_oci_archive(archive, rootfs, IMAGE)
        shutil.rmtree(rootfs)
        cd.ctr(env, "images", "import", archive).ok()
        assert IMAGE in cd.ctr(env, "images", "ls", "-q").ok().stdout.split()
        yield cd
    finally:
        # every step runs, whatever failed before it: containerd must stop
        try:
            cd.remove_all(env)
            cd.ctr(env, "images", "rm", IMAGE, cleanup=True)
        finally:
            cd.proc.send_signal(signal.SIGTERM)
            try:
                cd.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cd.proc.kill()
                cd.proc.wait()
            log.close()
        left_procs = settle_orphans(timeout=10)
        left = mountpoints_under(base)
        umount_all_under(base)
        # containerd puts containers in /NAMESPACE/ID; the parent is ours
        remove_cgroup_parent(ns)
        assert not left, f"containerd left mounts: {left}"
        assert not left_procs, f"containerd left processes (killed now): {left_procs}"


@pytest.fixture
def ctr(containerd, testenv):
    def call(*args, **kw):
        return containerd.ctr(testenv, *args, **kw)

    yield call
    problems = []
    left = containerd.remove_all(testenv)
    if left:
        problems.append(f"containers not deleted by the test: {left}")
    tasks = containerd.ctr(testenv, "tasks", "ls", "-q", cleanup=True).stdout.split()
    if tasks:
        problems.append(f"tasks left: {tasks}")
    for cid in testenv.ids:
        sock = containerd.shim_socket(cid)
        if wait_for(lambda: not os.path.exists(sock), timeout=5):
            continue
        problems.append(f"shim socket of {cid} left (removed now): {sock}")
        try:
            os.unlink(sock)
        except FileNotFoundError:
            pass
    # only the image's content may stay mounted: no container rootfs
    mounts = [m for m in mountpoints_under(containerd.base) if "/rootfs" in m]
    if mounts:
        problems.append(f"rootfs mounts left: {mounts}")
    cgroups = cgroup_children(containerd.namespace)
    if cgroups:
        remove_cgroups(cgroups)
        problems.append(f"cgroups (removed now): {cgroups}")
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems))


@pytest.fixture
def cname(testenv):
    return testenv.new_id()


def crun_(ctr, containerd, *args, **kw):
    return ctr("run", *containerd.runc_flags(), *args, **kw)


def task_status(ctr, name):
    for line in ctr("tasks", "ls").ok().stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == name:
            return f[2]
    return None


# --------------------------------------------------------------------------


def test_run_echo(ctr, containerd, cname):
    r = crun_(ctr, containerd, "--rm", IMAGE, cname, "echo", "hi", "there").ok()
    assert r.stdout == "hi there\n"
    assert cname not in ctr("containers", "ls", "-q").stdout.split()


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_code(ctr, containerd, cname, code):
    r = crun_(ctr, containerd, "--rm", IMAGE, cname, "sh", "-c", f"exit {code}")
    assert r.returncode == code, r


def test_env_cwd(ctr, containerd, cname):
    r = crun_(ctr, containerd, "--rm", "--env", "FOO=bar", "--cwd", "/tmp",
              IMAGE, cname, "sh", "-c", "echo $FOO; pwd; id -u").ok()
    assert r.stdout.split() == ["bar", "/tmp", "0"]


def test_detached_exec_kill_delete(ctr, containerd, cname):
    crun_(ctr, containerd, "-d", IMAGE, cname, "sleep", "1000").ok()
    assert wait_for(lambda: task_status(ctr, cname) == "RUNNING", timeout=10)
    assert os.path.exists(containerd.shim_socket(cname))  # checks the teardown's check
    r = ctr("tasks", "exec", "--exec-id", "e1", cname, "sh", "-c", "echo from-exec; echo $$").ok()
    assert r.stdout.splitlines()[0] == "from-exec"
    assert int(r.stdout.splitlines()[1]) > 1
    r = ctr("tasks", "exec", "--exec-id", "e2", cname, "sh", "-c", "exit 6")
    assert r.returncode == 6, r
    r = ctr("tasks", "exec", "--exec-id", "e3", "--user", "1000", "--cwd", "/tmp", cname,
            "sh", "-c", "id -u; pwd").ok()
    assert r.stdout.split() == ["1000", "/tmp"]
    ps = ctr("tasks", "ps", cname).ok().stdout.split()
    pid = int(ctr("tasks", "ls").ok().stdout.split(cname, 1)[1].split()[0])
    assert str(pid) in ps
    ctr("tasks", "kill", "--signal", "SIGKILL", cname).ok()
    assert wait_for(lambda: task_status(ctr, cname) == "STOPPED", timeout=10)
    ctr("tasks", "delete", cname).ok()
    ctr("containers", "delete", cname).ok()
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10)


def test_sigterm_to_task(ctr, containerd, cname):
    script = 'trap "exit 9" TERM; while :; do sleep 0.1; done'
    crun_(ctr, containerd, "-d", IMAGE, cname, "sh", "-c", script).ok()
    assert wait_for(lambda: task_status(ctr, cname) == "RUNNING", timeout=10)
    time.sleep(0.3)  # let the trap be installed
    ctr("tasks", "kill", cname).ok()
    assert wait_for(lambda: task_status(ctr, cname) == "STOPPED", timeout=10)
    r = ctr("tasks", "delete", cname).ok()
    assert "9" in r.stdout.split() or r.stdout.strip() == "", r
    ctr("containers", "delete", cname).ok()


def test_pause_resume(ctr, containerd, cname):
    crun_(ctr, containerd, "-d", IMAGE, cname, "sleep", "1000").ok()
    assert wait_for(lambda: task_status(ctr, cname) == "RUNNING", timeout=10)
    ctr("tasks", "pause", cname).ok()
    assert task_status(ctr, cname) == "PAUSED"
    ctr("tasks", "resume", cname).ok()
    assert task_status(ctr, cname) == "RUNNING"
    ctr("tasks", "kill", "--signal", "SIGKILL", cname).ok()
    assert wait_for(lambda: task_status(ctr, cname) == "STOPPED", timeout=10)
    ctr("tasks", "delete", cname).ok()
    ctr("containers", "delete", cname).ok()


def test_tty(ctr, containerd, cname):
    rc, out = run_in_pty(["ctr", "--address", str(containerd.sock),
                          "--namespace", containerd.namespace, "run",
                          *containerd.runc_flags(), "--rm", "--tty", IMAGE, cname,
                          "sh", "-c", "tty; [ -t 1 ] && echo is-a-tty"])
    assert rc == 0, out
    lines = out.replace("\r", "").splitlines()
    assert lines[0].startswith("/dev/pts/"), lines
    assert "is-a-tty" in lines


def test_rootfs_without_image(ctr, containerd, cname, testenv):
    rootfs = testenv.dir / "plain-rootfs"
    make_rootfs(rootfs)
    r = crun_(ctr, containerd, "--rm", "--rootfs", rootfs, cname,
              "/bin/sh", "-c", "echo plain; ls /").ok()
    assert r.stdout.splitlines()[0] == "plain"
    assert "busybox" in os.listdir(rootfs / "bin")
