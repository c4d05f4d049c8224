package admin

import (
	"encoding/json"
	"net/http"
	"time"
)

// Clock is the movable server clock.
type Clock interface {
	Now() time.Time
	Set(time.Time)
	Offset() time.Duration
}

// clockBody is the clock endpoint's request and response.
type clockBody struct {
	Now string `json:"now"`
}

func (h *Handler) getClock(*http.Request, []byte) (any, error) {
	return clockBody{Now: h.cfg.Clock.Now().UTC().Format(time.RFC3339Nano)}, nil
}

// setClock moves the server clock: billing cycles, createdAt, operations and metrics follow it, so a
// developer reaches the next billing cycle without waiting a month.
func (h *Handler) setClock(r *http.Request, body []byte) (any, error) {
	var in clockBody
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badBody(`{"now": "RFC 3339 time"}`, err)
	}
	t, err := time.Parse(time.RFC3339Nano, in.Now)
	if err != nil {
		return nil, invalidInput("now %q is not an RFC 3339 time such as 2026-04-01T00:00:00Z", in.Now)
	}
	h.cfg.Clock.Set(t)
	// Saved, so that a restart and every other process on the same database keep this "now".
	if err := h.cfg.Store.SetClockOffset(r.Context(), h.cfg.Clock.Offset()); err != nil {
		return nil, serverFailed("save the clock (it moved in this process only)", err)
	}
	h.cfg.Logger.Info("server clock moved", "now", t.UTC().Format(time.RFC3339))
	return h.getClock(r, body)
}
