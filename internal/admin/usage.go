package admin

import (
	"net/http"
	"time"

	"github.com/sailcdn/sailcdn/internal/usage"
)

// UsageReport is the body of GET /_sailcdn/usage and what `sailcdn usage` prints.
type UsageReport struct {
	Now           time.Time   `json:"now"`
	Distributions []usage.Row `json:"distributions"`
}

// usage serves GET /_sailcdn/usage[?account=ID]: every live distribution's current cycle against its
// quota, by the server clock.
func (h *Handler) usage(r *http.Request, _ []byte) (any, error) {
	now := h.cfg.Clock.Now()
	rows, err := usage.Report(r.Context(), h.cfg.Store, h.cfg.Catalog, r.URL.Query().Get("account"), now)
	if err != nil {
		return nil, serverFailed("compute usage", err)
	}
	return UsageReport{Now: now, Distributions: rows}, nil
}
