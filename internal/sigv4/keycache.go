package sigv4

import "sync"

// maxCachedKeys bounds signingKeys. A key is valid for one day, region and service, so a server sees
// a handful per access key; the bound only matters against a client cycling through regions.
const maxCachedKeys = 1024

// signingKeys caches derived signing keys per secret, date, region and service. Deriving one takes four
// HMAC-SHA256 computations (SigningKey) and the signature a fifth; every request of a key on one day
// derives the same key, so only the fifth is per request. AWS's SDKs cache it the same way (the Go
// SDK's v4 signer keeps a derived-key cache per credentials and scope).
type signingKeys struct {
	mu   sync.Mutex
	keys map[keyScope][]byte // guarded by mu
}

type keyScope struct {
	secret string // part of the key, so a rotated secret never finds the old key
	scope  Scope
}

// get returns the signing key of secret and scope, deriving it on a miss. The returned slice must
// not be modified.
func (c *signingKeys) get(secret string, scope Scope) []byte {
	k := keyScope{secret: secret, scope: scope}
	c.mu.Lock()
	key, ok := c.keys[k]
	c.mu.Unlock()
	if ok {
		return key
	}
	key = SigningKey(secret, scope)
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		// Yesterday's keys are useless today: dropping everything is as good as an LRU here.
		c.keys = make(map[keyScope][]byte)
	}
	c.keys[k] = key
	c.mu.Unlock()
	return key
}
