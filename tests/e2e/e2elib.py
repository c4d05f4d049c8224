"""Shared plumbing of the sailcdn end-to-end tests: the server under test, its admin endpoints, names.

Only the standard library is used here, so the module imports on any Python 3 that run.sh drives: the
pyenv interpreter (new boto3) and Debian's /usr/bin/python3 (python3-boto3 1.26, the 2022 model).
"""

import datetime
import json
import os
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
