# SPDX-License-Identifier: GPL-2.0-or-later
"""The engine drives any OCI runtime: the same run, exec, logs and stop
scenarios with --runtime runc and crun (crun 1.8.1 refuses hybrid cgroups:
it runs in a mount namespace without /sys/fs/cgroup/unified, as
DEVELOPERS.md describes)."""

import os
import shutil
import time

import pytest

from engine_env import busybox_tar, engine, pid_alive  # noqa: F401

CRUN_WRAPPER = """#!/bin/sh
if [ -e /sys/fs/cgroup/unified ]; then
    exec unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun "$@"' crun "$@"
fi
exec crun "$@"
"""


@pytest.fixture(params=["runc", "crun"])
def runtime(request, engine):
    name = request.param
    path = shutil.which(name)
    if not path:
        pytest.skip(f"host limit: {name} is not installed")
    if name == "crun":
        path = str(engine.root / "crun-wrapper")
        with open(path, "w") as f:
            f.write(CRUN_WRAPPER)
        os.chmod(path, 0o755)
    return path


def test_run_exec_stop_with(engine, runtime):
    r = engine.run("run", "--rm", "--runtime", runtime, "busybox", "sh", "-c", "echo hi; exit 3", ok=False)
    assert (r.returncode, r.stdout) == (3, "hi\n")
    engine.run("run", "-d", "--name", "svc", "--runtime", runtime, "-e", "K=v", "busybox", "sh", "-c",
               "trap 'exit 4' TERM; echo started; while true; do sleep 0.1; done")
    info = engine.inspect("svc")
    assert info["Runtime"].endswith(os.path.basename(runtime))
    assert info["State"]["Status"] == "running"
    assert engine.out("exec", "svc", "sh", "-c", "echo $K; cat /proc/1/cmdline | tr '\\0' ' '") == \
        "v\nsh -c trap 'exit 4' TERM; echo started; while true; do sleep 0.1; done "
    assert engine.out("logs", "svc") == "started\n"
    engine.run("stop", "svc")
    assert engine.inspect("svc")["State"]["ExitCode"] == 4
    engine.run("start", "svc")
    assert engine.status("svc") == "running"
    engine.run("rm", "-f", "svc")
    assert engine.ids() == []


def test_stop_timeout_and_restart_with(engine, runtime):
    engine.run("run", "-d", "--name", "hard", "--runtime", runtime, "busybox", "sh", "-c",
               "trap '' TERM; while true; do sleep 0.1; done")
    t = time.monotonic()
    engine.run("stop", "-t", "1", "hard")
    assert 0.9 < time.monotonic() - t < 8
    assert engine.inspect("hard")["State"]["ExitCode"] == 137
    engine.run("run", "-d", "--name", "twice", "--runtime", runtime, "--restart", "on-failure:2", "busybox",
               "sh", "-c", "exit 1")
    end = time.monotonic() + 15
    while engine.status("twice") != "exited" and time.monotonic() < end:
        time.sleep(0.1)
    assert engine.inspect("twice")["RestartCount"] == 2
