package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) now() time.Time  { return time.Unix(0, c.t.Load()) }
func (c *clock) set(t time.Time) { c.t.Store(t.UnixNano()) }

// swapKeys is a KeySource whose keys and failure can change under it,
// like a keyring that refreshes.
type swapKeys struct {
	mu   sync.Mutex
	keys fakeKeys
	err  error
	hits int
}

func (s *swapKeys) Key(ctx context.Context, issuer, kid string) (keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.err != nil {
		return keyring.Key{}, s.err
	}
	return s.keys.Key(ctx, issuer, kid)
}

func (s *swapKeys) set(issuer, kid string, k keyring.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[[2]string{issuer, kid}] = k
}

func (s *swapKeys) remove(issuer, kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, [2]string{issuer, kid})
}

func (s *swapKeys) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// cacheFixture is a verifier over swappable keys with a settable clock, and
// a cache on it.
type cacheFixture struct {
	keys  *swapKeys
	clock *clock
	v     *token.Verifier
	c     *token.DecisionCache[string]
}

func newCacheFixture(t testing.TB, size int) *cacheFixture {
	t.Helper()
	f := &cacheFixture{keys: &swapKeys{keys: keySource(t)}, clock: newClock(now)}
	f.v = newVerifier(t, f.keys, token.WithClock(f.clock.now))
	f.c = token.NewDecisionCache[string](f.v, size)
	return f
}

// verify verifies tok, which must pass, and returns its claims.
func (f *cacheFixture) verify(t testing.TB, tok string) *token.Claims {
	t.Helper()
	c, err := f.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}

// put verifies tok and caches value for it under gen.
func (f *cacheFixture) put(t testing.TB, tok string, gen uint64, value string) *token.Claims {
	t.Helper()
	c := f.verify(t, tok)
	f.c.Put(context.Background(), tok, c, gen, value)
	return c
}

// get looks tok up under gen.
func (f *cacheFixture) get(tok string, gen uint64) (string, *token.Claims, bool) {
	return f.c.Get(context.Background(), tok, gen)
}

// tokenN is a distinct valid token for alg (its jti is token-n).
func tokenN(t testing.TB, alg string, n int) string {
	return signWith(t, alg, baseClaims().with("jti", fmt.Sprintf("token-%d", n)).json())
}

func TestDecisionCacheHit(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"} {
		t.Run(alg, func(t *testing.T) {
			f := newCacheFixture(t, 64)
			tok := tokenN(t, alg, 1)
			claims := f.put(t, tok, 0, "allow "+alg)
			got, gotClaims, ok := f.get(tok, 0)
			if !ok {
				t.Fatal("Get after Put missed")
			}
			if got != "allow "+alg {
				t.Errorf("value = %q, want %q", got, "allow "+alg)
			}
			if gotClaims != claims {
				t.Errorf("claims = %p, want the Claims Put stored (%p)", gotClaims, claims)
			}
			if gotClaims.Subject != "user-1" || gotClaims.ID != "token-1" || gotClaims.Alg != alg {
				t.Errorf("claims sub %q jti %q alg %q, want user-1, token-1, %s", gotClaims.Subject, gotClaims.ID, gotClaims.Alg, alg)
			}
			if n := f.c.Len(); n != 1 {
				t.Errorf("Len = %d, want 1", n)
			}
		})
	}
}

func TestDecisionCacheMisses(t *testing.T) {
	f := newCacheFixture(t, 64)
	tok := tokenN(t, "RS256", 1)
	f.put(t, tok, 0, "allow")

	// A forged variant: same header and claims, one signature byte off.
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	flipped := []byte(sig)
	flipped[10] ^= 'A' ^ 'B'
	if flipped[10] == sig[10] {
		t.Fatal("test bug: the signature did not change")
	}
	forged := tok[:strings.LastIndexByte(tok, '.')+1] + string(flipped)

	cases := map[string]string{
		"another token of the same subject":           tokenN(t, "RS256", 2),
		"the same claims under another algorithm":     tokenN(t, "PS256", 1),
		"a forged signature over the same claims":     forged,
		"the token with a trailing character":         tok + "A",
		"the token without its last character":        tok[:len(tok)-1],
		"the token's signing input alone":             tok[:strings.LastIndexByte(tok, '.')],
		"an empty token":                              "",
		"a token longer than the verifier's size cap": tok + strings.Repeat("A", token.DefaultMaxTokenSize),
	}
	for name, other := range cases {
		t.Run(name, func(t *testing.T) {
			if v, c, ok := f.get(other, 0); ok || v != "" || c != nil {
				t.Errorf("Get = %q, %v, %v; want a miss", v, c, ok)
			}
		})
	}
	if _, _, ok := f.get(tok, 0); !ok {
		t.Error("the cached token itself missed after the other lookups")
	}
}

func TestDecisionCacheExpiresAtExp(t *testing.T) {
	f := newCacheFixture(t, 64)
	exp := now.Add(10 * time.Minute)
	tok := signWith(t, "ES256", baseClaims().with("exp", exp.Unix()).json())
	f.put(t, tok, 0, "allow")

	f.clock.set(exp.Add(-time.Nanosecond))
	if _, _, ok := f.get(tok, 0); !ok {
		t.Fatal("missed one nanosecond before exp")
	}
	f.clock.set(exp)
	if _, _, ok := f.get(tok, 0); ok {
		t.Fatal("hit at exp, want a miss")
	}
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after the expired lookup, want 0", n)
	}
	// Verify still accepts the token within the clock skew; the cache
	// does not.
	if _, err := f.v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify at exp (within skew): %v", err)
	}
	f.clock.set(exp.Add(-time.Minute))
	if _, _, ok := f.get(tok, 0); ok {
		t.Error("an expired entry came back when the clock went back")
	}
}

func TestDecisionCachePutIgnoresExpiredTokens(t *testing.T) {
	f := newCacheFixture(t, 64)
	exp := now.Add(-10 * time.Second) // within the verifier's 60 s skew
	tok := signWith(t, "HS256", baseClaims().with("exp", exp.Unix()).with("iat", now.Add(-time.Hour).Unix()).with("nbf", del).json())
	f.put(t, tok, 0, "allow")
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after putting a token past its exp, want 0", n)
	}
	if _, _, ok := f.get(tok, 0); ok {
		t.Error("hit for a token past its exp")
	}
}

func TestDecisionCacheBound(t *testing.T) {
	for _, size := range []int{1, 5, 16, 40, 200} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f := newCacheFixture(t, size)
			var last string
			for i := range 3*size + 20 {
				last = tokenN(t, "HS256", i)
				f.put(t, last, 0, "allow")
				if n := f.c.Len(); n > size {
					t.Fatalf("Len = %d after %d puts, want at most %d", n, i+1, size)
				}
			}
			if _, _, ok := f.get(last, 0); !ok {
				t.Error("the last token put missed")
			}
		})
	}
}

func TestDecisionCacheKeepsHotEntries(t *testing.T) {
	// 64 entries: 16 shards of 4 slots. A token looked up after every put
	// gets a second chance each time the hand reaches it.
	f := newCacheFixture(t, 64)
	hot := tokenN(t, "HS256", -1)
	f.put(t, hot, 0, "hot")
	for i := range 500 {
		f.put(t, tokenN(t, "HS256", i), 0, "cold")
		if v, _, ok := f.get(hot, 0); !ok || v != "hot" {
			t.Fatalf("the hot token was evicted after %d other puts", i+1)
		}
	}
	if n := f.c.Len(); n != 64 {
		t.Errorf("Len = %d, want the cache full at 64", n)
	}
}

func TestDecisionCacheGeneration(t *testing.T) {
	f := newCacheFixture(t, 64)
	a, b := tokenN(t, "RS256", 1), tokenN(t, "RS256", 2)
	f.get(a, 3) // the cache moves to generation 3
	f.put(t, a, 3, "allow a")
	f.put(t, b, 3, "allow b")
	if n := f.c.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}

	// A revocation update: the next lookup brings generation 4.
	if _, _, ok := f.get(a, 4); ok {
		t.Fatal("hit under a newer generation")
	}
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after the generation changed, want 0 (cleared)", n)
	}
	if _, _, ok := f.get(b, 4); ok {
		t.Error("another token's entry survived the generation change")
	}

	// A caller that read the generation before the update puts late.
	f.put(t, a, 3, "stale")
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after a put under an older generation, want 0", n)
	}
	// An older generation misses without moving the cache back.
	f.put(t, a, 4, "allow a")
	if _, _, ok := f.get(a, 3); ok {
		t.Error("hit under an older generation")
	}
	if v, _, ok := f.get(a, 4); !ok || v != "allow a" {
		t.Errorf("Get under the current generation = %q, %v; want allow a, a hit", v, ok)
	}
}

func TestDecisionCacheFollowsTheKeys(t *testing.T) {
	other := mustECDSA(keys(t).byAlg["ES256"].priv.(*ecdsa.PrivateKey).Curve)
	es := keys(t).byAlg["ES256"].key
	cases := []struct {
		name   string
		change func(f *cacheFixture)
		hit    bool
		// verifies is whether Verify still accepts the token after the
		// change: a hit is only right when it does.
		verifies bool
	}{
		{"unchanged", func(*cacheFixture) {}, true, true},
		{"the same key parsed again (another pointer, equal material)", func(f *cacheFixture) {
			p := es.Material.(*ecdsa.PublicKey)
			cp := &ecdsa.PublicKey{Curve: p.Curve, X: new(big.Int).Set(p.X), Y: new(big.Int).Set(p.Y)}
			f.keys.set(issMain, es.ID, keyring.Key{ID: es.ID, Alg: es.Alg, Material: cp, Origin: "AWSPREVIOUS"})
		}, true, true},
		{"the key rotated out (kid gone)", func(f *cacheFixture) { f.keys.remove(issMain, es.ID) }, false, false},
		{"the kid now names another key", func(f *cacheFixture) {
			f.keys.set(issMain, es.ID, keyring.Key{ID: es.ID, Alg: es.Alg, Material: &other.PublicKey})
		}, false, false},
		{"the kid's key now has another alg", func(f *cacheFixture) {
			f.keys.set(issMain, es.ID, keyring.Key{ID: es.ID, Alg: "ES384", Material: es.Material})
		}, false, false},
		{"keys unavailable", func(f *cacheFixture) {
			f.keys.fail(fmt.Errorf("secrets manager down: %w", token.ErrKeysUnavailable))
		}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCacheFixture(t, 64)
			tok := tokenN(t, "ES256", 1)
			f.put(t, tok, 0, "allow")
			tc.change(f)
			_, _, hit := f.get(tok, 0)
			if hit != tc.hit {
				t.Errorf("hit = %v, want %v", hit, tc.hit)
			}
			_, err := f.v.Verify(context.Background(), tok)
			if (err == nil) != tc.verifies {
				t.Fatalf("test bug: Verify after the change: %v, want verifies=%v", err, tc.verifies)
			}
			if hit && err != nil {
				t.Errorf("the cache served a token Verify now refuses (%v)", err)
			}
			if !tc.hit {
				if n := f.c.Len(); n != 0 {
					t.Errorf("Len = %d after the failed key check, want 0 (entry dropped)", n)
				}
			}
		})
	}
}

func TestDecisionCacheKeyRestoredAfterRemoval(t *testing.T) {
	// A key that comes back does not resurrect entries it lost: they
	// were dropped at the first miss, and the token is verified again.
	f := newCacheFixture(t, 64)
	es := keys(t).byAlg["ES256"].key
	tok := tokenN(t, "ES256", 1)
	f.put(t, tok, 0, "allow")
	f.keys.remove(issMain, es.ID)
	if _, _, ok := f.get(tok, 0); ok {
		t.Fatal("hit with the key removed")
	}
	f.keys.set(issMain, es.ID, es)
	if _, _, ok := f.get(tok, 0); ok {
		t.Error("the entry came back with the key")
	}
}

func TestDecisionCachePutNeedsTheKey(t *testing.T) {
	f := newCacheFixture(t, 64)
	tok := tokenN(t, "RS256", 1)
	claims := f.verify(t, tok)
	f.keys.fail(errors.New("throttled"))
	f.c.Put(context.Background(), tok, claims, 0, "allow")
	f.keys.fail(nil)
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after a Put whose key lookup failed, want 0", n)
	}
	f.c.Put(context.Background(), tok, nil, 0, "allow")
	if n := f.c.Len(); n != 0 {
		t.Errorf("Len = %d after a Put without claims, want 0", n)
	}
}

func TestDecisionCacheLooksTheKeyUpOnEachHit(t *testing.T) {
	f := newCacheFixture(t, 64)
	tok := tokenN(t, "EdDSA", 1)
	f.put(t, tok, 0, "allow")
	before := f.keys.hits
	for range 3 {
		if _, _, ok := f.get(tok, 0); !ok {
			t.Fatal("miss")
		}
	}
	if got := f.keys.hits - before; got != 3 {
		t.Errorf("key lookups for 3 hits = %d, want 3", got)
	}
}

func TestDecisionCacheNilAndSizes(t *testing.T) {
	f := newCacheFixture(t, 64)
	var nilCache *token.DecisionCache[int]
	if c := token.NewDecisionCache[int](f.v, 0); c != nil {
		t.Errorf("NewDecisionCache(size 0) = %p, want nil", c)
	}
	tok := tokenN(t, "HS256", 1)
	nilCache.Put(context.Background(), tok, f.verify(t, tok), 0, 1)
	if _, _, ok := nilCache.Get(context.Background(), tok, 0); ok {
		t.Error("a nil cache hit")
	}
	if n := nilCache.Len(); n != 0 {
		t.Errorf("nil Len = %d, want 0", n)
	}
	nilCache.Clear()
	for _, size := range []int{-1, token.MaxDecisionCacheSize + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDecisionCache(size %d) did not panic", size)
				}
			}()
			token.NewDecisionCache[int](f.v, size)
		}()
	}
}

func TestDecisionCacheClear(t *testing.T) {
	f := newCacheFixture(t, 64)
	tok := tokenN(t, "HS256", 1)
	f.put(t, tok, 0, "allow")
	f.c.Clear()
	if _, _, ok := f.get(tok, 0); ok {
		t.Error("hit after Clear")
	}
	f.put(t, tok, 0, "again")
	if v, _, ok := f.get(tok, 0); !ok || v != "again" {
		t.Errorf("Get after Clear and Put = %q, %v; want again, a hit", v, ok)
	}
}

func TestDecisionCacheConcurrent(t *testing.T) {
	f := newCacheFixture(t, 32)
	toks := make([]string, 64)
	claims := make([]*token.Claims, len(toks))
	for i := range toks {
		toks[i] = tokenN(t, "HS256", i)
		claims[i] = f.verify(t, toks[i])
	}
	var gen atomic.Uint64
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range 2000 {
				n := (i*7 + w) % len(toks)
				g := gen.Load()
				if v, c, ok := f.c.Get(ctx, toks[n], g); ok && (v != toks[n][len(toks[n])-8:] || c != claims[n]) {
					wrong.Add(1)
				}
				f.c.Put(ctx, toks[n], claims[n], g, toks[n][len(toks[n])-8:])
				if w == 0 && i%250 == 0 {
					gen.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Errorf("%d hits returned another token's value or claims", n)
	}
	if n := f.c.Len(); n > 32 {
		t.Errorf("Len = %d, want at most 32", n)
	}
}

func TestSameMaterialAcrossKeyTypes(t *testing.T) {
	// Each fixture key stays a hit only with its own material: swap in
	// every other type's material under its kid and the entry must drop.
	byAlg := keys(t).byAlg
	rsaCopy := &rsa.PublicKey{N: new(big.Int).Set(keys(t).rsa.N), E: keys(t).rsa.E}
	edCopy := append(ed25519.PublicKey(nil), byAlg["EdDSA"].key.Material.(ed25519.PublicKey)...)
	hsCopy := append([]byte(nil), byAlg["HS256"].key.Material.([]byte)...)
	copies := map[string]any{"RS256": rsaCopy, "EdDSA": edCopy, "HS256": hsCopy}
	materials := map[string]any{}
	for _, alg := range []string{"RS256", "ES256", "ES384", "EdDSA", "HS256"} {
		materials[alg] = byAlg[alg].key.Material
	}
	for alg, own := range materials {
		for otherAlg, m := range materials {
			t.Run(alg+" with "+otherAlg+"'s material", func(t *testing.T) {
				f := newCacheFixture(t, 64)
				k := byAlg[alg].key
				tok := tokenN(t, alg, 1)
				f.put(t, tok, 0, "allow")
				f.keys.set(issMain, k.ID, keyring.Key{ID: k.ID, Alg: k.Alg, Material: m})
				_, _, hit := f.get(tok, 0)
				if want := alg == otherAlg; hit != want {
					t.Errorf("hit = %v, want %v", hit, want)
				}
			})
		}
		if cp, ok := copies[alg]; ok {
			t.Run(alg+" with an equal copy", func(t *testing.T) {
				f := newCacheFixture(t, 64)
				k := byAlg[alg].key
				tok := tokenN(t, alg, 1)
				f.put(t, tok, 0, "allow")
				f.keys.set(issMain, k.ID, keyring.Key{ID: k.ID, Alg: k.Alg, Material: cp})
				if _, _, hit := f.get(tok, 0); !hit {
					t.Errorf("miss with an equal copy of %T", own)
				}
			})
		}
	}
}

// newBenchCache is newCacheFixture over the plain map KeySource, which
// takes no lock (swapKeys does, and would dominate hit-parallel).
func newBenchCache(b *testing.B, size int) *cacheFixture {
	f := &cacheFixture{clock: newClock(now)}
	f.v = newVerifier(b, keySource(b), token.WithClock(f.clock.now))
	f.c = token.NewDecisionCache[string](f.v, size)
	return f
}

// BenchmarkDecisionCache measures a repeated, Cognito-sized token served
// from the cache: SHA-256 of the token, the shard lookup, the expiry and
// generation checks and the key lookup (an in-memory map here). The target
// is at least 1M hits per second per core (-cpu 1). "miss" is the cost a
// token that is not cached pays before its verification; "put" what a
// verified token pays to enter the cache.
func BenchmarkDecisionCache(b *testing.B) {
	ctx := context.Background()
	b.Run("hit", func(b *testing.B) {
		f := newBenchCache(b, 1024)
		tok := benchSet(b, "RS256")[0].raw
		f.put(b, tok, 0, "allow")
		loop(b, func(int) {
			if _, _, ok := f.c.Get(ctx, tok, 0); !ok {
				b.Fatal("miss")
			}
		})
	})
	b.Run("hit-64-tokens", func(b *testing.B) {
		f := newBenchCache(b, 1024)
		toks := benchSet(b, "RS256")
		for _, t := range toks {
			f.put(b, t.raw, 0, "allow")
		}
		loop(b, func(i int) {
			if _, _, ok := f.c.Get(ctx, toks[i%len(toks)].raw, 0); !ok {
				b.Fatal("miss")
			}
		})
	})
	b.Run("hit-parallel", func(b *testing.B) {
		f := newBenchCache(b, 1024)
		toks := benchSet(b, "RS256")
		for _, t := range toks {
			f.put(b, t.raw, 0, "allow")
		}
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1))
			for pb.Next() {
				if _, _, ok := f.c.Get(ctx, toks[i%len(toks)].raw, 0); !ok {
					b.Error("miss")
					return
				}
				i++
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		f := newBenchCache(b, 1024)
		toks := benchSet(b, "RS256")
		loop(b, func(i int) {
			if _, _, ok := f.c.Get(ctx, toks[i%len(toks)].raw, 0); ok {
				b.Fatal("hit")
			}
		})
	})
	b.Run("put", func(b *testing.B) {
		f := newBenchCache(b, 16) // smaller than the token set: every put evicts
		toks := benchSet(b, "RS256")
		claims := make([]*token.Claims, len(toks))
		for i, t := range toks {
			claims[i] = f.verify(b, t.raw)
		}
		loop(b, func(i int) {
			n := i % len(toks)
			f.c.Put(ctx, toks[n].raw, claims[n], 0, "allow")
		})
	})
}
