# SPDX-License-Identifier: GPL-2.0-or-later
"""`berth image mount` / `berth image unmount`: an image's layers as one
read-only file system (overlayfs; a bind for a one-layer image).

The images are made here with umoci (three layers: the second removes a
file of the first and replaces a directory's contents, the third adds a
setuid program), rewritten so that the replaced directory is an opaque one
(umoci writes one whiteout per removed file instead), turned into
oci-archives by skopeo and read in with `berth load`.  Each test has its
own data root under /tmp/berth-img-mount-*; every mount below it is
undone at teardown, even when the test failed, before anything is removed.
"""

import errno
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from conftest import mountpoints_under

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_CLI") or str(REPO / "build" / "src" / "cli" / "berth")
TMP_PREFIX = "/tmp/berth-img-mount-"
# what the test images hold, by layer
LAYER1 = {"bin/busybox", "etc/gone", "etc/conf.d/a", "etc/conf.d/b", "data/base"}
LAYER2_NEW = {"data/two", "etc/conf.d/new"}
LAYER3_NEW = {"bin/su", "data/three"}


def need(tool):
    if not shutil.which(tool) and not os.path.exists(tool):
        pytest.skip(f"host limit: {tool} is not installed")


def run(argv, ok=True, env=None, timeout=120):
    p = subprocess.run([str(a) for a in argv], capture_output=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    if ok and p.returncode != 0:
        raise AssertionError(f"{argv} failed ({p.returncode}):\n{p.stdout.decode(errors='replace')}\n"
                             f"{p.stderr.decode(errors='replace')}")
    return p


def tmpdir(name):
    d = Path(f"{TMP_PREFIX}{name}-{os.getpid()}-{time.monotonic_ns()}")
    d.mkdir(parents=True)
    return d


def mount_line(path):
    """mountinfo fields of the mount at PATH: (options, fstype, source, super options), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(path):
                rest = fields[fields.index("-") + 1:]
                return fields[5], rest[0], rest[1], rest[2]
    return None


def release(d):
    """Unmount everything below D, then remove D (never across a mount)."""
    assert str(d).startswith(TMP_PREFIX), d
    for mp in mountpoints_under(d):
        if run(["umount", mp], ok=False).returncode != 0:
            run(["umount", "-l", mp], ok=False)
    left = mountpoints_under(d)
    assert not left, f"could not unmount {left}: leaving {d}"
    shutil.rmtree(d, ignore_errors=True)


def one_error_line(p, *words):
    assert p.returncode == 1, p
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("berth: "), lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ------------------------------------------------------------- the images

def blob(layout, digest):
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def opaque_tar(data, dirname):
    """The layer tar DATA with DIRNAME's whiteouts replaced by one opaque marker."""
    out = io.BytesIO()
    made = False
    with tarfile.open(fileobj=io.BytesIO(data)) as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for m in src.getmembers():
            name = (m.name[2:] if m.name.startswith("./") else m.name).rstrip("/")
            parent, base = os.path.split(name)
            if parent == dirname and base.startswith(".wh."):
                # umoci writes no entry for the directory itself
                if not made:
                    opq = tarfile.TarInfo(dirname + "/.wh..wh..opq")
                    opq.mtime = m.mtime
                    dst.addfile(opq, io.BytesIO(b""))
                    made = True
                continue
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
    assert made, f"layer has no whiteouts in {dirname}"
    return out.getvalue()


def make_opaque(layout, tag, i, dirname):
    """Rewrite layer I of LAYOUT:TAG so that DIRNAME is an opaque directory."""
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"]
                 if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    manifest = json.loads(blob(layout, entry["digest"]))
    config = json.loads(blob(layout, manifest["config"]["digest"]))
    layer = manifest["layers"][i]
    assert layer["mediaType"].endswith("tar+gzip"), layer
    raw = opaque_tar(gzip.decompress(blob(layout, layer["digest"])), dirname)
    config["rootfs"]["diff_ids"][i] = "sha256:" + hashlib.sha256(raw).hexdigest()
    layer.update(put_blob(layout, gzip.compress(raw, mtime=0)))
    manifest["config"].update(put_blob(layout, json.dumps(config).encode()))
    entry.update(put_blob(layout, json.dumps(manifest).encode()))
    (layout / "index.json").write_text(json.dumps(index))


def repack(layout, tag, bundle):
    run(["umoci", "repack", "--refresh-bundle", "--image", f"{layout}:{tag}", bundle])


@pytest.fixture(scope="module")
def archives():
    """oci-archives: mnt-one (1 layer), mnt-three (3), mnt-four (4)."""
    for tool in ("umoci", "skopeo", "/bin/busybox"):
        need(tool)
    if os.geteuid() != 0:
        pytest.skip("host limit: mounting images needs root")
    d = tmpdir("src")
    try:
        layout, bundle = d / "layout", d / "bundle"
        rootfs = bundle / "rootfs"
        run(["umoci", "init", "--layout", layout])
        run(["umoci", "new", "--image", f"{layout}:three"])
        run(["umoci", "unpack", "--image", f"{layout}:three", bundle])
        for sub in ("bin", "etc/conf.d", "data"):
            (rootfs / sub).mkdir(parents=True)
        shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
        for name in ("etc/gone", "etc/conf.d/a", "etc/conf.d/b", "data/base"):
            (rootfs / name).write_text(name + "\n")
        repack(layout, "three", bundle)
        run(["umoci", "tag", "--image", f"{layout}:three", "one"])
        # layer 2: a file removed, a directory's contents replaced
        (rootfs / "etc" / "gone").unlink()
        shutil.rmtree(rootfs / "etc" / "conf.d")
        (rootfs / "etc" / "conf.d").mkdir()
        for name in LAYER2_NEW:
            (rootfs / name).write_text(name + "\n")
        repack(layout, "three", bundle)
        # layer 3: a setuid program
        shutil.copy("/bin/busybox", rootfs / "bin" / "su")
        os.chmod(rootfs / "bin" / "su", 0o4755)
        (rootfs / "data" / "three").write_text("data/three\n")
        repack(layout, "three", bundle)
        (rootfs / "data" / "four").write_text("data/four\n")
        repack(layout, "four", bundle)
        make_opaque(layout, "three", 1, "etc/conf.d")
        out = {}
        for tag in ("one", "three", "four"):
            out[tag] = d / f"{tag}.tar"
            run(["skopeo", "copy", f"oci:{layout}:{tag}", f"oci-archive:{out[tag]}:mnt-{tag}:latest"])
        yield out
    finally:
        release(d)


class Berth:
    """The berth CLI on a private data root."""

    def __init__(self, root):
        self.root = Path(root)

    def __call__(self, *args, ok=True, env=None):
        return run([BERTH, "--root", self.root, *args], ok=ok, env=dict(os.environ, **(env or {})))

    def out(self, *args, env=None):
        return self(*args, env=env).stdout.decode()

    def mounts_dir(self):
        d = self.root / "mounts"
        return sorted(os.listdir(d)) if d.exists() else []


@pytest.fixture
def workdir():
    d = tmpdir("t")
    yield d
    release(d)


@pytest.fixture
def berth(workdir, archives):
    b = Berth(workdir / "root")
    for tag, path in archives.items():
        assert f"mnt-{tag}:latest" in b.out("load", "-i", path)
    return b


def mount(berth, *args, env=None):
    out = berth.out("image", "mount", *args, env=env).strip().splitlines()
    assert len(out) == 1, out
    mp = Path(out[0])
    assert mount_line(mp), f"{mp} is not a mount point"
    return mp


def files(mp):
    """Every non-directory below MP, relative."""
    found = set()
    for top, dirs, names in os.walk(mp):
        for n in names:
            found.add(os.path.relpath(os.path.join(top, n), mp))
    return found


def assert_read_only(mp):
    for path, flags in ((mp / "new-file", os.O_WRONLY | os.O_CREAT), (mp / "data" / "base", os.O_WRONLY)):
        with pytest.raises(OSError) as e:
            os.close(os.open(path, flags, 0o644))
        assert e.value.errno == errno.EROFS, e.value
    with pytest.raises(OSError) as e:
        os.mkdir(mp / "new-dir")
    assert e.value.errno == errno.EROFS


def assert_three_layers(mp):
    assert files(mp) == (LAYER1 | LAYER2_NEW | LAYER3_NEW) - {"etc/gone", "etc/conf.d/a", "etc/conf.d/b"}
    assert not os.path.lexists(mp / "etc" / "gone")
    assert sorted(os.listdir(mp / "etc" / "conf.d")) == ["new"]
    assert (mp / "etc" / "conf.d" / "new").read_text() == "etc/conf.d/new\n"
    assert (mp / "data" / "base").read_text() == "data/base\n"
    st = os.stat(mp / "bin" / "su")
    assert st.st_mode & stat.S_ISUID and stat.S_ISREG(st.st_mode), oct(st.st_mode)
    assert os.stat(mp / "bin" / "busybox").st_size == os.stat("/bin/busybox").st_size


# ------------------------------------------------------------------ tests

def layer_dirs(berth, image):
    """IMAGE's layer directories in the store, bottom first (by chain id)."""
    diff_ids = json.loads(berth.out("image", "inspect", image))[0]["RootFS"]["Layers"]
    chain, dirs = None, []
    for diff_id in diff_ids:
        chain = diff_id if chain is None else "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
        dirs.append(berth.root / "layers" / chain.split(":", 1)[1])
    return dirs


def test_fixture_has_whiteouts(berth):
    """The second layer really holds a whiteout and an opaque directory."""
    first, second, third = layer_dirs(berth, "mnt-three")
    assert (first / "etc" / "gone").is_file()
    st = os.lstat(second / "etc" / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0, st
    assert _getxattr(second / "etc" / "conf.d", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(second / "etc" / "conf.d")) == ["new"]
    assert (third / "bin" / "su").is_file()


def _getxattr(path, name):
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def test_mount_three_layers(berth):
    mp = mount(berth, "mnt-three")
    image_id = json.loads(berth.out("image", "inspect", "mnt-three"))[0]["Id"]
    assert mp == (berth.root / "mounts").resolve() / image_id.split(":", 1)[1][:12], mp
    assert_three_layers(mp)
    assert_read_only(mp)
    opts, fstype, source, _ = mount_line(mp)
    assert fstype == "overlay" and source == "berth", mount_line(mp)
    assert "ro" in opts.split(",") and "nodev" in opts.split(",") and "nosuid" not in opts.split(","), opts
    berth("image", "unmount", "mnt-three")
    assert mount_line(mp) is None and not mountpoints_under(berth.root)
    assert not mp.exists()
    assert berth.mounts_dir() == []


def test_mount_one_layer_at_dir(berth, workdir):
    target = workdir / "here"
    mp = mount(berth, "mnt-one", target)
    assert mp == target
    assert files(mp) == LAYER1
    assert (mp / "etc" / "gone").read_text() == "etc/gone\n"
    assert_read_only(mp)
    opts = mount_line(mp)[0].split(",")
    assert "ro" in opts and "nodev" in opts and "nosuid" not in opts, opts
    berth("image", "umount", target)
    assert mount_line(target) is None and not mountpoints_under(workdir)
    # a directory the user named stays
    assert target.is_dir() and os.listdir(target) == []


def test_mount_twice(berth):
    mp = mount(berth, "mnt-three")
    assert mount(berth, "mnt-three") == mp
    assert len(mountpoints_under(berth.root)) == 1
    berth("image", "unmount", mp)
    assert not mountpoints_under(berth.root) and not mp.exists()


def test_mount_without_lowerdir_plus(berth):
    """Kernels before 6.8: one lowerdir string (relative names when the paths are too long)."""
    env = {"BERTH_SNAPSHOT_NO_LOWERDIR_PLUS": "1"}
    mp = mount(berth, "mnt-three", env=env)
    assert "lowerdir=" in mount_line(mp)[3] and "lowerdir+" not in mount_line(mp)[3], mount_line(mp)
    assert_three_layers(mp)
    assert_read_only(mp)
    berth("image", "unmount", "mnt-three")
    assert not mountpoints_under(berth.root)
    # four layer names are more than 255 bytes, the most fsconfig() takes:
    # mount(2) then, in a private mount namespace, its options a page long
    mp = mount(berth, "mnt-four", env=env)
    assert (mp / "data" / "four").read_text() == "data/four\n"
    assert "lowerdir=" in mount_line(mp)[3] and "lowerdir+" not in mount_line(mp)[3], mount_line(mp)
    assert_read_only(mp)
    berth("image", "unmount", mp)
    assert not mountpoints_under(berth.root) and berth.mounts_dir() == []
    mp = mount(berth, "mnt-four")
    assert (mp / "data" / "four").read_text() == "data/four\n"
    berth("image", "unmount", mp)


def test_mount_errors(berth, workdir):
    one_error_line(berth("image", "mount", "no-such-image", ok=False), "no such image")
    one_error_line(berth("image", "mount", "no-such-image", workdir / "new", ok=False), "no such image")
    assert not (workdir / "new").exists()
    a_file = workdir / "file"
    a_file.write_text("x")
    one_error_line(berth("image", "mount", "mnt-three", a_file, ok=False), "not a directory", str(a_file))
    assert a_file.read_text() == "x"
    missing_parent = workdir / "no" / "dir"
    one_error_line(berth("image", "mount", "mnt-three", missing_parent, ok=False), str(missing_parent))
    assert not (workdir / "no").exists()
    one_error_line(berth("image", "mount", ok=False), "IMAGE")
    assert not mountpoints_under(workdir) and berth.mounts_dir() == []


def test_mount_on_mount_point(berth, workdir):
    target = workdir / "mp"
    mount(berth, "mnt-one", target)
    one_error_line(berth("image", "mount", "mnt-three", target, ok=False), "already a mount point")
    assert mountpoints_under(workdir) == [str(target)]
    assert files(target) == LAYER1
    berth("image", "unmount", target)
    assert not mountpoints_under(workdir) and berth.mounts_dir() == []


def test_unmount_errors(berth, workdir):
    one_error_line(berth("image", "unmount", "mnt-three", ok=False), "not mounted")
    one_error_line(berth("image", "unmount", "no-such-image", ok=False), "no such image")
    plain = workdir / "plain"
    plain.mkdir()
    one_error_line(berth("image", "unmount", plain, ok=False), "not a mount point")
    # a mount berth did not make is left alone
    other = workdir / "tmpfs"
    other.mkdir()
    run(["mount", "-t", "tmpfs", "tmpfs", other])
    one_error_line(berth("image", "unmount", other, ok=False), "not an image mount")
    assert mount_line(other) is not None
    run(["umount", other])
    assert plain.is_dir() and other.is_dir()


def test_unmount_busy(berth):
    mp = mount(berth, "mnt-three")
    fd = os.open(mp / "data" / "base", os.O_RDONLY | os.O_CLOEXEC)
    try:
        one_error_line(berth("image", "unmount", "mnt-three", ok=False), "busy")
        assert mount_line(mp) is not None and (mp / "data" / "two").exists()
    finally:
        os.close(fd)
    berth("image", "unmount", "mnt-three")
    assert not mountpoints_under(berth.root) and not mp.exists()


def test_mount_missing_layer(berth):
    """A layer directory gone from the store: the error names it."""
    second = layer_dirs(berth, "mnt-three")[1]
    aside = second.with_name(".aside-" + second.name)
    second.rename(aside)
    try:
        one_error_line(berth("image", "mount", "mnt-three", ok=False), f"layer sha256:{second.name}", "missing")
        assert not mountpoints_under(berth.root) and berth.mounts_dir() == []
    finally:
        aside.rename(second)
    mp = mount(berth, "mnt-three")
    berth("image", "unmount", mp)
    assert not mountpoints_under(berth.root)


def test_mount_through_symlink(berth, workdir):
    """DIR may be a symlink to a directory: mounted and unmounted where it points."""
    real = workdir / "real"
    real.mkdir()
    link = workdir / "link"
    link.symlink_to("real")
    assert mount(berth, "mnt-three", link) == real
    assert link.is_symlink() and (link / "data" / "three").is_file()
    berth("image", "unmount", link)
    assert not mountpoints_under(workdir) and link.is_symlink() and real.is_dir()


def test_mount_long_data_root(workdir, archives):
    """Layer paths longer than an fsconfig() string (255 bytes) still mount."""
    deep = workdir / ("d" * 200)
    deep.mkdir()
    b = Berth(deep / "root")
    b.out("load", "-i", archives["three"])
    assert len(str(layer_dirs(b, "mnt-three")[0])) > 255
    for env in ({}, {"BERTH_SNAPSHOT_NO_LOWERDIR_PLUS": "1"}):
        mp = mount(b, "mnt-three", env=env)
        assert_three_layers(mp)
        b("image", "unmount", "mnt-three")
        assert not mountpoints_under(workdir) and not mp.exists()


def test_rmi_refused_while_mounted(berth):
    """A mounted image keeps its layers: rmi (and gc) wait for the unmount."""
    mp = mount(berth, "mnt-three")
    p = berth("rmi", "mnt-three", ok=False)
    one_error_line(p, "mounted at", str(mp))
    assert_three_layers(mp)
    berth("image", "unmount", mp)
    berth("rmi", "mnt-three")
    assert not mountpoints_under(berth.root)
