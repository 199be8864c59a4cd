# SPDX-License-Identifier: GPL-2.0-or-later
"""config.json `mounts`, `root.readonly`, masked/read-only paths, devices."""

import os
import subprocess

import pytest

from conftest import require_feature


def run_ok(rt, b, cid):
    r = rt.run(b, cid)
    assert r.returncode == 0, r
    return r.stdout


def mount_opts(mountinfo, mountpoint):
    """Per-mount and super-block options of mountpoint (the topmost one)."""
    found = None
    for line in mountinfo.splitlines():
        f = line.split()
        if len(f) > 5 and f[4] == mountpoint:
            sep = f.index("-")
            found = (set(f[5].split(",")), set(f[sep + 3].split(",")), f[sep + 1],
                     set(x.split(":")[0] for x in f[6:sep]))
    assert found, f"{mountpoint} not mounted:\n{mountinfo}"
    return found


def host_dir(testenv, name, files=None, mode=0o755):
    d = testenv.mkdir("host", name, mode=mode)
    for k, v in (files or {}).items():
        (d / k).write_text(v)
    return d


def test_bind_ro_and_rw(rt, bundle, cid, testenv):
    ro = host_dir(testenv, "ro", {"f": "ro-content"})
    rw = host_dir(testenv, "rw", {"f": "rw-content"})
    b = bundle("sh", "-c",
               "cat /mnt/ro/f /mnt/rw/f; echo; "
               "echo x > /mnt/ro/new && echo ro-writable; "
               "echo from-container > /mnt/rw/new && echo rw-written; "
               "cat /proc/self/mountinfo")
    b.mount("/mnt/ro", "bind", ro, ["bind", "ro"])
    b.mount("/mnt/rw", "bind", rw, ["bind", "rw"])
    out = run_ok(rt, b, cid)
    lines = out.splitlines()
    assert lines[0] == "ro-contentrw-content"
    assert "ro-writable" not in lines and "rw-written" in lines
    assert not (ro / "new").exists()
    assert (rw / "new").read_text() == "from-container\n"
    assert "ro" in mount_opts(out, "/mnt/ro")[0]
    assert "rw" in mount_opts(out, "/mnt/rw")[0]


def test_bind_file(rt, bundle, cid, testenv):
    d = host_dir(testenv, "files", {"hosts": "127.0.0.1 berth-test\n"})
    b = bundle("cat", "/etc/hosts")
    b.mount("/etc/hosts", "bind", d / "hosts", ["bind", "ro"])
    assert run_ok(rt, b, cid) == "127.0.0.1 berth-test\n"


def test_bind_creates_missing_destination(rt, bundle, cid, testenv):
    d = host_dir(testenv, "src", {"f": "deep"})
    b = bundle("cat", "/does/not/exist/yet/f")
    b.mount("/does/not/exist/yet", "bind", d, ["bind"])
    assert run_ok(rt, b, cid) == "deep"


def test_mount_flags(rt, bundle, cid, testenv):
    d = host_dir(testenv, "flags")
    b = bundle("cat", "/proc/self/mountinfo")
    b.mount("/mnt/flags", "bind", d, ["bind", "nosuid", "nodev", "noexec", "ro"])
    opts = mount_opts(run_ok(rt, b, cid), "/mnt/flags")[0]
    assert {"ro", "nosuid", "nodev", "noexec"} <= opts, opts


def test_tmpfs_size_and_mode(rt, bundle, cid):
    b = bundle("sh", "-c", "stat -c %a /scratch; cat /proc/self/mountinfo")
    b.mount("/scratch", "tmpfs", "tmpfs", ["nosuid", "size=2m", "mode=1770"])
    out = run_ok(rt, b, cid)
    assert out.splitlines()[0] == "1770"
    per_mount, sb, fstype, _ = mount_opts(out, "/scratch")
    assert fstype == "tmpfs"
    assert "nosuid" in per_mount
    assert "size=2048k" in sb, sb


def test_rbind_vs_bind(rt, bundle, new_id, testenv):
    top = host_dir(testenv, "top", {"top-file": "t"})
    (top / "sub").mkdir()
    testenv.host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=top / "sub")
    (top / "sub" / "inner").write_text("inner")
    script = "ls /mnt/top /mnt/top/sub"
    b1 = bundle("sh", "-c", script)
    b1.mount("/mnt/top", "bind", top, ["rbind"])
    assert "inner" in run_ok(rt, b1, new_id("rbind")).split()
    b2 = bundle("sh", "-c", script)
    b2.mount("/mnt/top", "bind", top, ["bind"])
    out = run_ok(rt, b2, new_id("bind")).split()
    assert "top-file" in out and "inner" not in out, out


@pytest.mark.parametrize("propagation,expect_seen", [("rslave", True), ("rprivate", False)])
def test_mount_propagation(rt, bundle, cid, testenv, propagation, expect_seen):
    shared = host_dir(testenv, "shared")
    testenv.host_mount("--bind", str(shared), target=shared)
    subprocess.run(["mount", "--make-shared", str(shared)], check=True, stdin=subprocess.DEVNULL)
    (shared / "later").mkdir()
    (shared / "later" / "underneath").write_text("x")
    b = bundle("sleep", "1000")
    b.mount("/mnt/shared", "bind", shared, ["rbind", propagation])
    rt.create(b, cid).ok()
    rt.start(cid).ok()
    testenv.host_mount("-t", "tmpfs", "tmpfs", target=shared / "later")
    (shared / "later" / "seen").write_text("x")
    r = rt("exec", cid, "ls", "/mnt/shared/later").ok()
    # either the host's new tmpfs (propagated) or the directory underneath
    want = ["seen"] if expect_seen else ["underneath"]
    assert r.stdout.split() == want, r
    rt.delete(cid, "--force").ok()


def test_tmpcopyup(rt, bundle, cid):
    require_feature(lambda f: "tmpcopyup" in f.get("mountOptions", []),
                    "no tmpcopyup mount option")
    b = bundle("sh", "-c", "cat /etc/passwd | head -1; stat -c %a /etc/secret; "
               "grep ' /etc ' /proc/self/mountinfo")
    b.write("/etc/secret", "s", mode=0o600)
    b.mount("/etc", "tmpfs", "tmpfs", ["tmpcopyup", "mode=755"])
    lines = run_ok(rt, b, cid).splitlines()
    assert lines[0].startswith("root:x:0:0:")
    assert lines[1] == "600"
    assert " - tmpfs " in lines[2]


def test_readonly_root(rt, bundle, cid):
    b = bundle("sh", "-c", "touch /newfile && echo root-writable; "
               "touch /tmp/x && echo tmp-writable; cat /proc/self/mountinfo")
    b.config["root"]["readonly"] = True
    b.mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    out = run_ok(rt, b, cid)
    assert "root-writable" not in out
    assert "tmp-writable" in out
    assert "ro" in mount_opts(out, "/")[0]
    assert not (b.rootfs / "newfile").exists()


def test_writable_root(rt, bundle, cid):
    b = bundle("sh", "-c", "echo data > /newfile")
    run_ok(rt, b, cid)
    assert (b.rootfs / "newfile").read_text() == "data\n"


def test_masked_paths(rt, bundle, cid):
    b = bundle("sh", "-c", "cat /secret-file; echo '|'; ls -A /secret-dir; echo '|'; "
               "echo x > /secret-file; "
               "touch /secret-dir/x && echo dir-writable; "
               "wc -c < /proc/timer_list; echo end")
    b.write("/secret-file", "TOP-SECRET")
    b.write("/secret-dir/inner", "TOP-SECRET")
    b.linux["maskedPaths"] = ["/secret-file", "/secret-dir", "/proc/timer_list",
                              "/does-not-exist"]
    out = run_ok(rt, b, cid)
    assert "TOP-SECRET" not in out and "inner" not in out, out
    assert out.split("|")[0].strip() == ""
    assert "dir-writable" not in out
    assert out.split()[-2:] == ["0", "end"], out
    assert (b.rootfs / "secret-file").read_text() == "TOP-SECRET"
    assert os.listdir(b.rootfs / "secret-dir") == ["inner"]


def test_readonly_paths(rt, bundle, cid):
    b = bundle("sh", "-c", "cat /data/f; echo x > /data/f && echo data-writable; "
               "echo 1 > /proc/sys/kernel/shm_rmid_forced && echo sys-writable; "
               "echo x > /other && echo other-writable")
    b.write("/data/f", "kept\n")
    b.linux["readonlyPaths"] = ["/data", "/proc/sys", "/does-not-exist"]
    out = run_ok(rt, b, cid)
    assert out.splitlines()[0] == "kept"
    assert "data-writable" not in out and "sys-writable" not in out
    assert "other-writable" in out
    assert (b.rootfs / "data" / "f").read_text() == "kept\n"


DEFAULT_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
                   "urandom": (1, 9), "tty": (5, 0)}


def test_default_devices(rt, bundle, cid):
    script = "; ".join(f"stat -c '%n %F %t %T %a' /dev/{d}" for d in DEFAULT_DEVICES)
    script += "; readlink /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr" \
              "| tr '\\n' ' '; echo; echo x > /dev/null && echo null-ok; " \
              "head -c 3 /dev/zero | wc -c; echo x > /dev/full || echo full-enospc"
    script = script.replace("readlink /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr",
                            "for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done")
    lines = run_ok(rt, bundle("sh", "-c", script), cid).splitlines()
    for line, (name, (major, minor)) in zip(lines, DEFAULT_DEVICES.items()):
        f = line.split()
        assert f[0] == f"/dev/{name}", line
        assert " ".join(f[1:4]) == "character special file", line
        assert (int(f[4], 16), int(f[5], 16)) == (major, minor), line
        assert f[6] == "666", line
    links = lines[len(DEFAULT_DEVICES)].split()
    assert links == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1",
                     "/proc/self/fd/2"], links
    assert lines[len(DEFAULT_DEVICES) + 1:] == ["null-ok", "3", "full-enospc"]


def test_linux_devices(rt, bundle, cid):
    b = bundle("sh", "-c", "stat -c '%F %t %T %a %u %g' /dev/berth-null /dev/sub/berth-zero; "
               "echo x > /dev/sub/berth-zero && echo write-ok; head -c 2 /dev/sub/berth-zero | wc -c")
    b.linux["devices"] = [
        {"path": "/dev/berth-null", "type": "c", "major": 1, "minor": 3,
         "fileMode": 0o620, "uid": 1000, "gid": 100},
        {"path": "/dev/sub/berth-zero", "type": "c", "major": 1, "minor": 5,
         "fileMode": 0o666, "uid": 0, "gid": 0},
    ]
    b.linux.setdefault("resources", {}).setdefault("devices", []).extend([
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    ])
    lines = run_ok(rt, b, cid).splitlines()
    assert lines[0].split() == ["character", "special", "file", "1", "3", "620", "1000", "100"]
    assert lines[1].split() == ["character", "special", "file", "1", "5", "666", "0", "0"]
    assert lines[2:] == ["write-ok", "2"]


def test_device_cgroup_denies_unlisted(rt, bundle, cid):
    # mknod works (CAP_MKNOD) but the device cgroup forbids opening it.
    b = bundle("sh", "-c", "mknod /tmp/mem c 1 1 && echo made; "
               "head -c 1 /tmp/mem > /dev/null && echo opened; echo done")
    b.add_caps("CAP_MKNOD")
    out = run_ok(rt, b, cid).split()
    assert out == ["made", "done"], out


def test_default_mounts(rt, bundle, cid):
    out = run_ok(rt, bundle("cat", "/proc/self/mountinfo"), cid)
    assert mount_opts(out, "/proc")[2] == "proc"
    assert mount_opts(out, "/dev")[2] == "tmpfs"
    assert mount_opts(out, "/dev/pts")[2] == "devpts"
    assert mount_opts(out, "/dev/shm")[2] == "tmpfs"
    assert mount_opts(out, "/dev/mqueue")[2] == "mqueue"
    sysfs = mount_opts(out, "/sys")
    assert sysfs[2] == "sysfs" and "ro" in sysfs[0]
    assert "/sys/fs/cgroup" in [line.split()[4] for line in out.splitlines()]


def test_rootfs_is_pivoted(rt, bundle, cid, testenv):
    # The host filesystem must not be reachable, neither by path nor via ..
    b = bundle("sh", "-c", f"test -e {testenv.dir} && echo host-visible; cd /../../..; ls -A")
    out = run_ok(rt, b, cid).split()
    assert "host-visible" not in out
    assert set(out) == set(os.listdir(b.rootfs)), out
