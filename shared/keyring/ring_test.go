package keyring_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/apigw-guard/guard/shared/keyring"
)

// fakeSource serves keys; Refresh swaps in next, if set.
type fakeSource struct {
	mu        sync.Mutex
	keys      []keyring.Key
	next      []keyring.Key
	err       error
	refreshes int
}

func (s *fakeSource) Keys(context.Context) ([]keyring.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys, s.err
}

func (s *fakeSource) Refresh(context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	if s.next != nil {
		s.keys, s.next = s.next, nil
		return true, nil
	}
	return false, nil
}

func hmacKey(id string) keyring.Key {
	return keyring.Key{ID: id, Alg: "HS256", Material: []byte(strings.Repeat(id, 32)), Origin: "test"}
}

func newRing(t testing.TB, sources map[string]keyring.Source) *keyring.Ring {
	t.Helper()
	r, err := keyring.NewRing(sources)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRingKey(t *testing.T) {
	const iss = "https://issuer.example"
	tests := []struct {
		name          string
		src           *fakeSource
		issuer, kid   string
		wantID        string
		wantErr       error
		wantRefreshes int
	}{
		{"known kid", &fakeSource{keys: []keyring.Key{hmacKey("a"), hmacKey("b")}}, iss, "b", "b", nil, 0},
		{"unknown issuer", &fakeSource{keys: []keyring.Key{hmacKey("a")}}, "https://other.example", "a", "", keyring.ErrUnknownKey, 0},
		{"kid appears after refresh", &fakeSource{keys: []keyring.Key{hmacKey("a")}, next: []keyring.Key{hmacKey("a"), hmacKey("c")}}, iss, "c", "c", nil, 1},
		{"kid still unknown after refresh", &fakeSource{keys: []keyring.Key{hmacKey("a")}}, iss, "zzz", "", keyring.ErrUnknownKey, 1},
		{"empty kid, one key", &fakeSource{keys: []keyring.Key{hmacKey("a")}}, iss, "", "a", nil, 0},
		{"empty kid, two keys", &fakeSource{keys: []keyring.Key{hmacKey("a"), hmacKey("b")}}, iss, "", "", keyring.ErrUnknownKey, 0},
		{"empty kid, no keys", &fakeSource{}, iss, "", "", keyring.ErrUnknownKey, 1},
		{"source cannot load", &fakeSource{err: errors.New("AccessDeniedException")}, iss, "a", "", keyring.ErrKeysUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRing(t, map[string]keyring.Source{iss: tt.src})
			k, err := r.Key(context.Background(), tt.issuer, tt.kid)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if k.ID != tt.wantID {
				t.Errorf("key ID = %q, want %q", k.ID, tt.wantID)
			}
			if tt.src.refreshes != tt.wantRefreshes {
				t.Errorf("refreshes = %d, want %d", tt.src.refreshes, tt.wantRefreshes)
			}
		})
	}
}

func TestRingErrorsAreDistinct(t *testing.T) {
	const iss = "https://issuer.example"
	down := &fakeSource{err: errors.New("down")}
	r := newRing(t, map[string]keyring.Source{iss: down})
	_, err := r.Key(context.Background(), iss, "a")
	if errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("unavailable keys reported as unknown key: %v", err)
	}
	if !strings.Contains(err.Error(), "down") {
		t.Errorf("err = %q, want the source's cause", err)
	}
	// A source whose error already says unavailable is not wrapped twice.
	down.err = errors.Join(keyring.ErrKeysUnavailable, errors.New("stale"))
	_, err = r.Key(context.Background(), iss, "a")
	if got := strings.Count(err.Error(), keyring.ErrKeysUnavailable.Error()); got != 1 {
		t.Errorf("err = %q mentions unavailability %d times, want 1", err, got)
	}

	up := &fakeSource{keys: []keyring.Key{hmacKey("a")}}
	r = newRing(t, map[string]keyring.Source{iss: up})
	_, err = r.Key(context.Background(), iss, "x")
	if errors.Is(err, keyring.ErrKeysUnavailable) {
		t.Errorf("unknown kid reported as unavailable keys: %v", err)
	}
}

func TestRingClipsHostileKid(t *testing.T) {
	const iss = "https://issuer.example"
	r := newRing(t, map[string]keyring.Source{iss: &fakeSource{keys: []keyring.Key{hmacKey("a")}}})
	kid := strings.Repeat("A", 10000) + "\n"
	_, err := r.Key(context.Background(), iss, kid)
	if !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if len(err.Error()) > 300 || strings.Contains(err.Error(), "\n") {
		t.Errorf("err has %d bytes (newline %v), want a short one-line message", len(err.Error()), strings.Contains(err.Error(), "\n"))
	}
}

func TestRingFollowsSourceChanges(t *testing.T) {
	const iss = "https://issuer.example"
	src := &fakeSource{keys: []keyring.Key{hmacKey("a")}}
	r := newRing(t, map[string]keyring.Source{iss: src})
	ctx := context.Background()
	if _, err := r.Key(ctx, iss, "a"); err != nil {
		t.Fatal(err)
	}
	// The source drops "a" and adds "b" (as after a rotation seen by the cache).
	src.mu.Lock()
	src.keys = []keyring.Key{hmacKey("b")}
	src.mu.Unlock()
	if _, err := r.Key(ctx, iss, "a"); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("removed kid: err = %v, want ErrUnknownKey", err)
	}
	if k, err := r.Key(ctx, iss, "b"); err != nil || k.ID != "b" {
		t.Errorf("new kid: %q, %v; want b", k.ID, err)
	}
}

func TestNewRingRejects(t *testing.T) {
	if _, err := keyring.NewRing(map[string]keyring.Source{"": &fakeSource{}}); err == nil {
		t.Errorf("NewRing with an empty issuer = nil error")
	}
	if _, err := keyring.NewRing(map[string]keyring.Source{"https://i": nil}); err == nil {
		t.Errorf("NewRing with a nil source = nil error")
	}
}

func TestRingConcurrent(t *testing.T) {
	const iss = "https://issuer.example"
	src := &fakeSource{keys: []keyring.Key{hmacKey("a"), hmacKey("b")}, next: []keyring.Key{hmacKey("a"), hmacKey("b"), hmacKey("c")}}
	r := newRing(t, map[string]keyring.Source{iss: src})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				kid := []string{"a", "b", "c"}[(i+j)%3]
				if k, err := r.Key(context.Background(), iss, kid); err != nil || k.ID != kid {
					t.Errorf("Key(%q) = %q, %v", kid, k.ID, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRingKey(b *testing.B) {
	const iss = "https://issuer.example"
	keys := make([]keyring.Key, 0, 4)
	for _, id := range []string{"k1", "k2", "k3", "k4"} {
		keys = append(keys, hmacKey(id))
	}
	r := newRing(b, map[string]keyring.Source{iss: &fakeSource{keys: keys}})
	ctx := context.Background()
	if _, err := r.Key(ctx, iss, "k3"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Key(ctx, iss, "k3"); err != nil {
			b.Fatal(err)
		}
	}
}
