package admin

import (
	"net/http"
	"time"
)

// EdgesReport is the body of GET /_sailcdn/edges: the store's edge registry as the API judges it.
type EdgesReport struct {
	// Generation is the store's configuration generation now: an edge serving it is current.
	Generation int64 `json:"generation"`
	// EdgeTimeoutSeconds is how long an edge may stay silent and still count as live (--edge-timeout).
	EdgeTimeoutSeconds float64    `json:"edgeTimeoutSeconds"`
	Edges              []EdgeJSON `json:"edges"`
}

// EdgeJSON is one registered edge.
type EdgeJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Generation int64     `json:"generation"`
	StartedAt  time.Time `json:"startedAt"`
	// HeartbeatAgeSeconds is how long ago the edge last reported, by the database's clock.
	HeartbeatAgeSeconds float64 `json:"heartbeatAgeSeconds"`
	// Live: the edge counts when deciding whether a change is Deployed.
	Live bool `json:"live"`
	// Current: the edge serves the store's latest configuration.
	Current bool `json:"current"`
}

// edges serves GET /_sailcdn/edges, the most recently heard first.
func (h *Handler) edges(r *http.Request, _ []byte) (any, error) {
	gen, err := h.cfg.Store.ConfigGeneration(r.Context())
	if err != nil {
		return nil, serverFailed("read the configuration generation", err)
	}
	list, err := h.cfg.Store.ListEdges(r.Context())
	if err != nil {
		return nil, serverFailed("list edges", err)
	}
	out := EdgesReport{Generation: gen, EdgeTimeoutSeconds: h.cfg.EdgeTimeout.Seconds(), Edges: []EdgeJSON{}}
	for _, e := range list {
		out.Edges = append(out.Edges, EdgeJSON{
			ID: e.ID, Name: e.Name, Generation: e.Generation, StartedAt: e.StartedAt,
			HeartbeatAgeSeconds: e.Age.Seconds(), Live: e.Age < h.cfg.EdgeTimeout, Current: e.Generation >= gen,
		})
	}
	return out, nil
}
