package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/revocation"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// journal records the order of side effects across fakes.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.lines...)
}

// fakeStore is the revocation table: Revoke is idempotent like the real
// writer, and Check answers from what was stored once it is "visible".
type fakeStore struct {
	j       *journal
	mu      sync.Mutex
	entries map[string]revocation.Entry
	fail    map[string]error // by subject or jti
	// hiddenChecks is how many Checks miss a new entry before seeing it;
	// negative: never.
	hiddenChecks int
	checks       int
	checkErr     error
	// expired, when set, says which entries revocation.Writer would refuse
	// as already expired.
	expired func(revocation.Entry) bool
}

func newFakeStore(j *journal) *fakeStore {
	return &fakeStore{j: j, entries: map[string]revocation.Entry{}, fail: map[string]error{}}
}

func (s *fakeStore) Revoke(_ context.Context, e revocation.Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := e.Key()
	if err != nil {
		return false, err
	}
	if err := s.fail[e.Subject+e.JTI]; err != nil {
		return false, err
	}
	if s.expired != nil && s.expired(e) {
		s.j.add("revoke %s expired", key)
		return false, revocation.ErrExpiredEntry
	}
	old, ok := s.entries[key]
	if ok && !old.RevokedAt.Before(e.RevokedAt) {
		s.j.add("revoke %s created=false", key)
		return false, nil
	}
	s.entries[key] = e
	s.j.add("revoke %s created=true", key)
	return true, nil
}

func (s *fakeStore) Check(_ context.Context, issuer, sub, jti string, iat time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks++
	if s.checkErr != nil {
		return false, s.checkErr
	}
	if s.hiddenChecks < 0 || s.checks <= s.hiddenChecks {
		return false, nil
	}
	for _, e := range s.entries {
		switch {
		case jti != "" && e.JTI == jti:
			return true, nil
		case sub != "" && e.Subject == sub && (e.Issuer == "" || e.Issuer == "*" || e.Issuer == issuer) && iat.Before(e.RevokedAt):
			return true, nil
		}
	}
	return false, nil
}

func (s *fakeStore) get(t *testing.T, key string) revocation.Entry {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		t.Fatalf("no entry %q; have %v", key, s.entries)
	}
	return e
}

// script is a per-stage sequence of errors returned by successive calls;
// after it runs out, calls succeed. A nil element is a success.
type script map[string][]error

func (s script) next(key string) error {
	errs := s[key]
	if len(errs) == 0 {
		return nil
	}
	s[key] = errs[1:]
	return errs[0]
}

type fakeREST struct {
	j       *journal
	mu      sync.Mutex
	errs    script
	always  error // when set, every call fails with it
	flushes map[string]int
	caches  map[string]int
}

func (f *fakeREST) FlushStageAuthorizersCache(_ context.Context, in *apigateway.FlushStageAuthorizersCacheInput, _ ...func(*apigateway.Options)) (*apigateway.FlushStageAuthorizersCacheOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := *in.RestApiId + "/" + *in.StageName
	f.j.add("FlushStageAuthorizersCache %s", key)
	f.flushes[key]++
	if f.always != nil {
		return nil, f.always
	}
	if err := f.errs.next("auth " + key); err != nil {
		return nil, err
	}
	return &apigateway.FlushStageAuthorizersCacheOutput{}, nil
}

func (f *fakeREST) FlushStageCache(_ context.Context, in *apigateway.FlushStageCacheInput, _ ...func(*apigateway.Options)) (*apigateway.FlushStageCacheOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := *in.RestApiId + "/" + *in.StageName
	f.j.add("FlushStageCache %s", key)
	f.caches[key]++
	if err := f.errs.next("cache " + key); err != nil {
		return nil, err
	}
	return &apigateway.FlushStageCacheOutput{}, nil
}

type fakeHTTP struct {
	j      *journal
	mu     sync.Mutex
	errs   script
	resets map[string]int
}

func (f *fakeHTTP) ResetAuthorizersCache(_ context.Context, in *apigatewayv2.ResetAuthorizersCacheInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.ResetAuthorizersCacheOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := *in.ApiId + "/" + *in.StageName
	f.j.add("ResetAuthorizersCache %s", key)
	f.resets[key]++
	if err := f.errs.next(key); err != nil {
		return nil, err
	}
	return &apigatewayv2.ResetAuthorizersCacheOutput{}, nil
}

type fakeResolver struct {
	subs map[string]string
	err  error
}

func (r fakeResolver) SubOf(_ context.Context, pool, username string) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	sub, ok := r.subs[pool+"/"+username]
	if !ok {
		return "", fmt.Errorf("AdminGetUser: %w", errUserNotFound)
	}
	return sub, nil
}

// fakeClock is the handler's time: sleeping advances it.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	j      *journal
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	if d >= time.Second {
		c.j.add("sleep %s", d)
	}
	return nil
}

// rig is a handler wired to fakes.
type rig struct {
	h     *handler
	j     *journal
	store *fakeStore
	rest  *fakeREST
	http  *fakeHTTP
	clock *fakeClock
}

var (
	testNow     = time.Date(2025, 6, 12, 14, 30, 0, 0, time.UTC)
	testTargets = []target{{Type: "rest", APIID: "abc123", Stage: "prod"}, {Type: "http", APIID: "def456", Stage: "$default"}}
)

func newRig(targets []target) *rig {
	j := &journal{}
	r := &rig{
		j:     j,
		store: newFakeStore(j),
		rest:  &fakeREST{j: j, errs: script{}, flushes: map[string]int{}, caches: map[string]int{}},
		http:  &fakeHTTP{j: j, errs: script{}, resets: map[string]int{}},
		clock: &fakeClock{t: testNow, j: j},
	}
	f := newFlusher(targets, r.rest, r.http, false)
	f.sleep = r.clock.sleep
	f.jitter = func(d time.Duration) time.Duration { return d } // the cap itself, to check growth
	r.h = &handler{
		store:          r.store,
		view:           r.store,
		flusher:        f,
		settle:         2*time.Second + settleMargin,
		visibleTimeout: visibleTimeout,
		pollEvery:      pollEvery,
		now:            r.clock.now,
		sleep:          r.clock.sleep,
	}
	return r
}

// throttled is API Gateway's modeled 429.
func throttled() error {
	return &gwtypes.TooManyRequestsException{Message: ptr("Too Many Requests")}
}

// status is an unmodeled HTTP error, as a local gateway might answer.
func status(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
		Err:      errors.New(http.StatusText(code)),
	}}
}

func ptr[T any](v T) *T { return &v }
