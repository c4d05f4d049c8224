package httpcache

import (
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/maypok86/otter/v2"

	"github.com/sailcdn/sailcdn/internal/uripath"
)

// Storage layout: one otter entry per (namespace, purge generation, target URI) holds every
// stored response for that URI — the edge keys and methods under it and their Vary variants.
// Grouping by URI makes RFC 9111 §4.4 invalidation ("invalidate the target URI", whatever
// headers or cookies the edge put in its keys) a single O(1) delete, and putting the generation
// in the key makes Purge effective immediately.

// resourceKey identifies one target URI of one namespace generation.
type resourceKey struct {
	ns    string
	gen   uint64
	host  string
	path  string // escaped, in normal form
	query string
}

// resource is the immutable set of variants stored for a URI, newest first. Updates replace the
// whole value (copy on write) inside otter's Compute, so readers need no lock.
type resource struct {
	entries []*entry
	weight  uint32
}

// maxVariantsPerResource bounds the variants kept per URI, so that a Vary on a high-cardinality
// header (User-Agent) cannot grow one resource without limit; the oldest variants go first.
const maxVariantsPerResource = 32

// resourceKey identifies u's resource. Its path is the escaped path in normal form (package
// uripath), not the decoded one: "/a%2Fb" and "/a/b" are two resources (RFC 3986 §2.2), and if
// they shared one entry's bounded list of variants, spellings of the one could push the other out.
func (c *Cache) resourceKey(namespace string, u *url.URL, host string) resourceKey {
	if u.Host != "" {
		host = u.Host
	}
	path := u.EscapedPath()
	if normal, ok := uripath.Normalize(path); ok {
		path = normal
	}
	return resourceKey{ns: namespace, gen: c.generation(namespace), host: host, path: path, query: u.RawQuery}
}

// lookup selects the stored response for a request (RFC 9111 §4.1): same storage method and edge
// key, and a matching secondary key; the newest matching variant wins.
func (c *Cache) lookup(rk resourceKey, method, key string, h http.Header) *entry {
	res, ok := c.store.GetIfPresent(rk)
	if !ok {
		return nil
	}
	for _, e := range res.entries {
		if e.method == method && e.key == key && e.varyMatches(h) {
			return e
		}
	}
	return nil
}

// insert stores e. It supersedes replaced (the entry a revalidation started from) and any older
// variant of the same key that the request which produced e would have selected.
func (c *Cache) insert(rk resourceKey, e *entry, reqHeader http.Header, replaced *entry) bool {
	if e.size > c.maxBytes || e.size > math.MaxUint32 {
		return false
	}
	if rk.gen != c.generation(rk.ns) {
		return false // purged while the fill ran
	}
	c.store.Compute(rk, func(old *resource, found bool) (*resource, otter.ComputeOp) {
		next := &resource{entries: make([]*entry, 1, 4)}
		next.entries[0] = e
		total := e.size
		if found {
			for _, o := range old.entries {
				if o == replaced || o.method == e.method && o.key == e.key && o.varyMatches(reqHeader) {
					continue
				}
				if len(next.entries) == maxVariantsPerResource || total+o.size > math.MaxUint32 {
					break
				}
				next.entries = append(next.entries, o)
				total += o.size
			}
		}
		next.weight = uint32(total)
		return next, otter.WriteOp
	})
	return true
}

// remove deletes one stored variant, e.g. when its revalidation returned a response that may not
// be stored: the origin has replaced it with something the cache must not keep.
func (c *Cache) remove(rk resourceKey, e *entry) {
	c.store.ComputeIfPresent(rk, func(old *resource) (*resource, otter.ComputeOp) {
		next := &resource{}
		total := int64(0)
		for _, o := range old.entries {
			if o != e {
				next.entries = append(next.entries, o)
				total += o.size
			}
		}
		if len(next.entries) == len(old.entries) {
			return old, otter.CancelOp
		}
		if len(next.entries) == 0 {
			return nil, otter.InvalidateOp
		}
		next.weight = uint32(total)
		return next, otter.WriteOp
	})
}

// invalidateUnsafe applies RFC 9111 §4.4 after a non-error response to an unsafe method: the
// target URI and the URIs in Location and Content-Location, when they share the target's origin
// (so that a response cannot be used to knock out another site's entries).
func (c *Cache) invalidateUnsafe(r *Request, respHeader http.Header) {
	target := r.Out.URL
	c.store.Invalidate(c.resourceKey(r.Namespace, target, r.Out.Host))
	for _, field := range [...]string{"Location", "Content-Location"} {
		v := respHeader.Get(field)
		if v == "" {
			continue
		}
		u, err := target.Parse(v)
		if err != nil || !sameOrigin(u, target, r.Out.Host) {
			continue
		}
		same := *u
		same.Host = target.Host // the same origin may be spelt in another case
		c.store.Invalidate(c.resourceKey(r.Namespace, &same, r.Out.Host))
	}
}

// sameOrigin compares scheme and authority (RFC 6454 origin), host case-insensitively.
func sameOrigin(u, target *url.URL, fallbackHost string) bool {
	th := target.Host
	if th == "" {
		th = fallbackHost
	}
	uh := u.Host
	if uh == "" {
		uh = th
	}
	return strings.EqualFold(u.Scheme, target.Scheme) && strings.EqualFold(uh, th)
}

// sameURI reports whether u names the same resource as target (for a POST response's
// Content-Location, RFC 9110 §9.3.3).
func sameURI(u, target *url.URL, fallbackHost string) bool {
	return sameOrigin(u, target, fallbackHost) && u.Path == target.Path && u.RawQuery == target.RawQuery
}
