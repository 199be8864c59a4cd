# SPDX-License-Identifier: GPL-2.0-or-later
"""Podman (with conmon) driving the runtime under test.

Podman runs with private storage and state under the session's tmp dir
(--root/--runroot/--tmpdir, vfs storage, cgroupfs, file events), so it never
touches the machine's own containers.  The image is a busybox rootfs tarball
brought in with `podman import`; nothing is pulled.  Every container uses
--network none (no bridge or firewall changes on the host) and explicit
ulimits within the current hard limits: root here may lack CAP_SYS_RESOURCE,
and podman's default limits would then fail in any runtime.
"""

import json
import random
import resource
import shutil
import string
import tarfile
import time

import pytest

from conftest import (TestEnv, cgroup_children, invoke, make_rootfs, mountpoints_under,
                      remove_cgroup_parent, settle_orphans, skip_host_limit,
                      umount_all_under, wait_for)

pytestmark = pytest.mark.podman

IMAGE = "localhost/berth-it-busybox:latest"


def ulimit_args():
    nofile = min(1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    nproc = min(4096, resource.getrlimit(resource.RLIMIT_NPROC)[1])
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


class Podman:
    def __init__(self, runtime, base):
        self.base = base
        # every container goes below this cgroup, so leaks are ours to see
        self.cgroup_parent = "berth-it-pm-" + "".join(random.choices(string.ascii_lowercase, k=6))
        self.flags = ["--root", str(base / "root"), "--runroot", str(base / "runroot"),
                      "--tmpdir", str(base / "tmp"), "--storage-driver", "vfs",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                      "--runtime", runtime]

    def __call__(self, testenv, *args, input=None, timeout=120, cleanup=False):
        """podman ARGS; in cleanup code a timeout is returned, not raised."""
        return invoke(["podman", *self.flags, *args], testenv, input=input,
                      timeout=60 if cleanup else timeout, fail_on_timeout=not cleanup)


@pytest.fixture(scope="module")
def podman_env(runtime, session_dir):
    if not shutil.which("podman") or not shutil.which("conmon"):
        skip_host_limit("podman or conmon is not installed")
    base = session_dir / "podman"
    base.mkdir()
    env = TestEnv(base, "podman-setup")
    pm = Podman(runtime, base)
    rootfs = base / "image-rootfs"
    make_rootfs(rootfs)
    tarball = base / "busybox.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(rootfs, arcname=".")
    shutil.rmtree(rootfs)
    pm(env, "import", tarball, IMAGE).ok()
    yield pm
    pm(env, "rm", "--all", "--force", "--time", "0", cleanup=True)
    pm(env, "system", "reset", "--force", cleanup=True)
    left = mountpoints_under(base)
    umount_all_under(base)
    settle_orphans()
    remove_cgroup_parent(pm.cgroup_parent)
    assert not left, f"podman left mounts: {left}"


@pytest.fixture
def podman(podman_env, testenv):
    def call(*args, **kw):
        return podman_env(testenv, *args, **kw)

    call.cgroup_parent = podman_env.cgroup_parent
    yield call
    problems = []
    listed = call("ps", "--all", "--quiet", cleanup=True).stdout.split()
    if listed:
        call("rm", "--all", "--force", "--time", "0", cleanup=True)
        problems.append(f"containers not removed by the test: {listed}")
    if call("ps", "--all", "--quiet", cleanup=True).stdout.split():
        problems.append("podman rm --all --force left containers")
    procs = settle_orphans(timeout=10)
    if procs:
        problems.append(f"processes (killed now): {procs}")
    mounts = [m for m in mountpoints_under(podman_env.base)]
    if mounts:
        problems.append(f"mounts: {mounts}")
    cgroups = [c for c in cgroup_children(podman_env.cgroup_parent)
               if not c.endswith("/conmon")]
    if cgroups:
        problems.append(f"cgroups: {cgroups}")
    # Podman calls the runtime without --root: its state is in the default
    # root, and must be gone once podman removed the container
    states = runtime_states_under(podman_env, testenv)
    if states:
        problems.append(f"runtime state left in the default root: {states}")
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems))


def runtime_states_under(pm, testenv):
    """Ids of containers in the runtime's default root whose bundle lies in
    this podman's storage; deleted (force) when found."""
    runtime = pm.flags[pm.flags.index("--runtime") + 1]
    r = invoke([runtime, "list", "--format", "json"], testenv, fail_on_timeout=False)
    try:
        listed = json.loads(r.stdout or "[]") or []
    except ValueError:
        return [f"unreadable list output: {r.stdout!r}"]
    ids = [c["id"] for c in listed if str(c.get("bundle", "")).startswith(str(pm.base))]
    for cid in ids:
        invoke([runtime, "delete", "--force", cid], testenv, fail_on_timeout=False)
    return ids


def container_flags(podman):
    return ["--network", "none", "--cgroup-parent", "/" + podman.cgroup_parent, *ulimit_args()]


def prun(podman, *args, **kw):
    """podman run with the flags every test needs, then args."""
    return podman("run", *container_flags(podman), *args, **kw)


def status(podman, name):
    return podman("inspect", "--format", "{{.State.Status}}", name).ok().stdout.strip()


def test_run_echo(podman):
    r = prun(podman, "--rm", IMAGE, "echo", "hello", "world").ok()
    assert r.stdout == "hello world\n"
    assert podman("ps", "--all", "--quiet").ok().stdout.strip() == ""


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_code(podman, code):
    assert prun(podman, "--rm", IMAGE, "sh", "-c", f"exit {code}").returncode == code


def test_env_workdir_user_hostname(podman):
    r = prun(podman, "--rm", "-e", "FOO=bar baz", "-w", "/tmp", "-u", "1000:100",
             "--hostname", "berth-pod", IMAGE,
             "sh", "-c", "echo $FOO; pwd; id -u; id -g; hostname").ok()
    assert r.stdout.splitlines() == ["bar baz", "/tmp", "1000", "100", "berth-pod"]


def test_stdin(podman):
    r = prun(podman, "--rm", "-i", IMAGE, "sh", "-c", "cat; echo end", input="piped\n").ok()
    assert r.stdout == "piped\nend\n"


def test_tty(podman):
    r = prun(podman, "--rm", "-t", IMAGE, "sh", "-c", "tty; [ -t 1 ] && echo is-a-tty").ok()
    lines = r.stdout.replace("\r", "").splitlines()
    assert lines[0].startswith("/dev/pts/"), lines
    assert "is-a-tty" in lines


def test_network_none(podman):
    r = prun(podman, "--rm", IMAGE, "ls", "/sys/class/net").ok()
    assert r.stdout.split() == ["lo"]


def test_read_only(podman):
    r = prun(podman, "--rm", "--read-only", IMAGE,
             "sh", "-c", "touch /x && echo writable; touch /tmp/y && echo tmp-ok").ok()
    assert r.stdout.split() == ["tmp-ok"]


def test_detached_logs_exec_stop_rm(podman):
    name = "berth-it-detached"
    script = 'echo started; trap "echo stopping; exit 0" TERM; while :; do sleep 0.1; done'
    cid = prun(podman, "-d", "--name", name, IMAGE, "sh", "-c", script).ok().stdout.strip()
    assert len(cid) == 64
    assert wait_for(lambda: "started" in podman("logs", name).stdout, timeout=10)
    assert status(podman, name) == "running"

    r = podman("exec", name, "sh", "-c", "echo from-exec; cat /proc/1/cmdline | tr '\\0' ' '").ok()
    assert r.stdout.splitlines()[0] == "from-exec"
    assert r.stdout.splitlines()[1].startswith("sh -c")
    assert podman("exec", name, "sh", "-c", "exit 4").returncode == 4
    r = podman("exec", "-u", "1000", "-w", "/tmp", "-e", "X=y", name,
               "sh", "-c", "id -u; pwd; echo $X").ok()
    assert r.stdout.split() == ["1000", "/tmp", "y"]
    top = podman("top", name, "pid", "args").ok().stdout
    assert "sleep" in top or "sh -c" in top, top

    podman("stop", "--time", "10", name).ok()
    assert status(podman, name) == "exited"
    assert "stopping" in podman("logs", name).stdout
    code = podman("inspect", "--format", "{{.State.ExitCode}}", name).ok().stdout.strip()
    assert code == "0"
    podman("rm", name).ok()
    assert podman("ps", "--all", "--quiet").stdout.strip() == ""


def test_exec_tty(podman):
    name = "berth-it-exectty"
    prun(podman, "-d", "--name", name, IMAGE, "sleep", "1000").ok()
    r = podman("exec", "-t", name, "tty").ok()
    assert r.stdout.replace("\r", "").strip().startswith("/dev/pts/"), r
    podman("rm", "--force", "--time", "0", name).ok()


def test_kill_signal(podman):
    name = "berth-it-kill"
    script = 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done'
    prun(podman, "-d", "--name", name, IMAGE, "sh", "-c", script).ok()
    assert wait_for(lambda: "ready" in podman("logs", name).stdout, timeout=10)
    podman("kill", "--signal", "USR1", name).ok()
    assert wait_for(lambda: status(podman, name) == "exited", timeout=10)
    assert podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "7"
    assert "got-usr1" in podman("logs", name).stdout
    podman("rm", name).ok()


def test_pause_unpause(podman):
    name = "berth-it-pause"
    prun(podman, "-d", "--name", name, IMAGE, "sleep", "1000").ok()
    podman("pause", name).ok()
    assert status(podman, name) == "paused"
    podman("unpause", name).ok()
    assert status(podman, name) == "running"
    podman("rm", "--force", "--time", "0", name).ok()


def test_rm_force_running(podman):
    name = "berth-it-rmf"
    prun(podman, "-d", "--name", name, IMAGE, "sleep", "1000").ok()
    assert status(podman, name) == "running"
    podman("rm", "--force", "--time", "0", name).ok()
    assert podman("ps", "--all", "--quiet").stdout.strip() == ""


def test_create_start_wait(podman):
    name = "berth-it-createstart"
    podman("create", *container_flags(podman), "--name", name, IMAGE,
           "sh", "-c", "echo created-then-started; exit 5").ok()
    assert status(podman, name) == "created"
    podman("start", name).ok()
    r = podman("wait", name).ok()
    assert r.stdout.strip() == "5"
    assert "created-then-started" in podman("logs", name).stdout
    podman("rm", name).ok()


def test_inspect_runtime(podman, runtime):
    name = "berth-it-inspect"
    prun(podman, "-d", "--name", name, IMAGE, "sleep", "1000").ok()
    info = json.loads(podman("inspect", name).ok().stdout)[0]
    assert info["OCIRuntime"] in (runtime, runtime.rsplit("/", 1)[-1])
    assert info["State"]["Pid"] > 0
    podman("rm", "--force", "--time", "0", name).ok()


def test_run_many_quickly(podman):
    t0 = time.monotonic()
    for i in range(5):
        r = prun(podman, "--rm", IMAGE, "echo", str(i)).ok()
        assert r.stdout == f"{i}\n"
    assert time.monotonic() - t0 < 60
