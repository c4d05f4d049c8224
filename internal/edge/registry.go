package edge

import (
	"context"
	"time"

	"github.com/sailcdn/sailcdn/internal/backoff"
)

// Registration: the edge reports the configuration generation it serves, with a heartbeat, to the
// store's edge registry (store.DB.ReportEdge) when Run starts, every HeartbeatInterval, and at once
// after each reload that changed what it serves; Run removes it when it ends. The API reports a change
// Deployed once every live edge serves it, an edge being live while its heartbeat is younger than the
// API's edge timeout (docs/decisions.md, "Scale-out").

const (
	// HeartbeatInterval is how often a registered edge reports itself. The API's edge timeout must
	// be several of them (app requires at least 3 s).
	HeartbeatInterval = time.Second
	// forgetEdgesAfter is how long a silent (killed) edge stays listed in the registry for operators;
	// a starting or stopping edge prunes older rows.
	forgetEdgesAfter = 24 * time.Hour
	// removeTimeout bounds the removal of the edge's row when it stops: a store that is down must not
	// hold up a shutdown (the row then ages out after the API's edge timeout).
	removeTimeout = 2 * time.Second
)

// registerBackoff spaces reports while the store is unreachable.
var registerBackoff = backoff.Policy{Min: HeartbeatInterval, Max: 5 * time.Second}

// register reports the edge until ctx ends, then removes it.
func (e *Edge) register(ctx context.Context) {
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
		defer cancel()
		if err := e.db.RemoveEdge(rctx, e.id, forgetEdgesAfter); err != nil {
			e.log.Warn("edge: could not leave the edge registry; the API stops counting this edge after its edge timeout", "edge", e.id, "err", err)
		}
	}()
	outage := backoff.Streak{Policy: registerBackoff}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.report:
		case <-t.C:
		}
		err := e.db.ReportEdge(ctx, e.id, e.node, e.Generation())
		next := HeartbeatInterval
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			first, wait := outage.Fail()
			if first {
				e.log.Warn("edge: heartbeat failed; still serving", "edge", e.id, "err", err)
			}
			next = wait
		default:
			if n := outage.Succeed(); n > 0 {
				e.log.Info("edge: heartbeats again", "edge", e.id, "failed_attempts", n)
			}
		}
		t.Reset(next)
	}
}

// reportSoon asks the registration loop to report now rather than at the next heartbeat.
func (e *Edge) reportSoon() {
	select {
	case e.report <- struct{}{}:
	default:
	}
}
