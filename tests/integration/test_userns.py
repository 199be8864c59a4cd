# SPDX-License-Identifier: GPL-2.0-or-later
"""User namespaces run by root: uid/gid maps written directly, a rootfs
owned by the mapped range, exec joining the user namespace, and idmapped
bind mounts (mount_setattr MOUNT_ATTR_IDMAP) made by the runtime for an
init that lacks the privilege to make them itself."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import BUSYBOX, require_feature, skip_host_limit

HOST = 100000
SIZE = 65536
MAP = [{"containerID": 0, "hostID": HOST, "size": SIZE}]


def lchown_tree(top, uid, gid):
    """chown -R without following symlinks anywhere."""
    os.lchown(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def userns_bundle(bundle, *args, host=HOST):
    """A bundle with a user namespace mapping 0 -> host (SIZE ids) on a
    private copy of the rootfs owned by host: the fixture's rootfs holds a
    hard link to the host's busybox, which must not be chowned."""
    b = bundle(*args)
    copy = b.path / "rootfs-userns"
    shutil.copytree(b.rootfs, copy, symlinks=True)
    busybox = copy / "bin" / "busybox"
    assert os.stat(busybox).st_ino != os.stat(BUSYBOX).st_ino
    lchown_tree(copy, host, host)
    b.config["root"]["path"] = "rootfs-userns"
    b.rootfs = copy
    b.set_namespace("user")
    m = [{"containerID": 0, "hostID": host, "size": SIZE}]
    b.linux["uidMappings"] = m
    b.linux["gidMappings"] = [dict(x) for x in m]
    return b


def run_ok(rt, b, cid):
    r = rt.run(b, cid)
    assert r.returncode == 0, r
    return r.stdout


def test_userns_root_inside_owner_outside(rt, bundle, cid):
    b = userns_bundle(bundle, "sh", "-c",
                      "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
                      "echo hi > /tmp/created; stat -c %u:%g /tmp/created /bin/busybox")
    lines = run_ok(rt, b, cid).splitlines()
    assert lines[0] == "0" and lines[1] == "0", lines
    assert lines[2].split() == ["0", str(HOST), str(SIZE)]
    assert lines[3].split() == ["0", str(HOST), str(SIZE)]
    assert lines[4:6] == ["0:0", "0:0"], lines
    st = os.stat(b.rootfs / "tmp" / "created")
    assert (st.st_uid, st.st_gid) == (HOST, HOST)


def test_userns_exec_joins_user_namespace(rt, bundle, cid):
    b = userns_bundle(bundle, "sleep", "1000")
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    pid = rt.state(cid)["pid"]
    init_userns = os.readlink(f"/proc/{pid}/ns/user")
    assert init_userns != os.readlink("/proc/self/ns/user")
    r = rt("exec", cid, "sh", "-c",
           "id -u; readlink /proc/self/ns/user; cat /proc/self/uid_map; "
           "echo x > /tmp/from-exec").ok()
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1] == init_userns
    assert lines[2].split() == ["0", str(HOST), str(SIZE)]
    assert os.stat(b.rootfs / "tmp" / "from-exec").st_uid == HOST
    # a non-root user of the container is HOST + uid on the host
    r = rt("exec", "--user", "1000:1000", cid, "sh", "-c",
           "id -u; echo y > /tmp/from-1000").ok()
    assert r.stdout.split() == ["1000"]
    st = os.stat(b.rootfs / "tmp" / "from-1000")
    assert (st.st_uid, st.st_gid) == (HOST + 1000, HOST + 1000)
    rt.delete(cid, "--force").ok()


def test_userns_unmapped_owner_shows_overflow(rt, bundle, cid, testenv):
    d = testenv.mkdir("host", "plain")
    (d / "f").write_text("root-owned\n")
    b = userns_bundle(bundle, "stat", "-c", "%u:%g", "/mnt/plain/f")
    b.mount("/mnt/plain", "bind", d, ["bind"])
    assert run_ok(rt, b, cid).strip() == "65534:65534"


def idmap_supported():
    """Can this kernel and filesystem idmap a bind mount of testenv's dir?"""
    require_feature(lambda f: f.get("linux", {}).get("mountExtensions", {})
                    .get("idmap", {}).get("enabled"), "no idmapped mounts")


@pytest.mark.parametrize("own_mappings", [True, False], ids=["mount-mappings", "container-userns"])
def test_idmapped_bind_mount(rt, bundle, cid, testenv, own_mappings):
    idmap_supported()
    d = testenv.mkdir("host", "idmapped")
    (d / "f").write_text("root-owned\n")
    os.chown(d / "f", 0, 0)
    b = userns_bundle(bundle, "sh", "-c",
                      "stat -c %u:%g /mnt/idm/f; cat /mnt/idm/f; "
                      "echo from-container > /mnt/idm/new && stat -c %u:%g /mnt/idm/new; "
                      "grep ' /mnt/idm ' /proc/self/mountinfo")
    m = {"destination": "/mnt/idm", "type": "bind", "source": str(d), "options": ["bind", "idmap"]}
    if own_mappings:
        m["uidMappings"] = [dict(x) for x in MAP]
        m["gidMappings"] = [dict(x) for x in MAP]
    b.config.setdefault("mounts", []).append(m)
    r = rt.run(b, cid)
    if r.returncode != 0 and "idmap" in r.stderr and "Invalid argument" in r.stderr:
        skip_host_limit(f"the filesystem of {d} cannot be idmapped: {r.stderr.strip()}")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "0:0", lines
    assert lines[1] == "root-owned"
    assert lines[2] == "0:0", lines
    assert "idmapped" in lines[3], lines[3]
    # written as container root, stored as host root: the idmapping undoes
    # the user namespace's
    st = os.stat(d / "new")
    assert (st.st_uid, st.st_gid) == (0, 0)
    assert (d / "new").read_text() == "from-container\n"


def test_ridmap_recursive(rt, bundle, cid, testenv):
    """ridmap idmaps every mount of an rbind, a tmpfs below included."""
    idmap_supported()
    d = testenv.mkdir("host", "ridmapped")
    sub = testenv.mkdir("host", "ridmapped", "sub")
    testenv.host_mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", target=sub)
    (sub / "g").write_text("in the tmpfs\n")
    b = userns_bundle(bundle, "sh", "-c", "stat -c %u:%g /mnt/r /mnt/r/sub/g")
    b.config.setdefault("mounts", []).append(
        {"destination": "/mnt/r", "type": "bind", "source": str(d), "options": ["rbind", "ridmap"]})
    r = rt.run(b, cid)
    if r.returncode != 0 and "Invalid argument" in r.stderr:
        skip_host_limit(f"tmpfs or the test directory cannot be idmapped: {r.stderr.strip()}")
    assert r.returncode == 0, r
    assert r.stdout.split() == ["0:0", "0:0"], r


@pytest.mark.berth_only
def test_idmap_without_user_namespace_or_mappings_fails(rt, bundle, cid, testenv):
    d = testenv.mkdir("host", "nomap")
    b = bundle("true")
    b.drop_namespace("user")
    b.mount("/mnt/x", "bind", d, ["bind", "idmap"])
    r = rt.run(b, cid).failed()
    assert "idmap" in r.stderr and "mounts[" in r.stderr, r


def test_userns_kill_delete_state(rt, bundle, cid):
    b = userns_bundle(bundle, "sleep", "1000")
    rt.create(b, cid).ok()
    assert rt.state(cid)["status"] == "created"
    rt.start(cid).ok()
    assert cid in rt.list_ids()
    rt.kill(cid, "KILL").ok()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).ok()
    assert cid not in rt.list_ids()



def test_userns_joins_host_owned_net_uts_namespaces(rt, bundle, cid):
    """A new user namespace that joins network and uts namespaces the
    host's user namespace owns (as an engine's pre-made network namespace):
    the init could not setns into them (EPERM), the runtime joins them
    before the clone and the container lives in exactly those."""
    holder = subprocess.Popen(["unshare", "--net", "--uts", "sh", "-c",
                               "hostname joined-uts; ip link set lo up; exec sleep 60"])
    try:
        deadline = time.monotonic() + 5
        want = {}
        while time.monotonic() < deadline:
            want = {t: os.readlink(f"/proc/{holder.pid}/ns/{t}") for t in ("net", "uts")}
            if want["net"] != os.readlink("/proc/self/ns/net") and \
                    subprocess.run(["nsenter", "-t", str(holder.pid), "-u", "hostname"], capture_output=True,
                                   text=True).stdout.strip() == "joined-uts":
                break
            time.sleep(0.02)
        b = userns_bundle(bundle, "sh", "-c",
                          "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname; "
                          "cat /proc/self/uid_map")
        for t in ("network", "uts"):
            b.set_namespace(t, f"/proc/{holder.pid}/ns/{'net' if t == 'network' else t}")
        b.config.pop("hostname", None)
        lines = run_ok(rt, b, cid).splitlines()
        assert lines[:2] == [want["net"], want["uts"]], (lines, want)
        assert lines[2] == "joined-uts"
        assert lines[3].split() == ["0", str(HOST), str(SIZE)]
    finally:
        holder.kill()
        holder.wait()
