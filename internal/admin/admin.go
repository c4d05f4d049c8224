// Package admin serves sailcdn's operator endpoints, built like the Lightsail API: a table of
// method-pattern routes, handlers that return (value, error), named error constructors, and awsjson's
// one error writer, so every failure has AWS's shape.
//
//	GET      /healthz                 the process lives (open: load balancers do not sign)
//	GET      /readyz                  the node can do its work; 503 naming each failing check (open)
//	GET      /metrics                 Prometheus metrics: every tenant's distributions and traffic (admins)
//	GET/POST /_sailcdn/clock          read or move the server clock (admins)
//	GET/POST /_sailcdn/origins        list or register origins (admins)
//	GET      /_sailcdn/usage          each distribution's cycle against its quota (admins)
//	GET      /_sailcdn/ca.pem         the root certificate of sailcdn's CA (open: it is public)
//	GET      /_sailcdn/edges          the edge registry: each edge's generation, heartbeat, liveness (admins)
//
// Nodes that serve the API share its port with these routes; edge nodes serve health and metrics on
// their own admin port. Who is an admin is Access's decision.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Config says which endpoints a Handler serves and what backs them.
type Config struct {
	// Store, Clock and Catalog back the /_sailcdn/ endpoints. A nil Store leaves them out: an edge
	// node's admin port serves only health and metrics.
	Store   *store.DB
	Clock   Clock
	Catalog billing.Catalog
	// EdgeTimeout is the API's edge timeout, which /_sailcdn/edges judges liveness by.
	EdgeTimeout time.Duration
	// Access decides who is an admin; required.
	Access *Access
	// Metrics serves GET /metrics to admins; nil leaves it out.
	Metrics http.Handler
	// Ready runs the readiness checks of GET /readyz; nil leaves /healthz and /readyz out.
	Ready func(context.Context) []Check
	// Role is reported by /readyz ("all", "api" or "edge").
	Role string
	// CARoot is the PEM root of sailcdn's CA, served at GET /_sailcdn/ca.pem; nil leaves it out.
	CARoot []byte
	Logger *slog.Logger
}

// Handler serves the endpoints its Config names; anything else under them is an AWS-shaped 404, and a
// known path with another method a 405 with Allow.
type Handler struct {
	cfg    Config
	routes []route
	root   http.Handler
}

// route is one endpoint. Exactly one of serve and raw is set.
type route struct {
	method, path string
	// open routes are served without authorization (health checks: load balancers do not sign).
	open bool
	// serve returns the value written as the JSON response, or an error for the one error writer.
	serve func(r *http.Request, body []byte) (any, error)
	// raw writes its own response (Prometheus' text format).
	raw http.Handler
}

// maxBody bounds admin request bodies; they are tiny JSON objects.
const maxBody = 64 << 10

// New builds the Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Access == nil {
		return nil, errors.New("admin: Config.Access is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg}
	if cfg.Ready != nil {
		h.routes = append(h.routes,
			route{method: http.MethodGet, path: "/healthz", open: true, serve: h.healthz},
			route{method: http.MethodGet, path: "/readyz", open: true, serve: h.readyz})
	}
	if cfg.Metrics != nil {
		h.routes = append(h.routes, route{method: http.MethodGet, path: "/metrics", raw: cfg.Metrics})
	}
	if cfg.Store != nil {
		if cfg.Clock == nil {
			return nil, errors.New("admin: Config.Clock is required with a Store")
		}
		h.routes = append(h.routes,
			route{method: http.MethodGet, path: "/_sailcdn/clock", serve: h.getClock},
			route{method: http.MethodPost, path: "/_sailcdn/clock", serve: h.setClock},
			route{method: http.MethodGet, path: "/_sailcdn/origins", serve: h.listOrigins},
			route{method: http.MethodPost, path: "/_sailcdn/origins", serve: h.putOrigin},
			route{method: http.MethodGet, path: "/_sailcdn/usage", serve: h.usage},
			route{method: http.MethodGet, path: "/_sailcdn/edges", serve: h.edges})
	}
	if cfg.CARoot != nil {
		h.routes = append(h.routes, route{method: http.MethodGet, path: "/_sailcdn/ca.pem", open: true, raw: caPEM(cfg.CARoot)})
	}
	mux := http.NewServeMux()
	for _, rt := range h.routes {
		mux.Handle(rt.method+" "+rt.path, h.endpoint(rt))
	}
	mux.Handle("/", h.endpoint(route{serve: h.noRoute}))
	// Browsers may not drive the admin endpoints from another site (CSRF against a developer's
	// loopback server in --dev): cross-origin unsafe requests are refused.
	h.root = http.NewCrossOriginProtection().Handler(mux)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// Mount routes every path h serves to h on mux, which other surfaces share (the API port: the
// Lightsail API at "/", the console).
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, p := range h.Paths() {
		mux.Handle(p, h)
	}
}

// Paths are the ServeMux patterns (without methods) h serves: "/_sailcdn/" as a whole, so that an
// unknown admin path gets the admin endpoints' 404 rather than the API's.
func (h *Handler) Paths() []string {
	var paths []string
	for _, rt := range h.routes {
		p := rt.path
		if strings.HasPrefix(p, "/_sailcdn/") {
			p = "/_sailcdn/"
		}
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// endpoint adapts a route to http.Handler: the body is read (bounded), the caller authorized unless
// the route is open, and the route's value or error written.
func (h *Handler) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			h.writeError(w, r, awsjson.RequestTooLargeError(maxBody))
			return
		}
		if !rt.open && !h.openPath(r.URL.Path) {
			if err := h.cfg.Access.Authorize(r, body); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
		if rt.raw != nil {
			rt.raw.ServeHTTP(w, r)
			return
		}
		v, err := rt.serve(r, body)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if s, ok := v.(interface{ HTTPStatus() int }); ok {
			status = s.HTTPStatus()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v) // a write error means the client is gone
	})
}

// openPath reports whether path belongs to an open route: a wrong method there is answered without
// asking a load balancer to sign.
func (h *Handler) openPath(path string) bool {
	return slices.ContainsFunc(h.routes, func(rt route) bool { return rt.open && rt.path == path })
}

// noRoute answers what no route matched: 405 with Allow for a known path, 404 otherwise.
func (h *Handler) noRoute(r *http.Request, _ []byte) (any, error) {
	var allow []string
	for _, rt := range h.routes {
		if rt.path == r.URL.Path {
			allow = append(allow, rt.method)
			if rt.method == http.MethodGet {
				allow = append(allow, http.MethodHead) // ServeMux serves HEAD with the GET route
			}
		}
	}
	if len(allow) > 0 {
		return nil, methodNotAllowed(allow)
	}
	return nil, noEndpoint(r.URL.Path)
}

// writeError is the one exit of every failure: an AWS-shaped error goes out as it describes itself; any
// other error is the server's own failure, logged here once with its cause and answered with a 500
// that reveals nothing of it.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var notAllowed *methodNotAllowedError
	if errors.As(err, &notAllowed) {
		w.Header().Set("Allow", strings.Join(notAllowed.allow, ", "))
	}
	var apiErr awsjson.APIError
	if !errors.As(err, &apiErr) {
		h.cfg.Logger.Error("admin: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		apiErr = internalFailure(err)
	}
	awsjson.WriteError(w, apiErr)
}
