"""Shared plumbing of the sailcdn end-to-end tests: the server under test, its admin endpoints, names.

Only the standard library is used here, so the module imports on any Python 3 that run.sh drives: the
pyenv interpreter (new boto3) and Debian's /usr/bin/python3 (python3-boto3 1.26, the 2022 model).
"""

import datetime
import http.server
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid

# Dev-mode key pair and account (sailcdn serve --dev); see internal/auth.DevKey.
ACCESS_KEY = "test"
SECRET_KEY = "test"
ACCOUNT_ID = "000000000000"


def endpoint():
    """The API endpoint of the server under test; run.sh starts one server per test module run."""
    url = os.environ.get("SAILCDN_ENDPOINT", "")
    if not url:
        # An e2e suite that silently skipped would report green without testing anything, so refuse.
        raise RuntimeError("SAILCDN_ENDPOINT is not set; run tests/e2e/run.sh")
    return url.rstrip("/")


def origin_name():
    """The origin registered with --origin by run.sh."""
    return os.environ.get("SAILCDN_ORIGIN", "web")


def page_size():
    """The --page-size the server was started with, or None when run.sh did not set one."""
    v = os.environ.get("SAILCDN_PAGE_SIZE", "")
    return int(v) if v else None


def deploy_delay():
    """Seconds a change reports InProgress (--deploy-delay given to the server)."""
    return float(os.environ.get("SAILCDN_DEPLOY_DELAY", "2"))


def unique(prefix):
    """A distribution name no other test uses: tests share one server per module run."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def admin(method, path, body=None):
    """Calls an admin endpoint (open in --dev) and returns (status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(endpoint() + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def parse_rfc3339(s):
    """Parses the admin clock's RFC 3339 output (Python 3.7+ fromisoformat lacks 'Z' before 3.11)."""
    s = s.replace("Z", "+00:00")
    if "." in s:
        # fromisoformat before 3.11 accepts only 3 or 6 fraction digits; the server writes up to 9.
        head, rest = s.split(".", 1)
        n = 0
        while n < len(rest) and rest[n].isdigit():
            n += 1
        digits, tz = rest[:n], rest[n:]
        s = "%s.%s%s" % (head, (digits + "000000")[:6], tz)
    return datetime.datetime.fromisoformat(s)


def server_now():
    status, body = admin("GET", "/_sailcdn/clock")
    if status != 200:
        raise AssertionError("GET /_sailcdn/clock: %s %r" % (status, body))
    return parse_rfc3339(body["now"])


def set_server_clock(when):
    status, body = admin("POST", "/_sailcdn/clock", {"now": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    if status != 200:
        raise AssertionError("POST /_sailcdn/clock: %s %r" % (status, body))
    return parse_rfc3339(body["now"])


def first_of_next_month(t):
    if t.month == 12:
        return t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return t.replace(month=t.month + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


# The cacheBehaviorSettings a distribution gets when created without them (reference §5.5: the values
# Terraform's acceptance test asserts against the real service; forwardedHeaders option "default").
DEFAULT_CACHE_SETTINGS = {
    "defaultTTL": 86400,
    "minimumTTL": 0,
    "maximumTTL": 31536000,
    "allowedHTTPMethods": "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE",
    "cachedHTTPMethods": "GET,HEAD",
    "forwardedCookies": {"option": "none", "cookiesAllowList": []},
    "forwardedHeaders": {"option": "default", "headersAllowList": []},
    "forwardedQueryStrings": {"option": False, "queryStringsAllowList": []},
}


def second_account():
    """The second account's key (access key id, secret, account id): run.sh starts every server with a
    --credentials file holding it besides the dev key, so that a test can own a whole account — its
    first and its last distribution."""
    key, secret, account = (os.environ.get(v, "") for v in
                            ("SAILCDN_SECOND_KEY_ID", "SAILCDN_SECOND_SECRET", "SAILCDN_SECOND_ACCOUNT"))
    if not (key and secret and account):
        raise RuntimeError("SAILCDN_SECOND_KEY_ID/SECRET/ACCOUNT are not set; run tests/e2e/run.sh")
    return key, secret, account


# --- traffic through the edge, counted on both sides ----------------------------------------------------

DOWNLOAD_METHODS = ("GET", "HEAD", "OPTIONS")  # the BytesDownloaded metric's methods (model text)
UPLOAD_METHODS = ("POST", "PUT")                # the BytesUploaded metric's methods (model text)


class _CountingReader:
    """Counts what the request parser consumes from a connection: per request, exactly the bytes the
    origin's socket received for it (request line, header section, body)."""

    def __init__(self, raw):
        self.raw, self.n = raw, 0

    def readline(self, *args):
        b = self.raw.readline(*args)
        self.n += len(b)
        return b

    def read(self, *args):
        b = self.raw.read(*args)
        self.n += len(b)
        return b

    def __getattr__(self, name):
        return getattr(self.raw, name)


class CountingOrigin:
    """An HTTP origin on a free loopback port that answers every method with 200 and a body whose size
    depends on the path, and counts the bytes it received per request method."""

    def __init__(self):
        origin = self
        self.lock = threading.Lock()
        self.received = {}  # method -> bytes received

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.rfile = _CountingReader(self.rfile)

            def handle_one_request(self):
                start = self.rfile.n
                super().handle_one_request()
                method = getattr(self, "command", None)
                if method:
                    with origin.lock:
                        origin.received[method] = origin.received.get(method, 0) + self.rfile.n - start

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    return
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailer section
                        return
                    self.rfile.read(size + 2)  # the chunk and its CRLF

            def answer(self):
                self.read_body()
                body = b"o" * (500 + 37 * len(self.path))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                if self.command in ("GET", "HEAD"):
                    self.send_header("Cache-Control", "max-age=600")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_PATCH = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/" % self.server.server_port

    def received_for(self, methods):
        with self.lock:
            return sum(self.received.get(m, 0) for m in methods)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def edge_exchange(host, method, path, body=b""):
    """One request to the edge on its own connection (Connection: close), counted on the viewer's
    socket. Returns (status, bytes read, bytes written)."""
    edge = os.environ.get("SAILCDN_EDGE", "")
    if not edge:
        raise RuntimeError("SAILCDN_EDGE is not set; run tests/e2e/run.sh")
    addr, port = edge.rsplit(":", 1)
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (method, path, host)
    if body or method in UPLOAD_METHODS:
        head += "Content-Length: %d\r\n" % len(body)
    raw = head.encode() + b"\r\n" + body
    with socket.create_connection((addr, int(port)), timeout=10) as s:
        s.sendall(raw)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    got = b"".join(chunks)
    status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else 0
    return status, len(got), len(raw)


def wait_equal(what, fn, want, timeout=15, interval=0.5):
    """Calls fn until it returns want; returns it, or raises AssertionError with the last value."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(interval)
        got = fn()
    if got != want:
        raise AssertionError("%s: %r, want %r (after %ss)" % (what, got, want, timeout))
    return got


def wait_until(what, fn, timeout=15, interval=0.3):
    """Calls fn until it returns a true value (returned), or raises AssertionError naming what."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("%s: not within %ss (last: %r)" % (what, timeout, last))


def drive_traffic(host, origin):
    """Viewer traffic for distribution host (whose origin is the CountingOrigin origin), one request
    per connection: GET, HEAD and OPTIONS (downloads; the cache misses fetch from the origin), POST
    and PUT with bodies (uploads), DELETE and PATCH (neither). Waits first until the edge serves host
    (before that it answers for no distribution: unmetered). Returns what the sockets saw:
    requests; downloaded = bytes the viewer read for GET, HEAD and OPTIONS (BytesDownloaded);
    uploaded = bytes the origin received for POST and PUT (BytesUploaded); transfer_out = every byte
    the viewer read plus every byte the origin received (the quota's data transfer out)."""
    counts = {"requests": 0, "downloaded": 0, "viewer_read": 0}

    def one(method, path, body=b""):
        status, read, _ = edge_exchange(host, method, path, body)
        if status != 200:
            return False
        counts["requests"] += 1
        counts["viewer_read"] += read
        if method in DOWNLOAD_METHODS:
            counts["downloaded"] += read
        return True

    wait_until("the edge serves %s" % host, lambda: one("GET", "/first"))
    for i, method in enumerate(["GET", "GET", "HEAD", "OPTIONS"] * 3):
        if not one(method, "/object/%d" % (i % 5)):
            raise AssertionError("%s /object/%d through the edge failed" % (method, i % 5))
    for i, method in enumerate(["POST", "PUT"] * 3):
        if not one(method, "/upload/%d" % i, b"u" * (3000 + 517 * i)):
            raise AssertionError("%s /upload/%d through the edge failed" % (method, i))
    for i, method in enumerate(["DELETE", "PATCH"]):
        if not one(method, "/other/%d" % i, b"p" * (100 * i)):
            raise AssertionError("%s /other/%d through the edge failed" % (method, i))
    with origin.lock:
        received = dict(origin.received)
    return {
        "requests": counts["requests"],
        "downloaded": counts["downloaded"],
        "uploaded": sum(received.get(m, 0) for m in UPLOAD_METHODS),
        "transfer_out": counts["viewer_read"] + sum(received.values()),
    }


def register_counting_origin(name):
    """Starts a CountingOrigin and registers it under name (POST /_sailcdn/origins, region us-east-1)."""
    origin = CountingOrigin()
    status, body = admin("POST", "/_sailcdn/origins", {"name": name, "url": origin.url, "regionName": "us-east-1"})
    if status != 200:
        origin.close()
        raise AssertionError("register origin %s: %s %r" % (name, status, body))
    return origin


def odd_minute_start(t):
    """A start time a few minutes before t that falls 17 s into a minute whose index since the epoch is
    odd: datapoints aligned to it (rounded down to its minute, as CloudWatch does) have odd-minute
    timestamps with an even period, where epoch-aligned ones would have even-minute timestamps."""
    m = int(t.timestamp()) // 60 - 5
    if m % 2 == 0:
        m -= 1
    return datetime.datetime.fromtimestamp(m * 60 + 17, datetime.timezone.utc)
