package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/store"
)

// The config check fails only when the edge stays behind a generation the store held long ago, not
// when a busy API keeps the store a step ahead.
func TestConfigLag(t *testing.T) {
	t0 := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	type step struct {
		at             time.Duration
		served, stored int64
		target         int64
		behind         time.Duration
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"in step", []step{{0, 5, 5, 0, 0}, {10 * time.Second, 6, 6, 0, 0}}},
		{"behind, then caught up", []step{{0, 5, 6, 6, 0}, {2 * time.Second, 5, 6, 6, 2 * time.Second}, {3 * time.Second, 6, 6, 0, 0}}},
		{"stuck", []step{{0, 5, 6, 6, 0}, {4 * time.Second, 5, 7, 6, 4 * time.Second}, {9 * time.Second, 5, 9, 6, 9 * time.Second}}},
		{"busy but reloading", []step{
			{0, 5, 6, 6, 0},
			{3 * time.Second, 6, 7, 7, 0}, // reached 6; now waiting for 7, counted from here
			{6 * time.Second, 7, 8, 8, 0},
			{9 * time.Second, 7, 9, 8, 3 * time.Second},
		}},
		{"ahead of a stale probe", []step{{0, 7, 6, 0, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l configLag
			for i, s := range tc.steps {
				target, behind := l.observe(s.served, s.stored, t0.Add(s.at))
				if target != s.target || behind != s.behind {
					t.Errorf("step %d: observe(%d, %d) = %d, %s; want %d, %s", i, s.served, s.stored, target, behind, s.target, s.behind)
				}
			}
		})
	}
}

// An edge listener that stops serving makes the node unready and is reported to Run, which then shuts
// the node down.
func TestEdgeListenerFailureIsReported(t *testing.T) {
	n, err := Start(context.Background(), Config{
		Role:   RoleEdge,
		Store:  store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")},
		Dev:    true,
		Edge:   EdgeConfig{Addr: "127.0.0.1:0"},
		Admin:  AdminConfig{Addr: "127.0.0.1:0"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	if c := n.ready.checks(context.Background())[2]; c.Name != "edge" || c.Status != admin.StatusOK {
		t.Fatalf("edge check while serving: %+v", c)
	}
	n.edge.listeners[0].ln.Close()
	select {
	case err := <-n.failed:
		if !strings.Contains(err.Error(), "edge server on "+n.Addrs().Edge) {
			t.Errorf("reported failure: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the listener's failure was not reported")
	}
	c := n.ready.checks(context.Background())[2]
	if c.Status != admin.StatusFail || !strings.Contains(c.Detail, "stopped serving") {
		t.Errorf("edge check after the listener failed: %+v", c)
	}
}
