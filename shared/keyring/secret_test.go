package keyring_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/secretver"
)

const (
	secretID = "guard/jwt-keys"
	issuer   = "https://guard.example"
)

// secretStore is a fake of both the caching client (stale until told) and
// the Secrets Manager API (always current).
type secretStore struct {
	mu       sync.Mutex
	versions []string // values in put order; the last is AWSCURRENT
	cached   map[string]string
	cacheErr error
	calls    int
}

func (s *secretStore) put(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions = append(s.versions, value)
}

// syncCache makes the caching client see the current version map.
func (s *secretStore) syncCache() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cached = s.stagesLocked()
}

func (s *secretStore) stagesLocked() map[string]string {
	m := map[string]string{}
	if n := len(s.versions); n > 0 {
		m[secretver.StageCurrent] = s.versions[n-1]
		if n > 1 {
			m[secretver.StagePrevious] = s.versions[n-2]
		}
	}
	return m
}

func (s *secretStore) GetSecretStringWithStageWithContext(_ context.Context, _, stage string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cacheErr != nil {
		return "", s.cacheErr
	}
	v, ok := s.cached[stage]
	if !ok {
		return "", &secretcache.VersionNotFoundError{}
	}
	return v, nil
}

func (s *secretStore) DescribeSecret(_ context.Context, _ *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.versions) == 0 {
		return nil, &types.ResourceNotFoundException{Message: aws.String("not found")}
	}
	m := map[string][]string{}
	for i := range s.versions {
		m[versionID(i)] = nil
	}
	n := len(s.versions)
	m[versionID(n-1)] = []string{secretver.StageCurrent}
	if n > 1 {
		m[versionID(n-2)] = []string{secretver.StagePrevious}
	}
	return &secretsmanager.DescribeSecretOutput{VersionIdsToStages: m}, nil
}

func (s *secretStore) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, v := range s.versions {
		if versionID(i) == aws.ToString(in.VersionId) {
			return &secretsmanager.GetSecretValueOutput{VersionId: in.VersionId, SecretString: aws.String(v)}, nil
		}
	}
	return nil, &types.ResourceNotFoundException{Message: aws.String("no version")}
}

func versionID(i int) string { return "00000000-0000-0000-0000-00000000000" + string(rune('0'+i)) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func hsJWK(t testing.TB, kid string, fill byte) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = fill
	}
	return string(jwk{"kty": "oct", "alg": "HS256", "kid": kid, "k": b64(b)}.json(t))
}

func TestFromSecretKeys(t *testing.T) {
	store := &secretStore{}
	store.put(string(set(t, rsaPrivate(rsa2048()).with("alg", "RS256", "kid", "shared"), octKey(32).with("alg", "HS256", "kid", "old"))))
	store.put(string(set(t, ecPrivate(ecP256()).with("alg", "ES256", "kid", "shared"), octKey(48).with("alg", "HS384", "kid", "new"))))
	store.syncCache()
	src := keyring.FromSecret(secretver.New(secretID, store, store))

	keys, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.ID+":"+k.Alg+":"+k.Origin)
	}
	if g, w := strings.Join(got, " "), "shared:ES256:AWSCURRENT new:HS384:AWSCURRENT old:HS256:AWSPREVIOUS"; g != w {
		t.Errorf("keys = %q, want %q (AWSCURRENT wins the shared kid)", g, w)
	}
	again, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if &again[0] != &keys[0] {
		t.Errorf("Keys returned a new slice for an unchanged secret")
	}
}

func TestFromSecretMemoisesByVersion(t *testing.T) {
	store := &secretStore{}
	store.put(string(set(t, rsaPublic(rsa2048()).with("alg", "RS256", "kid", "v1"))))
	store.syncCache()
	src := keyring.FromSecret(secretver.New(secretID, store, store))
	before, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	store.put(hsJWK(t, "v2", 2))
	store.syncCache()
	after, err := src.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].ID != "v2" || after[1].ID != "v1" || after[1].Origin != secretver.StagePrevious {
		t.Fatalf("keys after rotation = %+v, want v2 (current), v1 (previous)", after)
	}
	// v1 was not parsed again: its Material is the very same public key.
	if after[1].Material.(*rsa.PublicKey) != before[0].Material.(*rsa.PublicKey) {
		t.Errorf("v1 was parsed again after it became AWSPREVIOUS")
	}
}

func TestFromSecretBadVersion(t *testing.T) {
	store := &secretStore{}
	store.put(`{"kty":"oct","k":"c2hvcnQ","alg":"HS256","kid":"weak"}`)
	store.syncCache()
	r := newRing(t, map[string]keyring.Source{issuer: keyring.FromSecret(secretver.New(secretID, store, store))})
	_, err := r.Key(context.Background(), issuer, "weak")
	if !errors.Is(err, keyring.ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	if !strings.Contains(err.Error(), secretID) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("err = %q, want the secret id and no key material", err)
	}
}

// TestFromSecretBadPreviousVersion: a version that is not key material in
// AWSPREVIOUS is left out, so the current keys keep verifying; the same in
// AWSCURRENT fails closed.
func TestFromSecretBadPreviousVersion(t *testing.T) {
	type skip struct{ secret, stage, version, err string }
	var skips []skip
	hook := keyring.WithSkippedVersion(func(_ context.Context, secret, stage, version string, err error) {
		skips = append(skips, skip{secret, stage, version, err.Error()})
	})
	const weak = `{"kty":"oct","k":"c2hvcnQ","alg":"HS256","kid":"weak"}` // 5 bytes: too short
	for _, previous := range []string{`not a JWK`, weak} {
		skips = nil
		store := &secretStore{}
		store.put(previous)
		store.put(hsJWK(t, "current", 7))
		store.syncCache()
		src := keyring.FromSecret(secretver.New(secretID, store, store), hook)
		r := newRing(t, map[string]keyring.Source{issuer: src})
		for range 3 {
			k, err := r.Key(context.Background(), issuer, "current")
			if err != nil || k.ID != "current" || k.Origin != secretver.StageCurrent {
				t.Fatalf("Key(current) = %+v, %v; want the AWSCURRENT key", k, err)
			}
		}
		if _, err := r.Key(context.Background(), issuer, "weak"); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Errorf("Key(weak) = %v, want ErrUnknownKey: the bad version is left out", err)
		}
		// Once per content: the lookups above (and the forced refresh for
		// "weak", which found the same content) report it once.
		if len(skips) != 1 {
			t.Fatalf("previous %q: skipped-version hook called %d times (%v), want once", previous, len(skips), skips)
		}
		got := skips[0]
		if got.secret != secretID || got.stage != secretver.StagePrevious || got.version == "" || got.err == "" {
			t.Errorf("hook got %+v; want the secret id, AWSPREVIOUS, a version id and the cause", got)
		}
		if strings.Contains(got.err, "c2hvcnQ") {
			t.Errorf("hook's error %q holds key material", got.err)
		}
		if n := src.(interface{ SkippedVersions() int }).SkippedVersions(); n != 1 {
			t.Errorf("SkippedVersions = %d, want 1 while the bad version is served", n)
		}
		// Once AWSPREVIOUS is good again (a rotation moved the bad one out),
		// the count is back to 0.
		store.put(hsJWK(t, "next", 9))
		store.syncCache()
		if _, err := r.Key(context.Background(), issuer, "next"); err != nil {
			t.Fatalf("Key(next) after a rotation: %v", err)
		}
		if n := src.(interface{ SkippedVersions() int }).SkippedVersions(); n != 0 {
			t.Errorf("SkippedVersions = %d after the bad version left, want 0", n)
		}
	}

	skips = nil
	bad := &secretStore{}
	bad.put(hsJWK(t, "previous", 8))
	bad.put(`not a JWK`)
	bad.syncCache()
	r := newRing(t, map[string]keyring.Source{issuer: keyring.FromSecret(secretver.New(secretID, bad, bad), hook)})
	if _, err := r.Key(context.Background(), issuer, "previous"); !errors.Is(err, keyring.ErrKeysUnavailable) {
		t.Fatalf("bad AWSCURRENT: err = %v, want ErrKeysUnavailable", err)
	}
	if len(skips) != 0 {
		t.Errorf("bad AWSCURRENT reported as skipped (%v): it fails closed instead", skips)
	}
}

func TestFromSecretUnavailable(t *testing.T) {
	store := &secretStore{cacheErr: errors.New("AccessDeniedException")}
	r := newRing(t, map[string]keyring.Source{issuer: keyring.FromSecret(secretver.New(secretID, store, store))})
	if _, err := r.Key(context.Background(), issuer, "a"); !errors.Is(err, keyring.ErrKeysUnavailable) {
		t.Errorf("err = %v, want ErrKeysUnavailable", err)
	}
}

// TestRingOverSecretRotation: a token signed with a freshly rotated key is
// verified after one forced refresh, while the cache is still stale; a key
// two rotations old is refused once that refresh has seen it go.
func TestRingOverSecretRotation(t *testing.T) {
	clk := newClock()
	store := &secretStore{}
	store.put(hsJWK(t, "k0", 0))
	store.put(hsJWK(t, "k1", 1))
	store.syncCache()
	reader := secretver.New(secretID, store, store, secretver.WithClock(clk.Now))
	r := newRing(t, map[string]keyring.Source{issuer: keyring.FromSecret(reader)})
	ctx := context.Background()

	for _, kid := range []string{"k1", "k0"} {
		if _, err := r.Key(ctx, issuer, kid); err != nil {
			t.Fatalf("Key(%s) before rotation: %v", kid, err)
		}
	}
	if store.calls != 0 {
		t.Errorf("DescribeSecret calls = %d before any unknown kid, want 0", store.calls)
	}

	store.put(hsJWK(t, "k2", 2)) // rotation; the cache still serves k1/k0
	k, err := r.Key(ctx, issuer, "k2")
	if err != nil {
		t.Fatalf("Key(k2) after rotation: %v", err)
	}
	if k.Origin != secretver.StageCurrent || store.calls != 1 {
		t.Errorf("k2 origin %q after %d direct reads, want AWSCURRENT after 1", k.Origin, store.calls)
	}
	if _, err := r.Key(ctx, issuer, "k0"); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("Key(k0) two rotations old: err = %v, want ErrUnknownKey", err)
	}
	if store.calls != 1 {
		t.Errorf("DescribeSecret calls = %d, want 1 (cool-down)", store.calls)
	}

	// Garbage kids within the cool-down do not reach Secrets Manager.
	for range 5 {
		if _, err := r.Key(ctx, issuer, "garbage"); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("Key(garbage): err = %v, want ErrUnknownKey", err)
		}
	}
	if store.calls != 1 {
		t.Errorf("DescribeSecret calls = %d after garbage kids, want 1", store.calls)
	}
	clk.advance(10 * time.Second)
	_, _ = r.Key(ctx, issuer, "garbage")
	if store.calls != 2 {
		t.Errorf("DescribeSecret calls = %d after the cool-down, want 2", store.calls)
	}
	if _, err := r.Key(ctx, issuer, "k1"); err != nil {
		t.Errorf("Key(k1) as AWSPREVIOUS: %v", err)
	}
}

func BenchmarkRingKeyFromSecret(b *testing.B) {
	store := &secretStore{}
	store.put(hsJWK(b, "k0", 0))
	store.put(hsJWK(b, "k1", 1))
	store.syncCache()
	r := newRing(b, map[string]keyring.Source{issuer: keyring.FromSecret(secretver.New(secretID, store, store))})
	ctx := context.Background()
	if _, err := r.Key(ctx, issuer, "k1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Key(ctx, issuer, "k1"); err != nil {
			b.Fatal(err)
		}
	}
}
