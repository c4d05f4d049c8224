// Package app assembles sailcdn from its parts: the Lightsail API (awsjson over sigv4 over control), the
// admin endpoints, and (with the edge) the data plane. cmd/sailcdn and the test harness both build
// through here, so tests exercise exactly the wiring that ships.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/console"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/sigv4"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

// Config is everything App needs; cmd/sailcdn fills it from flags.
type Config struct {
	Store   *store.DB
	Clock   *clock.Offset // the server clock; the admin endpoint moves it
	Keyring *auth.Keyring
	// Dev opens the admin endpoints without authentication (developer mode, loopback only).
	Dev     bool
	Catalog billing.Catalog

	EdgeDomain       string
	MaxDistributions int
	PageSize         int
	DeployDelay      time.Duration

	// WallClock is what SigV4's ±15 minute skew window is checked against: clients sign with real time,
	// whatever the server clock has been moved to. nil = time.Now.
	WallClock func() time.Time
	Logger    *slog.Logger
}

// App is an assembled sailcdn.
type App struct {
	Control *control.Service
	// API serves the Lightsail API at "/" and the admin endpoints at "/_sailcdn/".
	API http.Handler

	mux      *http.ServeMux
	verifier *sigv4.Verifier
	cfg      Config
}

// New assembles an App.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.Keyring == nil {
		return nil, errors.New("app: Store, Clock and Keyring are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctl := control.New(control.Config{
		Store:            cfg.Store,
		Clock:            cfg.Clock,
		Catalog:          cfg.Catalog,
		EdgeDomain:       cfg.EdgeDomain,
		MaxDistributions: cfg.MaxDistributions,
		DeployDelay:      cfg.DeployDelay,
		PageSize:         cfg.PageSize,
		Logger:           cfg.Logger,
	})
	a := &App{Control: ctl, cfg: cfg, mux: http.NewServeMux()}
	a.verifier = &sigv4.Verifier{
		Service: "lightsail",
		Lookup: func(id string) (string, string, bool) {
			k, ok := cfg.Keyring.Lookup(id)
			return k.Secret, k.AccountID, ok
		},
		Now: cfg.WallClock,
	}
	api := &awsjson.Server{
		TargetPrefix: lightsail.TargetPrefix,
		ServiceName:  "Lightsail",
		Handlers:     lightsail.Handlers(ctl),
		Known:        lightsail.AllOperations,
		Authenticate: a.authenticate,
		Internal: func(err error) awsjson.APIError {
			return lightsail.Errorf(lightsail.ServiceFailure, "InternalError", "An internal error occurred. Try again later.")
		},
		Logger: cfg.Logger,
	}
	a.mux.Handle("/", api)
	// Browsers may not drive the admin endpoints from another site (CSRF against a developer's
	// loopback server in --dev): cross-origin unsafe requests are refused.
	a.mux.Handle("/_sailcdn/", http.NewCrossOriginProtection().Handler(&admin.Handler{
		Store:     cfg.Store,
		Clock:     cfg.Clock,
		Authorize: a.authorizeAdmin,
		Logger:    cfg.Logger,
		Extra:     map[string]http.Handler{"/_sailcdn/usage": http.HandlerFunc(a.usage)},
	}))
	a.mux.Handle(console.Prefix, console.Handler()) // the web console: static files; its data comes from signed API calls
	a.API = a.mux
	return a, nil
}

// UsageReport is the body of GET /_sailcdn/usage and what `sailcdn usage` prints.
type UsageReport struct {
	Now           time.Time   `json:"now"`
	Distributions []usage.Row `json:"distributions"`
}

// usage serves GET /_sailcdn/usage[?account=ID]: every live distribution's current cycle against its quota.
func (a *App) usage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		awsjson.WriteError(w, &awsjson.Error{Type: awsjson.TypeUnknownOperation, Status: http.StatusMethodNotAllowed, Message: "use GET"})
		return
	}
	now := a.cfg.Clock.Now()
	rows, err := usage.Report(r.Context(), a.cfg.Store, a.Control.Catalog(), r.URL.Query().Get("account"), now)
	if err != nil {
		a.cfg.Logger.Error("usage report", "err", err)
		awsjson.WriteError(w, lightsail.Errorf(lightsail.ServiceFailure, "InternalError", "could not compute usage"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(UsageReport{Now: now, Distributions: rows})
}

// Handle adds a route to the API port (the console, /metrics).
func (a *App) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

func (a *App) authenticate(r *http.Request, body []byte) (context.Context, error) {
	cred, err := a.verifier.Verify(r, body)
	if err != nil {
		return nil, err
	}
	return control.WithCaller(r.Context(), control.Caller{
		AccountID:   cred.AccountID,
		Region:      cred.Region,
		AccessKeyID: cred.AccessKeyID,
	}), nil
}

// errNotLoopback refuses a --dev admin request addressed to a non-loopback host name.
var errNotLoopback = errors.New("in --dev the admin endpoints answer only requests addressed to localhost or a loopback address")

// loopbackHost reports whether a Host header names this machine: localhost, *.localhost or a loopback IP.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// RequireAdmin wraps h so that only admins (anyone, in --dev, on loopback) reach it: /metrics names
// every tenant's distributions and traffic.
func (a *App) RequireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.authorizeAdmin(r, nil); err != nil {
			awsjson.WriteError(w, lightsail.Errorf(lightsail.AccessDenied, "", "%s", err.Error()))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// errAdminOnly is returned for a valid signature by a key without sailcdn_admin.
var errAdminOnly = errors.New("this access key may not use the admin endpoints (set sailcdn_admin = true on its profile)")

// authorizeAdmin: in --dev the admin endpoints are open (the server only listens on loopback then).
// Otherwise a request must be SigV4-signed (service "lightsail", any region) by a key whose profile has
// sailcdn_admin = true; curl can sign with --aws-sigv4 "aws:amz:us-east-1:lightsail".
func (a *App) authorizeAdmin(r *http.Request, body []byte) error {
	if a.cfg.Dev {
		// Open, but only to requests addressed to a loopback name: a DNS-rebinding page would arrive
		// with its own host name.
		if !loopbackHost(r.Host) {
			return errNotLoopback
		}
		return nil
	}
	cred, err := a.verifier.Verify(r, body)
	if err != nil {
		return err
	}
	if k, ok := a.cfg.Keyring.Lookup(cred.AccessKeyID); !ok || !k.Admin {
		return errAdminOnly
	}
	return nil
}
