package admin

import (
	"net/http"
)

// Check is one readiness check as GET /readyz reports it.
type Check struct {
	Name string `json:"name"`
	// Status is "ok" or "fail".
	Status string `json:"status"`
	// Detail says what was seen, or what is wrong.
	Detail string `json:"detail"`
}

// Check statuses.
const (
	StatusOK   = "ok"
	StatusFail = "fail"
)

// Readiness is the body of GET /readyz: "ok" (200) when every check passed, "unavailable" (503)
// otherwise, with every check either way so that an operator sees the whole picture.
type Readiness struct {
	Status string  `json:"status"`
	Role   string  `json:"role"`
	Checks []Check `json:"checks"`
}

// HTTPStatus is what load balancers read: 200 ready, 503 not.
func (r Readiness) HTTPStatus() int {
	if r.Status == StatusOK {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// liveness is the body of GET /healthz.
type liveness struct {
	Status string `json:"status"`
}

// healthz answers while the process can serve HTTP at all: a load balancer or supervisor restarts a
// process whose /healthz stops answering.
func (h *Handler) healthz(*http.Request, []byte) (any, error) {
	return liveness{Status: StatusOK}, nil
}

func (h *Handler) readyz(r *http.Request, _ []byte) (any, error) {
	checks := h.cfg.Ready(r.Context())
	status := StatusOK
	for _, c := range checks {
		if c.Status != StatusOK {
			status = "unavailable"
		}
	}
	return Readiness{Status: status, Role: h.cfg.Role, Checks: checks}, nil
}
