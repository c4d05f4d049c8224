"""sailcdn through boto3, as a Lightsail user's script would call it.

run.sh runs this module once per boto3 generation (pyenv boto3 1.4x and Debian's python3-boto3 1.26 with
the Dec-2022 model), each time against a fresh server started with --page-size 2. Assertions that need a
member the client's model does not know are skipped with a reason; everything else is the same core on
both generations.
"""

import datetime
import re
import time
import unittest

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

import e2elib
from e2elib import unique

BUNDLE_SMALL, BUNDLE_MEDIUM, BUNDLE_LARGE = "small_1_0", "medium_1_0", "large_1_0"

ls = None       # us-east-1 client
west = None     # us-west-2 client (distribution APIs are refused there)


def make_client(region, secret=e2elib.SECRET_KEY, key=e2elib.ACCESS_KEY):
    # Retries off: every error must reach the test exactly as the server sent it, and a 5xx must not be
    # hidden by a successful retry.
    cfg = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                    region_name=region)
    return session.client("lightsail", endpoint_url=e2elib.endpoint(), config=cfg)


def setUpModule():
    global ls, west
    print("\n[boto3 %s, botocore %s]" % (boto3.__version__, botocore.__version__), end=" ", flush=True)
    ls = make_client("us-east-1")
    west = make_client("us-west-2")


def tearDownModule():
    for c in (ls, west):
        if c is not None:
            c.close()


def model_has(shape, member):
    """Whether this client generation's model knows shape.member; boto3 drops unknown response members."""
    return member in ls.meta.service_model.shape_for(shape).members


def create(name, client=None, **kw):
    args = dict(distributionName=name,
                origin={"name": e2elib.origin_name(), "regionName": "us-east-1"},
                defaultCacheBehavior={"behavior": "cache"},
                bundleId=BUNDLE_SMALL)
    args.update(kw)
    return (client or ls).create_distribution(**args)


def metric(name, metric_name, start, end, period=60, unit="None", statistics=("Sum",)):
    return ls.get_distribution_metric_data(distributionName=name, metricName=metric_name, startTime=start,
                                           endTime=end, period=period, unit=unit,
                                           statistics=list(statistics))["metricData"]


def get(name):
    dists = ls.get_distributions(distributionName=name)["distributions"]
    if len(dists) != 1:
        raise AssertionError("GetDistributions(%s) returned %d distributions" % (name, len(dists)))
    return dists[0]


def wait_status(name, want, timeout):
    deadline = time.monotonic() + timeout
    while True:
        d = get(name)
        if d["status"] == want or time.monotonic() > deadline:
            return d
        time.sleep(0.2)


class Base(unittest.TestCase):
    maxDiff = None

    def assertTimestamp(self, v, what):
        # boto3 turns the wire's epoch seconds into aware datetimes; a string here means the server sent
        # an ISO string, which the Go and JS SDKs would reject.
        self.assertIsInstance(v, datetime.datetime, what)
        self.assertIsNotNone(v.tzinfo, what + " is not timezone-aware")

    def assertNear(self, t, ref, what, slack=60):
        self.assertLess(abs((t - ref).total_seconds()), slack, "%s %s is not near %s" % (what, t, ref))

    def assertOperation(self, op, op_type, resource_name):
        self.assertEqual(op["operationType"], op_type)
        self.assertEqual(op["resourceName"], resource_name)
        self.assertEqual(op["resourceType"], "Distribution")
        self.assertEqual(op["status"], "Succeeded")
        self.assertIs(op["isTerminal"], True)
        self.assertRegex(op["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(op["location"]["regionName"], "us-east-1")
        self.assertTimestamp(op["createdAt"], "operation.createdAt")
        self.assertTimestamp(op["statusChangedAt"], "operation.statusChangedAt")

    def assertLightsailError(self, cm, exc_type, code, status):
        """cm.exception is the modeled exception with Lightsail's own reason in the 'code' member."""
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], exc_type)
        self.assertEqual(err["code"], code, err)
        self.assertTrue(err["Error"]["Message"], "empty message")
        self.assertTrue(err["docs"].startswith("https://"), err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype"), exc_type)
        self.assertTrue(err["ResponseMetadata"].get("RequestId"), "no request id")


class TestCreate(Base):
    def test_create_defaults_then_deployed(self):
        name = unique("create")
        before = e2elib.server_now()
        started = time.monotonic()
        out = create(name, tags=[{"key": "env", "value": "e2e"}])
        d, op = out["distribution"], out["operation"]

        self.assertEqual(d["name"], name)
        self.assertRegex(d["arn"], r"^arn:aws:lightsail:us-east-1:%s:Distribution/[0-9a-f-]{36}$" % e2elib.ACCOUNT_ID)
        self.assertTrue(d["supportCode"].startswith(e2elib.ACCOUNT_ID + "/"), d["supportCode"])
        self.assertTimestamp(d["createdAt"], "createdAt")
        self.assertNear(d["createdAt"], before, "createdAt")
        self.assertEqual(d["location"], {"availabilityZone": "all", "regionName": "us-east-1"})
        self.assertEqual(d["resourceType"], "Distribution")
        self.assertEqual(d["alternativeDomainNames"], [])
        self.assertEqual(d["status"], "InProgress")
        self.assertIs(d["isEnabled"], True)
        self.assertRegex(d["domainName"], r"^d[a-z0-9]{13}\.")
        self.assertEqual(d["bundleId"], BUNDLE_SMALL)
        self.assertNotIn("certificateName", d)
        self.assertEqual(d["defaultCacheBehavior"], {"behavior": "cache"})
        self.assertEqual(d["cacheBehaviorSettings"], e2elib.DEFAULT_CACHE_SETTINGS)
        self.assertEqual(d["cacheBehaviors"], [])
        self.assertIs(d["ableToUpdateBundle"], True)
        self.assertEqual(d["ipAddressType"], "dualstack")
        self.assertEqual(d["tags"], [{"key": "env", "value": "e2e"}])
        origin = d["origin"]
        self.assertEqual(origin["name"], e2elib.origin_name())
        self.assertEqual(origin["regionName"], "us-east-1")
        self.assertEqual(origin["resourceType"], "Instance")
        self.assertEqual(origin["protocolPolicy"], "http-only")
        self.assertTrue(d["originPublicDNS"], "originPublicDNS is empty")
        self.assertOperation(op, "CreateDistribution", name)

        # Right after the create the change is still propagating (--deploy-delay), then it settles.
        got = get(name)
        if time.monotonic() - started < e2elib.deploy_delay() * 0.8:
            self.assertEqual(got["status"], "InProgress")
        got = wait_status(name, "Deployed", e2elib.deploy_delay() + 10)
        self.assertEqual(got["status"], "Deployed")
        self.assertEqual(got["createdAt"], d["createdAt"])
        self.assertEqual(got["domainName"], d["domainName"])
        self.assertEqual(got["arn"], d["arn"])

    def test_create_new_model_defaults(self):
        # Members the Dec-2022 model does not know: skipped on the old generation.
        missing = [m for s, m in (("LightsailDistribution", "viewerMinimumTlsProtocolVersion"),
                                  ("Origin", "responseTimeout"), ("Origin", "ipAddressType"))
                   if not model_has(s, m)]
        if missing:
            self.skipTest("this botocore model lacks %s" % ", ".join(missing))
        d = create(unique("newmodel"))["distribution"]
        self.assertEqual(d["viewerMinimumTlsProtocolVersion"], "TLSv1.2_2021")
        self.assertEqual(d["origin"]["responseTimeout"], 30)
        self.assertEqual(d["origin"]["ipAddressType"], "dualstack")

    def test_create_with_admin_registered_origin(self):
        origin = unique("bucket")
        status, body = e2elib.admin("POST", "/_sailcdn/origins", {
            "name": origin, "url": "https://%s.s3.example.test/" % origin,
            "resourceType": "Bucket", "regionName": "eu-west-2"})
        self.assertEqual(status, 200, body)
        d = create(unique("bucketdist"), origin={"name": origin, "regionName": "eu-west-2"})["distribution"]
        self.assertEqual(d["origin"]["name"], origin)
        self.assertEqual(d["origin"]["regionName"], "eu-west-2")
        self.assertEqual(d["origin"]["resourceType"], "Bucket")
        self.assertEqual(d["origin"]["protocolPolicy"], "https-only")
        self.assertEqual(d["originPublicDNS"], "%s.s3.example.test" % origin)

    def test_create_explicit_settings(self):
        name = unique("explicit")
        settings = {"defaultTTL": 3600, "minimumTTL": 60, "maximumTTL": 7200,
                    "allowedHTTPMethods": "GET,HEAD", "cachedHTTPMethods": "GET,HEAD",
                    "forwardedCookies": {"option": "allow-list", "cookiesAllowList": ["session"]},
                    "forwardedHeaders": {"option": "allow-list", "headersAllowList": ["Accept", "Host"]},
                    "forwardedQueryStrings": {"option": True, "queryStringsAllowList": ["v"]}}
        d = create(name, cacheBehaviorSettings=settings, ipAddressType="ipv4",
                   cacheBehaviors=[{"path": "/img/*", "behavior": "cache"},
                                   {"path": "/api/*", "behavior": "dont-cache"}])["distribution"]
        self.assertEqual(d["cacheBehaviorSettings"], settings)
        self.assertEqual(d["ipAddressType"], "ipv4")
        self.assertEqual(len(d["cacheBehaviors"]), 2)
        self.assertEqual(get(name)["cacheBehaviorSettings"], settings)

    def test_create_invalid(self):
        cases = [
            ("unknown bundle", dict(bundleId="huge_9_9"), "InvalidBundle"),
            ("bad ttl order", dict(cacheBehaviorSettings={"minimumTTL": 100, "defaultTTL": 10}), "InvalidCacheSettings"),
            ("unknown origin", dict(origin={"name": "no-such-origin", "regionName": "us-east-1"}), None),
        ]
        for label, kw, code in cases:
            with self.subTest(label):
                name = unique("invalid")
                with self.assertRaises(ClientError) as cm:
                    create(name, **kw)
                if code:
                    self.assertLightsailError(cm, "InvalidInputException", code, 400)
                else:
                    self.assertEqual(cm.exception.response["Error"]["Code"], "NotFoundException")
        name = unique("dup")
        create(name)
        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            create(name)
        self.assertLightsailError(cm, "InvalidInputException", "AlreadyExists", 400)


class TestGet(Base):
    def test_get_by_name(self):
        name = unique("byname")
        created = create(name)["distribution"]
        d = get(name)
        for k in ("name", "arn", "domainName", "createdAt", "bundleId", "origin", "cacheBehaviorSettings"):
            self.assertEqual(d[k], created[k], k)
        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            ls.get_distributions(distributionName=unique("absent"))
        self.assertLightsailError(cm, "InvalidInputException", "DoesNotExist", 400)

    def test_paginated(self):
        size = e2elib.page_size()
        names = sorted(unique("page%d" % i) for i in range(5))
        for n in names:
            create(n)
        seen, pages, token = [], 0, None
        while True:
            kw = {"pageToken": token} if token else {}
            out = ls.get_distributions(**kw)
            pages += 1
            page = [d["name"] for d in out["distributions"]]
            if size:
                self.assertLessEqual(len(page), size)
            seen.extend(page)
            token = out.get("nextPageToken")
            if not token:
                break
            if size:
                self.assertEqual(len(page), size, "a page before the last one is short")
            self.assertLess(pages, 200, "pagination does not end")
        self.assertEqual(len(seen), len(set(seen)), "a distribution appeared on two pages")
        self.assertTrue(set(names) <= set(seen), "missing %s" % (set(names) - set(seen)))
        if size:
            self.assertGreaterEqual(pages, 3)
        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            ls.get_distributions(pageToken="not-a-token")
        self.assertLightsailError(cm, "InvalidInputException", "InvalidPageToken", 400)


class TestFirstAndLastDistribution(Base):
    def test_account_with_no_live_distribution(self):
        """CloudFormation's create pre-check and delete stabilisation and Terraform's finder call
        GetDistributions(name) in an account that may have no live distribution at all — before its first
        and after its last. The answer must be the not-found exception both read as "gone", never an
        empty list (CloudFormation's delete would wait forever)."""
        key, secret, account = e2elib.second_account()
        c = make_client("us-east-1", key=key, secret=secret)
        self.addCleanup(c.close)
        name = unique("lonely")
        self.assertEqual(c.get_distributions()["distributions"], [], "the second account is not empty")
        with self.assertRaises(c.exceptions.InvalidInputException) as cm:
            c.get_distributions(distributionName=name)
        self.assertLightsailError(cm, "InvalidInputException", "DoesNotExist", 400)

        d = create(name, client=c)["distribution"]
        self.assertIn(":%s:" % account, d["arn"])
        got = c.get_distributions(distributionName=name)["distributions"]
        self.assertEqual([x["name"] for x in got], [name])
        # The dev account cannot see it.
        with self.assertRaises(ls.exceptions.InvalidInputException):
            ls.get_distributions(distributionName=name)

        c.delete_distribution(distributionName=name)
        with self.assertRaises(c.exceptions.InvalidInputException) as cm:
            c.get_distributions(distributionName=name)
        self.assertLightsailError(cm, "InvalidInputException", "DoesNotExist", 400)
        self.assertEqual(c.get_distributions()["distributions"], [])


class TestMetrics(Base):
    def test_metrics_mean_what_the_model_says(self):
        """Real traffic through the edge, counted on the viewer's and the origin's sockets:
        BytesDownloaded = bytes viewers received for GET, HEAD and OPTIONS; BytesUploaded = bytes the
        origin received for POST and PUT; datapoints aligned to startTime; other units have no data;
        the cost estimate's DataTransferOut = every byte out, to viewers and to the origin."""
        origin_name = unique("counted")
        origin = e2elib.register_counting_origin(origin_name)
        self.addCleanup(origin.close)
        name = unique("metered")
        d = create(name, origin={"name": origin_name, "regionName": "us-east-1"})["distribution"]
        began = e2elib.server_now()
        want = e2elib.drive_traffic(d["domainName"], origin)
        start = began - datetime.timedelta(minutes=10)
        end = e2elib.server_now() + datetime.timedelta(minutes=2)

        def sums():
            return {m: int(sum(p["sum"] for p in metric(name, m, start, end)))
                    for m in ("Requests", "BytesDownloaded", "BytesUploaded")}

        # The meter flushes every 2 s.
        e2elib.wait_equal("metrics against the sockets", sums,
                          {"Requests": want["requests"], "BytesDownloaded": want["downloaded"], "BytesUploaded": want["uploaded"]})
        self.assertGreater(want["uploaded"], 6 * 3000)

        # Datapoints aligned to startTime (rounded down to its minute), not to the epoch.
        aligned = e2elib.odd_minute_start(began)
        points = metric(name, "Requests", aligned, end, period=120)
        self.assertTrue(points, "no Requests datapoints")
        base = int(aligned.timestamp()) // 60 * 60
        for p in points:
            self.assertTimestamp(p["timestamp"], "timestamp")
            self.assertEqual((int(p["timestamp"].timestamp()) - base) % 120, 0, "%s not aligned to %s" % (p["timestamp"], aligned))
        self.assertEqual(int(sum(p["sum"] for p in points)), want["requests"])
        # Only the published unit has data.
        self.assertEqual(metric(name, "BytesDownloaded", start, end, unit="Bytes"), [])
        self.assertEqual(metric(name, "Requests", start, end, unit="Count"), [])
        self.assertTrue(metric(name, "Requests", start, end, unit="None"))

        # The quota's figure, where the client's model has GetCostEstimate (the 2022 model has not).
        if "GetCostEstimate" in ls.meta.service_model.operation_names:
            hour = began.replace(minute=0, second=0, microsecond=0)
            est = ls.get_cost_estimate(resourceName=name, startTime=hour, endTime=hour + datetime.timedelta(hours=3))
            gb = sum(r["unit"] for ce in est["resourcesBudgetEstimate"][0]["costEstimates"]
                     if ce["usageType"] == "DataTransferOut" for r in ce["resultsByTime"])
            self.assertEqual(round(gb * 1e9), want["transfer_out"], "DataTransferOut against the sockets")


class TestMemberNames(Base):
    def test_member_names_are_case_sensitive(self):
        """'DistributionName' is not 'distributionName': an unknown member, ignored."""
        name = unique("casing")
        create(name)
        c = make_client("us-east-1")
        self.addCleanup(c.close)

        def recase(request, **kwargs):
            # Before signing, so the signature covers the body as sent (same length, too).
            data = request.data
            if isinstance(data, str):
                data = data.encode()
            request.data = data.replace(b'"distributionName"', b'"DistributionName"')

        c.meta.events.register("before-sign.lightsail.*", recase)
        # A required member in another case is missing: the model's validation error names it as the
        # model spells it, and nothing is created.
        other = unique("casing")
        with self.assertRaises(c.exceptions.InvalidInputException) as cm:
            create(other, client=c)
        err = cm.exception.response
        self.assertEqual(err["code"], "ValidationError", err)
        self.assertIn("'distributionName'", err["Error"]["Message"])
        with self.assertRaises(ls.exceptions.InvalidInputException):
            ls.get_distributions(distributionName=other)
        # DeleteDistribution's distributionName is optional in the model; without it nothing is deleted.
        with self.assertRaises(c.exceptions.InvalidInputException) as cm:
            c.delete_distribution(distributionName=name)
        self.assertEqual(cm.exception.response["code"], "MissingParameter")
        self.assertEqual(get(name)["name"], name)
        # An optional member in another case is ignored: GetDistributions lists the distributions
        # instead of raising DoesNotExist for the name.
        absent = unique("absent")
        self.assertTrue(c.get_distributions(distributionName=absent)["distributions"])
        with self.assertRaises(ls.exceptions.InvalidInputException):
            ls.get_distributions(distributionName=absent)


class TestUpdate(Base):
    def test_omitted_members_kept(self):
        name = unique("update")
        settings = dict(e2elib.DEFAULT_CACHE_SETTINGS, defaultTTL=600,
                        forwardedCookies={"option": "allow-list", "cookiesAllowList": ["session"]})
        behaviors = [{"path": "/static/*", "behavior": "cache"}]
        created = create(name, cacheBehaviorSettings=settings, cacheBehaviors=behaviors,
                         tags=[{"key": "team", "value": "web"}])["distribution"]
        wait_status(name, "Deployed", e2elib.deploy_delay() + 10)

        op = ls.update_distribution(distributionName=name, isEnabled=False)["operation"]
        self.assertOperation(op, "UpdateDistribution", name)
        d = get(name)
        self.assertIs(d["isEnabled"], False)
        self.assertEqual(d["status"], "InProgress", "an update starts a new deployment")
        for k in ("cacheBehaviorSettings", "cacheBehaviors", "origin", "defaultCacheBehavior", "tags",
                  "bundleId", "domainName", "ipAddressType", "createdAt"):
            self.assertEqual(d[k], created[k], k)

        ls.update_distribution(distributionName=name, defaultCacheBehavior={"behavior": "dont-cache"})
        d = get(name)
        self.assertEqual(d["defaultCacheBehavior"], {"behavior": "dont-cache"})
        self.assertIs(d["isEnabled"], False, "isEnabled was omitted and must stay false")
        self.assertEqual(d["cacheBehaviorSettings"], settings)

        # A supplied cacheBehaviorSettings replaces the object as a whole (UpdateDistribution doc):
        # what it leaves out falls back to the defaults, not to the previous values.
        ls.update_distribution(distributionName=name, cacheBehaviorSettings={"maximumTTL": 90000})
        d = get(name)
        self.assertEqual(d["cacheBehaviorSettings"], dict(e2elib.DEFAULT_CACHE_SETTINGS, maximumTTL=90000))
        self.assertEqual(d["cacheBehaviors"], behaviors)

    def test_update_not_found(self):
        with self.assertRaises(ls.exceptions.NotFoundException) as cm:
            ls.update_distribution(distributionName=unique("ghost"), isEnabled=True)
        self.assertLightsailError(cm, "NotFoundException", "DoesNotExist", 404)


class TestBundle(Base):
    def test_once_per_billing_cycle(self):
        name = unique("bundle")
        self.assertIs(create(name)["distribution"]["ableToUpdateBundle"], True)

        op = ls.update_distribution_bundle(distributionName=name, bundleId=BUNDLE_MEDIUM)["operation"]
        self.assertOperation(op, "UpdateDistributionBundle", name)
        d = get(name)
        self.assertEqual(d["bundleId"], BUNDLE_MEDIUM)
        self.assertIs(d["ableToUpdateBundle"], False)

        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            ls.update_distribution_bundle(distributionName=name, bundleId=BUNDLE_LARGE)
        self.assertLightsailError(cm, "InvalidInputException", "BundleUpdateNotAllowed", 400)
        self.assertEqual(get(name)["bundleId"], BUNDLE_MEDIUM, "a refused change must not apply")

        # Choosing the bundle the distribution already has changes nothing and is not refused
        # (sailcdn decision: a client retrying after a lost response gets success).
        ls.update_distribution_bundle(distributionName=name, bundleId=BUNDLE_MEDIUM)

        # Next billing cycle: the 1st of the next month, 00:00 UTC, by the server clock.
        nxt = e2elib.first_of_next_month(e2elib.server_now())
        now = e2elib.set_server_clock(nxt)
        self.assertNear(now, nxt, "server clock after POST /_sailcdn/clock", slack=5)
        d = get(name)
        self.assertIs(d["ableToUpdateBundle"], True)
        ls.update_distribution_bundle(distributionName=name, bundleId=BUNDLE_LARGE)
        d = get(name)
        self.assertEqual(d["bundleId"], BUNDLE_LARGE)
        self.assertIs(d["ableToUpdateBundle"], False)

    def test_bundle_errors(self):
        name = unique("bundleerr")
        create(name)
        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            ls.update_distribution_bundle(distributionName=name, bundleId="huge_9_9")
        self.assertLightsailError(cm, "InvalidInputException", "InvalidBundle", 400)
        with self.assertRaises(ls.exceptions.NotFoundException) as cm:
            ls.update_distribution_bundle(distributionName=unique("ghost"), bundleId=BUNDLE_MEDIUM)
        self.assertLightsailError(cm, "NotFoundException", "DoesNotExist", 404)

    def test_get_distribution_bundles(self):
        bundles = {b["bundleId"]: b for b in ls.get_distribution_bundles()["bundles"]}
        self.assertTrue({BUNDLE_SMALL, BUNDLE_MEDIUM, BUNDLE_LARGE} <= set(bundles), bundles)
        small = bundles[BUNDLE_SMALL]
        self.assertEqual(small["price"], 2.5)
        self.assertEqual(small["transferPerMonthInGb"], 50)
        for b in bundles.values():
            self.assertIsInstance(b["name"], str)
            # A model double: always written with a decimal point, so botocore hands over a float
            # (as for AWS), even for a whole-dollar price such as 35.0.
            self.assertIsInstance(b["price"], float)
            self.assertIsInstance(b["transferPerMonthInGb"], int)
            self.assertIsInstance(b["isActive"], bool)
        self.assertTrue(all(bundles[i]["isActive"] for i in (BUNDLE_SMALL, BUNDLE_MEDIUM, BUNDLE_LARGE)))


class TestErrors(Base):
    def test_not_found_typed(self):
        ghost = unique("ghost")
        calls = [
            ("DeleteDistribution", lambda: ls.delete_distribution(distributionName=ghost)),
            ("ResetDistributionCache", lambda: ls.reset_distribution_cache(distributionName=ghost)),
            ("GetDistributionLatestCacheReset", lambda: ls.get_distribution_latest_cache_reset(distributionName=ghost)),
            ("GetOperation", lambda: ls.get_operation(operationId="00000000-0000-0000-0000-000000000000")),
            ("TagResource", lambda: ls.tag_resource(resourceName=ghost, tags=[{"key": "k", "value": "v"}])),
        ]
        for label, call in calls:
            with self.subTest(label):
                with self.assertRaises(ls.exceptions.NotFoundException) as cm:
                    call()
                self.assertLightsailError(cm, "NotFoundException", "DoesNotExist", 404)

    def test_region_gate(self):
        calls = [
            ("GetDistributions", lambda: west.get_distributions()),
            ("GetDistributionBundles", lambda: west.get_distribution_bundles()),
            ("CreateDistribution", lambda: west.create_distribution(
                distributionName=unique("west"), origin={"name": e2elib.origin_name(), "regionName": "us-east-1"},
                defaultCacheBehavior={"behavior": "cache"}, bundleId=BUNDLE_SMALL)),
        ]
        for label, call in calls:
            with self.subTest(label):
                with self.assertRaises(west.exceptions.InvalidInputException) as cm:
                    call()
                self.assertLightsailError(cm, "InvalidInputException", "UnsupportedOperation", 400)
                self.assertIn("us-east-1", cm.exception.response["Error"]["Message"])
        # GetRegions is not a distribution API: it answers in every Region.
        self.assertTrue(west.get_regions()["regions"])

    def test_unserved_operation_is_501(self):
        with self.assertRaises(ClientError) as cm:
            ls.get_instances()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "NotImplementedException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertIn("GetInstances", err["Error"]["Message"])

    def test_wrong_secret_refused(self):
        bad = make_client("us-east-1", secret="not-the-secret")
        self.addCleanup(bad.close)
        with self.assertRaises(ClientError) as cm:
            bad.get_distribution_bundles()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)


class TestTags(Base):
    def test_key_only_tags(self):
        name = unique("tags")
        with self.assertRaises(ls.exceptions.InvalidInputException) as cm:
            create(name, tags=[{"key": "flag"}])
        self.assertLightsailError(cm, "InvalidInputException", "InvalidTag", 400)
        # The refused create left nothing behind: the name is free.
        d = create(name, tags=[{"key": "env", "value": "e2e"}])["distribution"]

        ops = ls.tag_resource(resourceName=name, tags=[{"key": "flag"}, {"key": "env", "value": "prod"}])["operations"]
        self.assertEqual(len(ops), 1)
        self.assertEqual(ops[0]["resourceName"], name)
        tags = {t["key"]: t.get("value", "") for t in get(name)["tags"]}
        self.assertEqual(tags, {"env": "prod", "flag": ""})

        ls.tag_resource(resourceName=name, resourceArn=d["arn"], tags=[{"key": "owner", "value": "ops"}])
        ls.untag_resource(resourceName=name, tagKeys=["flag", "not-there"])
        tags = {t["key"]: t.get("value", "") for t in get(name)["tags"]}
        self.assertEqual(tags, {"env": "prod", "owner": "ops"})

    def test_tag_other_region_not_found(self):
        name = unique("tagwest")
        create(name)
        with self.assertRaises(west.exceptions.NotFoundException):
            west.tag_resource(resourceName=name, tags=[{"key": "k", "value": "v"}])


class TestLifecycle(Base):
    def test_operations_cache_reset_delete(self):
        name = unique("life")
        ops = []
        ops.append(create(name)["operation"])
        ops.append(ls.update_distribution(distributionName=name, isEnabled=False)["operation"])
        ops.append(ls.update_distribution_bundle(distributionName=name, bundleId=BUNDLE_MEDIUM)["operation"])
        ops.extend(ls.tag_resource(resourceName=name, tags=[{"key": "k", "value": "v"}])["operations"])

        self.assertEqual(ls.get_distribution_latest_cache_reset(distributionName=name).get("status"), None,
                         "a distribution never reset has no latest reset")
        reset = ls.reset_distribution_cache(distributionName=name)
        self.assertEqual(reset["status"], "InProgress")
        self.assertTimestamp(reset["createTime"], "createTime")
        self.assertOperation(reset["operation"], "ResetDistributionCache", name)
        ops.append(reset["operation"])
        latest = ls.get_distribution_latest_cache_reset(distributionName=name)
        self.assertEqual(latest["createTime"], reset["createTime"])
        self.assertIn(latest["status"], ("InProgress", "Completed"))
        deadline = time.monotonic() + 10
        while latest["status"] != "Completed" and time.monotonic() < deadline:
            time.sleep(0.2)
            latest = ls.get_distribution_latest_cache_reset(distributionName=name)
        self.assertEqual(latest["status"], "Completed")
        self.assertTimestamp(ls.get_distribution_latest_cache_reset()["createTime"], "latest reset of the account")

        ops.append(ls.delete_distribution(distributionName=name)["operation"])
        self.assertOperation(ops[-1], "DeleteDistribution", name)

        # Every id ever returned answers GetOperation, also after the distribution is gone.
        want_types = ["CreateDistribution", "UpdateDistribution", "UpdateDistributionBundle", None,
                      "ResetDistributionCache", "DeleteDistribution"]
        for op, want in zip(ops, want_types):
            with self.subTest(op["id"]):
                got = ls.get_operation(operationId=op["id"])["operation"]
                self.assertEqual(got["id"], op["id"])
                self.assertEqual(got["operationType"], op["operationType"])
                if want:
                    self.assertEqual(got["operationType"], want)
                self.assertEqual(got["createdAt"], op["createdAt"])
                self.assertEqual(got["status"], "Succeeded")
                self.assertTimestamp(got["createdAt"], "createdAt")
        for_resource = [o["id"] for o in ls.get_operations_for_resource(resourceName=name)["operations"]]
        self.assertEqual(for_resource, [o["id"] for o in ops], "oldest to newest, every operation")
        all_ids = set()
        for page in ls.get_paginator("get_operations").paginate():
            all_ids.update(o["id"] for o in page["operations"])
        self.assertTrue({o["id"] for o in ops} <= all_ids)

        with self.assertRaises(ls.exceptions.NotFoundException):
            ls.delete_distribution(distributionName=name)
        # The name is free again once the distribution is deleted.
        self.assertEqual(create(name)["distribution"]["name"], name)

    def test_get_regions(self):
        regions = {r["name"]: r for r in ls.get_regions(includeAvailabilityZones=True)["regions"]}
        self.assertIn("us-east-1", regions)
        use1 = regions["us-east-1"]
        self.assertEqual(use1["continentCode"], "NA")
        self.assertEqual(use1["displayName"], "Virginia")
        self.assertTrue(use1["availabilityZones"])
        for z in use1["availabilityZones"]:
            self.assertTrue(z["zoneName"].startswith("us-east-1"), z)
            self.assertEqual(z["state"], "available")
        plain = {r["name"]: r for r in ls.get_regions()["regions"]}
        self.assertEqual(set(plain), set(regions))
        self.assertEqual(plain["us-east-1"].get("availabilityZones", []), [])


if __name__ == "__main__":
    unittest.main()
