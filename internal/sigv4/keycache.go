package sigv4

import "sync"

// maxCachedKeys bounds signingKeys. A key is valid for one day, region and service, so a server sees
// a handful per access key; the bound only matters against a client cycling through regions.
const maxCachedKeys = 1024

// maxCachedScopeBytes bounds what one cached entry holds: a real secret (40 characters) and scope
// (a region such as "ap-southeast-5") take well under it. A longer one is derived on every request,
// so that maxCachedKeys also bounds the cache's memory.
const maxCachedScopeBytes = 256

// signingKeys caches derived signing keys per secret, date, region and service. Deriving one takes four
// HMAC-SHA256 computations (SigningKey) and the signature a fifth; every request of a key on one day
// derives the same key, so only the fifth is per request. AWS's SDKs cache it the same way (the Go
// SDK's v4 signer keeps a derived-key cache per credentials and scope).
//
// Only keys that verified a signature are cached (put after the match): an access key id is not a
// secret, and whoever knows one could otherwise fill the cache with the scopes of forged requests.
type signingKeys struct {
	mu   sync.Mutex
	keys map[keyScope][]byte // guarded by mu
}

type keyScope struct {
	secret string // part of the key, so a rotated secret never finds the old key
	scope  Scope
}

// get returns the signing key of secret and scope, deriving it on a miss (without caching it: see
// put). The returned slice must not be modified.
func (c *signingKeys) get(secret string, scope Scope) (key []byte, cached bool) {
	c.mu.Lock()
	key, ok := c.keys[keyScope{secret: secret, scope: scope}]
	c.mu.Unlock()
	if ok {
		return key, true
	}
	return SigningKey(secret, scope), false
}

// put caches key, which has just verified a signature of secret and scope.
func (c *signingKeys) put(secret string, scope Scope, key []byte) {
	if len(secret)+len(scope.Date)+len(scope.Region)+len(scope.Service)+len(scope.Terminator) > maxCachedScopeBytes {
		return
	}
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		// Yesterday's keys are useless today: dropping everything is as good as an LRU here.
		c.keys = make(map[keyScope][]byte)
	}
	c.keys[keyScope{secret: secret, scope: scope}] = key
	c.mu.Unlock()
}
