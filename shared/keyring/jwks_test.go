package keyring_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
)

// jwksServer serves a JWK Set that tests change, counting requests.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	status   int
	delay    time.Duration
	gate     chan struct{}
	chunked  bool
	requests atomic.Int32
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		body, status, delay, gate, chunked := s.body, s.status, s.delay, s.gate, s.chunked
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if chunked {
			w.WriteHeader(status)
			for i := 0; i < len(body); i += 1024 {
				_, _ = w.Write(body[i:min(i+1024, len(body))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(body []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = body, status
}

func (s *jwksServer) url() string { return s.URL + "/.well-known/jwks.json" }

func rsaSig(kid string) jwk {
	return rsaPublic(rsa2048()).with("alg", "RS256", "kid", kid, "use", "sig")
}

func ecSig(kid string) jwk { return ecPublic(ecP256()).with("alg", "ES256", "kid", kid) }

func jwksRing(t *testing.T, srv *jwksServer, clk *clock, opts ...keyring.JWKSOption) *keyring.Ring {
	t.Helper()
	opts = append([]keyring.JWKSOption{keyring.WithClock(clk.Now)}, opts...)
	return newRing(t, map[string]keyring.Source{issuer: keyring.FromJWKS(issuer, srv.url(), srv.Client(), opts...)})
}

func wantKey(t *testing.T, r *keyring.Ring, kid string) {
	t.Helper()
	k, err := r.Key(context.Background(), issuer, kid)
	if err != nil {
		t.Fatalf("Key(%s): %v", kid, err)
	}
	if k.ID != kid || k.Origin != keyring.OriginJWKS {
		t.Fatalf("Key(%s) = {ID %q, Origin %q}, want {%s, jwks}", kid, k.ID, k.Origin, kid)
	}
}

func wantErr(t *testing.T, r *keyring.Ring, kid string, want error) error {
	t.Helper()
	_, err := r.Key(context.Background(), issuer, kid)
	if !errors.Is(err, want) {
		t.Fatalf("Key(%s): err = %v, want %v", kid, err, want)
	}
	return err
}

func wantRequests(t *testing.T, srv *jwksServer, n int32) {
	t.Helper()
	if got := srv.requests.Load(); got != n {
		t.Errorf("JWKS requests = %d, want %d", got, n)
	}
}

func TestJWKSFetchOnceThenServeFromMemory(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a"), ecSig("b")))
	r := jwksRing(t, srv, clk)
	wantKey(t, r, "a")
	wantKey(t, r, "b")
	clk.advance(9 * time.Minute)
	wantKey(t, r, "a")
	wantRequests(t, srv, 1)
}

func TestJWKSUnknownKidRefetchAndCoolDown(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a")))
	r := jwksRing(t, srv, clk)
	wantKey(t, r, "a")

	srv.serve(set(t, rsaSig("a"), ecSig("b")), http.StatusOK) // the issuer adds b
	clk.advance(10 * time.Second)
	wantKey(t, r, "b")
	wantRequests(t, srv, 2)

	// Unknown kids within the cool-down do not reach the endpoint.
	for range 5 {
		wantErr(t, r, "nope", keyring.ErrUnknownKey)
	}
	wantRequests(t, srv, 2)
	clk.advance(9 * time.Second)
	wantErr(t, r, "nope", keyring.ErrUnknownKey)
	wantRequests(t, srv, 2)
	clk.advance(time.Second)
	wantErr(t, r, "nope", keyring.ErrUnknownKey)
	wantRequests(t, srv, 3)
}

func TestJWKSRemovedKeyDropped(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a"), ecSig("b")))
	r := jwksRing(t, srv, clk)
	wantKey(t, r, "a")
	srv.serve(set(t, ecSig("b")), http.StatusOK)
	clk.advance(10 * time.Minute) // refresh age
	wantKey(t, r, "b")            // the aged set is refetched on this call
	wantRequests(t, srv, 2)
	wantErr(t, r, "a", keyring.ErrUnknownKey)
}

func TestJWKSEndpointDown(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a")))
	r := jwksRing(t, srv, clk)
	wantKey(t, r, "a")
	srv.serve([]byte("upstream error"), http.StatusBadGateway)

	clk.advance(30 * time.Minute)
	wantKey(t, r, "a") // aged, refetch fails, last good served
	wantRequests(t, srv, 2)
	clk.advance(29*time.Minute + 59*time.Second)
	wantKey(t, r, "a")
	wantRequests(t, srv, 3)
	clk.advance(time.Second) // one hour since the last good fetch
	err := wantErr(t, r, "a", keyring.ErrKeysUnavailable)
	if !strings.Contains(err.Error(), "status 502") {
		t.Errorf("err = %q, want the fetch failure", err)
	}
	if errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("err wraps ErrUnknownKey too: %v", err)
	}

	// The endpoint recovers: after the cool-down, keys are back.
	srv.serve(set(t, rsaSig("a")), http.StatusOK)
	clk.advance(10 * time.Second)
	wantKey(t, r, "a")
}

func TestJWKSFirstFetchFails(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, nil)
	srv.serve([]byte("nope"), http.StatusNotFound)
	r := jwksRing(t, srv, clk)
	wantErr(t, r, "a", keyring.ErrKeysUnavailable)
	wantErr(t, r, "a", keyring.ErrKeysUnavailable)
	wantRequests(t, srv, 1) // failures cool down too
}

func TestJWKSRejectsBadResponses(t *testing.T) {
	big := set(t, rsaSig("a"))
	big = append(big[:len(big)-1], []byte(`,"pad":"`+strings.Repeat("x", 300<<10)+`"}`)...)
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		opts    []keyring.JWKSOption
		wantErr string
	}{
		{"oversized with length", big, false, nil, "too large"},
		{"oversized chunked", big, true, nil, "too large"},
		{"custom size cap", set(t, rsaSig("a")), false, []keyring.JWKSOption{keyring.WithMaxBodySize(100)}, "too large"},
		{"not JSON", []byte("<html>"), false, nil, "parse JWK"},
		{"no usable key", set(t, rsaSig("a").with("alg", "")), false, nil, "no alg"},
		{"only enc keys", set(t, rsaSig("a").with("use", "enc", "alg", "RSA-OAEP")), false, nil, "no signature key"},
		{"duplicate kid", set(t, rsaSig("a"), ecSig("a")), false, nil, `share kid "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, tt.body)
			srv.chunked = tt.chunked
			err := wantErr(t, jwksRing(t, srv, newClock(), tt.opts...), "a", keyring.ErrKeysUnavailable)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestJWKSSkipsUnusableKeys(t *testing.T) {
	srv := newJWKSServer(t, set(t,
		rsaSig("good"),
		rsaSig("enc").with("use", "enc", "alg", "RSA-OAEP"),
		rsaPublic(rsa2048()).with("kid", "noalg"),
		rsaPublic(rsa1024()).with("alg", "RS256", "kid", "weak"),
		jwk{"kty": "ML-DSA", "kid": "pq", "alg": "ML-DSA-65", "pub": "AAAA"},
		octKey(16).with("alg", "HS256", "kid", "short"),
	))
	r := jwksRing(t, srv, newClock())
	wantKey(t, r, "good")
	for _, kid := range []string{"enc", "noalg", "weak", "pq", "short"} {
		wantErr(t, r, kid, keyring.ErrUnknownKey)
	}
}

func TestJWKSDefaultAlg(t *testing.T) {
	// Some issuers (Microsoft Entra ID) publish RSA keys without alg.
	srv := newJWKSServer(t, set(t, rsaPublic(rsa2048()).with("kid", "a", "use", "sig"), ecPublic(ecP256()).with("kid", "b")))
	r := jwksRing(t, srv, newClock(), keyring.WithDefaultAlg("RS256"))
	k, err := r.Key(context.Background(), issuer, "a")
	if err != nil || k.Alg != "RS256" {
		t.Fatalf("Key(a) = alg %q, %v; want RS256", k.Alg, err)
	}
	// The default alg must still fit the key: an EC key cannot be RS256.
	wantErr(t, r, "b", keyring.ErrUnknownKey)
}

func TestJWKSSlowEndpointTimesOut(t *testing.T) {
	srv := newJWKSServer(t, set(t, rsaSig("a")))
	srv.delay = 5 * time.Second
	r := jwksRing(t, srv, newClock(), keyring.WithFetchTimeout(100*time.Millisecond))
	start := time.Now()
	err := wantErr(t, r, "a", keyring.ErrKeysUnavailable)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Key took %v, want about the 100ms timeout", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestJWKSConcurrentRefreshCoalesces(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a")))
	r := jwksRing(t, srv, clk)
	wantKey(t, r, "a")

	srv.serve(set(t, rsaSig("a"), ecSig("b")), http.StatusOK)
	gate := make(chan struct{})
	srv.mu.Lock()
	srv.gate = gate
	srv.mu.Unlock()
	clk.advance(10 * time.Second)

	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = r.Key(context.Background(), issuer, "b") })
	}
	for srv.requests.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	wantRequests(t, srv, 2)
}

func TestJWKSRefusesPlainHTTP(t *testing.T) {
	src := keyring.FromJWKS(issuer, "http://issuer.example/jwks.json", nil)
	_, err := src.Keys(context.Background())
	if !errors.Is(err, keyring.ErrKeysUnavailable) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("err = %v, want ErrKeysUnavailable for a plain http URL", err)
	}
}

func BenchmarkRingKeyFromJWKS(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(set(b, rsaSig("a"), ecSig("b")))
	}))
	defer srv.Close()
	r := newRing(b, map[string]keyring.Source{issuer: keyring.FromJWKS(issuer, srv.URL, srv.Client())})
	ctx := context.Background()
	if _, err := r.Key(ctx, issuer, "b"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Key(ctx, issuer, "b"); err != nil {
			b.Fatal(err)
		}
	}
}

// roundTripper serves requests in process, so no request leaves the test.
type roundTripper func(*http.Request) *http.Response

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp := f(r)
	resp.Request = r // as http.Transport does
	return resp, nil
}

func TestJWKSRefusesRedirectToPlainHTTP(t *testing.T) {
	body := set(t, rsaSig("a"))
	var urls []string
	client := &http.Client{Transport: roundTripper(func(r *http.Request) *http.Response {
		urls = append(urls, r.URL.String())
		rec := httptest.NewRecorder()
		if r.URL.Scheme == "https" {
			http.Redirect(rec, r, "http://keys.example/jwks.json", http.StatusFound)
		} else {
			_, _ = rec.Write(body)
		}
		return rec.Result()
	})}
	src := keyring.FromJWKS(issuer, "https://issuer.example/jwks.json", client)
	_, err := src.Keys(context.Background())
	if !errors.Is(err, keyring.ErrKeysUnavailable) || !strings.Contains(err.Error(), "redirected") {
		t.Errorf("err = %v, want the downgrade refused", err)
	}
	if len(urls) != 2 {
		t.Errorf("requests = %q, want the https URL and its redirect", urls)
	}
}

// TestJWKSShortMaxAgeRefreshesBeforeExpiry: with a max age below the default
// refresh age, the set is refetched at half the max age, so a failing
// endpoint is retried while the last good keys still serve, and the keys
// fail closed exactly at the max age.
func TestJWKSShortMaxAgeRefreshesBeforeExpiry(t *testing.T) {
	clk := newClock()
	srv := newJWKSServer(t, set(t, rsaSig("a")))
	r := jwksRing(t, srv, clk, keyring.WithMaxAge(time.Minute), keyring.WithCoolDown(5*time.Second))
	wantKey(t, r, "a")
	clk.advance(29 * time.Second)
	wantKey(t, r, "a")
	wantRequests(t, srv, 1)
	clk.advance(time.Second) // half the max age: refetch
	wantKey(t, r, "a")
	wantRequests(t, srv, 2)

	srv.serve([]byte("busy"), http.StatusTooManyRequests)
	clk.advance(30 * time.Second)
	wantKey(t, r, "a") // refetch fails; the keys fetched 30 s ago serve
	wantRequests(t, srv, 3)
	clk.advance(29 * time.Second)
	wantKey(t, r, "a")
	clk.advance(time.Second) // one minute since the last good fetch
	wantErr(t, r, "a", keyring.ErrKeysUnavailable)

	srv.serve(set(t, rsaSig("a")), http.StatusOK)
	clk.advance(5 * time.Second)
	wantKey(t, r, "a") // recovered without a new Source
}
