package gateway

import (
	"strings"
	"sync"
	"time"
)

// maxCacheEntries bounds the authorizer cache; past it, expired entries are
// dropped first, then the one closest to expiry.
const maxCacheEntries = 10000

// authCache is API Gateway's authorizer result cache: per API stage, keyed
// by authorizer and identity-source values, each entry living for the
// authorizer's TTL.
type authCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]cacheEntry
}

type cacheEntry struct {
	res     *authResult
	expires time.Time
}

func newAuthCache(now func() time.Time) *authCache {
	return &authCache{now: now, entries: map[string]cacheEntry{}}
}

func (c *authCache) get(scope, key string) (*authResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[scope+"|"+key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, scope+"|"+key)
		return nil, false
	}
	return e.res, true
}

func (c *authCache) put(scope, key string, res *authResult, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= maxCacheEntries {
		var soonest string
		var soonestAt time.Time
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
				continue
			}
			if soonest == "" || e.expires.Before(soonestAt) {
				soonest, soonestAt = k, e.expires
			}
		}
		if len(c.entries) >= maxCacheEntries {
			delete(c.entries, soonest)
		}
	}
	c.entries[scope+"|"+key] = cacheEntry{res: res, expires: now.Add(ttl)}
}

// flush drops every entry of one API stage and returns how many there were.
func (c *authCache) flush(scope string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k := range c.entries {
		if strings.HasPrefix(k, scope+"|") {
			delete(c.entries, k)
			n++
		}
	}
	return n
}

// len is for tests.
func (c *authCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
