// Package ttlcache is a small, bounded, concurrency-safe cache whose
// entries expire after a fixed time. Herald uses it on the alert intake's
// hot path for what changes rarely and may be a second stale (integration
// keys, services, maintenance windows); the owner of each cache says how
// stale it may be, and the cache is never the source of truth.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps K to V for TTL after each Put. Beyond Max entries the
// expired ones are dropped, then everything (a burst of distinct keys
// costs database reads, never unbounded memory).
type Cache[K comparable, V any] struct {
	TTL time.Duration
	Max int
	Now func() time.Time

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// fresh: stored at most TTL ago, and not in the future (a clock set back
// must not make an old entry live longer).
func (c *Cache[K, V]) fresh(e entry[V], now time.Time) bool {
	return !now.Before(e.at) && now.Before(e.at.Add(c.TTL))
}

// New builds a cache; now is the clock (time.Now when nil).
func New[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *Cache[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{TTL: ttl, Max: max, Now: now, m: map[K]entry[V]{}}
}

// Get returns the value stored for k if it has not expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !c.fresh(e, c.Now()) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v for k until TTL from now.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if len(c.m) >= c.Max {
		for key, e := range c.m {
			if !c.fresh(e, now) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= c.Max {
			clear(c.m)
		}
	}
	c.m[k] = entry[V]{v: v, at: now}
}

// Delete forgets k (a change made on this replica shows at once).
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// Clear forgets everything.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
