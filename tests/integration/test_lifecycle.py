# SPDX-License-Identifier: GPL-2.0-or-later
"""Lifecycle commands: create, start, state, kill, delete, list, ps, run,
exec, pause/resume, update, and the global flags and informational commands."""

import datetime
import json
import os
import re
import signal
import time

import pytest

from conftest import SENTINEL, pid_alive, spawn, wait_for

STATE_KEYS = {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def out_dir(testenv, b):
    """A host directory bind-mounted at /out, writable by anyone."""
    d = testenv.mkdir("host", "out", mode=0o777)
    b.bind(d, "/out")
    return d


def parse_rfc3339(s):
    s = s.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", s)
    frac = (m.group(2) or ".0")[:7]
    return datetime.datetime.fromisoformat(m.group(1) + frac + m.group(3))


def running(rt, bundle, cid, *cmd):
    """create + start a container running cmd (default: sleep), wait for it."""
    b = bundle(*(cmd or ("sleep", "1000")))
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "running")
    return b


# --------------------------------------------------------------------------
# create / start / state / delete


def test_create_leaves_init_waiting(rt, bundle, testenv, cid):
    b = bundle()
    out = out_dir(testenv, b)
    b.sh("echo started > /out/marker; echo hello-from-container")
    created = rt.create(b, cid).ok()
    st = rt.state(cid)
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"]), "the init process of a created container must exist"
    time.sleep(0.3)
    assert not (out / "marker").exists(), "the user process ran before start"
    assert rt.status(cid) == "created"

    rt.start(cid).ok()
    assert wait_for(lambda: (out / "marker").exists()), "the user process never ran"
    rt.wait_status(cid, "stopped")
    assert "hello-from-container" in created.stdout, created
    rt.delete(cid).ok()


def test_state_fields(rt, bundle, cid):
    b = bundle("sleep", "1000")
    b.config["annotations"] = {"org.example.key": "value", "another": "x y"}
    before = datetime.datetime.now(datetime.timezone.utc)
    rt.create(b, cid).ok()
    st = rt.state(cid)
    assert set(st) == STATE_KEYS | {"annotations"}, st
    assert isinstance(st["ociVersion"], str) and re.match(r"^1\.\d+\.\d+", st["ociVersion"]), st
    assert st["id"] == cid
    assert st["status"] == "created"
    assert st["bundle"] == str(b.path)
    assert st["rootfs"] == str(b.rootfs)
    assert RFC3339.match(st["created"]), st["created"]
    created = parse_rfc3339(st["created"])
    assert abs((created - before).total_seconds()) < 60, (created, before)
    assert isinstance(st["owner"], str)
    assert st["annotations"] == b.config["annotations"]
    # state is JSON on stdout and nothing else
    assert json.loads(rt("state", cid).stdout) == st
    rt.start(cid).ok()
    assert rt.state(cid)["status"] == "running"
    rt.kill(cid, "KILL").ok()
    rt.wait_status(cid, "stopped")
    st = rt.state(cid)
    assert set(st) == STATE_KEYS | {"annotations"}, st
    rt.delete(cid).ok()


def test_state_without_annotations_and_relative_bundle(rt, bundle, cid, testenv):
    b = bundle("sleep", "1000")
    b.config.pop("annotations", None)
    b.save()
    rel = os.path.relpath(b.path, testenv.dir)
    rt("create", "--bundle", rel, cid).ok()
    st = rt.state(cid)
    assert STATE_KEYS <= set(st) <= STATE_KEYS | {"annotations"}, st
    assert st.get("annotations", {}) == {}
    assert st["bundle"] == str(b.path), "bundle must be stored as an absolute path"
    rt.delete(cid, "--force").ok()


def test_stopped_after_exit_and_start_again_fails(rt, bundle, cid):
    b = bundle("true")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "stopped")
    r = rt.start(cid).failed()
    assert "stopped" in r.stderr, r
    assert rt.status(cid) == "stopped"
    rt.delete(cid).ok()


def test_start_running_fails(rt, bundle, cid):
    running(rt, bundle, cid)
    r = rt.start(cid).failed()
    assert "running" in r.stderr, r
    assert rt.status(cid) == "running"
    rt.delete(cid, "--force").ok()


def test_delete_removes_state(rt, bundle, cid, root):
    rt.create(bundle("true"), cid).ok()
    pid = rt.state(cid)["pid"]
    assert (root / cid).exists() or any(cid in e for e in os.listdir(root))
    rt.delete(cid).ok()
    assert not any(cid in e for e in os.listdir(root)), os.listdir(root)
    assert cid not in rt.list_ids()
    r = rt("state", cid).failed()
    assert "does not exist" in r.stderr, r
    assert wait_for(lambda: not pid_alive(pid)), "deleting a created container must kill its init"


def test_delete_running_requires_force(rt, bundle, cid):
    running(rt, bundle, cid)
    pid = rt.state(cid)["pid"]
    rt.delete(cid).failed()
    assert rt.status(cid) == "running"
    assert pid_alive(pid)
    rt.delete(cid, "--force").ok()
    assert wait_for(lambda: not pid_alive(pid))
    assert cid not in rt.list_ids()


def test_delete_force_missing_is_ok(rt, cid):
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# kill


def sig_written(out):
    """The trap's line is there: the shell creates the file before it writes."""
    f = out / "sig"
    return f.exists() and f.read_text().strip() != ""


TRAP = ("for s in HUP USR1 USR2 TERM INT; do trap \"echo $s > /out/sig; exit 0\" $s; done; "
        "echo ready > /out/ready; while :; do sleep 0.05; done")


@pytest.mark.parametrize("arg,name", [
    ("TERM", "TERM"), ("SIGTERM", "TERM"), ("15", "TERM"),
    ("USR1", "USR1"), ("SIGUSR1", "USR1"), ("10", "USR1"),
    ("HUP", "HUP"), ("1", "HUP"), ("SIGINT", "INT"),
])
def test_kill_signal_spellings(rt, bundle, testenv, cid, arg, name):
    b = bundle()
    out = out_dir(testenv, b)
    b.sh(TRAP)
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert wait_for(lambda: (out / "ready").exists())
    rt.kill(cid, arg).ok()
    assert wait_for(lambda: sig_written(out)), "signal not delivered"
    assert (out / "sig").read_text().strip() == name
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()


def test_kill_default_is_term(rt, bundle, testenv, cid):
    b = bundle()
    out = out_dir(testenv, b)
    b.sh(TRAP)
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert wait_for(lambda: (out / "ready").exists())
    rt.kill(cid).ok()
    assert wait_for(lambda: sig_written(out))
    assert (out / "sig").read_text().strip() == "TERM"
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()


@pytest.mark.parametrize("arg", ["KILL", "SIGKILL", "9"])
def test_kill_kill(rt, bundle, cid, arg):
    running(rt, bundle, cid)
    pid = rt.state(cid)["pid"]
    rt.kill(cid, arg).ok()
    rt.wait_status(cid, "stopped")
    assert not pid_alive(pid)
    rt.delete(cid).ok()


def test_kill_all(rt, bundle, cid, testenv):
    # Without a pid namespace, killing init leaves its children alive:
    # only --all reaches them.
    b = bundle()
    out = out_dir(testenv, b)
    b.drop_namespace("pid")
    b.sh("sleep 1000 & sleep 1001 & echo ready > /out/ready; wait")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert wait_for(lambda: (out / "ready").exists())
    pids = json.loads(rt("ps", "--format", "json", cid).ok().stdout)
    assert len(pids) == 3, pids
    rt("kill", "--all", cid, "KILL").ok()
    assert wait_for(lambda: not any(pid_alive(p) for p in pids)), \
        [p for p in pids if pid_alive(p)]
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()


def test_kill_stopped_fails(rt, bundle, cid):
    rt.create(bundle("true"), cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "stopped")
    rt.kill(cid, "KILL").failed()
    rt.delete(cid).ok()


# --------------------------------------------------------------------------
# list / ps


def test_list(rt, bundle, new_id):
    a, b = new_id("a"), new_id("b")
    ba = bundle("sleep", "1000")
    rt.create(ba, a).ok()
    running(rt, bundle, b)
    assert sorted(rt.list_ids()) == sorted([a, b])

    entries = json.loads(rt("list", "--format", "json").ok().stdout)
    assert isinstance(entries, list) and len(entries) == 2
    by_id = {e["id"]: e for e in entries}
    assert set(by_id) == {a, b}
    assert by_id[a]["status"] == "created"
    assert by_id[b]["status"] == "running"
    assert by_id[a]["bundle"] == str(ba.path)
    for e in entries:
        assert STATE_KEYS <= set(e), e
        assert e["pid"] == rt.state(e["id"])["pid"]
        assert RFC3339.match(e["created"])

    table = rt("list").ok().stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert set(rows) == {a, b}
    assert rows[a][1:3] == [str(by_id[a]["pid"]), "created"]
    assert rows[b][1:3] == [str(by_id[b]["pid"]), "running"]
    rt.delete(a, "--force").ok()
    rt.delete(b, "--force").ok()


def test_list_empty(rt):
    assert rt("list", "-q").ok().stdout.strip() == ""
    assert json.loads(rt("list", "--format", "json").ok().stdout) in (None, [])


def test_ps(rt, bundle, cid, testenv):
    b = bundle()
    out = out_dir(testenv, b)
    b.sh("sleep 1000 & echo ready > /out/ready; exec sleep 1001")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert wait_for(lambda: (out / "ready").exists())
    init = rt.state(cid)["pid"]
    pids = json.loads(rt("ps", "--format", "json", cid).ok().stdout)
    assert sorted(set(pids)) == sorted(pids) and len(pids) == 2, pids
    assert init in pids
    for p in pids:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[0].endswith(b"sleep")
    table = rt("ps", cid).ok().stdout.splitlines()
    assert "PID" in table[0].split()
    col = table[0].split().index("PID")
    assert sorted(int(line.split()[col]) for line in table[1:]) == sorted(pids)
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# run


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_run_exit_status(rt, bundle, cid, code):
    r = rt.run(bundle("sh", "-c", f"echo before-exit-{code}; exit {code}"), cid)
    assert r.returncode == code, r
    assert r.stdout == f"before-exit-{code}\n", r


def test_run_output_and_stdin(rt, bundle, cid):
    r = rt.run(bundle("sh", "-c", "cat; echo out; echo err >&2"), cid, input="from-stdin\n")
    assert r.returncode == 0, r
    assert r.stdout == "from-stdin\nout\n", r
    assert "err\n" in r.stderr, r


def test_run_removes_container(rt, bundle, cid):
    r = rt.run(bundle("echo", "ran"), cid).ok()
    assert r.stdout == "ran\n"
    assert cid not in rt.list_ids()
    assert "does not exist" in rt("state", cid).failed().stderr


def test_run_keep(rt, bundle, cid):
    r = rt.run(bundle("sh", "-c", "exit 5"), cid, "--keep")
    assert r.returncode == 5, r
    assert rt.status(cid) == "stopped"
    rt.delete(cid).ok()


def test_run_killed_by_signal(rt, bundle, cid, testenv):
    b = bundle("sleep", "1000").save()
    err = open(testenv.dir / "run.err", "wb")
    p = spawn([rt.path, "--root", str(rt.root), "run", "--bundle", str(b.path), cid],
              stdin=open(os.devnull), stdout=err, stderr=err)
    try:
        rt.wait_status(cid, "running")
        rt.kill(cid, "KILL").ok()
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rc == 128 + signal.SIGKILL, rc


def test_run_init_dies_of_term(rt, bundle, cid):
    # Outside a pid namespace init has no special signal protection.
    b = bundle("sh", "-c", "kill -TERM $$; sleep 5")
    b.drop_namespace("pid")
    r = rt.run(b, cid)
    assert r.returncode == 128 + signal.SIGTERM, r


def test_run_detached(rt, bundle, cid):
    b = bundle("sh", "-c", "echo detached-out; echo detached-err >&2; exec sleep 1000")
    t0 = time.monotonic()
    r = rt.run(b, cid, "-d").ok()
    assert time.monotonic() - t0 < 10
    st = rt.state(cid)
    assert st["status"] == "running" and pid_alive(st["pid"])
    assert wait_for(lambda: "detached-out" in r.stdout), r
    assert wait_for(lambda: "detached-err" in r.stderr), r
    rt.delete(cid, "--force").ok()


@pytest.mark.parametrize("cmd", ["create", "run"])
def test_pid_file(rt, bundle, cid, testenv, cmd):
    b = bundle("sleep", "1000").save()
    extra = ["-d"] if cmd == "run" else []
    rt(cmd, "--bundle", b.path, "--pid-file", "rel.pid", *extra, cid).ok()
    pidfile = testenv.dir / "rel.pid"
    assert pidfile.exists(), "a relative --pid-file is relative to the caller's cwd"
    assert int(pidfile.read_text().strip()) == rt.state(cid)["pid"]
    absfile = testenv.dir / "abs.pid"
    rt.delete(cid, "--force").ok()
    rt(cmd, "--bundle", b.path, "--pid-file", absfile, *extra, cid).ok()
    assert int(absfile.read_text().strip()) == rt.state(cid)["pid"]
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# exec


@pytest.fixture
def sleeper(rt, bundle, cid):
    b = running(rt, bundle, cid)
    yield b
    rt.delete(cid, "--force")


def test_exec_argv(rt, cid, sleeper):
    r = rt("exec", cid, "echo", "hi", "there").ok()
    assert r.stdout == "hi there\n"


def test_exec_exit_status(rt, cid, sleeper):
    assert rt("exec", cid, "sh", "-c", "exit 7").returncode == 7
    assert rt("exec", cid, "false").returncode == 1


def test_exec_joins_namespaces(rt, cid, sleeper):
    pid = rt.state(cid)["pid"]
    for ns in ("pid", "net", "ipc", "uts", "mnt"):
        r = rt("exec", cid, "readlink", f"/proc/self/ns/{ns}").ok()
        assert r.stdout.strip() == os.readlink(f"/proc/{pid}/ns/{ns}"), ns
    r = rt("exec", cid, "sh", "-c", "echo $$").ok()
    assert int(r.stdout) > 1, "exec'd process must not be pid 1"


def test_exec_process_file(rt, cid, sleeper, testenv):
    proc = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo $FOO; pwd; id -u; id -g"],
        "env": ["PATH=/bin", "FOO=from-process-json"],
        "cwd": "/tmp",
    }
    path = testenv.dir / "process.json"
    path.write_text(json.dumps(proc))
    r = rt("exec", "--process", path, cid).ok()
    assert r.stdout.splitlines() == ["from-process-json", "/tmp", "1000", "1000"]


def test_exec_env_cwd_user(rt, cid, sleeper):
    r = rt("exec", "-e", "FOO=baz", "-e", "BAR=qux", cid, "sh", "-c", "echo $FOO $BAR").ok()
    assert r.stdout == "baz qux\n"
    r = rt("exec", "--cwd", "/tmp", cid, "pwd").ok()
    assert r.stdout == "/tmp\n"
    r = rt("exec", "-u", "1000:100", cid, "sh", "-c", "id -u; id -g").ok()
    assert r.stdout.split() == ["1000", "100"]
    r = rt("exec", cid, "env").ok()
    assert SENTINEL not in r.stdout, "the caller's environment leaked into exec"


def test_exec_detached_pid_file(rt, cid, sleeper, testenv):
    pidfile = testenv.dir / "exec.pid"
    t0 = time.monotonic()
    rt("exec", "-d", "--pid-file", pidfile, cid, "sleep", "1000").ok()
    assert time.monotonic() - t0 < 10
    pid = int(pidfile.read_text().strip())
    assert pid_alive(pid)
    init = rt.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")
    assert pid in json.loads(rt("ps", "--format", "json", cid).ok().stdout)


def test_exec_stopped_fails(rt, bundle, cid):
    rt.create(bundle("true"), cid).ok()
    rt.start(cid).ok()
    rt.wait_status(cid, "stopped")
    rt("exec", cid, "true").failed()
    rt.delete(cid).ok()


# --------------------------------------------------------------------------
# pause / resume / update


def test_pause_resume(rt, bundle, cid, testenv):
    b = bundle()
    out = out_dir(testenv, b)
    b.sh("i=0; while :; do i=$((i+1)); echo $i > /out/tick; sleep 0.05; done")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    assert wait_for(lambda: (out / "tick").exists())
    rt("pause", cid).ok()
    assert rt.status(cid) == "paused"
    time.sleep(0.2)
    frozen = (out / "tick").read_text()
    time.sleep(0.4)
    assert (out / "tick").read_text() == frozen, "a paused container kept running"
    rt("resume", cid).ok()
    assert rt.status(cid) == "running"
    assert wait_for(lambda: (out / "tick").read_text() != frozen), "resume did not thaw"
    rt.delete(cid, "--force").ok()


def cgroup_file(pid, controller, name):
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, ctrls, path in lines:
        if controller in ctrls.split(","):
            return f"/sys/fs/cgroup/{controller}{path}/{name}"
    for hid, ctrls, path in lines:
        if hid == "0" and ctrls == "":
            for base in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                if os.path.exists(f"{base}{path}/{name}"):
                    return f"{base}{path}/{name}"
    raise AssertionError(f"no {controller} cgroup for {pid}")


def test_update_pids_limit(rt, cid, sleeper):
    pid = rt.state(cid)["pid"]
    rt("update", "--resources", "-", cid, input='{"pids": {"limit": 77}}').ok()
    with open(cgroup_file(pid, "pids", "pids.max")) as f:
        assert f.read().strip() == "77"


# --------------------------------------------------------------------------
# global flags, informational commands


def test_log_json(rt, testenv, cid):
    log = testenv.dir / "runtime.log"
    r = rt("start", cid, global_args=["--log", log, "--log-format", "json"]).failed()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines, f"nothing logged: {r}"
    entries = [json.loads(line) for line in lines]
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors, entries
    for e in errors:
        assert {"level", "msg", "time"} <= set(e)
        assert RFC3339.match(e["time"]), e
    assert any("does not exist" in e["msg"] for e in errors), errors


def test_version(runtime, rt):
    r = rt("--version", use_root=False).ok()
    lines = r.stdout.splitlines()
    assert re.match(r"^\S+ version \S+", lines[0]), lines
    assert any(re.match(r"^spec: 1\.\d+\.\d+", line) for line in lines), lines


def test_features(rt):
    f = json.loads(rt("features", use_root=False).ok().stdout)
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMin"])
    assert re.match(r"^1\.\d+\.\d+", f["ociVersionMax"])
    assert {"prestart", "createRuntime", "createContainer", "startContainer",
            "poststart", "poststop"} <= set(f["hooks"])
    assert {"bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec",
            "rprivate", "rslave", "rshared"} <= set(f["mountOptions"])
    assert {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"} <= \
        set(f["linux"]["namespaces"])


def test_spec(rt, testenv):
    d = testenv.mkdir("specdir")
    rt("spec", use_root=False, cwd=d).ok()
    c = json.loads((d / "config.json").read_text())
    assert re.match(r"^1\.\d+\.\d+", c["ociVersion"])
    assert c["root"]["path"] == "rootfs"
    assert c["process"]["args"] and c["process"]["cwd"] == "/"
    assert {m["destination"] for m in c["mounts"]} >= {"/proc", "/dev", "/sys"}
    assert {n["type"] for n in c["linux"]["namespaces"]} >= {"pid", "mount", "network"}
    before = (d / "config.json").read_text()
    rt("spec", use_root=False, cwd=d).failed()
    assert (d / "config.json").read_text() == before, "spec overwrote config.json"
