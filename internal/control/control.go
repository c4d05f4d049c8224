// Package control is the Lightsail control plane: one method per Lightsail operation, named as AWS names
// it, and every business rule of the distribution API (regions, names, quotas, bundle-change cycles,
// operations, tags). It implements lightsail.API over the store; it never reads the wall clock.
package control

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	Store   *store.DB
	Clock   clock.Clock     // default: the wall clock
	Catalog billing.Catalog // default: billing.DefaultCatalog()

	// EdgeDomain is the suffix of every distribution's domainName (default "cdn.localhost": *.localhost
	// resolves to loopback in browsers and curl).
	EdgeDomain string
	// MaxDistributions per account (default 20, Lightsail's quota, reference §5.14).
	MaxDistributions int
	// DeployDelay is the least time a created or changed distribution reports "InProgress" before
	// "Deployed", and a cache reset before "Completed" (default 2s: short enough for CI, long enough for
	// a client to observe the transition). Beyond it they wait for every live edge (see EdgeTimeout).
	DeployDelay time.Duration
	// EdgeTimeout is how long an edge may stay silent in the store's edge registry and still count as
	// live: a change is Deployed once every live edge serves it (default DefaultEdgeTimeout).
	EdgeTimeout time.Duration
	// PageSize of GetDistributions (default 25). Lower it to exercise a client's pagination.
	PageSize int
	// Certificates configures validation and issuance of Lightsail certificates.
	Certificates CertificateConfig
	Logger       *slog.Logger
}

// Service implements lightsail.API.
type Service struct {
	db          *store.DB
	clock       clock.Clock
	catalog     billing.Catalog
	edgeDomain  string
	maxDist     int
	deployDelay time.Duration
	edgeTimeout time.Duration
	pageSize    int
	certs       CertificateConfig
	log         *slog.Logger
	configs     configCache

	// servedFloor is a generation every live edge was seen serving (see deployed).
	servedFloor atomic.Int64
}

var _ lightsail.API = (*Service)(nil)

// New returns a Service over cfg.Store.
func New(cfg Config) *Service {
	s := &Service{
		db:          cfg.Store,
		clock:       cfg.Clock,
		catalog:     cfg.Catalog,
		edgeDomain:  cfg.EdgeDomain,
		maxDist:     cfg.MaxDistributions,
		deployDelay: cfg.DeployDelay,
		edgeTimeout: cfg.EdgeTimeout,
		pageSize:    cfg.PageSize,
		certs:       cfg.Certificates,
		log:         cfg.Logger,
	}
	if s.clock == nil {
		s.clock = clock.Wall{}
	}
	if len(s.catalog.Bundles) == 0 {
		s.catalog = billing.DefaultCatalog()
	}
	if s.edgeDomain == "" {
		s.edgeDomain = "cdn.localhost"
	}
	if s.maxDist <= 0 {
		s.maxDist = 20
	}
	if s.deployDelay <= 0 {
		s.deployDelay = 2 * time.Second
	}
	if s.edgeTimeout <= 0 {
		s.edgeTimeout = DefaultEdgeTimeout
	}
	if s.pageSize <= 0 {
		s.pageSize = 25
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.certs.setDefaults()
	return s
}

// Catalog returns the bundle catalog in force.
func (s *Service) Catalog() billing.Catalog { return s.catalog }

// Caller is the authenticated principal of a request.
type Caller struct {
	AccountID   string
	Region      string // from the SigV4 credential scope
	AccessKeyID string
}

type callerKey struct{}

// WithCaller returns ctx carrying the authenticated caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored by WithCaller.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// HomeRegion is where every distribution lives; distribution APIs answer only there (reference §5.1).
const HomeRegion = "us-east-1"

func caller(ctx context.Context) (Caller, error) {
	c, ok := CallerFrom(ctx)
	if !ok || c.AccountID == "" {
		// Reaching control without a caller is a wiring bug, but answer as AWS would.
		return c, lightsail.Errorf(lightsail.Unauthenticated, "Unauthenticated", "The request is not authenticated.")
	}
	return c, nil
}

// distributionCaller is caller plus the us-east-1 gate of distribution APIs. The message follows the one
// AWS returns for its us-east-1-only domain APIs (reference §5.1).
func distributionCaller(ctx context.Context) (Caller, error) {
	c, err := caller(ctx)
	if err != nil {
		return c, err
	}
	if c.Region != HomeRegion {
		return c, lightsail.Errorf(lightsail.InvalidInput, "UnsupportedOperation",
			"Distribution-related APIs are only available in the us-east-1 Region. Please set your Region configuration to us-east-1 to create, view, or edit distribution resources.").
			WithTip("Use region us-east-1 for Lightsail distributions.")
	}
	return c, nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Page tokens are opaque to clients; inside they are a kind letter and the position after which the next
// page starts. The kind stops a token of one listing from being replayed against another.
func encodeToken(kind, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + after))
}

func decodeToken(kind string, token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*token)
	after, ok := strings.CutPrefix(string(raw), kind+":")
	if err != nil || !ok || after == "" {
		return "", lightsail.Errorf(lightsail.InvalidInput, "InvalidPageToken", "The pageToken %q is not valid for this request.", *token).
			WithTip("Pass the nextPageToken of the previous response unchanged, with the same other arguments.")
	}
	return after, nil
}

func decodeSeqToken(token *string) (int64, error) {
	after, err := decodeToken("o", token)
	if err != nil || after == "" {
		return 0, err
	}
	n, perr := strconv.ParseInt(after, 10, 64)
	if perr != nil || n < 0 {
		return 0, lightsail.Errorf(lightsail.InvalidInput, "InvalidPageToken", "The pageToken %q is not valid for this request.", *token)
	}
	return n, nil
}
