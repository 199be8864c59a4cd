# SPDX-License-Identifier: GPL-2.0-or-later
"""berth's image commands against independent producers and consumers.

Test images are made here: a busybox root file system packed into an OCI
layout by umoci, turned into docker-archive and oci-archive files and pushed
to a registry by skopeo.  The registry is Debian's docker-registry on
127.0.0.1 (a fresh one per module).  Each test gets its own data root
(--root), removed at the end.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import io
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BERTH = os.environ.get("BERTH_CLI") or str(REPO / "build" / "src" / "cli" / "berth")
REGISTRY_BIN = "/usr/bin/docker-registry"
TMP_PREFIX = "/tmp/berth-img-"
# registry address → its storage directory
REGISTRY_DATA = {}


def need(tool):
    if not shutil.which(tool) and not os.path.exists(tool):
        pytest.skip(f"host limit: {tool} is not installed")


def run(argv, ok=True, input=None, timeout=120, env=None):
    p = subprocess.run(argv, capture_output=True, input=input, timeout=timeout, env=env)
    if ok and p.returncode != 0:
        raise AssertionError(f"{argv} failed ({p.returncode}):\n{p.stdout.decode(errors='replace')}\n"
                             f"{p.stderr.decode(errors='replace')}")
    return p


class Berth:
    """The berth CLI on a private data root."""

    def __init__(self, root, env=None):
        self.root = Path(root)
        self.env = dict(os.environ, **(env or {}))

    def __call__(self, *args, ok=True, input=None, timeout=120):
        return run([BERTH, "--root", str(self.root), *map(str, args)], ok=ok, input=input, timeout=timeout,
                   env=self.env)

    def out(self, *args, input=None):
        return self(*args, input=input).stdout.decode()

    def images_json(self):
        return [json.loads(line) for line in self.out("images", "--format", "json").splitlines() if line.strip()]

    def inspect(self, what):
        return json.loads(self.out("image", "inspect", what))[0]

    def blobs(self):
        d = self.root / "blobs" / "sha256"
        return sorted(os.listdir(d)) if d.exists() else []

    def layers(self):
        d = self.root / "layers"
        return sorted(n for n in os.listdir(d) if not n.startswith(".")) if d.exists() else []


def tmpdir(name):
    d = Path(TMP_PREFIX + name + "-" + str(os.getpid()) + "-" + str(time.monotonic_ns()))
    d.mkdir(parents=True)
    return d


def rmtree(path):
    path = Path(path)
    assert str(path).startswith(TMP_PREFIX), path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def berth():
    d = tmpdir("root")
    b = Berth(d / "root")
    yield b
    rmtree(d)


@pytest.fixture(scope="module")
def images():
    """busybox in an OCI layout (umoci), a docker-archive and an oci-archive (skopeo)."""
    for tool in ("umoci", "skopeo", "/bin/busybox"):
        need(tool)
    d = tmpdir("src")
    layout = d / "layout"
    bundle = d / "bundle"
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", f"{layout}:latest"])
    run(["umoci", "unpack", "--image", f"{layout}:latest", bundle])
    rootfs = bundle / "rootfs"
    (rootfs / "bin").mkdir()
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in ("sh", "ls", "cat", "echo"):
        os.symlink("busybox", rootfs / "bin" / applet)
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "motd").write_text("hello from a test image\n")
    run(["umoci", "repack", "--image", f"{layout}:latest", bundle])
    run(["umoci", "config", "--image", f"{layout}:latest", "--config.cmd", "sh",
         "--config.env", "GREETING=hi"])
    docker_tar = d / "busybox-docker.tar"
    oci_tar = d / "busybox-oci.tar"
    run(["skopeo", "copy", f"oci:{layout}:latest", f"docker-archive:{docker_tar}:busybox:latest"])
    run(["skopeo", "copy", f"oci:{layout}:latest", f"oci-archive:{oci_tar}:busybox:latest"])
    raw = json.loads(run(["skopeo", "inspect", "--raw", f"oci:{layout}:latest"]).stdout)
    yield {"dir": d, "layout": layout, "docker": docker_tar, "oci": oci_tar, "manifest": raw}
    rmtree(d)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(name, extra_config="", files=None):
    """docker-registry on a free 127.0.0.1 port: (process, log, dir, addr).
    FILES: name → bytes written into its directory before it starts."""
    need(REGISTRY_BIN)
    d = tmpdir(name)
    for fname, data in (files or {}).items():
        (d / fname).write_bytes(data)
    port = free_port()
    (d / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {d}/data\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + extra_config.replace("@DIR@", str(d)))
    log = open(d / "registry.log", "wb")
    p = subprocess.Popen([REGISTRY_BIN, "serve", str(d / "config.yml")], stdout=log, stderr=log)
    addr = f"127.0.0.1:{port}"
    REGISTRY_DATA[addr] = d / "data"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return p, log, d, addr
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                p.kill()
                p.wait()
                log.close()
                text = (d / "registry.log").read_text()
                rmtree(d)
                pytest.fail("docker-registry did not start: " + text)
            time.sleep(0.05)


def stop_registry(p, log, d):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log.close()
    rmtree(d)


@pytest.fixture(scope="module")
def registry():
    """A private docker-registry on 127.0.0.1; yields "127.0.0.1:PORT"."""
    p, log, d, addr = start_registry("registry")
    yield addr
    stop_registry(p, log, d)


def skopeo_push(images, dest):
    run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{images['layout']}:latest", f"docker://{dest}"])


def skopeo_digest(ref):
    p = run(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{ref}"])
    import hashlib
    return "sha256:" + hashlib.sha256(p.stdout).hexdigest()


# ---------------------------------------------------------------- load / save

def test_load_docker_archive(berth, images):
    out = berth.out("load", "-i", images["docker"])
    assert "Loaded image: docker.io/library/busybox:latest" in out or "Loaded image: busybox:latest" in out, out
    rows = berth.images_json()
    assert [(r["Repository"], r["Tag"]) for r in rows] == [("busybox", "latest")], rows
    info = berth.inspect("busybox")
    assert info["RepoTags"] == ["busybox:latest"]
    assert info["Config"]["Cmd"] == ["sh"]
    assert "GREETING=hi" in info["Config"]["Env"]
    # the layer is unpacked once, by chain id, with the file content intact
    (layer,) = berth.layers()
    assert (berth.root / "layers" / layer / "etc" / "motd").read_text() == "hello from a test image\n"
    assert os.path.islink(berth.root / "layers" / layer / "bin" / "sh")


def test_load_oci_archive_keeps_digests(berth, images):
    berth("load", "-i", images["oci"])
    info = berth.inspect("busybox:latest")
    assert info["Id"] == images["manifest"]["config"]["digest"]
    assert info["RootFS"]["Layers"][0].startswith("sha256:")


def test_load_from_stdin_and_quiet(berth, images):
    with open(images["oci"], "rb") as f:
        p = berth("load", "-q", input=f.read())
    assert p.stdout == b""
    assert [r["Repository"] for r in berth.images_json()] == ["busybox"]


def test_save_load_round_trip_keeps_every_digest(berth, images, tmp_path):
    berth("load", "-i", images["oci"])
    before = berth.inspect("busybox")
    out = tmp_path / "saved.tar"
    berth("save", "-o", out, "busybox")
    with tarfile.open(out) as t:
        names = t.getnames()
    assert "manifest.json" in names and "index.json" in names and "oci-layout" in names
    other = Berth(tmp_path / "root2")
    other("load", "-i", out)
    after = other.inspect("busybox")
    assert after["Id"] == before["Id"]
    assert after["Manifest"] == before["Manifest"]
    assert after["RootFS"] == before["RootFS"]
    # an independent reader accepts what we wrote, both ways
    raw = json.loads(run(["skopeo", "inspect", "--raw", f"docker-archive:{out}"]).stdout)
    assert raw["config"]["digest"] == before["Id"]
    run(["skopeo", "inspect", f"oci-archive:{out}"])


def test_save_needs_an_image(berth):
    p = berth("save", ok=False)
    assert p.returncode != 0 and b"missing image" in p.stderr


def test_load_truncated_archive_changes_nothing(berth, images, tmp_path):
    berth("load", "-i", images["oci"])
    blobs, layers = berth.blobs(), berth.layers()
    data = Path(images["docker"]).read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    p = berth("load", "-i", cut, ok=False)
    assert p.returncode != 0
    assert p.stderr.startswith(b"berth: ") and p.stderr.count(b"\n") == 1, p.stderr
    assert berth.blobs() == blobs and berth.layers() == layers
    assert len(berth.images_json()) == 1


def test_load_garbage_is_refused(berth, tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not an archive\n" * 100)
    p = berth("load", "-i", junk, ok=False)
    assert p.returncode != 0 and b"archive" in p.stderr
    assert berth.images_json() == []


# ---------------------------------------------------------------- names

def test_tag_and_rmi(berth, images):
    berth("load", "-i", images["oci"])
    berth("tag", "busybox", "localhost/mine:v1")
    rows = {(r["Repository"], r["Tag"]) for r in berth.images_json()}
    assert rows == {("busybox", "latest"), ("localhost/mine", "v1")}
    # a name of an image with two names: only untagged
    out = berth.out("rmi", "busybox")
    assert out.strip() == "Untagged: busybox:latest"
    assert len(berth.layers()) == 1
    # by id while it still has a name: the last name goes, and the image
    img_id = berth.inspect("localhost/mine:v1")["Id"]
    berth("tag", img_id, "localhost/mine:v2")
    p = berth("rmi", img_id[7:19], ok=False)
    assert p.returncode != 0 and b"multiple repositories" in p.stderr
    out = berth.out("rmi", "-f", img_id[7:19])
    assert f"Deleted: {img_id}" in out
    assert berth.images_json() == [] and berth.layers() == [] and berth.blobs() == []


def test_rmi_unknown_image(berth):
    p = berth("rmi", "nosuchimage", ok=False)
    assert p.returncode == 1 and p.stderr == b"berth: no such image: nosuchimage\n"


def test_images_quiet_and_digests(berth, images, registry):
    skopeo_push(images, f"{registry}/q/busybox:1")
    berth("pull", "-q", f"{registry}/q/busybox:1")
    img_id = berth.inspect(f"{registry}/q/busybox:1")["Id"]
    assert berth.out("images", "-q").split() == [img_id[7:19]]
    digest = skopeo_digest(f"{registry}/q/busybox:1")
    assert digest in berth.out("images", "--digests")


def test_history(berth, images):
    berth("load", "-i", images["oci"])
    out = berth.out("history", "busybox").splitlines()
    assert out[0].split()[:2] == ["IMAGE", "CREATED"]
    assert len(out) >= 2


# ---------------------------------------------------------------- import

def test_import_directory_with_changes(berth, tmp_path):
    src = tmp_path / "rootfs"
    (src / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", src / "bin" / "busybox")
    (src / "hello.txt").write_text("hi\n")
    os.chmod(src / "hello.txt", 0o640)
    img_id = berth.out("import", "-c", 'CMD ["/bin/busybox", "true"]', "-c", "ENV A=b", "-c", "WORKDIR /w",
                       src, "localhost/imported:1").strip()
    info = berth.inspect("localhost/imported:1")
    assert info["Id"] == img_id
    assert info["Config"]["Cmd"] == ["/bin/busybox", "true"]
    assert info["Config"]["Env"] == ["A=b"] and info["Config"]["WorkingDir"] == "/w"
    (layer,) = berth.layers()
    f = berth.root / "layers" / layer / "hello.txt"
    assert f.read_text() == "hi\n" and (f.stat().st_mode & 0o777) == 0o640


def test_import_tar_and_bad_change(berth, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        data = b"content\n"
        ti = tarfile.TarInfo("etc/file")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    tgz = tmp_path / "fs.tgz"
    tgz.write_bytes(buf.getvalue())
    p = berth("import", "-c", "FROBNICATE x", tgz, "localhost/x", ok=False)
    assert p.returncode != 0 and b"unknown instruction FROBNICATE" in p.stderr
    assert berth.blobs() == [] and berth.images_json() == []
    berth("import", tgz, "localhost/x")
    (layer,) = berth.layers()
    assert (berth.root / "layers" / layer / "etc" / "file").read_bytes() == b"content\n"


def test_import_hostile_tar_is_refused(berth, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        ti = tarfile.TarInfo("../../escape")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    bad = tmp_path / "bad.tar"
    bad.write_bytes(buf.getvalue())
    p = berth("import", bad, "localhost/bad", ok=False)
    assert p.returncode != 0 and b"escape" in p.stderr, p.stderr
    assert berth.images_json() == [] and berth.layers() == []
    assert not (berth.root / "escape").exists() and not (berth.root.parent / "escape").exists()


# ---------------------------------------------------------------- registry

def test_pull_what_skopeo_pushed(berth, images, registry):
    ref = f"{registry}/library/busybox:latest"
    skopeo_push(images, ref)
    out = berth.out("pull", ref)
    assert "Status: downloaded" in out
    info = berth.inspect(ref)
    digest = skopeo_digest(ref)
    assert info["RepoDigests"] == [f"{registry}/library/busybox@{digest}"]
    assert info["Manifest"] == digest
    assert info["Id"] == images["manifest"]["config"]["digest"]
    berth("doctor", "--verify")


def test_pull_short_name_through_registry_list(images, registry, tmp_path):
    skopeo_push(images, f"{registry}/tools/busybox:1.0")
    b = Berth(tmp_path / "root", env={"BERTH_REGISTRIES": f"localhost:1,{registry}"})
    # the first registry is unreachable: that is an error, not a miss
    p = b("pull", "tools/busybox:1.0", ok=False)
    assert p.returncode != 0 and b"localhost:1" in p.stderr
    b = Berth(tmp_path / "root", env={"BERTH_REGISTRIES": registry})
    b("pull", "tools/busybox:1.0")
    assert b.inspect(f"{registry}/tools/busybox:1.0")["Id"] == images["manifest"]["config"]["digest"]


def test_push_then_skopeo_pulls(berth, images, registry, tmp_path):
    berth("load", "-i", images["oci"])
    dest = f"{registry}/pushed/busybox:v1"
    berth("tag", "busybox", dest)
    out = berth.out("push", dest)
    digest = skopeo_digest(dest)
    assert digest in out
    assert digest == berth.inspect("busybox")["Manifest"]
    copy = tmp_path / "copy"
    run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{dest}", f"oci:{copy}:x"])
    # a second push sends no blob again
    out = berth.out("push", dest)
    assert "Pushing" not in out


def test_save_load_push_pull_keeps_digests(berth, images, registry, tmp_path):
    ref = f"{registry}/chain/busybox:1"
    skopeo_push(images, ref)
    berth("pull", ref)
    first = berth.inspect(ref)
    berth("save", "-o", tmp_path / "s.tar", ref)
    other = Berth(tmp_path / "r2")
    other("load", "-i", tmp_path / "s.tar")
    dest = f"{registry}/chain/again:2"
    other("tag", ref, dest)
    other("push", dest)
    third = Berth(tmp_path / "r3")
    third("pull", dest)
    last = third.inspect(dest)
    assert last["Id"] == first["Id"] and last["Manifest"] == first["Manifest"]
    assert last["RootFS"] == first["RootFS"]


def test_pull_unknown_image_and_unreachable_registry(berth, registry):
    p = berth("pull", f"{registry}/nope/nothing:1", ok=False)
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1
    assert b"manifest unknown" in p.stderr or b"not found" in p.stderr.lower(), p.stderr
    p = berth("pull", "127.0.0.1:1/x:1", ok=False)
    assert p.returncode == 1 and b"127.0.0.1:1" in p.stderr
    assert berth.images_json() == []


def test_kill_during_pull_then_pull_again(berth, images, registry):
    ref = f"{registry}/killed/busybox:1"
    skopeo_push(images, ref)
    for delay in (0.0, 0.02, 0.05, 0.1):
        p = subprocess.Popen([BERTH, "--root", str(berth.root), "pull", "-q", ref], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        # whatever it got to, nothing half-made is visible
        for row in berth.images_json():
            assert row["Repository"].endswith("killed/busybox")
            berth("doctor", "--verify")
    berth("pull", ref)
    berth("doctor", "--verify")
    assert berth.inspect(ref)["Id"] == images["manifest"]["config"]["digest"]


def test_two_pulls_at_once_and_prune(berth, images, registry):
    ref = f"{registry}/both/busybox:1"
    skopeo_push(images, ref)
    procs = [subprocess.Popen([BERTH, "--root", str(berth.root), "pull", "-q", ref], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    prune = subprocess.Popen([BERTH, "--root", str(berth.root), "image", "prune", "-f"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    for p in procs + [prune]:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    berth("doctor", "--verify")
    assert len(berth.images_json()) == 1
    assert len(berth.layers()) == 1


def test_doctor_finds_a_corrupt_blob(berth, images):
    berth("load", "-i", images["oci"])
    berth("doctor", "--verify")
    info = berth.inspect("busybox")
    cfg = berth.root / "blobs" / "sha256" / info["Id"][7:]
    os.chmod(cfg, 0o644)
    cfg.write_bytes(cfg.read_bytes() + b" ")
    p = berth("doctor", "--verify", ok=False)
    assert p.returncode == 1 and info["Id"].encode() in p.stdout


def test_prune_all(berth, images):
    berth("load", "-i", images["oci"])
    out = berth.out("image", "prune", "-a", "-f")
    assert "deleted: sha256:" in out and "Total reclaimed space" in out
    assert berth.images_json() == [] and berth.layers() == [] and berth.blobs() == []


# ---------------------------------------------------------------- auth

@pytest.fixture(scope="module")
def auth_registry():
    """A docker-registry with htpasswd (basic) auth: user "tester", password "s3cret"."""
    need("htpasswd")
    pw = run(["htpasswd", "-Bbn", "tester", "s3cret"]).stdout
    p, log, d, addr = start_registry("authreg", "auth:\n  htpasswd:\n    realm: berth-test\n    path: @DIR@/htpasswd\n",
                                     files={"htpasswd": pw})
    yield addr
    stop_registry(p, log, d)


def refused(stderr):
    return b"unauthorized" in stderr.lower() or b"authentication required" in stderr.lower()


def test_login_push_pull_logout(images, auth_registry, tmp_path):
    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": {}, "unrelated": {"keep": true}}')
    b = Berth(tmp_path / "root", env={"BERTH_AUTH_FILE": str(auth)})
    b("load", "-i", images["oci"])
    ref = f"{auth_registry}/private/busybox:1"
    b("tag", "busybox", ref)
    # no credentials: refused, with the registry's word for it
    p = b("push", ref, ok=False)
    assert p.returncode == 1 and refused(p.stderr), p.stderr
    p = b("login", "-u", "tester", "--password-stdin", auth_registry, input=b"wrong\n", ok=False)
    assert p.returncode == 1 and refused(p.stderr), p.stderr
    assert "tester" not in auth.read_text()
    out = b.out("login", "-u", "tester", "--password-stdin", auth_registry, input=b"s3cret\n")
    assert "Login Succeeded" in out
    saved = json.loads(auth.read_text())
    assert saved["unrelated"] == {"keep": True} and auth_registry in saved["auths"]
    assert (auth.stat().st_mode & 0o777) == 0o600
    b("push", ref)
    other = Berth(tmp_path / "root2", env={"BERTH_AUTH_FILE": str(auth)})
    other("pull", ref)
    assert other.inspect(ref)["Id"] == b.inspect(ref)["Id"]
    b("logout", auth_registry)
    assert auth_registry not in json.loads(auth.read_text())["auths"]
    third = Berth(tmp_path / "root3", env={"BERTH_AUTH_FILE": str(auth)})
    p = third("pull", ref, ok=False)
    assert p.returncode == 1 and refused(p.stderr), p.stderr
    assert third.images_json() == []


# ---------------------------------------------------------------- robustness

def test_pull_refuses_a_corrupt_blob(berth, images, registry):
    ref = f"{registry}/corrupt/busybox:1"
    skopeo_push(images, ref)
    layer = images["manifest"]["layers"][0]["digest"]
    # corrupt the registry's copy of the layer
    blob = (REGISTRY_DATA[registry] / "docker" / "registry" / "v2" / "blobs" / "sha256" / layer[7:9] / layer[7:]
            / "data")
    assert blob.exists(), blob
    original = blob.read_bytes()
    try:
        blob.write_bytes(original[:-10] + b"0123456789")
        p = berth("pull", ref, ok=False)
        assert p.returncode == 1 and b"digest" in p.stderr.lower(), p.stderr
        assert berth.images_json() == [] and layer[7:] not in berth.blobs()
    finally:
        blob.write_bytes(original)


def test_rmi_refused_while_a_container_uses_the_image(berth, images):
    need("sqlite3")
    berth("load", "-i", images["oci"])
    img_id = berth.inspect("busybox")["Id"]
    # what the engine records for a container made from the image
    run(["sqlite3", berth.root / "berth.db",
         f"INSERT INTO image_users VALUES ('c0ffee', '{img_id}')"])
    p = berth("rmi", "busybox", ok=False)
    assert p.returncode == 1 and b"used by container c0ffee" in p.stderr, p.stderr
    assert len(berth.layers()) == 1
    # forced: the name goes, the image stays for its container
    berth("rmi", "-f", "busybox")
    assert [r["Repository"] for r in berth.images_json()] == ["<none>"]
    assert len(berth.layers()) == 1
    berth("doctor", "--verify")


@pytest.mark.parametrize("cmd", ["load", "rmi", "import"])
def test_kill_at_any_point_leaves_a_sound_store(berth, images, tmp_path, cmd):
    src = tmp_path / "rootfs"
    (src / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", src / "bin" / "busybox")
    for i, delay in enumerate((0.0, 0.005, 0.01, 0.02, 0.05, 0.1)):
        if cmd == "rmi":
            berth("load", "-i", images["oci"])
            argv = ["rmi", "busybox"]
        elif cmd == "load":
            argv = ["load", "-i", str(images["docker"])]
        else:
            argv = ["import", str(src), f"localhost/imp:{i}"]
        p = subprocess.Popen([BERTH, "--root", str(berth.root), *argv], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        # every image listed is whole; the next command works
        berth("doctor", "--verify")
    berth("image", "prune", "-a", "-f")
    berth("doctor", "--verify")
    assert berth.images_json() == [] and berth.layers() == [] and berth.blobs() == []


# ---------------------------------------------------------------- formats

def put_manifest(registry, repo, ref, media_type, body):
    import urllib.request
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{ref}", data=body, method="PUT",
                                 headers={"Content-Type": media_type})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status in (200, 201), r.status


def test_pull_multi_platform_index(berth, images, registry, tmp_path):
    """An OCI index with amd64 and arm64 entries: the host's by default, the other with --platform."""
    import hashlib
    layout = tmp_path / "layout"
    shutil.copytree(images["layout"], layout)
    run(["umoci", "config", "--image", f"{layout}:latest", "--tag", "arm", "--architecture", "arm64",
         "--config.env", "ARCH=arm64"])
    entries = []
    for tag, arch in (("latest", "amd64"), ("arm", "arm64")):
        ref = f"{registry}/multi/busybox:{tag}"
        run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:{tag}", f"docker://{ref}"])
        raw = run(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{ref}"]).stdout
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw),
                        "platform": {"os": "linux", "architecture": arch}})
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": entries}).encode()
    put_manifest(registry, "multi/busybox", "both", "application/vnd.oci.image.index.v1+json", index)
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()
    berth("pull", f"{registry}/multi/busybox:both")
    info = berth.inspect(f"{registry}/multi/busybox:both")
    assert info["Architecture"] == "amd64" and info["Manifest"] == entries[0]["digest"]
    # the repo digest is the index's: what the tag points to
    assert info["RepoDigests"] == [f"{registry}/multi/busybox@{index_digest}"]
    other = Berth(tmp_path / "r2")
    other("pull", "--platform", "linux/arm64", f"{registry}/multi/busybox:both")
    arm = other.inspect(f"{registry}/multi/busybox:both")
    assert arm["Architecture"] == "arm64" and "ARCH=arm64" in arm["Config"]["Env"]
    p = other("pull", "--platform", "linux/s390x", f"{registry}/multi/busybox:both", ok=False)
    assert p.returncode == 1 and b"linux/s390x" in p.stderr


def zstd_layout(images, dest):
    """The test image as an OCI layout whose layer is tar+zstd (made with the zstd tool)."""
    import gzip
    import hashlib
    need("zstd")
    src = Path(images["layout"])
    shutil.copytree(src, dest)
    index = json.loads((dest / "index.json").read_text())
    mdesc = index["manifests"][0]
    manifest = json.loads((dest / "blobs" / "sha256" / mdesc["digest"][7:]).read_bytes())
    layer = manifest["layers"][0]
    tar = gzip.decompress((dest / "blobs" / "sha256" / layer["digest"][7:]).read_bytes())
    zst = run(["zstd", "-q", "-c", "-"], input=tar).stdout
    zdig = hashlib.sha256(zst).hexdigest()
    (dest / "blobs" / "sha256" / zdig).write_bytes(zst)
    manifest["layers"][0] = dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+zstd",
                                 digest="sha256:" + zdig, size=len(zst))
    mbytes = json.dumps(manifest).encode()
    mdig = hashlib.sha256(mbytes).hexdigest()
    (dest / "blobs" / "sha256" / mdig).write_bytes(mbytes)
    index["manifests"] = [dict(mdesc, digest="sha256:" + mdig, size=len(mbytes))]
    (dest / "index.json").write_text(json.dumps(index))
    return dest


@pytest.mark.parametrize("fmt", ["v2s2", "zstd"])
def test_pull_docker_schema2_and_zstd(berth, images, registry, fmt, tmp_path):
    ref = f"{registry}/fmt/{fmt}:1"
    if fmt == "v2s2":
        run(["skopeo", "copy", "--dest-tls-verify=false", "--format", "v2s2", f"oci:{images['layout']}:latest",
             f"docker://{ref}"])
    else:
        layout = zstd_layout(images, tmp_path / "zstd")
        run(["skopeo", "copy", "--dest-tls-verify=false", "--preserve-digests", f"oci:{layout}:latest",
             f"docker://{ref}"])
    raw = json.loads(run(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{ref}"]).stdout)
    want = "docker.distribution.manifest.v2" if fmt == "v2s2" else "tar+zstd"
    assert want in json.dumps(raw)
    berth("pull", ref)
    info = berth.inspect(ref)
    assert info["Config"]["Cmd"] == ["sh"]
    (layer,) = berth.layers()
    assert (berth.root / "layers" / layer / "etc" / "motd").exists()


def test_pull_by_digest(berth, images, registry):
    ref = f"{registry}/bydigest/busybox:1"
    skopeo_push(images, ref)
    digest = skopeo_digest(ref)
    berth("pull", f"{registry}/bydigest/busybox@{digest}")
    info = berth.inspect(f"{registry}/bydigest/busybox@{digest}")
    assert info["Manifest"] == digest and info["RepoTags"] == []
    p = berth("pull", f"{registry}/bydigest/busybox@sha256:" + "0" * 64, ok=False)
    assert p.returncode == 1


def test_save_several_images_and_unsupported_media_type(berth, images, tmp_path):
    berth("load", "-i", images["oci"])
    src = tmp_path / "fs"
    src.mkdir()
    (src / "f").write_text("x")
    berth("import", "-c", 'ENTRYPOINT ["/bin/sh", "-c"]', src, "localhost/second:1")
    assert berth.inspect("localhost/second:1")["Config"]["Entrypoint"] == ["/bin/sh", "-c"]
    out = tmp_path / "two.tar"
    berth("save", "-o", out, "busybox", "localhost/second:1")
    other = Berth(tmp_path / "r2")
    loaded = other.out("load", "-i", out)
    assert "busybox:latest" in loaded and "localhost/second:1" in loaded
    assert {r["Repository"] for r in other.images_json()} == {"busybox", "localhost/second"}
    # an OCI layout whose layer has a media type berth does not know
    with tarfile.open(out) as t:
        members = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    index = json.loads(members["index.json"])
    mdesc = index["manifests"][0]
    manifest = json.loads(members["blobs/sha256/" + mdesc["digest"][7:]])
    manifest["layers"][0]["mediaType"] = "application/vnd.example.unknown"
    import hashlib
    mbytes = json.dumps(manifest).encode()
    mdig = hashlib.sha256(mbytes).hexdigest()
    index["manifests"] = [dict(mdesc, digest="sha256:" + mdig, size=len(mbytes))]
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as t:
        for name, data in list(members.items()) + [("blobs/sha256/" + mdig, mbytes),
                                                  ("index.json", json.dumps(index).encode())]:
            if name in ("index.json", "manifest.json") and data is members.get(name):
                continue
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    third = Berth(tmp_path / "r3")
    p = third("load", "-i", bad, ok=False)
    assert p.returncode == 1 and b"application/vnd.example.unknown" in p.stderr, p.stderr
    assert third.images_json() == [] and third.blobs() == []


def test_many_commands_open_a_new_store_at_once(berth):
    procs = [subprocess.Popen([BERTH, "--root", str(berth.root), "images", "-q"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(12)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert berth.images_json() == []


def test_version_and_info(berth, images):
    out = berth.out("version")
    assert out.startswith("Version:") and "linux/" in out
    v = json.loads(berth.out("version", "--format", "json"))
    assert v["Os"] == "linux" and v["Version"]
    info = json.loads(berth.out("info", "--format", "json"))
    assert info["Images"] == 0 and info["DataRoot"] == str(berth.root)
    berth("load", "-i", images["oci"])
    info = json.loads(berth.out("info", "--format", "json"))
    assert info["Images"] == 1 and info["NCPU"] == os.cpu_count()
    assert info["CgroupVersion"][0] in "12" and info["StorageDriver"] == "overlay"
    assert "Images           1" in berth.out("info")
    p = berth("info", "--bogus", ok=False)
    assert p.returncode == 1 and p.stderr.startswith(b"berth: info:")
