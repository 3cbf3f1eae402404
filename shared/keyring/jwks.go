package keyring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a JWKS source, see [FromJWKS].
const (
	DefaultFetchTimeout = 3 * time.Second
	DefaultMaxBodySize  = 256 << 10
	DefaultCoolDown     = 10 * time.Second
	DefaultRefreshAfter = 10 * time.Minute
	DefaultMaxAge       = time.Hour
)

// OriginJWKS is the Origin of keys fetched from a JWKS endpoint.
const OriginJWKS = "jwks"

// A JWKSOption changes one of a JWKS source's defaults.
type JWKSOption func(*jwksSource)

// WithFetchTimeout bounds one fetch of the JWK Set (and one discovery
// request). The default is 3 s; d <= 0 keeps it.
func WithFetchTimeout(d time.Duration) JWKSOption {
	return func(s *jwksSource) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithMaxBodySize caps the JWK Set's size in bytes; a larger response fails
// the fetch. The default is 256 KiB; n <= 0 keeps it.
func WithMaxBodySize(n int64) JWKSOption {
	return func(s *jwksSource) {
		if n > 0 {
			s.maxBody = n
		}
	}
}

// WithCoolDown sets the least time between two fetch attempts made because
// of an unknown kid, an aged set or a failure. The default is 10 s; d <= 0
// keeps it.
func WithCoolDown(d time.Duration) JWKSOption {
	return func(s *jwksSource) {
		if d > 0 {
			s.coolDown = d
		}
	}
}

// WithRefreshAfter sets the age at which Keys refetches the set (lazily,
// on the call that finds it aged). The default is 10 min; d <= 0 keeps it.
// It is capped at half the max age (see [WithMaxAge]).
func WithRefreshAfter(d time.Duration) JWKSOption {
	return func(s *jwksSource) {
		if d > 0 {
			s.refreshAfter = d
		}
	}
}

// WithMaxAge sets how long after the last successful fetch the keys are
// still served while the endpoint fails. Past it, Keys returns an error
// wrapping [ErrKeysUnavailable]. The default is 1 h; d <= 0 keeps it.
func WithMaxAge(d time.Duration) JWKSOption {
	return func(s *jwksSource) {
		if d > 0 {
			s.maxAge = d
		}
	}
}

// WithDefaultAlg gives keys that publish no alg this one (for example
// "RS256" for an issuer whose JWKS omits alg). By default such keys are
// skipped. The alg must still fit each key.
func WithDefaultAlg(alg string) JWKSOption {
	return func(s *jwksSource) { s.defaultAlg = alg }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) JWKSOption {
	return func(s *jwksSource) {
		if now != nil {
			s.now = now
		}
	}
}

// FromJWKS returns a [Source] of the keys that issuer publishes as a JWK Set
// at jwksURI (https, or http to a loopback host). client makes the requests;
// nil means a private default client.
//
// The first Keys fetches the set. Later ones serve it from memory until it
// is older than the refresh age, then refetch it on that call (Lambda
// freezes between invocations, so there is no background refresh).
// Refresh refetches at once. Fetch attempts of any kind are at least a
// cool-down apart, and concurrent callers that need one share it. A key
// removed from the set is gone after the next successful fetch. While the
// endpoint fails, the last set fetched is served until it is older than
// the max age; after that, or when no fetch has succeeded yet, Keys returns
// an error wrapping [ErrKeysUnavailable].
//
// Keys that are not usable for signatures (use "enc", an unsupported kty or
// alg, a weak key, no alg without [WithDefaultAlg]) are skipped, as RFC 7517
// section 5 recommends; a set with no usable key, or with two keys of one
// kid, fails the fetch.
func FromJWKS(issuer, jwksURI string, client *http.Client, opts ...JWKSOption) Source {
	s := &jwksSource{
		issuer:       issuer,
		uri:          jwksURI,
		client:       client,
		timeout:      DefaultFetchTimeout,
		maxBody:      DefaultMaxBodySize,
		coolDown:     DefaultCoolDown,
		refreshAfter: DefaultRefreshAfter,
		maxAge:       DefaultMaxAge,
		now:          time.Now,
	}
	if s.client == nil {
		s.client = &http.Client{}
	}
	for _, o := range opts {
		o(s)
	}
	if s.refreshAfter > s.maxAge/2 {
		// Refetch while the keys may still be served, so that a failing
		// endpoint gets retries before the keys expire; otherwise a max
		// age at or below the refresh age would go from serving to
		// failing on the first failed fetch, with no grace at all.
		s.refreshAfter = s.maxAge / 2
	}
	return s
}

type jwksSource struct {
	issuer, uri  string
	client       *http.Client
	timeout      time.Duration
	maxBody      int64
	coolDown     time.Duration
	refreshAfter time.Duration
	maxAge       time.Duration
	defaultAlg   string
	now          func() time.Time

	held atomic.Pointer[heldKeys]

	mu          sync.Mutex
	attempted   bool
	lastAttempt time.Time
	lastErr     error
	flight      *fetchFlight
}

// heldKeys is the last successfully fetched set; immutable.
type heldKeys struct {
	keys    []Key
	fetched time.Time
}

type fetchFlight struct {
	done chan struct{}
	err  error
}

func (s *jwksSource) Keys(ctx context.Context) ([]Key, error) {
	h := s.held.Load()
	if h != nil && s.now().Sub(h.fetched) < s.refreshAfter {
		return h.keys, nil
	}
	// Aged or never fetched. Holders of keys young enough do not wait for a
	// fetch already under way; the others do.
	_, err := s.fetch(ctx, h == nil || s.now().Sub(h.fetched) >= s.maxAge)
	h = s.held.Load()
	if err == nil {
		err = errors.New("no successful fetch")
	}
	switch {
	case h == nil:
		return nil, fmt.Errorf("jwks of issuer %s: %w: %w", clip(s.issuer), ErrKeysUnavailable, err)
	case s.now().Sub(h.fetched) >= s.maxAge:
		return nil, fmt.Errorf("jwks of issuer %s: keys fetched %s ago, max age %s: %w: %w",
			clip(s.issuer), s.now().Sub(h.fetched).Round(time.Second), s.maxAge, ErrKeysUnavailable, err)
	}
	return h.keys, nil
}

func (s *jwksSource) Refresh(ctx context.Context) (bool, error) {
	return s.fetch(ctx, true)
}

// fetch fetches the set unless an attempt was made within the cool-down.
// If a fetch is under way, it waits for it when wait is set, and otherwise
// returns at once. It reports whether this call saw a fetch succeed.
func (s *jwksSource) fetch(ctx context.Context, wait bool) (bool, error) {
	s.mu.Lock()
	if f := s.flight; f != nil {
		s.mu.Unlock()
		if !wait {
			return false, nil
		}
		select {
		case <-f.done:
			return f.err == nil, f.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	now := s.now()
	if s.attempted && now.Sub(s.lastAttempt) < s.coolDown {
		err := s.lastErr
		s.mu.Unlock()
		return false, err
	}
	f := &fetchFlight{done: make(chan struct{})}
	s.flight = f
	s.attempted = true
	s.lastAttempt = now
	s.mu.Unlock()

	keys, err := s.get(ctx)
	if err == nil {
		s.held.Store(&heldKeys{keys: keys, fetched: s.now()})
	}

	s.mu.Lock()
	s.lastErr = err
	s.flight = nil
	f.err = err
	s.mu.Unlock()
	close(f.done)
	return err == nil, err
}

// get performs one request and parses the set.
func (s *jwksSource) get(ctx context.Context) ([]Key, error) {
	body, err := getJSON(ctx, s.client, s.uri, s.timeout, s.maxBody)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks of issuer %s: %w", clip(s.issuer), err)
	}
	keys, err := parseKeys(body, OriginJWKS, parseOptions{defaultAlg: s.defaultAlg})
	if err != nil {
		return nil, fmt.Errorf("jwks of issuer %s: %w", clip(s.issuer), err)
	}
	return keys, nil
}

// errTooLarge means a response exceeded its size cap.
var errTooLarge = errors.New("response too large")

// getJSON GETs rawURL, which must be https or http to a loopback host, with
// a timeout and a size cap, and returns the body of a 200 response.
func getJSON(ctx context.Context, client *http.Client, rawURL string, timeout time.Duration, maxBody int64) ([]byte, error) {
	if err := checkURL(rawURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL != nil {
		// The client may have followed redirects: the final URL must pass
		// the same check, so that https cannot be downgraded.
		if err := checkURL(resp.Request.URL.String()); err != nil {
			return nil, fmt.Errorf("GET %s: redirected: %w", rawURL, err)
		}
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("GET %s: status %d", rawURL, resp.StatusCode)
	}
	if resp.ContentLength > maxBody {
		return nil, fmt.Errorf("GET %s: %w: %d bytes, limit %d", rawURL, errTooLarge, resp.ContentLength, maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", rawURL, err)
	}
	if int64(len(body)) > maxBody {
		return nil, fmt.Errorf("GET %s: %w: over %d bytes", rawURL, errTooLarge, maxBody)
	}
	return body, nil
}

// checkURL accepts https URLs, and http URLs to a loopback host (tests and
// local emulation).
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", rawURL)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("URL %q is not https", rawURL)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
