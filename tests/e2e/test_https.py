"""HTTPS for distributions through boto3 and curl: the certificate flow a Lightsail user runs, then real
TLS handshakes against the edge with `curl --resolve ... --cacert` (the CA's root from /_sailcdn/ca.pem).

run.sh runs this module once per boto3 generation against a fresh --dev server (own CA, dev validation
after --cert-validation-delay 1s, TLS on SAILCDN_EDGE_TLS). Members the 2022 model lacks (certificateName
on CreateDistribution, viewerMinimumTlsProtocolVersion) are skipped there with a reason.
"""

import http.server
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

import e2elib
from e2elib import unique

ls = None
west = None
origin_server = None
ORIGIN = "https-origin"
ca_file = None


class Origin(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("object %s" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def make_client(region):
    cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    session = boto3.session.Session(aws_access_key_id=e2elib.ACCESS_KEY, aws_secret_access_key=e2elib.SECRET_KEY,
                                    region_name=region)
    return session.client("lightsail", endpoint_url=e2elib.endpoint(), config=cfg)


def setUpModule():
    global ls, west, origin_server, ca_file
    print("\n[boto3 %s, botocore %s]" % (boto3.__version__, botocore.__version__), end=" ", flush=True)
    ls, west = make_client("us-east-1"), make_client("us-west-2")
    origin_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=origin_server.serve_forever, daemon=True).start()
    status, body = e2elib.admin("POST", "/_sailcdn/origins",
                                {"name": ORIGIN, "url": "http://127.0.0.1:%d/" % origin_server.server_port})
    if status != 200:
        raise AssertionError("register origin: %s %r" % (status, body))
    with urllib.request.urlopen(e2elib.endpoint() + "/_sailcdn/ca.pem", timeout=10) as resp:
        pem = resp.read()
    fd, ca_file = tempfile.mkstemp(suffix=".pem")
    os.write(fd, pem)
    os.close(fd)


def tearDownModule():
    if origin_server is not None:
        origin_server.shutdown()
    if ca_file:
        os.unlink(ca_file)
    for c in (ls, west):
        if c is not None:
            c.close()


def model_has(shape, member):
    return member in ls.meta.service_model.shape_for(shape).members


def tls_port():
    return os.environ["SAILCDN_EDGE_TLS"].rsplit(":", 1)[1]


def curl_https(host, path, *extra):
    """GET https://host:TLSPORT/path through curl, resolving host to the edge and trusting the CA's root.
    Returns (exit code, HTTP status, body)."""
    port = tls_port()
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--resolve", "%s:%s:127.0.0.1" % (host, port),
                        "--cacert", ca_file, "-w", "\n%{http_code}"] + list(extra) + ["https://%s:%s%s" % (host, port, path)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return p.returncode, 0, p.stderr
    body, _, status = p.stdout.rpartition("\n")
    return 0, int(status), body


def curl_plain(host, path):
    """Plain HTTP to the edge's HTTP port; returns (status, Location)."""
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-H", "Host: " + host,
                        "-w", "%{http_code} %{redirect_url}", "http://%s%s" % (os.environ["SAILCDN_EDGE"], path)],
                       capture_output=True, text=True, check=True)
    status, _, location = p.stdout.partition(" ")
    return int(status), location.strip()


def wait_for(what, fn, timeout=15):
    deadline = time.time() + timeout
    delay = 0.05
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def get_cert(name):
    certs = ls.get_certificates(certificateName=name)["certificates"]
    return certs[0]["certificateDetail"] if certs else None


def wait_issued(name):
    return wait_for(name + " ISSUED", lambda: (lambda d: d if d and d["status"] == "ISSUED" else None)(get_cert(name)))


def create_distribution(name):
    return ls.create_distribution(distributionName=name, origin={"name": ORIGIN, "regionName": "us-east-1"},
                                  defaultCacheBehavior={"behavior": "cache"}, bundleId="small_1_0")["distribution"]


class HTTPSFlow(unittest.TestCase):
    def expect(self, code, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception

    def test_certificate_flow_with_real_handshakes(self):
        domain = unique("shop") + ".example.test"
        cert_name, dist_name = unique("cert"), unique("site")
        out = ls.create_certificate(certificateName=cert_name, domainName=domain, subjectAlternativeNames=["www." + domain],
                                    tags=[{"key": "team", "value": "web"}])
        self.assertEqual(out["operations"][0]["operationType"], "CreateCertificate")
        detail = out["certificate"]["certificateDetail"]
        self.assertEqual(detail["status"], "PENDING_VALIDATION")
        self.assertEqual(detail["subjectAlternativeNames"], [domain, "www." + domain])
        for rec in detail["domainValidationRecords"]:
            self.assertEqual(rec["resourceRecord"]["type"], "CNAME")
            self.assertTrue(rec["resourceRecord"]["name"].endswith("." + rec["domainName"] + "."))

        d = create_distribution(dist_name)
        host = d["domainName"]
        self.expect("InvalidInputException", ls.attach_certificate_to_distribution,
                    distributionName=dist_name, certificateName=cert_name)

        issued = wait_issued(cert_name)
        for key in ("serialNumber", "notBefore", "notAfter", "issuedAt", "keyAlgorithm", "issuerCA"):
            self.assertIn(key, issued)
        self.assertEqual(issued["keyAlgorithm"], "EC-prime256v1")

        # The default domain name has HTTPS the moment the distribution exists.
        code, status, body = wait_for("default domain over HTTPS",
                                      lambda: (lambda r: r if r[1] == 200 else None)(curl_https(host, "/a.txt")))
        self.assertEqual(body, "object /a.txt")

        op = ls.attach_certificate_to_distribution(distributionName=dist_name, certificateName=cert_name)["operation"]
        self.assertEqual(op["operationType"], "AttachCertificateToDistribution")
        got = ls.get_distributions(distributionName=dist_name)["distributions"][0]
        self.assertEqual(got["certificateName"], cert_name)
        self.assertEqual(got["alternativeDomainNames"], [domain, "www." + domain])
        self.assertEqual(get_cert(cert_name)["inUseResourceCount"], 1)

        for name in (domain, "www." + domain):
            code, status, body = wait_for(name + " over HTTPS",
                                          lambda: (lambda r: r if r[1] == 200 else None)(curl_https(name, "/b.txt")), timeout=5)
            self.assertEqual(body, "object /b.txt")
        # HTTP/2 by ALPN.
        code, status, body = curl_https(domain, "/c.txt", "--http2", "-o", "/dev/null", "-w", "%{http_version}")
        self.assertEqual(code, 0)
        # Plain HTTP for a distribution with a certificate is sent to HTTPS.
        status, location = curl_plain(domain, "/b.txt?x=1")
        self.assertEqual(status, 301)
        self.assertEqual(location, "https://%s:%s/b.txt?x=1" % (domain, tls_port()))

        self.expect("InvalidInputException", ls.delete_certificate, certificateName=cert_name)
        op = ls.detach_certificate_from_distribution(distributionName=dist_name)["operation"]
        self.assertEqual(op["operationType"], "DetachCertificateFromDistribution")
        wait_for("custom name no longer served", lambda: curl_https(domain, "/b.txt")[0] != 0, timeout=5)
        self.assertEqual(curl_plain(host, "/b.txt")[0], 200)
        ops = ls.delete_certificate(certificateName=cert_name)["operations"]
        self.assertEqual(ops[0]["operationType"], "DeleteCertificate")
        self.assertEqual(ls.get_certificates(certificateName=cert_name)["certificates"], [])
        ls.delete_distribution(distributionName=dist_name)

    def test_unknown_name_fails_the_handshake(self):
        code, _, err = curl_https("nobody.example.test", "/")
        self.assertNotEqual(code, 0)
        self.assertIn("unrecognized name", err)

    def test_refusals(self):
        self.expect("InvalidInputException", ls.create_certificate, certificateName=unique("w"), domainName="*.example.test")
        many = ["n%d.example.test" % i for i in range(10)]
        self.expect("InvalidInputException", ls.create_certificate, certificateName=unique("m"), domainName="a.example.test",
                    subjectAlternativeNames=many)
        self.expect("InvalidInputException", west.create_certificate, certificateName=unique("r"), domainName="r.example.test")
        self.expect("NotFoundException", ls.delete_certificate, certificateName=unique("missing"))
        self.assertEqual(ls.get_certificates(certificateName=unique("missing"))["certificates"], [])

    def test_certificate_name_on_create_and_update(self):
        if not model_has("CreateDistributionRequest", "certificateName"):
            self.skipTest("this client's model (2022) has no certificateName on CreateDistribution")
        domain = unique("blog") + ".example.test"
        cert_name, dist_name = unique("cert"), unique("site")
        ls.create_certificate(certificateName=cert_name, domainName=domain)
        wait_issued(cert_name)
        d = ls.create_distribution(distributionName=dist_name, origin={"name": ORIGIN, "regionName": "us-east-1"},
                                   defaultCacheBehavior={"behavior": "cache"}, bundleId="small_1_0",
                                   certificateName=cert_name)["distribution"]
        self.assertEqual(d["certificateName"], cert_name)
        self.assertEqual(d["alternativeDomainNames"], [domain])
        ls.update_distribution(distributionName=dist_name, useDefaultCertificate=True,
                               viewerMinimumTlsProtocolVersion="TLSv1.1_2016")
        got = ls.get_distributions(distributionName=dist_name)["distributions"][0]
        self.assertNotIn("certificateName", got)
        self.assertEqual(got["alternativeDomainNames"], [])
        self.assertEqual(got["viewerMinimumTlsProtocolVersion"], "TLSv1.1_2016")
        ls.update_distribution(distributionName=dist_name, certificateName=cert_name)
        wait_for("attached through UpdateDistribution",
                 lambda: (lambda r: r if r[1] == 200 else None)(curl_https(domain, "/u.txt")), timeout=5)
        ls.update_distribution(distributionName=dist_name, useDefaultCertificate=True)
        ls.delete_certificate(certificateName=cert_name)
        ls.delete_distribution(distributionName=dist_name)

    def test_ca_export_prints_the_served_root(self):
        with urllib.request.urlopen(e2elib.endpoint() + "/_sailcdn/ca.pem", timeout=10) as resp:
            served = resp.read().decode()
        p = subprocess.run([os.environ["SAILCDN_BIN"], "ca", "export", "--data", os.environ["SAILCDN_DATA"]],
                           capture_output=True, text=True, check=True)
        self.assertTrue(served.startswith("-----BEGIN CERTIFICATE-----"))
        self.assertEqual(p.stdout, served)
