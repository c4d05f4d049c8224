package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// TestDeployedMeansServedByEveryEdge is issue 10 item 4's regression test: after the server clock is
// moved past the deploy delay, a distribution must not report Deployed while an edge has not loaded
// it — before the fix it reported Deployed at once while the edge answered 404 until its next poll.
// The API node and the edge node are separate nodes on one store (as in a fleet), so the edge learns of
// a change by polling (SQLite) or by notification (PostgreSQL), not from the API's own commit.
func TestDeployedMeansServedByEveryEdge(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	defer origin.Close()
	for _, b := range sailtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			api := sailtest.New(t, sailtest.WithBackend(b), func(c *sailtest.Config) { c.Role = app.RoleAPI })
			api.AddOrigin("web-1", origin.URL, "Instance", "us-east-1")
			edge := api.StartNode(app.RoleEdge) // shares the API node's server clock
			// The edge registers (its first heartbeat) just after it starts; until then no edge is live
			// and the deploy delay alone decides, so a change could read Deployed before this edge
			// has it (3 runs in 20 failed so on deploy-0 under -race, docs/reliability.md finding 6).
			wait.For(t, 5*time.Second, "the edge node in the registry", func() error {
				f, err := api.Store.LiveEdges(context.Background(), time.Minute)
				if err == nil && f.Live == 0 {
					err = errors.New("no live edge yet")
				}
				return err
			})
			c := api.Client(sailtest.Alice, "us-east-1")
			viewer := sailtest.EdgeClient()
			defer viewer.CloseIdleConnections()
			for i := range 5 {
				name := fmt.Sprintf("deploy-%d", i)
				host := aws.ToString(mustCreate(t, c, name).Distribution.DomainName)
				api.Clock.Advance(time.Hour) // far past the deploy delay
				wait.Until(t, 5*time.Second, name+" Deployed", func() bool { return aws.ToString(getOne(t, c, name).Status) == "Deployed" })
				req, _ := http.NewRequest(http.MethodGet, edge.Edge.URL+"/", nil)
				req.Host = host
				resp, err := viewer.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s reported Deployed, but the edge answers %d", name, resp.StatusCode)
				}
			}
		})
	}
}

// The rule beyond the deploy delay, with the edge registry driven directly (the real store): a live
// edge behind a change holds it InProgress (and a cache reset InProgress rather than Completed) until
// it reports the change's generation; an edge silent for longer than the edge timeout stops counting;
// with no live edge at all the deploy delay alone decides.
func TestDeployedWaitsForLiveEdgesOnly(t *testing.T) {
	const edgeTimeout = app.MinEdgeTimeout
	e := sailtest.New(t, func(c *sailtest.Config) {
		c.Role = app.RoleAPI
		c.Control.EdgeTimeout = edgeTimeout
		// The server clock follows the wall clock: with sailtest's 200 ms deploy delay, a loaded
		// machine passed it between a create and the next read ("right after create: Deployed").
		// Every step below moves the clock an hour, so a minute changes nothing else.
		c.Control.DeployDelay = time.Minute
	})
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	status := func(name string) string { return aws.ToString(getOne(t, c, name).Status) }
	resetStatus := func(name string) string {
		out, err := c.GetDistributionLatestCacheReset(ctx, &ls.GetDistributionLatestCacheResetInput{DistributionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Status)
	}
	report := func(gen int64) {
		t.Helper()
		if err := e.Store.ReportEdge(ctx, "lagging-edge", "test edge", gen); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: %s, want %s", what, got, want)
		}
	}
	generation := func() int64 {
		g, err := e.Store.ConfigGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	// No edge registered: the deploy delay alone.
	mustCreate(t, c, "no-edges")
	expect("right after create", status("no-edges"), "InProgress")
	e.Clock.Advance(time.Hour)
	expect("no live edge, deploy delay passed", status("no-edges"), "Deployed")

	// A live edge that has not loaded the change.
	report(generation())
	mustCreate(t, c, "waits")
	e.Clock.Advance(time.Hour)
	report(generation() - 1)
	expect("a live edge is behind", status("waits"), "InProgress")
	expect("an older change the edge serves", status("no-edges"), "Deployed")
	report(generation())
	expect("the edge caught up", status("waits"), "Deployed")
	// Deployed is for good: an edge that (re)appears behind does not turn it back.
	report(generation() - 1)
	expect("a deployed distribution when an edge reappears behind", status("waits"), "Deployed")
	report(generation())

	// A cache reset waits the same way.
	if _, err := c.ResetDistributionCache(ctx, &ls.ResetDistributionCacheInput{DistributionName: aws.String("waits")}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	report(generation() - 1)
	expect("reset not purged by a live edge", resetStatus("waits"), "InProgress")
	expect("a cache reset is not a change of the distribution's own", status("waits"), "Deployed")
	report(generation())
	expect("reset purged by every live edge", resetStatus("waits"), "Completed")

	// An edge that falls silent stops counting after the edge timeout.
	mustCreate(t, c, "silent")
	e.Clock.Advance(time.Hour)
	report(generation() - 1)
	expect("the edge is behind", status("silent"), "InProgress")
	took := wait.Until(t, edgeTimeout+5*time.Second, "Deployed once the silent edge stops counting", func() bool { return status("silent") == "Deployed" })
	if took < edgeTimeout-time.Second {
		t.Fatalf("Deployed after %s of silence, before the edge timeout %s", took, edgeTimeout)
	}
}
