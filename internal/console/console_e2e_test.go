package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

const chromiumPath = "/usr/bin/chromium"

// originBody is the size of every object the test origin serves.
const originBody = 200_000

var screenshotPath = flag.String("console.screenshot", "", "also write the representative screenshot to this path (docs/console.png)")

// browser starts headless Chromium for one test and returns a tab. Every exception thrown in the page
// and every CSP violation or JavaScript error logged by the browser is collected; the test fails on
// any of them at the end.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser test skipped: %s not found (apt-get install -y chromium; scripts/test.sh installs it)", chromiumPath)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	var (
		mu       sync.Mutex
		problems []string
	)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error()
		case *cdplog.EventEntryAdded:
			// Network errors are expected (the page shows refused API calls); script errors and
			// Content-Security-Policy refusals ("security") are not.
			if e := ev.Entry; e.Source == cdplog.EntrySourceSecurity || (e.Source == cdplog.EntrySourceJavascript && e.Level == cdplog.EntryLevelError) {
				p = fmt.Sprintf("%s %s: %s", e.Source, e.Level, e.Text)
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser reported %s", p)
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// page wraps the tab with helpers that fail the test with the page's state.
type page struct {
	t   *testing.T
	ctx context.Context
}

// stepTimeout bounds one step in the browser. Steps take milliseconds; the bound is a liveness check
// generous enough for a loaded two-core CI machine running the browser beside the race detector.
const stepTimeout = 60 * time.Second

func (p page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail(what, err)
	}
}

// waitFor polls a JavaScript predicate until it is true.
func (p page) waitFor(what, predicate string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+predicate+")",
		chromedp.WithPollingTimeout(stepTimeout-5*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		p.fail("waiting for "+what, err)
	}
}

func (p page) text(id string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`document.getElementById(%q)?.textContent ?? ""`, id))
}

// waitText waits until the element's text contains want.
func (p page) waitText(id, want string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("#%s to say %q", id, want),
		fmt.Sprintf(`(document.getElementById(%q)?.textContent ?? "").includes(%q)`, id, want))
}

func (p page) screenshot(name string) []byte {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail("screenshot", err)
	}
	dir := os.Getenv("SAILCDN_CONSOLE_SCREENSHOTS") // keep them after the test, if asked
	if dir == "" {
		dir = p.t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return png
}

func (p page) fail(what string, err error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	alert, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("alert")?.textContent ?? ""`))
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	p.t.Fatalf("%s: %v\nalert: %s\npage text:\n%s", what, err, alert, body)
}

func eval[T any](p page, expr string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		p.fail("evaluate "+expr, err)
	}
	return v
}

// dailyTraffic spreads bytes and requests over one minute a day, from the minute after created to
// the day before now (or over the single minute after created when now is in its day), unevenly
// so that the charts have a shape. The totals are exact.
func dailyTraffic(created, now time.Time, bytes, requests int64) []store.UsageDelta {
	var minutes []int64
	for t := created.Add(time.Minute).Truncate(time.Minute); t.Before(now) && t.YearDay() != now.YearDay(); t = t.Add(24 * time.Hour) {
		minutes = append(minutes, t.Unix())
	}
	if len(minutes) == 0 {
		t := created.Add(time.Minute)
		if t.After(now) {
			t = now
		}
		minutes = []int64{t.Truncate(time.Minute).Unix()}
	}
	weights := make([]int64, len(minutes))
	var sum int64
	for i := range weights {
		weights[i] = 10 + int64(6*math.Sin(float64(i)/2)) + int64(i%7)
		sum += weights[i]
	}
	out := make([]store.UsageDelta, len(minutes))
	var b, r int64
	for i, m := range minutes {
		part := bytes * weights[i] / sum
		out[i] = store.UsageDelta{Minute: m, BytesToViewers: part, BytesDownloaded: part, Requests: requests * weights[i] / sum, Status5xx: int64(i % 3)}
		b += part
		r += out[i].Requests
	}
	out[len(out)-1].BytesToViewers += bytes - b
	out[len(out)-1].BytesDownloaded += bytes - b
	out[len(out)-1].Requests += requests - r
	return out
}

// TestConsoleEndToEnd drives the console in headless Chromium against the real assembly: sign-in
// (a wrong secret first), the account's list only, usage against the quota, cost, charts, a bundle
// change and the disabled button afterwards, enable/disable, cache reset, sign-out.
func TestConsoleEndToEnd(t *testing.T) {
	ctx := browser(t)
	e := sailtest.New(t)
	// The page reads the server's "now" from the HTTP Date header, which is wall time: run the server
	// clock at wall time, as a production server does. The distribution is created in the first hour
	// of the cycle, so that the cycle can hold traffic of several days.
	wall := time.Now()
	created := billing.CycleStart(wall).Add(time.Hour)
	if created.After(wall) {
		created = wall
	}
	e.Clock.Set(created)

	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), originBody))
	}))
	t.Cleanup(origin.Close)
	e.AddOrigin("web-1", origin.URL, "Instance", "eu-west-2")
	alice := e.Client(sailtest.Alice, "us-east-1")
	bctx := context.Background()
	create := func(c *ls.Client, name string) *types.LightsailDistribution {
		out, err := c.CreateDistribution(bctx, &ls.CreateDistributionInput{
			DistributionName:     aws.String(name),
			BundleId:             aws.String("small_1_0"),
			Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: "eu-west-2"},
			DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return out.Distribution
	}
	dist := create(alice, "site-one")
	create(e.Client(sailtest.Bob, "us-east-1"), "bobs-site")
	stored, err := e.Store.GetDistribution(bctx, sailtest.Alice.AccountID, "site-one")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Now())
	now := e.Clock.Now()

	p := page{t: t, ctx: ctx}
	p.do("open the console", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")))

	// A wrong secret: the server refuses the signature and the page says so, with the AWS error.
	p.do("sign in with a wrong secret",
		chromedp.SendKeys(chromedp.ID("access-key-id"), sailtest.Alice.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret-access-key"), "not-the-secret"),
		chromedp.Click(chromedp.ID("sign-in-button")))
	p.waitText("alert", "InvalidSignatureException")
	if eval[bool](p, `sessionStorage.length === 0`) != true {
		t.Fatal("a refused key was kept in sessionStorage")
	}

	eval[chromedp.Void](p, `document.getElementById("secret-access-key").value = ""`)
	p.do("sign in as Alice",
		chromedp.SendKeys(chromedp.ID("secret-access-key"), sailtest.Alice.Secret),
		chromedp.Click(chromedp.ID("sign-in-button")),
		chromedp.WaitVisible(chromedp.ID("pick-site-one")))
	list := p.text("distribution-table")
	for _, want := range []string{"site-one", aws.ToString(dist.DomainName), "web-1", "Small", "Yes"} {
		if !strings.Contains(list, want) {
			t.Errorf("distribution list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "bobs-site") {
		t.Error("Alice's console lists Bob's distribution")
	}
	if p.text("alert") != "" {
		t.Errorf("alert still shown after a good sign-in: %q", p.text("alert"))
	}
	// The secret lives in this tab's sessionStorage only: not in localStorage, not in a cookie.
	if got := eval[string](p, `JSON.stringify(localStorage) + document.cookie`); got != "{}" {
		t.Errorf("localStorage/cookies hold %q", got)
	}
	if !eval[bool](p, fmt.Sprintf(`Object.values(sessionStorage).some(v => v.includes(%q))`, sailtest.Alice.Secret)) {
		t.Error("the signed-in key is not in sessionStorage (a reload would sign out)")
	}
	p.waitFor("the bundle select", `document.getElementById("bundle-select")`)

	// Usage against the quota, first from real viewer traffic through the edge: the bar moves by
	// exactly the bytes the meter counted out — to viewers and, for the cache misses, to the origin —
	// as GetCostEstimate's DataTransferOut reports them.
	p.waitText("usage-text", "0 B of 50 GB used")
	e.StartEdge()
	host := aws.ToString(dist.DomainName)
	const viewerRequests = 5
	served := 0
	wait.For(t, 5*time.Second, "the edge to serve the new distribution", func() error {
		for served < viewerRequests {
			resp, err := sailtest.EdgeClient().Do(e.EdgeRequest(http.MethodGet, host, fmt.Sprintf("/asset-%d.bin", served), ""))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("the edge answers %d for %s", resp.StatusCode, host)
			}
			served++
		}
		return nil
	})
	sum := func(metric types.DistributionMetricName) int64 {
		out, err := alice.GetDistributionMetricData(bctx, &ls.GetDistributionMetricDataInput{
			DistributionName: aws.String("site-one"), MetricName: metric,
			StartTime: aws.Time(billing.CycleStart(now)), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(86400),
			Statistics: []types.MetricStatistic{types.MetricStatisticSum}, Unit: types.MetricUnitNone,
		})
		if err != nil {
			t.Fatalf("GetDistributionMetricData with the console's request shape: %v", err)
		}
		var total float64
		for _, dp := range out.MetricData {
			total += aws.ToFloat64(dp.Sum)
		}
		return int64(total)
	}
	// The meter flushes every 2 s.
	wait.Until(t, 10*time.Second, "viewer traffic in GetDistributionMetricData", func() bool {
		return sum(types.DistributionMetricNameRequests) >= viewerRequests
	})
	downloaded := sum(types.DistributionMetricNameBytesDownloaded)
	if downloaded < viewerRequests*originBody {
		t.Fatalf("metered %d bytes downloaded for %d responses of %d bytes", downloaded, viewerRequests, originBody)
	}
	est, err := alice.GetCostEstimate(bctx, &ls.GetCostEstimateInput{ResourceName: aws.String("site-one"),
		StartTime: aws.Time(billing.CycleStart(now)), EndTime: aws.Time(time.Now().Add(time.Hour).Truncate(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	var transferGB float64
	for _, ce := range est.ResourcesBudgetEstimate[0].CostEstimates {
		for _, r := range ce.ResultsByTime {
			if aws.ToString(ce.UsageType) == "DataTransferOut" {
				transferGB += aws.ToFloat64(r.Unit)
			}
		}
	}
	used := int64(math.Round(transferGB * 1e9))
	if used <= downloaded {
		t.Fatalf("DataTransferOut %d bytes, not more than the %d downloaded: the misses' requests to the origin are missing", used, downloaded)
	}
	shown := eval[string](p, fmt.Sprintf(`import("/console/model.js").then((m) => m.formatBytes(%d))`, used), chromedp.EvalAwaitPromise)
	p.do("refresh", chromedp.Click(chromedp.ID("refresh")))
	p.waitText("usage-text", shown+" of 50 GB used")
	p.waitText("chart-requests", fmt.Sprintf("Total %d.", viewerRequests))

	// Then volumes no test sends through a socket, written as the meter writes them (store.DB.AddUsage,
	// minutes of the server clock): 27 GB over the past days of the cycle and 3 GB now (2 GB to
	// viewers, 1 GB to the origin), then a surge.
	add := func(deltas ...store.UsageDelta) {
		for i := range deltas {
			deltas[i].DistributionID = stored.ID
		}
		if err := e.Store.AddUsage(bctx, deltas); err != nil {
			t.Fatal(err)
		}
	}
	add(dailyTraffic(created, now, 27e9, 1000)...)
	add(store.UsageDelta{Minute: now.Truncate(time.Minute).Unix(), Requests: 200, BytesToViewers: 2e9, BytesDownloaded: 2e9, BytesToOrigin: 1e9, Status4xx: 4})
	p.do("refresh", chromedp.Click(chromedp.ID("refresh")))
	p.waitText("usage-text", "30.0 GB of 50 GB used (60.0%)")
	if eval[bool](p, `!!document.getElementById("overage-warning")`) {
		t.Error("overage warning at 60% of the quota")
	}
	p.waitFor("transfer bars", `document.querySelectorAll("#chart-transfer rect.bar").length >= 1`)
	add(store.UsageDelta{Minute: now.Truncate(time.Minute).Unix(), Requests: 100, BytesToViewers: 25e9, BytesDownloaded: 25e9})
	p.do("refresh", chromedp.Click(chromedp.ID("refresh")))
	p.waitText("usage-text", "55.0 GB of 50 GB used (110.0%)")
	p.waitText("overage-warning", "5.00 GB beyond the 50 GB")
	p.waitText("chart-requests", fmt.Sprintf("Total 1,%03d.", 300+viewerRequests))
	p.waitFor("cost figures", `(document.getElementById("cost")?.textContent ?? "").includes("$")`)
	png := p.screenshot("01-usage.png")
	if *screenshotPath != "" {
		if err := os.WriteFile(*screenshotPath, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Change the bundle in the page: afterwards the control is disabled and says until when.
	p.do("ask for a bundle change",
		chromedp.SetValue(chromedp.ID("bundle-select"), "medium_1_0"),
		chromedp.Click(chromedp.ID("bundle-change")),
		chromedp.WaitVisible(chromedp.ID("bundle-confirm-yes")))
	p.do("confirm it", chromedp.Click(chromedp.ID("bundle-confirm-yes")))
	next := billing.NextCycleStart(now).Format("2006-01-02 15:04") + " UTC"
	p.waitFor("the bundle button to be disabled", `document.getElementById("bundle-change")?.disabled === true`)
	p.waitText("bundle-note", "It can be changed again from "+next)
	if !eval[bool](p, `document.getElementById("bundle-select").disabled`) {
		t.Error("bundle select still enabled after the change")
	}
	got, err := alice.GetDistributions(bctx, &ls.GetDistributionsInput{DistributionName: aws.String("site-one")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Distributions[0]; aws.ToString(d.BundleId) != "medium_1_0" || aws.ToBool(d.AbleToUpdateBundle) {
		t.Fatalf("after the page's change: bundle %q, ableToUpdateBundle %v", aws.ToString(d.BundleId), aws.ToBool(d.AbleToUpdateBundle))
	}
	p.waitFor("the list to show the new bundle", `document.getElementById("distribution-table").textContent.includes("Medium")`)
	p.screenshot("02-bundle-changed.png")

	// Disable, then reset the cache.
	p.do("disable", chromedp.Click(chromedp.ID("toggle-enabled")))
	p.waitText("toggle-enabled", "Enable distribution")
	got, err = alice.GetDistributions(bctx, &ls.GetDistributionsInput{DistributionName: aws.String("site-one")})
	if err != nil || aws.ToBool(got.Distributions[0].IsEnabled) {
		t.Fatalf("distribution still enabled after the page disabled it (err %v)", err)
	}
	p.do("reset the cache", chromedp.Click(chromedp.ID("reset-cache")))
	p.waitText("cache-note", "Latest reset:")
	p.waitText("status", "Cache reset of site-one started.")

	// Sign out forgets the key.
	p.do("sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	if n := eval[int](p, `sessionStorage.length`); n != 0 {
		t.Errorf("sessionStorage holds %d items after sign-out", n)
	}
	if eval[bool](p, `document.getElementById("distribution-table").textContent.includes("site-one")`) {
		t.Error("the distribution list is still in the page after sign-out")
	}
}

// TestConsoleSignerMatchesSDK signs the same requests in the page (sigv4.js over WebCrypto) and with
// aws-sdk-go-v2's SigV4 signer, and requires identical Authorization headers.
func TestConsoleSignerMatchesSDK(t *testing.T) {
	ctx := browser(t)
	e := sailtest.New(t)
	p := page{t: t, ctx: ctx}
	p.do("open the console", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")))

	cases := []struct {
		name, op, body, host, target string
		at                           time.Time
	}{
		{"empty object", "GetDistributionBundles", `{}`, "127.0.0.1:8080", "", time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)},
		{"non-ASCII body", "GetDistributions", `{"distributionName":"caf\u00e9-\u65e5\u672c"}`, "localhost:3000", "", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"spaces in a header value", "UpdateDistribution", `{"distributionName":"a","isEnabled":false}`, "sail.example:8443", "Lightsail_20161128.UpdateDistribution   extra", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"empty body", "GetRegions", ``, "127.0.0.1", "", time.Date(2026, 2, 28, 8, 30, 0, 0, time.UTC)},
	}
	key := sailtest.Alice
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = "Lightsail_20161128." + tc.op
			}
			req, err := http.NewRequest(http.MethodPost, "http://"+tc.host+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", target)
			sum := sha256.Sum256([]byte(tc.body))
			creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lightsail", "us-east-1", tc.at); err != nil {
				t.Fatal(err)
			}
			want := req.Header.Get("Authorization")

			args, _ := json.Marshal(map[string]any{
				"request": map[string]any{
					"method": "POST", "path": "/", "body": tc.body,
					"headers": map[string]string{"Host": tc.host, "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
				},
				"credentials": map[string]string{"accessKeyId": key.AccessKeyID, "secretAccessKey": key.Secret},
				"scope":       map[string]string{"region": "us-east-1", "service": "lightsail"},
				"date":        tc.at.UnixMilli(),
			})
			got := eval[map[string]string](page{t: t, ctx: ctx}, fmt.Sprintf(`(async (a) => {
				const m = await import("/console/sigv4.js");
				return m.signRequest(a.request, a.credentials, a.scope, new Date(a.date));
			})(%s)`, args), chromedp.EvalAwaitPromise)
			if got["Authorization"] != want {
				t.Errorf("page signed\n  %s\nSDK signed\n  %s", got["Authorization"], want)
			}
			if got["X-Amz-Date"] != req.Header.Get("X-Amz-Date") {
				t.Errorf("X-Amz-Date %q, SDK %q", got["X-Amz-Date"], req.Header.Get("X-Amz-Date"))
			}
		})
	}
}

// TestConsoleModulesInTheBrowser runs the page's pure modules (model.js, charts.js) in Chromium and
// checks their results: billing-cycle dates, metric bucketing, formatting, and the SVG charts'
// structure (accessible names, one bar per value, a data table row per period).
func TestConsoleModulesInTheBrowser(t *testing.T) {
	ctx := browser(t)
	e := sailtest.New(t)
	p := page{t: t, ctx: ctx}
	p.do("open the console", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")))
	got := eval[map[string]any](p, `(async () => {
		const m = await import("/console/model.js");
		const c = await import("/console/charts.js");
		const dec = new Date(Date.UTC(2026, 11, 31, 23, 59, 59));
		const win = m.cycleWindow(new Date(Date.UTC(2026, 3, 10, 12)));
		const pts = m.series([
			{ timestamp: Date.UTC(2026, 3, 1) / 1000, sum: 5 },
			{ timestamp: Date.UTC(2026, 3, 10) / 1000, sum: 7 },
			{ timestamp: Date.UTC(2026, 2, 31) / 1000, sum: 100 },
		], "sum", win, 0);
		const avg = m.series([{ timestamp: Date.UTC(2026, 3, 2) / 1000, average: 2.5 }], "average", win, null);
		const fig = c.barChart({ id: "t", title: "T", points: avg, format: String, label: m.formatUTCDay, tick: () => "" });
		document.body.append(fig);
		const svg = fig.querySelector("svg");
		const named = svg.getAttribute("aria-labelledby").split(" ").every((id) => document.getElementById(id));
		const over = c.usageBar({ used: 60e9, quota: 50e9, text: "x" });
		const under = c.usageBar({ used: 10e9, quota: 50e9, text: "x" });
		return {
			nextCycle: m.nextCycleStart(dec).toISOString(),
			cycleStart: m.cycleStart(dec).toISOString(),
			windowDays: win.count,
			firstDay: pts[0].value, tenthDay: pts[9].value, total: pts.reduce((s, p) => s + p.value, 0),
			avgMissing: avg[0].value, avgSecond: avg[1].value,
			bars: fig.querySelectorAll("rect.bar").length, tableRows: fig.querySelectorAll("tbody tr").length,
			svgRole: svg.getAttribute("role"), named, desc: svg.querySelector("desc").textContent,
			overage: over.querySelectorAll("rect.overage").length, underOverage: under.querySelectorAll("rect.overage").length,
			bytes: [m.formatBytes(999), m.formatBytes(1500), m.formatBytes(30e9), m.formatBytes(2.5e12)].join("|"),
			projected: m.projectedUsage(15e9, new Date(Date.UTC(2026, 3, 16))),
			cost: m.totalUsageCost({ resourcesBudgetEstimate: [{ costEstimates: [
				{ resultsByTime: [{ usageCost: 0.25, currency: "USD" }, { usageCost: 0.5 }] },
				{ resultsByTime: [{ usageCost: 1.25 }] }] }] }).total,
			transfer: m.transferOut({ resourcesBudgetEstimate: [{ costEstimates: [
				{ usageType: "DataTransferOutOverage", resultsByTime: [{ unit: 7 }] },
				{ usageType: "DataTransferOut", resultsByTime: [{ unit: 30 }, { unit: 0.000243013 }] }] }] }),
			noTransfer: m.transferOut({ resourcesBudgetEstimate: [{ costEstimates: [{ usageType: "DistributionPlan", resultsByTime: [{ unit: 24 }] }] }] }),
			money: [m.formatMoney(2.5, "USD"), m.formatMoney(0.004, "USD")].join("|"),
			utc: m.formatUTC(new Date(Date.UTC(2026, 4, 1))),
		};
	})()`, chromedp.EvalAwaitPromise)
	want := map[string]any{
		"nextCycle":    "2027-01-01T00:00:00.000Z",
		"cycleStart":   "2026-12-01T00:00:00.000Z",
		"windowDays":   10.0,
		"firstDay":     5.0,
		"tenthDay":     7.0,
		"total":        12.0, // the datapoint of March is outside the cycle
		"avgMissing":   nil,  // no traffic is no error rate, not 0%
		"avgSecond":    2.5,
		"bars":         1.0,
		"tableRows":    10.0,
		"svgRole":      "img",
		"named":        true,
		"desc":         "10 periods from 2026-04-01 to 2026-04-10. Highest: 2.5 (2026-04-02). Data for 1 of 10 periods.",
		"overage":      1.0,
		"underOverage": 0.0,
		"bytes":        "999 B|1.50 kB|30.0 GB|2.50 TB",
		"projected":    30e9, // 15 GB in the first 15 days of a 30-day month
		"cost":         2.0,
		"transfer":     30000243013.0, // DataTransferOut only, in bytes
		"noTransfer":   nil,
		"money":        "$2.50|< $0.01",
		"utc":          "2026-05-01 00:00 UTC",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
}

// TestConsoleBundleDateFollowsTheServerClock: on a server whose clock was moved (sailcdn --dev), the
// HTTP Date header is wall time, yet the page must name the date the server will allow the next
// bundle change: the cycle after the last UpdateDistributionBundle operation, stamped by the server.
func TestConsoleBundleDateFollowsTheServerClock(t *testing.T) {
	ctx := browser(t)
	e := sailtest.New(t) // server clock 2026-04-10T12:00:00Z, whatever the wall clock says
	e.AddOrigin("web-1", "http://127.0.0.1:9", "Instance", "eu-west-2")
	alice := e.Client(sailtest.Alice, "us-east-1")
	bctx := context.Background()
	if _, err := alice.CreateDistribution(bctx, &ls.CreateDistributionInput{
		DistributionName: aws.String("moved"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: "eu-west-2"},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UpdateDistributionBundle(bctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("moved"), BundleId: aws.String("large_1_0")}); err != nil {
		t.Fatal(err)
	}
	p := page{t: t, ctx: ctx}
	p.do("sign in", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")),
		chromedp.SendKeys(chromedp.ID("access-key-id"), sailtest.Alice.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret-access-key"), sailtest.Alice.Secret),
		chromedp.Click(chromedp.ID("sign-in-button")),
		chromedp.WaitVisible(chromedp.ID("pick-moved")))
	p.waitText("bundle-note", "It can be changed again from 2026-05-01 00:00 UTC.")
	if !eval[bool](p, `document.getElementById("bundle-change").disabled`) {
		t.Error("bundle button enabled although ableToUpdateBundle is false")
	}

	// The rule is the server's: a change the page asks for after another client spent this cycle's
	// change is refused, and the page shows the API's error and then the server's state.
	if _, err := alice.CreateDistribution(bctx, &ls.CreateDistributionInput{
		DistributionName: aws.String("raced"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: "eu-west-2"},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
	}); err != nil {
		t.Fatal(err)
	}
	p.do("select the new distribution", chromedp.Click(chromedp.ID("refresh")), chromedp.Click(chromedp.ID("pick-raced")))
	p.waitText("detail-title", "raced")
	p.waitFor("the bundle control", `document.getElementById("bundle-change")?.disabled === false`)
	p.do("ask for medium",
		chromedp.SetValue(chromedp.ID("bundle-select"), "medium_1_0"),
		chromedp.Click(chromedp.ID("bundle-change")),
		chromedp.WaitVisible(chromedp.ID("bundle-confirm-yes")))
	if _, err := alice.UpdateDistributionBundle(bctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("raced"), BundleId: aws.String("large_1_0")}); err != nil {
		t.Fatal(err)
	}
	p.do("confirm", chromedp.Click(chromedp.ID("bundle-confirm-yes")))
	p.waitText("alert", "Changing the bundle failed. InvalidInputException: The bundle of distribution")
	p.waitText("alert", "2026-05-01")
	p.waitFor("the button to be disabled", `document.getElementById("bundle-change")?.disabled === true`)
	p.waitText("bundle-note", "It can be changed again from 2026-05-01 00:00 UTC.")
	if got := eval[string](p, `document.activeElement.id`); got != "bundle-note" {
		t.Errorf("focus on %q after the refusal, want the note explaining it", got)
	}
}

// TestConsoleWithoutMetricsOrCostEstimates: against a server that answers GetDistributionMetricData
// and GetCostEstimate with 501 NotImplementedException (sailcdn before they landed, or a partial
// reimplementation), the page says the figures are not available and everything else works. The
// browser's own request interception (CDP Fetch domain) plays that server.
func TestConsoleWithoutMetricsOrCostEstimates(t *testing.T) {
	ctx := browser(t)
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9", "Instance", "eu-west-2")
	if _, err := e.Client(sailtest.Alice, "us-east-1").CreateDistribution(context.Background(), &ls.CreateDistributionInput{
		DistributionName: aws.String("plain"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: "eu-west-2"},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
	}); err != nil {
		t.Fatal(err)
	}
	unserved := map[string]bool{"Lightsail_20161128.GetDistributionMetricData": true, "Lightsail_20161128.GetCostEstimate": true}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: e.API.URL + "/", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		t.Fatal(err)
	}
	// The loop ends when the browser's context does, at the end of the test.
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			target := ""
			for k, v := range ev.Request.Headers {
				if strings.EqualFold(k, "X-Amz-Target") {
					target, _ = v.(string)
				}
			}
			if !unserved[target] {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			op := strings.TrimPrefix(target, "Lightsail_20161128.")
			_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: ev.RequestID, ResponseCode: http.StatusNotImplemented,
				ResponseHeaders: []*fetch.HeaderEntry{
					{Name: "Content-Type", Value: "application/x-amz-json-1.1"},
					{Name: "X-Amzn-ErrorType", Value: "NotImplementedException"},
				},
				Body: []byte(`{"__type":"NotImplementedException","message":"sailcdn does not implement the Lightsail operation ` + op + ` yet."}`),
			})
		}
	}()

	p := page{t: t, ctx: ctx}
	p.do("sign in", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")),
		chromedp.SendKeys(chromedp.ID("access-key-id"), sailtest.Alice.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret-access-key"), sailtest.Alice.Secret),
		chromedp.Click(chromedp.ID("sign-in-button")),
		chromedp.WaitVisible(chromedp.ID("pick-plain")))
	p.waitText("usage-body", "Transfer usage: not available from this server (GetCostEstimate is not implemented).")
	p.waitText("charts", "Requests per day, UTC: not available from this server")
	p.waitText("cost-unavailable", "Cost estimates are not available from this server (GetCostEstimate is not implemented).")
	if got := p.text("alert"); got != "" {
		t.Errorf("an unserved operation raised the alert: %q", got)
	}
	// The rest of the page works: actions go through.
	p.do("reset the cache", chromedp.Click(chromedp.ID("reset-cache")))
	p.waitText("cache-note", "Latest reset:")
}
