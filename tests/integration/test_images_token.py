# SPDX-License-Identifier: GPL-2.0-or-later
"""berth's registry client against docker-registry with Bearer-token auth.

A small token server runs inside the test (http.server in a thread on
127.0.0.1).  It issues RS256 JWTs that docker-registry's `auth: token`
accepts: the header carries the signing certificate in "x5c", and the
registry trusts that certificate through its rootcertbundle.  The RSA key
and the self-signed certificate are made with the openssl CLI, and the
tokens are signed with `openssl dgst -sha256 -sign`.

Policy of the token server:
  - wrong credentials: 401, whatever is asked for;
  - "tok" (password "tokpass"): pull and push everywhere, except
    "readonly/..." (pull only) and "secret/..." (nothing);
  - "other" (password "otherpass"): pull and push of "secret/..." only;
  - no credentials: pull of "public/..." only; a request that would get
    nothing at all is a 401.
Every request is recorded (user, service, scopes, what was granted), so the
tests can check what berth asked for.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from test_images import (REGISTRY_DATA, Berth, images, need, rmtree, run, start_registry,  # noqa: F401
                         stop_registry, tmpdir)

ISSUER = "berth-test-issuer"
SERVICE = "berth-test-registry"
USER = "tok"
PASSWORD = "tokpass"
OTHER_USER = "other"
OTHER_PASSWORD = "otherpass"
ACCOUNTS = {USER: PASSWORD, OTHER_USER: OTHER_PASSWORD}
TOKEN_LIFETIME = 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_scope(scope):
    """"repository:a/b:pull,push" → ("repository", "a/b", {"pull", "push"}); None if malformed."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        return None
    return kind, name, set(a for a in actions.split(",") if a)


class TokenServer:
    """A Docker-style token server: GET /token?service=…&scope=…"""

    def __init__(self, workdir):
        need("openssl")
        self.dir = Path(workdir)
        self.key = self.dir / "token-key.pem"
        self.cert = self.dir / "token-cert.pem"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
             "-subj", "/CN=berth test token signer", "-keyout", self.key, "-out", self.cert])
        der = run(["openssl", "x509", "-in", self.cert, "-outform", "DER"]).stdout
        self.x5c = base64.b64encode(der).decode()  # standard base64, as RFC 7515 wants
        self.lock = threading.Lock()
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                status, body, headers = server.handle(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="token-server", daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the token server thread did not stop"

    # ---- what the tests look at

    def mark(self):
        with self.lock:
            return len(self.requests)

    def since(self, mark):
        with self.lock:
            return list(self.requests[mark:])

    # ---- the server

    def sign(self, data):
        return run(["openssl", "dgst", "-sha256", "-sign", self.key], input=data).stdout

    def make_jwt(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + TOKEN_LIFETIME, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(16), "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        return signing_input + "." + b64url(self.sign(signing_input.encode()))

    @staticmethod
    def credentials(handler):
        """(user, password) from a Basic Authorization header; None without one, ("", "") if unreadable."""
        h = handler.headers.get("Authorization")
        if not h:
            return None
        scheme, _, value = h.partition(" ")
        if scheme.lower() != "basic":
            return ("", "")
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        return user, password

    @staticmethod
    def grant(user, scope):
        """The actions USER (None: anonymous) gets of SCOPE."""
        parsed = parse_scope(scope)
        if not parsed or parsed[0] != "repository":
            return None
        _, name, actions = parsed
        if user is None:
            allowed = {"pull"} if name.startswith("public/") else set()
        elif user == OTHER_USER:
            allowed = {"pull", "push"} if name.startswith("secret/") else set()
        elif name.startswith("secret/"):
            allowed = set()
        elif name.startswith("readonly/"):
            allowed = {"pull"}
        else:
            allowed = {"pull", "push"}
        return {"type": "repository", "name": name, "actions": sorted(actions & allowed)}

    def handle(self, handler):
        url = urllib.parse.urlsplit(handler.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        creds = self.credentials(handler)
        rec = {"path": url.path, "service": query.get("service", [None])[0], "scopes": query.get("scope", []),
               "account": query.get("account", [None])[0], "user": creds[0] if creds else None,
               "status": None, "granted": []}
        status, body, headers = self.decide(url.path, rec, creds)
        rec["status"] = status
        with self.lock:
            self.requests.append(rec)
        return status, body, headers

    def decide(self, path, rec, creds):
        challenge = {"WWW-Authenticate": 'Basic realm="berth test token server"'}

        def error(status, code, message, headers=None):
            return status, {"errors": [{"code": code, "message": message}]}, headers or {}

        if path != "/token":
            return error(404, "NOT_FOUND", "no such endpoint")
        if rec["service"] != SERVICE:
            return error(400, "INVALID_REQUEST", f"unknown service {rec['service']!r}")
        if creds is not None and ACCOUNTS.get(creds[0]) != creds[1]:
            return error(401, "UNAUTHORIZED", "invalid username or password", challenge)
        user = creds[0] if creds else None
        access = []
        for scope in rec["scopes"]:
            for s in scope.split(" "):  # one parameter may hold several scopes
                g = self.grant(user, s) if s else None
                if g is not None:
                    access.append(g)
        if user is None and not any(g["actions"] for g in access):
            return error(401, "UNAUTHORIZED", "authentication required", challenge)
        rec["granted"] = access
        token = self.make_jwt(user or "", access)
        return 200, {"token": token, "access_token": token, "expires_in": TOKEN_LIFETIME,
                     "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, {}


@pytest.fixture(scope="module")
def token_registry():
    """The token server and a docker-registry that trusts it: yields (addr, server)."""
    need("openssl")
    d = tmpdir("tokensrv")
    server = None
    reg = None
    try:
        server = TokenServer(d)
        config = ("auth:\n  token:\n"
                  f"    realm: {server.realm}\n"
                  f"    service: {SERVICE}\n"
                  f"    issuer: {ISSUER}\n"
                  "    rootcertbundle: @DIR@/token-ca.pem\n")
        reg = start_registry("tokenreg", config, files={"token-ca.pem": server.cert.read_bytes()})
        yield reg[3], server
    finally:
        if reg is not None:
            stop_registry(reg[0], reg[1], reg[2])
        if server is not None:
            server.stop()
        rmtree(d)


class TokenTestEnv:
    """One test's private directory: data roots and one auth file."""

    __test__ = False

    def __init__(self, d):
        self.dir = d
        self.auth = d / "auth.json"

    def berth(self, name, auth=None):
        return Berth(self.dir / name, env={"BERTH_AUTH_FILE": str(auth or self.auth),
                                            "BERTH_REGISTRY_RETRY_MS": "10"})


@pytest.fixture
def tenv():
    d = tmpdir("tokentest")
    yield TokenTestEnv(d)
    rmtree(d)


def refused(stderr):
    s = stderr.lower()
    return b"unauthorized" in s or b"authentication required" in s or b"denied" in s


def one_error_line(p):
    return p.returncode == 1 and p.stderr.startswith(b"berth: ") and p.stderr.count(b"\n") == 1


def login(b, addr, password=PASSWORD, ok=True, user=USER):
    return b("login", "-u", user, "--password-stdin", addr, input=password.encode() + b"\n", ok=ok)


def scopes_of(records):
    """Every scope asked for, parsed."""
    return [parse_scope(s) for r in records for scope in r["scopes"] for s in scope.split(" ") if s]


def manifests_dir(addr, repo):
    return REGISTRY_DATA[addr] / "docker" / "registry" / "v2" / "repositories" / repo / "_manifests"



def loaded_and_logged_in(images, tenv, addr, repo_tag):
    """berth on a fresh root with the test image tagged ADDR/REPO_TAG, logged in."""
    b = tenv.berth("root")
    b("load", "-i", images["oci"])
    ref = f"{addr}/{repo_tag}"
    b("tag", "busybox", ref)
    login(b, addr)
    return b, ref

# ---------------------------------------------------------------- (a)

def test_login_push_pull_with_tokens(images, token_registry, tenv, tmp_path):
    addr, server = token_registry
    b = tenv.berth("root")
    b("load", "-i", images["oci"])
    ref = f"{addr}/tok/busybox:1"
    b("tag", "busybox", ref)

    # no credentials: the token server refuses, and berth says so
    p = b("push", ref, ok=False)
    assert one_error_line(p) and refused(p.stderr), p.stderr

    # login goes through the token flow: GET /v2/ → 401 Bearer → token with tok's credentials
    mark = server.mark()
    out = login(b, addr).stdout.decode()
    assert "Login Succeeded" in out
    seen = server.since(mark)
    # GET /v2/ asks for no scope: the token only says who "tok" is
    assert [(r["user"], r["status"], r["service"], r["scopes"]) for r in seen] == [(USER, 200, SERVICE, [])], seen
    saved = json.loads(tenv.auth.read_text())
    assert base64.b64decode(saved["auths"][addr]["auth"]) == f"{USER}:{PASSWORD}".encode()
    assert (tenv.auth.stat().st_mode & 0o777) == 0o600

    out = b.out("push", ref)
    digest = b.inspect(ref)["Manifest"]
    assert digest in out
    assert manifests_dir(addr, "tok/busybox").is_dir()

    other = tenv.berth("root2")
    other("pull", ref)
    assert other.inspect(ref)["Id"] == b.inspect(ref)["Id"] == images["manifest"]["config"]["digest"]
    assert other.inspect(ref)["Manifest"] == digest
    other("doctor", "--verify")

    # an independent client with the same credentials gets the same image
    creds = f"{USER}:{PASSWORD}"
    raw = run(["skopeo", "inspect", "--tls-verify=false", "--creds", creds, "--raw", f"docker://{ref}"]).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest
    run(["skopeo", "copy", "--src-tls-verify=false", "--src-creds", creds, f"docker://{ref}",
         f"oci:{tmp_path / 'copy'}:x"])
    # ... and without them, is refused
    p = run(["skopeo", "inspect", "--tls-verify=false", "--raw", f"docker://{ref}"], ok=False)
    assert p.returncode != 0

    # logged out: refused again
    b("logout", addr)
    third = tenv.berth("root3")
    p = third("pull", ref, ok=False)
    assert one_error_line(p) and refused(p.stderr), p.stderr
    assert third.images_json() == []


# ---------------------------------------------------------------- (b)

def test_anonymous_pull_of_public_repository(images, token_registry, tenv):
    addr, server = token_registry
    b, ref = loaded_and_logged_in(images, tenv, addr, "public/busybox:1")
    b("push", ref)

    nobody = tenv.dir / "no-auth.json"  # never written: no credentials at all
    anon = tenv.berth("anon", auth=nobody)
    mark = server.mark()
    anon("pull", ref)
    assert anon.inspect(ref)["Id"] == b.inspect(ref)["Id"]
    assert anon.inspect(ref)["Manifest"] == b.inspect(ref)["Manifest"]
    seen = server.since(mark)
    assert seen and all(r["user"] is None and r["status"] == 200 for r in seen), seen
    assert ("repository", "public/busybox", {"pull"}) in scopes_of(seen)
    assert not nobody.exists()

    # anonymous: no push to the public repository, no pull from a private one
    anon("tag", ref, f"{addr}/public/busybox:2")
    p = anon("push", f"{addr}/public/busybox:2", ok=False)
    assert one_error_line(p) and refused(p.stderr), p.stderr
    p = anon("pull", f"{addr}/tok/private:1", ok=False)
    assert one_error_line(p) and refused(p.stderr), p.stderr


# ---------------------------------------------------------------- (c)

def test_login_with_a_wrong_password(token_registry, tenv):
    addr, server = token_registry
    b = tenv.berth("root")
    mark = server.mark()
    p = login(b, addr, password="not-the-password", ok=False)
    assert one_error_line(p), p.stderr
    assert refused(p.stderr) or b"invalid username or password" in p.stderr, p.stderr
    assert not tenv.auth.exists()
    seen = server.since(mark)
    assert any(r["user"] == USER and r["status"] == 401 for r in seen), seen
    assert not any(r["status"] == 200 for r in seen), seen

    # an auth file that exists is left exactly as it was
    before = '{"auths": {"elsewhere.example": {"auth": "eDp5"}}, "unrelated": 1}\n'
    tenv.auth.write_text(before)
    p = login(b, addr, password="still-wrong", ok=False)
    assert one_error_line(p), p.stderr
    assert tenv.auth.read_text() == before

    # the right password then works
    login(b, addr)
    assert addr in json.loads(tenv.auth.read_text())["auths"]


# ---------------------------------------------------------------- (d)

def test_push_without_push_access_is_refused(images, token_registry, tenv):
    addr, server = token_registry
    b, ref = loaded_and_logged_in(images, tenv, addr, "readonly/busybox:1")
    mark = server.mark()
    p = b("push", ref, ok=False)
    assert one_error_line(p) and refused(p.stderr), p.stderr
    assert b"readonly/busybox" in p.stderr, p.stderr
    # not "authentication required" after a good login: the scope it lacks
    assert b"access denied" in p.stderr and b"push" in p.stderr, p.stderr
    seen = server.since(mark)
    # berth asked for push; the token server granted pull only
    assert ("repository", "readonly/busybox", {"pull", "push"}) in scopes_of(seen), seen
    assert all(set(g["actions"]) <= {"pull"} for r in seen for g in r["granted"]), seen
    assert not manifests_dir(addr, "readonly/busybox").exists()


# ---------------------------------------------------------------- (e)

def test_token_requests_carry_the_scopes(images, token_registry, tenv):
    addr, server = token_registry
    b, ref = loaded_and_logged_in(images, tenv, addr, "scopes/busybox:1")

    mark = server.mark()
    b("push", ref)
    pushed = server.since(mark)
    assert pushed and all(r["user"] == USER and r["service"] == SERVICE and r["status"] == 200
                          for r in pushed), pushed
    scopes = scopes_of(pushed)
    assert ("repository", "scopes/busybox", {"pull", "push"}) in scopes, pushed
    assert all(s[:2] == ("repository", "scopes/busybox") for s in scopes), pushed
    # what was granted is what was asked
    assert any(g["name"] == "scopes/busybox" and set(g["actions"]) == {"pull", "push"}
               for r in pushed for g in r["granted"]), pushed

    mark = server.mark()
    other = tenv.berth("root2")
    other("pull", ref)
    pulled = server.since(mark)
    assert pulled and all(r["user"] == USER and r["status"] == 200 for r in pulled), pulled
    assert set(map(lambda s: (s[0], s[1], frozenset(s[2])), scopes_of(pulled))) == \
        {("repository", "scopes/busybox", frozenset({"pull"}))}, pulled


# ---------------------------------------------------------------- cross-repository mounts

def registry_log(addr):
    return (REGISTRY_DATA[addr].parent / "registry.log").read_text(errors="replace")


def test_cross_repository_mount_asks_for_both_scopes(images, token_registry, tenv):
    addr, server = token_registry
    b = tenv.berth("root")
    b("load", "-i", images["oci"])
    src, dst = f"{addr}/tok/mount-src:1", f"{addr}/tok/mount-dst:1"
    b("tag", "busybox", src)
    b("tag", "busybox", dst)
    login(b, addr)
    b("push", src)
    mark = server.mark()
    b("push", dst)
    seen = server.since(mark)
    # the mount POST needs push on the target and pull on the source: one token for both
    both = [r for r in seen if {("repository", "tok/mount-dst", frozenset({"pull", "push"})),
                                ("repository", "tok/mount-src", frozenset({"pull"}))} <=
            {(k, n, frozenset(a)) for k, n, a in map(parse_scope, r["scopes"])}]
    assert both and all(r["status"] == 200 for r in both), seen
    assert "POST /v2/tok/mount-dst/blobs/uploads/?mount=" in registry_log(addr)
    other = tenv.berth("root2")
    other("pull", dst)
    assert other.inspect(dst)["Id"] == b.inspect(dst)["Id"]


def test_push_falls_back_when_the_mount_source_is_not_readable(images, token_registry, tenv):
    """A cross-repository mount refused (no pull on the source): a plain upload instead."""
    addr, server = token_registry
    b = tenv.berth("root")
    b("load", "-i", images["oci"])
    secret, mine = f"{addr}/secret/busybox:1", f"{addr}/tok/from-secret:1"
    b("tag", "busybox", secret)
    b("tag", "busybox", mine)
    # "other" puts the image into secret/..., which "tok" cannot read
    login(b, addr, user=OTHER_USER, password=OTHER_PASSWORD)
    b("push", secret)
    assert any(d.startswith(f"{addr}/secret/busybox@") for d in b.inspect(mine)["RepoDigests"])
    login(b, addr)
    mark = server.mark()
    p = b("push", mine, ok=False)
    seen = server.since(mark)
    # berth did try the mount, and the token server rightly gave no pull on secret/
    assert any(("repository", "secret/busybox", {"pull"}) in map(parse_scope, r["scopes"]) for r in seen), seen
    assert all(g["actions"] == [] for r in seen for g in r["granted"] if g["name"] == "secret/busybox"), seen
    # what a user expects: the push still works, by uploading the blobs
    assert p.returncode == 0, p.stderr
    other = tenv.berth("root2")
    other("pull", mine)
    assert other.inspect(mine)["Id"] == b.inspect(mine)["Id"]
