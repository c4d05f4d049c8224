package control

import (
	"context"
	"time"
)

// When is a change deployed? (issue 10 item 4, docs/decisions.md "Scale-out")
//
// A change that must reach the edges — a create, an update that set DeployedAt again, a cache reset —
// is committed at some configuration generation (store: Distribution.DeployGeneration,
// CacheReset.Generation). Every edge reports the generation it serves to the store's edge registry,
// with a heartbeat. The change is deployed when both hold:
//
//   - at least the deploy delay has passed since it, by the server clock: clients observe InProgress
//     however fast the edges are, as on AWS;
//   - every live edge serves its generation or a newer one, an edge being live while its last
//     heartbeat is younger than EdgeTimeout by the database's clock. An edge killed without leaving
//     the registry holds changes back for at most that long.
//
// With no live edge at all (an api-only fleet whose edges are all down, or not started yet) nothing
// can serve the change and nothing is waited for: the deploy delay alone decides, so CloudFormation
// and Terraform never wait forever on a fleet without edges.

// DefaultEdgeTimeout is how long an edge may stay silent in the registry and still count as live: ten
// heartbeats (edge.HeartbeatInterval is 1 s), long enough to ride out a slow store or a busy host,
// short enough that a killed edge holds changes back only briefly.
const DefaultEdgeTimeout = 10 * time.Second

// deployed reports whether a change committed at generation gen, due no earlier than due (server
// clock), is deployed at now. Deployed is sticky: once every live edge was seen serving a generation,
// servedFloor remembers it, and changes at or below it need no more reads of the registry (the usual
// case: a distribution deployed long ago costs GetDistributions nothing).
func (s *Service) deployed(ctx context.Context, due time.Time, gen int64, now time.Time) (bool, error) {
	if now.Before(due) {
		return false, nil
	}
	if gen <= s.servedFloor.Load() {
		return true, nil
	}
	fleet, err := s.db.LiveEdges(ctx, s.edgeTimeout)
	if err != nil {
		return false, err
	}
	if fleet.Live > 0 {
		for floor := s.servedFloor.Load(); fleet.MinGeneration > floor; floor = s.servedFloor.Load() {
			if s.servedFloor.CompareAndSwap(floor, fleet.MinGeneration) {
				break
			}
		}
	}
	return fleet.Serves(gen), nil
}
