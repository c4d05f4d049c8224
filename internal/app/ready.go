package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/edge"
)

// Readiness timing.
const (
	// storeProbeTimeout bounds the store check's query: a load balancer's check times out in a few
	// seconds (AWS ALB: 5 s by default), and a store slower than this is not serving the API either.
	storeProbeTimeout = 2 * time.Second
	// storeProbeReuse is how long a probe's answer is reused: /readyz is unauthenticated, so a
	// flood of it must not become a flood of queries.
	storeProbeReuse = time.Second
	// configStaleAfter is how long an edge may serve an older configuration than the store holds
	// before it counts as not ready: the loader is notified of changes or polls every 250 ms, so a
	// healthy edge catches up within a fraction of a second; one still behind a generation the store had 5 s ago is failing
	// to reload.
	configStaleAfter = 5 * time.Second
)

// readiness runs the checks of GET /readyz for one node.
type readiness struct {
	n *Node

	mu       sync.Mutex // guards the fields below, and serialises store probes
	probedAt time.Time  // when the last probe ran
	storeGen int64      // the store's configuration generation at the last probe
	storeErr error      // the last probe's error
	lag      configLag
	failing  map[string]bool // checks failing at the last run, to log changes once
}

func newReadiness(n *Node) *readiness { return &readiness{n: n, failing: map[string]bool{}} }

// checks runs every check of the node's role, in a fixed order:
//
//	node    not shutting down
//	store   a real query (the configuration generation) answers within 2 s
//	edge    every edge listener is serving (edge roles)
//	config  the edge serves the store's configuration, or caught up within 5 s (edge roles)
//
// The body names what failed without quoting database errors (the endpoint is open and they name
// hosts and users); the cause is logged when a check starts failing.
func (r *readiness) checks(context.Context) []admin.Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.probedAt) >= storeProbeReuse {
		r.probe()
		r.probedAt = time.Now()
	}
	checks := []admin.Check{r.nodeCheck(), r.storeCheck()}
	if r.n.edge != nil {
		checks = append(checks, r.edgeCheck(), r.configCheck(now))
	}
	r.logChanges(checks)
	return checks
}

// probe reads the store's configuration generation on a context of its own: one impatient caller
// must not turn the shared answer into "canceled".
func (r *readiness) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), storeProbeTimeout)
	defer cancel()
	r.storeGen, r.storeErr = r.n.Store.ConfigGeneration(ctx)
}

func pass(name, detail string) admin.Check {
	return admin.Check{Name: name, Status: admin.StatusOK, Detail: detail}
}

func fail(name, detail string) admin.Check {
	return admin.Check{Name: name, Status: admin.StatusFail, Detail: detail}
}

func (r *readiness) nodeCheck() admin.Check {
	if r.n.shuttingDown.Load() {
		return fail("node", "shutting down")
	}
	return pass("node", "running")
}

func (r *readiness) storeCheck() admin.Check {
	switch {
	case r.storeErr == nil:
		return pass("store", r.n.Store.Driver()+" answers")
	case errors.Is(r.storeErr, context.DeadlineExceeded):
		return fail("store", fmt.Sprintf("%s gave no answer within %s", r.n.Store.Driver(), storeProbeTimeout))
	default:
		return fail("store", r.n.Store.Driver()+" query failed (the server log has the cause)")
	}
}

func (r *readiness) edgeCheck() admin.Check {
	var serving, broken []string
	listeners := r.n.edge.listeners
	if r.n.edgeTLS != nil {
		listeners = append(slices.Clone(listeners), r.n.edgeTLS.listeners...)
	}
	for _, l := range listeners {
		switch err := l.stoppedErr(); {
		case err == nil && !r.n.shuttingDown.Load():
			serving = append(serving, l.addr.String())
		case err == nil, errors.Is(err, http.ErrServerClosed):
			broken = append(broken, l.addr.String()+": shutting down")
		default:
			broken = append(broken, l.addr.String()+": stopped serving: "+err.Error())
		}
	}
	if len(broken) > 0 {
		return fail("edge", strings.Join(broken, "; "))
	}
	return pass("edge", "listening on "+strings.Join(serving, ", "))
}

// configCheck compares the generation the edge serves with the store's.
func (r *readiness) configCheck(now time.Time) admin.Check {
	served := r.n.Edge.Generation()
	if r.storeErr != nil {
		return pass("config", fmt.Sprintf("serving generation %d (the store cannot be asked for a newer one)", served))
	}
	if target, behind := r.lag.observe(served, r.storeGen, now); behind > configStaleAfter {
		return fail("config", fmt.Sprintf("serving generation %d; the store has held %d or newer for %s (configuration reloads are failing: see the log and sailcdn_edge_config_reload_errors_total)",
			served, target, behind.Round(time.Second)))
	}
	how := fmt.Sprintf("polling every %s", edge.DefaultPollInterval)
	if r.n.Edge.Notified() {
		how = "notified of changes"
	}
	return pass("config", fmt.Sprintf("serving generation %d, %s", served, how))
}

// configLag tracks how long an edge has been behind the store. A busy API moves the store's
// generation all the time, so "behind right now" says nothing; "still behind a generation the store
// held a while ago" says that reloads are failing.
type configLag struct {
	target int64     // the store generation the edge is waiting to reach; 0: not behind
	since  time.Time // when the store was first seen at target
}

// observe records that the edge serves served while the store holds stored, and returns the generation
// the edge has been behind and for how long (0 when it is not behind one it should have reached).
func (l *configLag) observe(served, stored int64, now time.Time) (target int64, behind time.Duration) {
	switch {
	case served >= stored:
		l.target = 0
		return 0, 0
	case l.target == 0 || served >= l.target:
		// Newly behind, or caught up with the old target but behind a newer one: wait for this one.
		l.target, l.since = stored, now
	}
	return l.target, now.Sub(l.since)
}

// logChanges logs each check that starts failing (with the store's error, which the body leaves out)
// and each that recovers, once per change rather than once per probe.
func (r *readiness) logChanges(checks []admin.Check) {
	for _, c := range checks {
		bad := c.Status != admin.StatusOK
		if bad == r.failing[c.Name] {
			continue
		}
		r.failing[c.Name] = bad
		if !bad {
			r.n.log.Info("ready check passes again", "check", c.Name, "detail", c.Detail)
			continue
		}
		attrs := []any{"check", c.Name, "detail", c.Detail}
		if c.Name == "store" && r.storeErr != nil {
			attrs = append(attrs, "err", r.storeErr)
		}
		r.n.log.Warn("ready check fails", attrs...)
	}
}
