# SPDX-License-Identifier: GPL-2.0-or-later
"""`berth pull` beyond the basics: layers fetched in parallel, progress
output, and the registries configuration (search list, mirrors, blocked
and insecure registries).

The images are made by umoci and pushed by skopeo to Debian's
docker-registry on 127.0.0.1 (fixtures from test_images).  Where a test
must see how berth talks to a registry, a small HTTP proxy written here
sits in front of it: it holds every blob GET for a while, counts how many
are under way at once and can answer 404 for chosen blobs.
"""

import http.client
import subprocess
import json
import os
import re
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# images and registry are fixtures: pytest finds them here
from test_images import (BERTH, Berth, images, need, registry, rmtree, run, skopeo_digest,  # noqa: F401
                         skopeo_push, start_registry, stop_registry, tmpdir)

LAYERS = 5


@pytest.fixture
def work():
    """A private directory: data roots, configuration files."""
    d = tmpdir("pull")
    yield d
    rmtree(d)


def berth_in(work, name="root", conf=None, **env):
    """berth on WORK/NAME with registries configuration CONF (text; None:
    an empty file, so that no /etc/berth/registries.conf gets in)."""
    path = work / f"{name}.conf"
    path.write_text(conf or "")
    env = {"BERTH_REGISTRIES_CONF": str(path), "BERTH_REGISTRY_RETRY_MS": "1", **env}
    return Berth(work / name, env=env)


@pytest.fixture(scope="module")
def multi():
    """An OCI layout with LAYERS layers (umoci: one repack per layer), each
    adding a file of its own, big enough to be seen downloading."""
    for tool in ("umoci", "skopeo", "/bin/busybox"):
        need(tool)
    d = tmpdir("multi")
    try:
        yield make_multi(d)
    finally:
        rmtree(d)


def make_multi(d):
    """The layout in D: busybox first, then a file per layer."""
    layout = d / "layout"
    run(["umoci", "init", "--layout", layout])
    run(["umoci", "new", "--image", f"{layout}:latest"])
    files = []
    for i in range(LAYERS):
        # a fresh bundle each time: repack adds what changed since the unpack
        bundle = d / f"bundle{i}"
        run(["umoci", "unpack", "--image", f"{layout}:latest", bundle])
        rootfs = bundle / "rootfs"
        if i == 0:
            (rootfs / "bin").mkdir()
            shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
            os.symlink("busybox", rootfs / "bin" / "sh")
            (rootfs / "data").mkdir()
        else:
            name = f"layer{i}.bin"
            (rootfs / "data" / name).write_bytes(os.urandom(200_000 + 50_000 * i))
            files.append(name)
        run(["umoci", "repack", "--image", f"{layout}:latest", bundle])
        rmtree(bundle)
    raw = json.loads(run(["skopeo", "inspect", "--raw", f"oci:{layout}:latest"]).stdout)
    assert len(raw["layers"]) == LAYERS, raw
    return {"layout": layout, "manifest": raw, "files": files}


def push_multi(multi, dest):
    run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{multi['layout']}:latest", f"docker://{dest}"])


def short(digest):
    return digest[len("sha256:"):][:12]


class SlowProxy:
    """An HTTP proxy to UPSTREAM ("127.0.0.1:PORT") that holds every blob
    GET for DELAY seconds and answers 404 for the blobs in FAIL."""

    def __init__(self, upstream, delay=0.4, fail=()):
        self.upstream = upstream
        self.delay = delay
        self.fail = set(fail)
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.requested = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.handle(self, "GET")

            def do_HEAD(self):
                proxy.handle(self, "HEAD")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def handle(self, h, method):
        m = re.search(r"/blobs/(sha256:[0-9a-f]{64})$", h.path.split("?")[0])
        if not m or method != "GET":
            return self.forward(h, method)
        with self.lock:
            self.requested.append(m.group(1))
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if m.group(1) in self.fail:
                body = b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}'
                h.send_response(404)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
                return
            time.sleep(self.delay)
            self.forward(h, method)
        finally:
            with self.lock:
                self.now -= 1

    def forward(self, h, method):
        host, port = self.upstream.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        hop = {"connection", "keep-alive", "transfer-encoding", "proxy-connection"}
        try:
            conn.request(method, h.path, headers={k: v for k, v in h.headers.items() if k.lower() not in hop})
            resp = conn.getresponse()
            body = resp.read()
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in hop and (k.lower() != "content-length" or method == "HEAD"):
                    h.send_header(k, v)
            if method != "HEAD":
                h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if method != "HEAD":
                h.wfile.write(body)
        finally:
            conn.close()


@pytest.fixture
def slow_proxy(registry):
    proxies = []

    def make(**kw):
        p = SlowProxy(registry, **kw)
        proxies.append(p)
        return p
    yield make
    for p in proxies:
        p.close()


def layer_dirs_with(b, name):
    return [d for d in b.layers() if (b.root / "layers" / d / "data" / name).exists()]


# ---------------------------------------------------------------- parallel layers

def test_parallel_pull_of_a_multi_layer_image(work, multi, registry, slow_proxy):
    push_multi(multi, f"{registry}/multi/img:1")
    proxy = slow_proxy(delay=0.4)
    b = berth_in(work)
    ref = f"{proxy.addr}/multi/img:1"
    b("pull", ref)
    layers = [layer["digest"] for layer in multi["manifest"]["layers"]]
    # three at a time (Docker's default), never more
    assert proxy.most == 3, (proxy.most, proxy.requested)
    assert sorted(set(proxy.requested)) == sorted(set(layers + [multi["manifest"]["config"]["digest"]]))
    # every layer unpacked, in manifest order
    info = b.inspect(ref)
    assert len(info["RootFS"]["Layers"]) == LAYERS and len(b.layers()) == LAYERS
    for name in multi["files"]:
        assert len(layer_dirs_with(b, name)) == 1, name
    b("doctor", "--verify")
    assert info["Id"] == multi["manifest"]["config"]["digest"]


def test_first_failed_layer_stops_the_pull(work, multi, registry, slow_proxy):
    push_multi(multi, f"{registry}/multi/broken:1")
    layers = [layer["digest"] for layer in multi["manifest"]["layers"]]
    proxy = slow_proxy(delay=0.6, fail=[layers[2]])
    b = berth_in(work)
    p = b("pull", f"{proxy.addr}/multi/broken:1", ok=False)
    # one error, reported once, naming the blob
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1, p.stderr
    assert layers[2].encode() in p.stderr or b"blob unknown" in p.stderr, p.stderr
    # the downloads under way finished, no layer was started after the failure
    assert layers[3] not in proxy.requested and layers[4] not in proxy.requested, proxy.requested
    assert b.images_json() == []
    b("doctor", "--verify")
    # the next pull (the blob is back) resumes from what is kept
    proxy.fail.clear()
    b("pull", f"{proxy.addr}/multi/broken:1")
    assert len(b.layers()) == LAYERS


# ---------------------------------------------------------------- progress

def test_progress_is_plain_lines_when_not_a_terminal(work, multi, registry):
    ref = f"{registry}/multi/plain:1"
    push_multi(multi, ref)
    b = berth_in(work)
    out = b.out("pull", ref)
    assert "\x1b" not in out and "\r" not in out, repr(out)
    assert all(ch == "\n" or ord(ch) >= 0x20 for ch in out), repr(out)
    lines = out.splitlines()
    for layer in multi["manifest"]["layers"]:
        sid = short(layer["digest"])
        for what in ("Pulling fs layer", "Downloading", "Download complete", "Pull complete"):
            assert f"{sid}: {what}" in lines, (sid, what, out)
    # in order per layer
    sid = short(multi["manifest"]["layers"][0]["digest"])
    order = [line.split(": ", 1)[1] for line in lines if line.startswith(sid + ":")]
    assert order.index("Pulling fs layer") < order.index("Downloading") < order.index("Download complete") \
        < order.index("Pull complete"), order
    assert f"Status: downloaded {ref}" in out
    # the same layers again: already there
    push_multi(multi, f"{registry}/multi/plain:2")
    out = b.out("pull", f"{registry}/multi/plain:2")
    for layer in multi["manifest"]["layers"]:
        assert f"{short(layer['digest'])}: Already exists" in out.splitlines(), out
    # -q: the name only
    b("rmi", f"{registry}/multi/plain:2")
    assert b.out("pull", "-q", f"{registry}/multi/plain:2") == f"{registry}/multi/plain:2\n"


def test_progress_on_a_terminal_redraws_in_place(work, multi, registry):
    ref = f"{registry}/multi/tty:1"
    push_multi(multi, ref)
    b = berth_in(work)
    master, slave = os.openpty()
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        p = subprocess.run([BERTH, "--root", str(b.root), "pull", ref], stdout=slave, stderr=subprocess.PIPE,
                           env=b.env, timeout=120)
    finally:
        os.close(slave)
        t.join(timeout=10)
        os.close(master)
    out = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0, p.stderr
    assert "\x1b[K" in out and re.search(r"\x1b\[\d+A", out), repr(out[:500])
    assert "Total: 5 layers" in out, repr(out[-800:])
    for layer in multi["manifest"]["layers"]:
        assert f"{short(layer['digest'])}: Pull complete" in out
    b("doctor", "--verify")


# ---------------------------------------------------------------- mirrors

def test_pull_through_a_mirror_of_an_unreachable_registry(work, images, registry):
    # the mirror keeps the repository path below its own location
    skopeo_push(images, f"{registry}/hub/mirrored/busybox:1")
    digest = skopeo_digest(f"{registry}/hub/mirrored/busybox:1")
    conf = (f'[[registry]]\nlocation = "127.0.0.1:1"\n\n'
            f'[[registry.mirror]]\nlocation = "127.0.0.1:2"   # unreachable: passed over\n'
            f'[[registry.mirror]]\nlocation = "{registry}/nothing"   # has not got it: passed over\n'
            f'[[registry.mirror]]\nlocation = "{registry}/hub"\n')
    b = berth_in(work, conf=conf)
    p = b("pull", "127.0.0.1:1/mirrored/busybox:1")
    assert p.stderr == b"", p.stderr
    info = b.inspect("127.0.0.1:1/mirrored/busybox:1")
    # recorded as the registry's, not the mirror's
    assert info["RepoDigests"] == [f"127.0.0.1:1/mirrored/busybox@{digest}"], info
    assert info["RepoTags"] == ["127.0.0.1:1/mirrored/busybox:1"], info
    assert info["Id"] == images["manifest"]["config"]["digest"]
    b("doctor", "--verify")
    # by digest too
    b("rmi", "127.0.0.1:1/mirrored/busybox:1")
    b("pull", f"127.0.0.1:1/mirrored/busybox@{digest}")


def test_mirror_without_the_image_falls_back_to_the_registry(work, images, registry):
    skopeo_push(images, f"{registry}/direct/busybox:1")
    conf = f'[[registry]]\nlocation = "{registry}"\n[[registry.mirror]]\nlocation = "{registry}/empty"\n'
    b = berth_in(work, conf=conf)
    b("pull", f"{registry}/direct/busybox:1")
    assert b.inspect(f"{registry}/direct/busybox:1")["Id"] == images["manifest"]["config"]["digest"]
    # when every source fails, the registry's own error (the last resort) is the one reported
    conf = f'[[registry]]\nlocation = "127.0.0.1:1"\n[[registry.mirror]]\nlocation = "{registry}/empty"\n'
    b = berth_in(work, name="r2", conf=conf)
    p = b("pull", "127.0.0.1:1/direct/busybox:1", ok=False)
    assert p.returncode == 1 and p.stderr.count(b"\n") == 1 and b"127.0.0.1:1" in p.stderr, p.stderr
    assert b"empty" not in p.stderr, p.stderr
    assert b.images_json() == []


def test_push_never_uses_a_mirror(work, images, registry):
    conf = f'[[registry]]\nlocation = "{registry}"\n[[registry.mirror]]\nlocation = "127.0.0.1:1"\n'
    b = berth_in(work, conf=conf)
    b("load", "-i", images["oci"])
    b("tag", "busybox", f"{registry}/pushed-direct/busybox:1")
    b("push", f"{registry}/pushed-direct/busybox:1")
    assert skopeo_digest(f"{registry}/pushed-direct/busybox:1") == b.inspect("busybox")["Manifest"]


def test_blocked_registry_is_refused(work, images, registry):
    skopeo_push(images, f"{registry}/blocked/busybox:1")
    skopeo_push(images, f"{registry}/blockedness/busybox:1")
    conf = f'[[registry]]\nlocation = "{registry}/blocked"\nblocked = true\n'
    b = berth_in(work, conf=conf)
    p = b("pull", f"{registry}/blocked/busybox:1", ok=False)
    assert p.returncode == 1 and b"blocked" in p.stderr and str(b.env["BERTH_REGISTRIES_CONF"]).encode() in p.stderr
    assert p.stderr.count(b"\n") == 1, p.stderr
    assert b.images_json() == []
    # whole path components only
    b("pull", f"{registry}/blockedness/busybox:1")


# ---------------------------------------------------------------- search, syntax, insecure

def test_short_name_search_through_the_configuration(work, images, registry):
    p, log, d, empty = start_registry("empty")
    try:
        skopeo_push(images, f"{registry}/team/tool:1")
        conf = f'unqualified-search-registries = [\n  "{empty}",  # has not got it\n  "{registry}",\n]\n'
        b = berth_in(work, conf=conf)
        out = b.out("pull", "team/tool:1")
        assert f"Status: downloaded {registry}/team/tool:1" in out, out
        assert b.inspect(f"{registry}/team/tool:1")["Id"] == images["manifest"]["config"]["digest"]
        # the environment overrides the file
        b = berth_in(work, name="r2", conf=conf, BERTH_REGISTRIES=empty)
        r = b("pull", "team/tool:1", ok=False)
        assert r.returncode == 1 and empty.encode() in r.stderr, r.stderr
    finally:
        stop_registry(p, log, d)


def test_configuration_errors_name_file_and_line(work):
    conf = 'unqualified-search-registries = ["docker.io"]\n\n[[registry]]\nlocation "x"\n'
    b = berth_in(work, conf=conf)
    path = b.env["BERTH_REGISTRIES_CONF"]
    p = b("pull", "busybox", ok=False)
    assert p.returncode == 1 and p.stderr == f"berth: {path}:4: expected `=`\n".encode(), p.stderr
    # commands that talk to no registry do not read it
    b("images")
    b = Berth(work / "r2", env={"BERTH_REGISTRIES_CONF": str(work / "missing.conf")})
    p = b("pull", "busybox", ok=False)
    assert p.returncode == 1 and b"missing.conf" in p.stderr, p.stderr


def loopback_name():
    """This host's name when it resolves to 127.0.0.1 (so that berth does
    not take it for a loopback address and use http on its own)."""
    name = socket.gethostname()
    try:
        if name and "." not in name and socket.gethostbyname(name) == "127.0.0.1":
            return name
    except OSError:
        pass
    pytest.skip("host limit: the host name does not resolve to 127.0.0.1")


def test_insecure_registry_from_the_configuration(work, images, registry):
    host = f"{loopback_name()}:{registry.rsplit(':', 1)[1]}"
    skopeo_push(images, f"{registry}/insecure/busybox:1")
    ref = f"{host}/insecure/busybox:1"
    # https to a plain http registry: refused
    b = berth_in(work)
    p = b("pull", ref, ok=False)
    assert p.returncode == 1 and b.images_json() == []
    b = berth_in(work, name="r2", conf=f'[[registry]]\nlocation = "{host}"\ninsecure = true\n')
    b("pull", ref)
    assert b.inspect(ref)["Id"] == images["manifest"]["config"]["digest"]
    # push and login read it too
    b("tag", ref, f"{host}/insecure/again:2")
    b("push", f"{host}/insecure/again:2")
    assert skopeo_digest(f"{registry}/insecure/again:2") == b.inspect(ref)["Manifest"]
    # and the environment's list still works
    b = berth_in(work, name="r3", BERTH_INSECURE_REGISTRIES=host)
    b("pull", ref)


def test_push_of_a_multi_layer_image_then_pull_back(work, multi, registry):
    """Layers are pushed several at a time: every one arrives, digests kept."""
    push_multi(multi, f"{registry}/multi/src:1")
    b = berth_in(work)
    b("pull", f"{registry}/multi/src:1")
    dest = f"{registry}/multi/pushed:2"
    b("tag", f"{registry}/multi/src:1", dest)
    out = b.out("push", dest)
    # the registry had them all (same registry, mounted or uploaded)
    assert out.count("Pushed") + out.count("already exists") >= LAYERS, out
    raw = json.loads(run(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{dest}"]).stdout)
    assert raw == multi["manifest"]
    again = berth_in(work, "again")
    again("pull", dest)
    again("doctor", "--verify")
    assert again.inspect(dest)["Id"] == multi["manifest"]["config"]["digest"]


def test_run_pulls_a_missing_image(work, images, registry):
    """berth run of an image not in the store pulls it first (Docker's --pull missing);
    the pull's words go to stderr, the container's output to stdout."""
    skopeo_push(images, f"{registry}/runme/busybox:1")
    b = berth_in(work)
    p = b("run", "--rm", f"{registry}/runme/busybox:1", "echo", "pulled-and-ran")
    assert p.stdout == b"pulled-and-ran\n", p
    assert b"Unable to find image" in p.stderr and b"Status: downloaded" in p.stderr, p.stderr
    assert b.inspect(f"{registry}/runme/busybox:1")["Id"] == images["manifest"]["config"]["digest"]
    # present now: no pull
    p = b("run", "--rm", f"{registry}/runme/busybox:1", "echo", "again")
    assert (p.stdout, p.stderr) == (b"again\n", b""), p
    p = b("run", "--rm", "--pull", "never", f"{registry}/runme/other:1", "echo", ok=False)
    assert p.returncode == 125 and b"Unable to find" not in p.stderr
