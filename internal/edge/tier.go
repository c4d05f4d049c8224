package edge

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tiered caching (origin shield). An edge started with a parent (Config.Parent, --parent URL) fetches
// what its cache misses from that other sailcdn edge instead of from the origin; the parent serves
// the request from its own cache, so N edges that miss one object cause one origin fetch (the parent's
// cache collapses their concurrent requests as it collapses viewers').
//
// What the child sends is exactly the request it would send to the origin — the distribution's
// forwarding rules already applied — with the parent's address, the viewer-facing path (the origin's
// path prefix taken off again), and a Host the parent routes to the same distribution: the viewer's
// Host when the distribution forwards it, its domain name otherwise. Applying the forwarding rules a
// second time changes nothing, so the parent computes the same cache key and sends the origin the same
// request. The child keeps its own cache key, collapsing and error pages; the parent answers it
// without error pages (the child applies them, once).
//
// Metering. A viewer's bytes are metered once, by the edge the viewer talks to. The parent does not
// meter what it exchanges with a child as the distribution's traffic (those bytes show only in the
// meter's unattributed counter), so a byte is never billed twice. To tell a child from a viewer who
// merely sends the same field, the child signs each request it sends to its parent (tierHeader):
// HMAC-SHA256 over the method, Host, request target, a timestamp and the chain of edges it has passed,
// keyed with a secret drawn once for the whole store (store.DB.Secret), which every node of the store
// reads and nobody else has. A request whose signature does not verify, or is more than
// tierMaxSkew old, is a viewer's and is metered as such. The field never reaches an origin.
//
// Loops. The signed chain lists the edges a request has passed; an edge that finds itself in it
// answers 508 Loop Detected at once, so a misconfigured parent cycle fails fast instead of waiting on
// its own collapsed fill.
//
// A parent that cannot be reached (the connection is refused or times out before anything is sent)
// is skipped for bodiless requests: the child fetches from the origin itself, and logs it once per
// outage, so a parent's outage costs origin load, not availability.

// tierHeader carries a child edge's signature on requests to its parent.
const tierHeader = "X-Sailcdn-Tier"

const (
	// tierMaxSkew bounds the age of a signature (and how far the parent's clock may be behind):
	// machines' clocks differ by seconds at most under NTP, and a signature seen on the wire cannot
	// be replayed later than this.
	tierMaxSkew = 5 * time.Minute
	// parentTimeoutMargin is added to the origin's responseTimeout on the way to a parent, whose own
	// origin exchange runs with that timeout: the parent's 504 then reaches the child rather than the
	// child giving up first.
	parentTimeoutMargin = 5 * time.Second
)

// tier is an edge's side of tiered caching: its parent, if it has one, and the store's key that
// authenticates child requests (every edge can be a parent).
type tier struct {
	parent *url.URL // scheme and host only; nil: fetch from origins
	key    []byte
	self   string // this edge's registry id, in the chains it signs
	now    func() time.Time
}

// ParseParent checks a --parent URL: the plain-HTTP port of another edge, http://host:port. Its HTTPS
// port picks a certificate by the name a viewer asks for (SNI), so it has none for an edge that dials
// it by address; child–parent traffic belongs on a private network.
func ParseParent(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--parent %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("--parent %q: want the plain-HTTP base URL of another sailcdn edge, http://host:port", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// tierChainKey carries, in a child request's context, the chain of edges it has passed, so that what
// this edge sends on to its own parent extends it.
type tierChainKey struct{}

// fromChild checks r's tier field and removes it (it must never reach an origin, a cache key or
// the forwarded headers). It reports whether r comes from a child edge of this store, the chain it
// has passed, and whether this edge is in it (a loop).
func (t *tier) fromChild(r *http.Request) (child bool, chain []string, loop bool) {
	v := r.Header.Get(tierHeader)
	if v == "" {
		return false, nil, false
	}
	r.Header.Del(tierHeader)
	parts := strings.Split(v, ";")
	if len(parts) != 4 || parts[0] != "v1" {
		return false, nil, false
	}
	unix, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false, nil, false
	}
	if age := t.now().Sub(time.Unix(unix, 0)); age > tierMaxSkew || age < -tierMaxSkew {
		return false, nil, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, t.sign(r.Method, r.Host, r.RequestURI, parts[1], parts[2])) {
		return false, nil, false
	}
	chain = strings.Split(parts[2], ",")
	return true, chain, slices.Contains(chain, t.self)
}

func (t *tier) sign(method, host, target, unix, chain string) []byte {
	mac := hmac.New(sha256.New, t.key)
	for _, s := range []string{"v1", method, host, target, unix, chain} {
		mac.Write([]byte(s))
		mac.Write([]byte{'\n'})
	}
	return mac.Sum(nil)
}

// toParent turns req, an origin request for d, into the request for the parent, signed.
func (t *tier) toParent(ctx context.Context, req *http.Request, d *distribution) *http.Request {
	out := req.Clone(ctx)
	u := *req.URL
	u.Scheme, u.Host = t.parent.Scheme, t.parent.Host
	if base := d.origin.base; base != nil {
		u.Path = strings.TrimPrefix(u.Path, base.Path)
		if u.RawPath != "" {
			u.RawPath = strings.TrimPrefix(u.RawPath, base.EscapedPath())
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	out.URL = &u
	if out.Host == "" || out.Host == req.URL.Host {
		out.Host = d.domainName
	}
	chain, _ := ctx.Value(tierChainKey{}).([]string)
	chain = append(slices.Clip(chain), t.self)
	links := strings.Join(chain, ",")
	unix := strconv.FormatInt(t.now().Unix(), 10)
	sig := base64.RawURLEncoding.EncodeToString(t.sign(out.Method, out.Host, u.RequestURI(), unix, links))
	out.Header.Set(tierHeader, "v1;"+unix+";"+links+";"+sig)
	return out
}

// parentUnreachable reports an exchange with the parent that failed before anything was sent: the
// connection could not be made. Only then may the origin be asked instead.
func parentUnreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
