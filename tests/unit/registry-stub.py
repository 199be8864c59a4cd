#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A registry stand-in for test-registry: the answers docker-registry does
not give on its own.

Prints "127.0.0.1:PORT" once it listens, serves until stdin reaches EOF.

  /token                   a token server: basic auth alice:s3cret (needed
                           for scopes of bearer/private); answers "token",
                           or "access_token" for bearer/access
  /v2/bearer/NAME/...      wants "Authorization: Bearer T" with a token for
                           repository:bearer/NAME:pull, else 401 + challenge
  /v2/bearer/moved/blobs/D 307 to http://localhost:PORT/storage/D (another
                           host name): the storage answers 400 if our
                           Authorization header came along
  /v2/flaky/blobs/D        503 twice, then the blob
  /v2/busy/blobs/D         always 429
  /v2/norange/blobs/D      ignores Range (200 with the whole blob)
  /v2/short/blobs/D        the first GET breaks off after half the blob
  /v2/bad/blobs/D          the blob with one byte changed
"""
import base64
import hashlib
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, PASSWORD = "alice", "s3cret"
SERVICE = 'stub "registry", v2'  # quotes and a comma inside a quoted value
BLOB = bytes((i * 7 + 3) % 251 for i in range(20000))
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(), "size": 2},
    "layers": [],
}).encode()

tokens = {}  # token -> scopes it grants
counts = {}
lock = threading.Lock()


def count(path):
    with lock:
        counts[path] = counts.get(path, 0) + 1
        return counts[path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, ecode, message, headers=()):
        body = json.dumps({"errors": [{"code": ecode, "message": message}]}).encode()
        self.send(code, body, [("Content-Type", "application/json")] + list(headers))

    def port(self):
        return self.server.server_address[1]

    def basic_ok(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        return base64.b64decode(auth[6:]).decode() == USER + ":" + PASSWORD

    def serve_blob(self, data, honor_range=True):
        rng = self.headers.get("Range")
        if rng and honor_range:
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= len(data):
                return self.send(416, b"", [("Content-Range", "bytes */%d" % len(data))])
            cr = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
            return self.send(206, data[start:], [("Content-Range", cr)])
        self.send(200, data, [("Content-Type", "application/octet-stream")])

    def do_token(self, query):
        q = urllib.parse.parse_qs(query)
        scopes = q.get("scope", [])
        if q.get("service") != [SERVICE]:
            return self.error(400, "DENIED", "wrong service")
        basic = self.basic_ok()
        if basic is False or (any("bearer/private" in s for s in scopes) and not basic):
            return self.error(401, "UNAUTHORIZED", "bad credentials",
                              [("WWW-Authenticate", 'Basic realm="stub"')])
        token = "tok-" + hashlib.sha256(repr((scopes, basic)).encode()).hexdigest()[:24]
        with lock:
            tokens[token] = set(scopes)
        key = "access_token" if any("bearer/access" in s for s in scopes) else "token"
        self.send(200, json.dumps({key: token, "expires_in": 300}).encode(),
                  [("Content-Type", "application/json")])

    def bearer_ok(self, scope):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        with lock:
            granted = tokens.get(auth[len("Bearer "):])
        return granted is not None and (scope is None or scope in granted)

    def do_bearer(self, path):
        repo = "/".join(path.split("/")[2:4])  # /v2/bearer/NAME/...
        scope = None if path == "/v2/" else "repository:%s:pull" % repo
        if not self.bearer_ok(scope):
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="%s"' % (
                self.port(), SERVICE.replace('"', '\\"'))
            if scope:
                challenge += ',scope="%s"' % scope
            return self.error(401, "UNAUTHORIZED", "authentication required",
                              [("WWW-Authenticate", challenge)])
        if path == "/v2/":
            return self.send(200, b"{}")
        if "/manifests/" in path:
            return self.send(200, MANIFEST,
                             [("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        if path.startswith("/v2/bearer/moved/blobs/"):
            target = "http://localhost:%d/storage/%s" % (self.port(), path.rsplit("/", 1)[1])
            return self.send(307, b"", [("Location", target)])
        self.serve_blob(BLOB)

    def do_short(self):
        if count("short") > 1 or self.headers.get("Range"):
            return self.serve_blob(BLOB)
        self.send_response(200)
        self.send_header("Content-Length", str(len(BLOB)))
        self.end_headers()
        self.wfile.write(BLOB[:len(BLOB) // 2])
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/token":
            return self.do_token(query)
        if path.startswith("/storage/"):
            if "Authorization" in self.headers:
                return self.error(400, "DENIED", "authorization leaked to the storage host")
            return self.serve_blob(BLOB)
        if path == "/v2/" or path.startswith("/v2/bearer/"):
            return self.do_bearer(path)
        if path.startswith("/v2/flaky/blobs/"):
            if count("flaky") <= 2:
                return self.error(503, "UNAVAILABLE", "try again")
            return self.serve_blob(BLOB)
        if path.startswith("/v2/busy/blobs/"):
            return self.error(429, "TOOMANYREQUESTS", "slow down")
        if path.startswith("/v2/norange/blobs/"):
            return self.serve_blob(BLOB, honor_range=False)
        if path.startswith("/v2/short/blobs/"):
            return self.do_short()
        if path.startswith("/v2/bad/blobs/"):
            return self.serve_blob(BLOB[:100] + bytes([BLOB[100] ^ 1]) + BLOB[101:])
        self.error(404, "NAME_UNKNOWN", "repository name not known to registry")

    do_HEAD = do_GET


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("127.0.0.1:%d" % server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
