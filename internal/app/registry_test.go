package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// Every node that serves viewers registers its edge, and the API lists the registry at
// /_sailcdn/edges; an edge that shuts down leaves it at once.
func TestEdgesRegisterAndLeave(t *testing.T) {
	e := sailtest.New(t) // role all: its own edge
	edgeNode := e.StartNode(app.RoleEdge)
	report := func() admin.EdgesReport {
		t.Helper()
		r := adminRequest(t, e, http.MethodGet, "/_sailcdn/edges", nil, nil)
		var rep admin.EdgesReport
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &rep) != nil {
			t.Fatalf("GET /_sailcdn/edges: %d %s", r.Status, r.Body)
		}
		return rep
	}
	var rep admin.EdgesReport
	wait.Until(t, 5*time.Second, "both edges registered, live and current", func() bool {
		rep = report()
		if len(rep.Edges) != 2 {
			return false
		}
		for _, x := range rep.Edges {
			if !x.Live || !x.Current || x.HeartbeatAgeSeconds < 0 {
				return false
			}
		}
		return true
	})
	if rep.EdgeTimeoutSeconds != app.DefaultEdgeTimeout.Seconds() {
		t.Errorf("edgeTimeoutSeconds %v", rep.EdgeTimeoutSeconds)
	}
	ids := map[string]bool{e.EdgeService.ID(): true, edgeNode.EdgeService.ID(): true}
	for _, x := range rep.Edges {
		if !ids[x.ID] {
			t.Errorf("unknown edge %+v", x)
		}
	}

	if err := edgeNode.Node.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rep = report(); len(rep.Edges) != 1 || rep.Edges[0].ID != e.EdgeService.ID() {
		t.Fatalf("after the edge node's shutdown: %+v", rep.Edges)
	}
}
