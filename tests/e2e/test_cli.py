"""sailcdn through the AWS CLI, driven as a shell user would drive it.

run.sh runs this module once per CLI it finds (pip's AWS CLI v1 and Debian's awscli 2.9), named by the
AWS_CLI environment variable, each time against a fresh server. Nothing on the machine may leak into the
CLI: its config and credential files are /dev/null and every other AWS_* variable is removed.
"""

import datetime
import json
import os
import subprocess
import unittest

import e2elib
from e2elib import unique

CLI = os.environ.get("AWS_CLI", "aws")

# The CLI exits 254 when the service answered with an error (v2, and v1 since its return-code rework)
# and 255 for other failures (older v1 releases used 255 for service errors too).
SERVICE_ERROR_EXITS = (254, 255)


def cli_env(region="us-east-1", key=(e2elib.ACCESS_KEY, e2elib.SECRET_KEY)):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": key[0],
        "AWS_SECRET_ACCESS_KEY": key[1],
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": region,
        "AWS_PAGER": "",  # v2 would page JSON through less
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",  # every error exactly as the server sent it
    })
    return env


def aws(*args, region="us-east-1", key=(e2elib.ACCESS_KEY, e2elib.SECRET_KEY)):
    """Runs `aws lightsail ARGS` and returns the CompletedProcess (text mode)."""
    cmd = [CLI, "lightsail"] + list(args) + ["--endpoint-url", e2elib.endpoint(), "--region", region,
                                             "--output", "json"]
    return subprocess.run(cmd, env=cli_env(region, key), capture_output=True, text=True, timeout=60)


def cli_time(v):
    """CLI v2 prints timestamps as ISO 8601; v1 (cli_timestamp_format none) prints the wire's epoch number."""
    if isinstance(v, (int, float)):
        return datetime.datetime.fromtimestamp(v, datetime.timezone.utc)
    return e2elib.parse_rfc3339(v)


def setUpModule():
    out = subprocess.run([CLI, "--version"], capture_output=True, text=True, env=cli_env(), timeout=60)
    print("\n[%s: %s]" % (CLI, (out.stdout or out.stderr).strip()), end=" ", flush=True)


class TestCLI(unittest.TestCase):
    maxDiff = None

    def ok(self, *args, region="us-east-1", key=(e2elib.ACCESS_KEY, e2elib.SECRET_KEY)):
        p = aws(*args, region=region, key=key)
        self.assertEqual(p.returncode, 0, "aws lightsail %s failed:\n%s" % (" ".join(args), p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def fails(self, exc_type, *args, region="us-east-1", key=(e2elib.ACCESS_KEY, e2elib.SECRET_KEY)):
        p = aws(*args, region=region, key=key)
        self.assertIn(p.returncode, SERVICE_ERROR_EXITS, "exit %d, stdout %r, stderr %r" % (p.returncode, p.stdout, p.stderr))
        self.assertIn("(%s)" % exc_type, p.stderr)
        self.assertEqual(p.stdout.strip(), "")
        return p.stderr

    def test_lifecycle(self):
        name = unique("cli")
        before = e2elib.server_now()
        out = self.ok("create-distribution", "--distribution-name", name,
                      "--origin", json.dumps({"name": e2elib.origin_name(), "regionName": "us-east-1"}),
                      "--default-cache-behavior", "behavior=cache",
                      "--bundle-id", "small_1_0",
                      "--tags", "key=env,value=cli")
        d = out["distribution"]
        self.assertEqual(d["name"], name)
        self.assertEqual(d["status"], "InProgress")
        self.assertEqual(d["bundleId"], "small_1_0")
        self.assertEqual(d["cacheBehaviorSettings"], e2elib.DEFAULT_CACHE_SETTINGS)
        self.assertEqual(d["ipAddressType"], "dualstack")
        self.assertEqual(d["tags"], [{"key": "env", "value": "cli"}])
        self.assertLess(abs((cli_time(d["createdAt"]) - before).total_seconds()), 60, d["createdAt"])
        self.assertEqual(out["operation"]["operationType"], "CreateDistribution")
        self.assertEqual(out["operation"]["status"], "Succeeded")

        got = self.ok("get-distributions", "--distribution-name", name,
                      "--query", "distributions[0].{name: name, bundle: bundleId, able: ableToUpdateBundle, "
                                 "headers: cacheBehaviorSettings.forwardedHeaders.option}")
        self.assertEqual(got, {"name": name, "bundle": "small_1_0", "able": True, "headers": "default"})

        op = self.ok("update-distribution-bundle", "--distribution-name", name, "--bundle-id", "medium_1_0")
        self.assertEqual(op["operation"]["operationType"], "UpdateDistributionBundle")
        self.assertEqual(op["operation"]["resourceName"], name)
        err = self.fails("InvalidInputException", "update-distribution-bundle", "--distribution-name", name,
                         "--bundle-id", "large_1_0")
        self.assertIn("UpdateDistributionBundle", err)
        got = self.ok("get-distributions", "--distribution-name", name,
                      "--query", "distributions[0].[bundleId, ableToUpdateBundle]")
        self.assertEqual(got, ["medium_1_0", False])

        price = self.ok("get-distribution-bundles", "--query", "bundles[?bundleId=='small_1_0'] | [0].price")
        self.assertEqual(price, 2.5)
        ids = self.ok("get-distribution-bundles", "--query", "bundles[].bundleId")
        self.assertTrue({"small_1_0", "medium_1_0", "large_1_0"} <= set(ids), ids)

        deleted = self.ok("delete-distribution", "--distribution-name", name)
        self.assertEqual(deleted["operation"]["operationType"], "DeleteDistribution")
        names = self.ok("get-distributions", "--query", "distributions[].name")
        self.assertNotIn(name, names)
        self.fails("NotFoundException", "delete-distribution", "--distribution-name", name)

    def test_operation_lookup(self):
        name = unique("cliop")
        op_id = self.ok("create-distribution", "--distribution-name", name,
                        "--origin", "name=%s,regionName=us-east-1" % e2elib.origin_name(),
                        "--default-cache-behavior", "behavior=dont-cache",
                        "--bundle-id", "small_1_0", "--query", "operation.id")
        got = self.ok("get-operation", "--operation-id", op_id,
                      "--query", "operation.[id, operationType, status, isTerminal]")
        self.assertEqual(got, [op_id, "CreateDistribution", "Succeeded", True])

    def test_errors(self):
        self.fails("NotFoundException", "update-distribution", "--distribution-name", unique("ghost"),
                   "--is-enabled")
        err = self.fails("InvalidInputException", "get-distributions", region="us-west-2")
        self.assertIn("us-east-1", err)
        err = self.fails("InvalidInputException", "create-distribution", "--distribution-name", unique("badtag"),
                         "--origin", "name=%s,regionName=us-east-1" % e2elib.origin_name(),
                         "--default-cache-behavior", "behavior=cache", "--bundle-id", "small_1_0",
                         "--tags", "key=flag")
        self.assertIn("CreateDistribution", err)
        self.fails("NotImplementedException", "get-instances")

    def test_first_and_last_distribution_of_an_account(self):
        """GetDistributions(name) in an account with no live distribution — before its first and after
        its last — is the not-found error CloudFormation and Terraform read as "gone"."""
        key_id, secret, account = e2elib.second_account()
        key = (key_id, secret)
        name = unique("clilonely")
        self.assertEqual(self.ok("get-distributions", key=key), {"distributions": []})
        err = self.fails("InvalidInputException", "get-distributions", "--distribution-name", name, key=key)
        self.assertIn("GetDistributions", err)
        arn = self.ok("create-distribution", "--distribution-name", name,
                      "--origin", "name=%s,regionName=us-east-1" % e2elib.origin_name(),
                      "--default-cache-behavior", "behavior=cache", "--bundle-id", "small_1_0",
                      "--query", "distribution.arn", key=key)
        self.assertIn(":%s:" % account, arn)
        self.assertEqual(self.ok("get-distributions", "--distribution-name", name, "--query", "distributions[].name",
                                 key=key), [name])
        self.ok("delete-distribution", "--distribution-name", name, key=key)
        self.fails("InvalidInputException", "get-distributions", "--distribution-name", name, key=key)
        self.assertEqual(self.ok("get-distributions", key=key), {"distributions": []})

    def test_metrics(self):
        """get-distribution-metric-data against the sockets of real traffic through the edge."""
        origin_name = unique("clicounted")
        origin = e2elib.register_counting_origin(origin_name)
        self.addCleanup(origin.close)
        name = unique("climetered")
        host = self.ok("create-distribution", "--distribution-name", name,
                       "--origin", "name=%s,regionName=us-east-1" % origin_name,
                       "--default-cache-behavior", "behavior=cache", "--bundle-id", "small_1_0",
                       "--query", "distribution.domainName")
        began = e2elib.server_now()
        want = e2elib.drive_traffic(host, origin)
        start = int(began.timestamp()) - 600
        end = int(e2elib.server_now().timestamp()) + 120

        def data(metric, unit="None", period=60, since=start):
            return self.ok("get-distribution-metric-data", "--distribution-name", name, "--metric-name", metric,
                           "--start-time", str(since), "--end-time", str(end), "--period", str(period),
                           "--unit", unit, "--statistics", "Sum")["metricData"]

        def sums():
            return {m: int(sum(p["sum"] for p in data(m))) for m in ("Requests", "BytesDownloaded", "BytesUploaded")}

        # The meter flushes every 2 s.
        e2elib.wait_equal("metrics against the sockets", sums,
                          {"Requests": want["requests"], "BytesDownloaded": want["downloaded"], "BytesUploaded": want["uploaded"]})

        aligned = e2elib.odd_minute_start(began)
        points = data("Requests", period=120, since=int(aligned.timestamp()))
        self.assertTrue(points)
        base = int(aligned.timestamp()) // 60 * 60
        for p in points:
            at = int(cli_time(p["timestamp"]).timestamp())
            self.assertEqual((at - base) % 120, 0, "%s not aligned to %s" % (p["timestamp"], aligned))
        self.assertEqual(data("BytesDownloaded", unit="Bytes"), [])
        self.assertEqual(data("Requests", unit="Count"), [])


if __name__ == "__main__":
    unittest.main()
