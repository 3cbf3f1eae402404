package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apigw-guard/guard/shared/keyring"
)

// MaxDecisionCacheSize is the largest size [NewDecisionCache] accepts.
const MaxDecisionCacheSize = 1 << 20

// decisionShards is the most shards a DecisionCache splits into, so that
// concurrent callers rarely wait on the same lock.
const decisionShards = 16

// A DecisionCache remembers what a caller decided for a token that
// verified, so that the same token presented again skips the signature
// check, the parsing and whatever the caller derives from the claims. It is
// meant for one process (one Lambda execution environment); build one at
// init with [NewDecisionCache] and share it: it is safe for concurrent use.
// A nil *DecisionCache caches nothing.
//
// Only what a verified token led to belongs in it: [DecisionCache.Put]
// takes the [Claims] that [Verifier.Verify] returned, so refusals, server
// faults and fail-closed answers never enter it, and callers must not put
// decisions that depended on anything that can fail (a revocation lookup,
// say) without checking that again on each hit.
//
// An entry is keyed by the SHA-256 of the whole token; the token itself is
// never stored. A hit serves the entry only while every rule Verify
// applied would still accept the token:
//
//   - The entry ends at the token's exp (not exp plus the clock skew, so
//     never later than Verify would accept it). nbf, iat and the maximum
//     lifetime only get easier to meet as time passes.
//   - The key is looked up again on each hit, from the Verifier's
//     [KeySource] by the token's issuer and kid, and must still have the
//     same alg and the same material as the key recorded by Put. A key
//     that was rotated out, removed from the JWKS or the secret, or
//     replaced under the same kid ends every entry it verified as soon as
//     the KeySource stops serving it, which is when Verify itself would
//     start refusing the token; a KeySource that cannot load keys makes
//     every hit a miss, so the caller's Verify fails closed as before. This
//     costs one in-memory lookup per hit (and, like Verify, lets the
//     KeySource refresh by age).
//   - Each entry carries the caller's generation, a counter that only
//     grows and changes whenever something a decision depended on may
//     have changed (for the authorizers, the revocation view's
//     Generation). A Get with a newer generation than the cache's clears
//     the cache; an entry put under another generation is never served.
//
// The issuer rules, algorithms and claim checks cannot change for a
// Verifier, which is immutable. One narrow case is not covered: Put
// records the key the KeySource serves when Put runs, right after Verify;
// if the KeySource replaced a kid's material with other material under the
// same kid in between (a refresh landing in those microseconds, from an
// issuer that reuses kids, which RFC 7638 thumbprint kids rule out), the
// entry would be checked against the new key.
//
// Size is bounded: at most size entries, evicted in CLOCK order (an entry
// hit since the hand last passed gets a second chance); expired entries go
// first. An entry holds the Claims and the caller's value, so size times a
// few kilobytes is the memory it may take.
type DecisionCache[V any] struct {
	keys    KeySource
	now     func() time.Time
	maxSize int

	gen    atomic.Uint64 // the generation the entries belong to
	shards []decisionShard[V]
}

type decisionShard[V any] struct {
	mu    sync.Mutex
	index map[[sha256.Size]byte]int32 // token hash -> slot
	slots []decisionSlot[V]
	hand  int
	_     [64]byte // keep shards' locks on separate cache lines
}

type decisionSlot[V any] struct {
	used    bool
	ref     bool // hit since the hand last passed
	sum     [sha256.Size]byte
	expires int64 // unix nanoseconds: the token's exp
	gen     uint64
	claims  *Claims
	key     keyring.Key
	value   V
}

// NewDecisionCache returns a cache of decisions for tokens that v
// verified, holding at most size entries; it reads v's clock and looks
// keys up in v's KeySource. A size of 0 returns nil, which caches nothing.
// It panics when size is negative or above [MaxDecisionCacheSize].
func NewDecisionCache[V any](v *Verifier, size int) *DecisionCache[V] {
	if size < 0 || size > MaxDecisionCacheSize {
		panic("token: decision cache size out of range")
	}
	if size == 0 {
		return nil
	}
	n := min(size, decisionShards)
	per := size / n
	c := &DecisionCache[V]{
		keys:    v.keys,
		now:     v.now,
		maxSize: v.maxSize,
		shards:  make([]decisionShard[V], n),
	}
	for i := range c.shards {
		c.shards[i].index = make(map[[sha256.Size]byte]int32, per)
		c.shards[i].slots = make([]decisionSlot[V], per)
	}
	return c
}

// Get returns the value, and the Claims, that [DecisionCache.Put] stored
// for raw under generation gen, if the entry still holds (see
// [DecisionCache]). ok is false on a miss; the caller then verifies raw as
// usual. ctx bounds the key lookup.
func (c *DecisionCache[V]) Get(ctx context.Context, raw string, gen uint64) (value V, claims *Claims, ok bool) {
	if c == nil || len(raw) > c.maxSize {
		return value, nil, false
	}
	if cur := c.gen.Load(); gen != cur {
		if gen > cur {
			c.advance(gen)
		}
		return value, nil, false
	}
	sum := hashToken(raw)
	s := c.shard(&sum)
	now := c.now().UnixNano()

	s.mu.Lock()
	i, found := s.index[sum]
	if !found {
		s.mu.Unlock()
		return value, nil, false
	}
	e := &s.slots[i]
	if now >= e.expires || e.gen != gen {
		s.drop(i)
		s.mu.Unlock()
		return value, nil, false
	}
	e.ref = true
	value, claims, want := e.value, e.claims, e.key
	s.mu.Unlock()

	key, err := c.keys.Key(ctx, claims.Issuer, claims.KeyID)
	if err != nil || key.Alg != want.Alg || !sameMaterial(key.Material, want.Material) {
		c.forget(&sum, claims)
		var zero V
		return zero, nil, false
	}
	return value, claims, true
}

// Put stores value as the decision for raw, whose verified claims are
// claims (exactly what [Verifier.Verify] just returned for raw, from the
// Verifier the cache was built on), under generation gen. It stores
// nothing when claims is nil, the token has expired, gen is not the
// cache's current generation, or the key that verified the token cannot be
// looked up. value must not be modified afterwards: every hit returns it.
func (c *DecisionCache[V]) Put(ctx context.Context, raw string, claims *Claims, gen uint64, value V) {
	if c == nil || claims == nil || len(raw) > c.maxSize || gen != c.gen.Load() {
		return
	}
	expires := claims.Expiry.UnixNano()
	if c.now().UnixNano() >= expires {
		return
	}
	key, err := c.keys.Key(ctx, claims.Issuer, claims.KeyID)
	if err != nil || key.Alg != claims.Alg {
		return
	}
	sum := hashToken(raw)
	s := c.shard(&sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != c.gen.Load() {
		return // a reset began after the check above
	}
	i, found := s.index[sum]
	if !found {
		i = s.victim(c.now().UnixNano())
		s.index[sum] = i
	}
	s.slots[i] = decisionSlot[V]{used: true, sum: sum, expires: expires, gen: gen, claims: claims, key: key, value: value}
}

// Len returns the number of entries held, expired ones included until
// they are evicted or looked up.
func (c *DecisionCache[V]) Len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// Clear drops every entry.
func (c *DecisionCache[V]) Clear() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.index)
		clear(s.slots)
		s.hand = 0
		s.mu.Unlock()
	}
}

// advance moves the cache to generation gen, if that is newer, and drops
// every entry. The generation is stored before the shards are cleared, so
// a Put racing with it either sees the new generation and stores nothing,
// or stores into a shard that is cleared after it.
func (c *DecisionCache[V]) advance(gen uint64) {
	for {
		cur := c.gen.Load()
		if gen <= cur {
			return
		}
		if c.gen.CompareAndSwap(cur, gen) {
			c.Clear()
			return
		}
	}
}

// forget drops raw's entry if it still holds claims (a concurrent Put may
// have replaced it since).
func (c *DecisionCache[V]) forget(sum *[sha256.Size]byte, claims *Claims) {
	s := c.shard(sum)
	s.mu.Lock()
	if i, ok := s.index[*sum]; ok && s.slots[i].claims == claims {
		s.drop(i)
	}
	s.mu.Unlock()
}

func (c *DecisionCache[V]) shard(sum *[sha256.Size]byte) *decisionShard[V] {
	return &c.shards[int(sum[0])%len(c.shards)]
}

// drop empties slot i. s.mu is held.
func (s *decisionShard[V]) drop(i int32) {
	delete(s.index, s.slots[i].sum)
	s.slots[i] = decisionSlot[V]{}
}

// victim returns a free slot, evicting one if need be: the first empty or
// expired slot the hand reaches, else the first not hit since the hand
// last passed it. s.mu is held.
func (s *decisionShard[V]) victim(now int64) int32 {
	// The first pass over the slots clears every ref, so this ends within
	// two passes.
	for {
		i := int32(s.hand)
		s.hand = (s.hand + 1) % len(s.slots)
		e := &s.slots[i]
		switch {
		case !e.used:
			return i
		case now >= e.expires:
			s.drop(i)
			return i
		case e.ref:
			e.ref = false
		default:
			s.drop(i)
			return i
		}
	}
}

// hashToken returns the SHA-256 of raw without copying it.
func hashToken(raw string) [sha256.Size]byte {
	// sha256.Sum256 only reads its argument.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(raw), len(raw)))
}

// sameMaterial reports whether two keys' material is the same key.
func sameMaterial(a, b any) bool {
	switch x := a.(type) {
	case *rsa.PublicKey:
		y, ok := b.(*rsa.PublicKey)
		return ok && (x == y || x.Equal(y))
	case *ecdsa.PublicKey:
		y, ok := b.(*ecdsa.PublicKey)
		return ok && (x == y || x.Equal(y))
	case ed25519.PublicKey:
		y, ok := b.(ed25519.PublicKey)
		return ok && x.Equal(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && subtle.ConstantTimeCompare(x, y) == 1
	}
	return false
}
