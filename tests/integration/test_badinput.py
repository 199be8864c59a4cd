# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad configs, ids and arguments: a non-zero exit, nothing left behind
(state, processes, cgroups, mounts), and -- for berth -- one error line that
names the offending field or argument.  runc's wording differs, so the
field-name check applies to berth only."""

import json
import os

import pytest

from conftest import (cgroups_named, is_berth, mountpoints_under, orphans,
                      wait_for)


def expect_error(r, *names):
    """Non-zero exit; for berth, one line on stderr naming each of names."""
    r.failed()
    err = r.stderr.strip()
    assert err, f"no error message: {r}"
    if is_berth():
        assert "\n" not in err, f"more than one line: {err!r}"
        for n in names:
            assert n in err, f"{n!r} not named in {err!r}"


def assert_nothing_left(rt, cid, b=None):
    assert cid not in rt.list_ids()
    assert not [e for e in os.listdir(rt.root) if cid in e], os.listdir(rt.root)
    left = wait_for(lambda: not orphans(), timeout=3)
    assert left, f"processes left: {orphans()}"
    assert wait_for(lambda: not cgroups_named([cid]), timeout=3), cgroups_named([cid])
    if b is not None:
        assert mountpoints_under(b.path) == []


def create_fails(rt, b, cid, *names):
    r = rt.create(b, cid)
    expect_error(r, *names)
    assert_nothing_left(rt, cid, b)
    return r


# --------------------------------------------------------------------------
# config.json


def test_malformed_json(rt, bundle, cid):
    b = bundle()
    (b.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": {')
    expect_error(rt("create", "--bundle", b.path, cid), "config.json")
    assert_nothing_left(rt, cid, b)


def test_missing_config(rt, bundle, cid):
    b = bundle()
    (b.path / "config.json").unlink()
    expect_error(rt("create", "--bundle", b.path, cid), "config.json")
    assert_nothing_left(rt, cid, b)


def test_missing_bundle(rt, testenv, cid):
    expect_error(rt("create", "--bundle", testenv.dir / "no-such-bundle", cid), "no-such-bundle")
    assert_nothing_left(rt, cid)


def test_wrong_json_type(rt, bundle, cid):
    b = bundle()
    b.process["args"] = "sh -c true"
    create_fails(rt, b, cid, "process.args")


def test_empty_args(rt, bundle, cid):
    b = bundle()
    b.process["args"] = []
    create_fails(rt, b, cid, "process.args")


def test_missing_rootfs(rt, bundle, cid):
    b = bundle()
    b.config["root"]["path"] = "no-such-rootfs"
    create_fails(rt, b, cid, "root.path")


def test_relative_cwd(rt, bundle, cid):
    b = bundle()
    b.process["cwd"] = "tmp"
    create_fails(rt, b, cid, "process.cwd")


def test_unknown_namespace(rt, bundle, cid):
    b = bundle()
    b.namespaces().append({"type": "bogus"})
    create_fails(rt, b, cid, "linux.namespaces", "bogus")


def test_duplicate_namespace(rt, bundle, cid):
    b = bundle()
    b.namespaces().append({"type": "network"})
    create_fails(rt, b, cid, "linux.namespaces", "network")


def test_namespace_path_not_a_namespace(rt, bundle, cid):
    b = bundle().set_namespace("network", "/etc/passwd")
    create_fails(rt, b, cid, "/etc/passwd")


def test_namespace_path_missing(rt, bundle, cid):
    b = bundle().set_namespace("network", "/run/netns/berth-it-does-not-exist")
    create_fails(rt, b, cid, "/run/netns/berth-it-does-not-exist")


def test_namespace_path_wrong_type(rt, bundle, cid):
    # a real namespace, but an ipc one given as the network namespace
    b = bundle().set_namespace("network", "/proc/self/ns/ipc")
    create_fails(rt, b, cid, "linux.namespaces")


@pytest.mark.parametrize("where", ["args", "env"])
def test_nul_byte(rt, bundle, cid, where):
    b = bundle("echo", "ok")
    if where == "args":
        b.process["args"] = ["echo", "ok\u0000b"]
        name = "process.args"
    else:
        b.process["env"] = ["PATH=/bin", "A=x\u0000y"]
        name = "process.env"
    # runc 1.1 notices a NUL in args only when it execs, so use run
    r = rt.run(b, cid)
    expect_error(r, name)
    assert "ok" not in r.stdout
    assert_nothing_left(rt, cid, b)


def test_unknown_rlimit(rt, bundle, cid):
    b = bundle()
    b.process["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    create_fails(rt, b, cid, "RLIMIT_BOGUS")


def test_unknown_capability(rt, bundle, cid):
    b = bundle()
    b.process["capabilities"]["bounding"].append("CAP_BOGUS")
    b.process["capabilities"]["effective"].append("CAP_BOGUS")
    b.process["capabilities"]["permitted"].append("CAP_BOGUS")
    r = rt.create(b, cid)
    # runc 1.1 only warns about unknown capabilities; berth refuses them.
    if is_berth():
        expect_error(r, "CAP_BOGUS")
        assert_nothing_left(rt, cid, b)
    else:
        rt.delete(cid, "--force")


@pytest.mark.berth_only
def test_relative_hook_path(rt, bundle, cid):
    # runc runs a relative hook path from its cwd; from / this one would
    # even resolve.  The spec wants an absolute path: berth refuses.
    b = bundle()
    b.hook("createRuntime", "bin/true")
    r = rt.create(b, cid, cwd="/")
    expect_error(r, "hooks.createRuntime", "bin/true")
    assert_nothing_left(rt, cid, b)


def test_missing_hook_binary(rt, bundle, cid):
    b = bundle()
    b.hook("createRuntime", "/no/such/hook")
    create_fails(rt, b, cid, "/no/such/hook")


def test_missing_executable(rt, bundle, cid):
    b = bundle("no-such-program")
    r = rt.create(b, cid)
    expect_error(r, "no-such-program")
    assert_nothing_left(rt, cid, b)


def test_missing_executable_run(rt, bundle, cid):
    b = bundle("/bin/no-such-program")
    r = rt.run(b, cid)
    expect_error(r, "/bin/no-such-program")
    assert_nothing_left(rt, cid, b)


def test_bind_source_missing(rt, bundle, cid, testenv):
    b = bundle()
    b.mount("/mnt", "bind", testenv.dir / "no-such-source", ["bind"])
    create_fails(rt, b, cid, "no-such-source")


def test_unknown_filesystem(rt, bundle, cid):
    b = bundle()
    b.mount("/mnt", "berthfs-bogus", "none", [])
    create_fails(rt, b, cid, "/mnt")


def test_user_namespace_without_mappings(rt, bundle, cid):
    b = bundle().set_namespace("user")
    b.linux.pop("uidMappings", None)
    b.linux.pop("gidMappings", None)
    r = rt.create(b, cid)
    if r.returncode == 0:  # runc accepts it and maps nothing; berth refuses
        assert not is_berth(), r
        rt.delete(cid, "--force").ok()
    else:
        expect_error(r, "uidMappings")
        assert_nothing_left(rt, cid, b)


# --------------------------------------------------------------------------
# container ids


@pytest.mark.parametrize("bad", ["a/b", "../escape", "with\nnewline", "x" * 1100, "",
                                 ".", "..", "sp ace", "star*"])
def test_bad_id(rt, bundle, testenv, bad):
    b = bundle()
    before = set(os.listdir(testenv.dir))
    r = rt.create(b, bad)
    expect_error(r, "id" if bad else "")
    assert rt.list_ids() == []
    assert os.listdir(rt.root) == []
    assert set(os.listdir(testenv.dir)) - before <= {"io"}, "something was created outside --root"
    assert wait_for(lambda: not orphans(), timeout=3)


def test_existing_id(rt, bundle, cid):
    rt.create(bundle("sleep", "1000"), cid).ok()
    st = rt.state(cid)
    expect_error(rt.create(bundle("sleep", "1000"), cid), cid)
    st2 = rt.state(cid)
    assert st2["pid"] == st["pid"] and st2["status"] == "created"
    assert st2["bundle"] == st["bundle"]
    rt.delete(cid, "--force").ok()


# --------------------------------------------------------------------------
# commands on missing containers, bad arguments, bad --root


@pytest.mark.parametrize("cmd", [
    ["start"], ["state"], ["delete"], ["kill"], ["kill", "{id}", "KILL"], ["pause"],
    ["resume"], ["ps"], ["exec", "{id}", "true"], ["events", "--stats"],
])
def test_missing_container(rt, cid, cmd):
    argv = [a.format(id=cid) for a in cmd]
    if "{id}" not in cmd:
        argv.append(cid)
    r = rt(*argv)
    expect_error(r, cid)
    assert "does not exist" in r.stderr, r


def test_kill_bad_signal(rt, bundle, cid):
    rt.create(bundle("sleep", "1000"), cid).ok()
    for sig in ("SIGBOGUS", "BOGUS", "999", "-1"):
        expect_error(rt.kill(cid, sig), sig)
    assert rt.status(cid) == "created"
    rt.delete(cid, "--force").ok()


def test_unknown_command(rt):
    r = rt("no-such-command")
    r.failed()


def test_missing_root_dir(rt, testenv, cid):
    missing = testenv.dir / "no-such-root"
    r = rt("--root", missing, "state", cid, use_root=False)
    expect_error(r, cid)
    assert "does not exist" in r.stderr
    r = rt("--root", missing, "list", "-q", use_root=False).ok()
    assert r.stdout.strip() == ""


def test_root_is_a_file(rt, bundle, testenv, cid):
    f = testenv.dir / "root-file"
    f.write_text("")
    b = bundle().save()
    r = rt("--root", f, "create", "--bundle", b.path, cid, use_root=False)
    expect_error(r, str(f))
    assert f.read_text() == ""
    assert wait_for(lambda: not orphans(), timeout=3)
    assert cgroups_named([cid]) == []


def test_create_in_missing_root_makes_it(rt, bundle, testenv, cid):
    root = testenv.dir / "fresh" / "root"
    b = bundle().save()
    rt("--root", root, "create", "--bundle", b.path, cid, use_root=False).ok()
    assert root.is_dir()
    rt("--root", root, "delete", "--force", cid, use_root=False).ok()
    assert not any(cid in e for e in os.listdir(root))


def test_exec_process_file_invalid(rt, bundle, cid, testenv):
    rt.create(bundle("sleep", "1000"), cid).ok()
    rt.start(cid).ok()
    p = testenv.dir / "bad-process.json"
    p.write_text("{not json")
    expect_error(rt("exec", "--process", p, cid), "bad-process.json")
    p.write_text(json.dumps({"args": ["true"], "cwd": "relative"}))
    expect_error(rt("exec", "--process", p, cid), "cwd")
    rt.delete(cid, "--force").ok()
