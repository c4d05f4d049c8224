package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// check returns r's check named name.
func check(r admin.Readiness, name string) admin.Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return admin.Check{}
}

// /readyz follows the store for real: the PostgreSQL server is stopped (its connections cut) and
// started again. Meanwhile the process lives (/healthz), readiness says the store is what is wrong,
// and it recovers by itself.
func TestReadyzFollowsTheStore(t *testing.T) {
	pg := sailtest.PrivatePostgres(t)
	e := sailtest.New(t, sailtest.WithBackend(pg.Backend()))
	if status, r := readiness(t, e.API.URL); status != http.StatusOK {
		t.Fatalf("/readyz before: %d %+v", status, r)
	}

	pg.Stop(t)
	var down admin.Readiness
	wait.For(t, 10*time.Second, "/readyz to report the store unreachable", func() error {
		status, r := readiness(t, e.API.URL)
		if status != http.StatusServiceUnavailable {
			return fmt.Errorf("status %d: %+v", status, r)
		}
		down = r
		return nil
	})
	t.Logf("/readyz while PostgreSQL is stopped: %+v", down)
	if down.Status != "unavailable" {
		t.Errorf("status %q, want unavailable", down.Status)
	}
	store := check(down, "store")
	if store.Status != admin.StatusFail || !strings.Contains(store.Detail, "postgres") {
		t.Errorf("store check: %+v", store)
	}
	if strings.Contains(store.Detail, "127.0.0.1") || strings.Contains(store.Detail, "sailcdn@") {
		t.Errorf("the open endpoint quotes the database error: %q", store.Detail)
	}
	// Only the store is wrong: the edge keeps serving the configuration it has.
	for _, name := range []string{"node", "edge", "config"} {
		if c := check(down, name); c.Status != admin.StatusOK {
			t.Errorf("check %s while the store is down: %+v", name, c)
		}
	}
	if status, _ := get(t, e.API.URL+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz while the store is down: %d", status)
	}
	// Requests that need the store fail cleanly, through each surface's one error writer, without
	// quoting the database's error.
	client := e.Client(sailtest.Alice, "us-east-1")
	_, err := client.GetDistributions(context.Background(), &ls.GetDistributionsInput{})
	var serviceErr *types.ServiceException
	if !errors.As(err, &serviceErr) || aws.ToString(serviceErr.Code) != "StoreUnavailable" ||
		!strings.Contains(serviceErr.ErrorMessage(), "cannot reach its database") {
		t.Errorf("GetDistributions while the store is down: %v, want ServiceException StoreUnavailable saying so", err)
	}
	r := adminRequest(t, e, http.MethodPost, "/_sailcdn/clock", map[string]string{"now": "2030-01-01T00:00:00Z"}, nil)
	if m := r.JSON(t); r.Status != http.StatusInternalServerError || m["__type"] != "ServiceException" ||
		m["message"] != "could not save the clock (it moved in this process only)" {
		t.Errorf("POST /_sailcdn/clock while the store is down: %d %s", r.Status, r.Body)
	}

	pg.Start(t)
	wait.For(t, 15*time.Second, "/readyz to recover", func() error {
		if status, r := readiness(t, e.API.URL); status != http.StatusOK {
			return fmt.Errorf("status %d: %+v", status, r)
		}
		return nil
	})
	// The API recovers by itself too: the pool reconnects on the next request.
	if _, err := client.GetDistributions(context.Background(), &ls.GetDistributionsInput{}); err != nil {
		t.Errorf("GetDistributions after the store came back: %v", err)
	}
}

// Shutdown drains in order: while a viewer's response is still in flight the edge has stopped
// accepting, the API port still answers and /readyz says the node is shutting down (so load balancers
// take it out); the viewer's response then completes, and only then does the node finish stopping.
func TestShutdownDrainsTheEdgeFirst(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "late but whole")
	}))
	defer origin.Close()
	defer close(release)
	e := sailtest.New(t)
	e.AddOrigin("slow", origin.URL, "Instance", "us-east-1")
	out, err := e.Client(sailtest.Alice, "us-east-1").CreateDistribution(context.Background(), &ls.CreateDistributionInput{
		DistributionName: aws.String("slow"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("slow"), RegionName: types.RegionNameUsEast1},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumDontCacheSetting},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.StartEdge()
	viewer := make(chan string, 1)
	go func() {
		resp, err := sailtest.EdgeClient().Do(e.EdgeRequest(http.MethodGet, aws.ToString(out.Distribution.DomainName), "/", ""))
		if err != nil {
			viewer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		viewer <- resp.Status + " " + string(b)
	}()
	select {
	case <-arrived: // the viewer's request is in flight, waiting for the origin
	case <-time.After(5 * time.Second):
		t.Fatalf("the viewer's request did not reach the origin: %s", <-viewer)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- e.Node.Shutdown(context.Background()) }()

	wait.For(t, 5*time.Second, "/readyz to say the node is shutting down", func() error {
		status, r := readiness(t, e.API.URL)
		if status != http.StatusServiceUnavailable || check(r, "node").Detail != "shutting down" {
			return fmt.Errorf("%d %+v", status, r)
		}
		if c := check(r, "edge"); c.Status != admin.StatusFail {
			return fmt.Errorf("edge check %+v", c)
		}
		return nil
	})
	wait.Until(t, 5*time.Second, "the edge to stop accepting viewers", func() bool { return refused(e.Edge.Addr) })
	select {
	case err := <-stopped:
		t.Fatalf("shutdown finished before the response in flight: %v", err)
	default:
	}
	release <- struct{}{}
	if got := <-viewer; got != "200 OK late but whole" {
		t.Errorf("the viewer in flight got %q", got)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
