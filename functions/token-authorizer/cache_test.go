package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/token"
)

// countingVerifier counts the verifications that reach the verifier.
type countingVerifier struct {
	v     *token.Verifier
	calls int
}

func (c *countingVerifier) Verify(ctx context.Context, raw string) (*token.Claims, error) {
	c.calls++
	return c.v.Verify(ctx, raw)
}

// generationRevocations is fakeRevocations with a generation, like
// *revocation.View.
type generationRevocations struct {
	fakeRevocations
	gen uint64
}

func (g *generationRevocations) Generation() uint64 { return g.gen }

// withCache gives f's handler a decision cache of size entries and counts
// verifications.
func withCache(t *testing.T, f *fixture, size int) *countingVerifier {
	t.Helper()
	v, ok := f.h.verify.(*token.Verifier)
	if !ok {
		t.Fatalf("fixture verifier is %T", f.h.verify)
	}
	cv := &countingVerifier{v: v}
	f.h.verify = cv
	f.h.cache = token.NewDecisionCache[verdict](v, size)
	return cv
}

// decide runs one event and returns the response's JSON and the log line.
func (f *fixture) decide(t *testing.T, payload []byte) (string, map[string]any, error) {
	t.Helper()
	f.logs.Reset()
	resp, err := f.h.handle(context.Background(), payload)
	var out []byte
	if resp != nil {
		var merr error
		if out, merr = json.Marshal(resp); merr != nil {
			t.Fatal(merr)
		}
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(f.logs.Bytes()), &line); err != nil {
		t.Fatalf("decision log %q: %v", f.logs.String(), err)
	}
	return string(out), line, err
}

func TestDecisionCacheRepeatedToken(t *testing.T) {
	f := newFixture(t, nil)
	cv := withCache(t, f, 16)
	rev := &generationRevocations{fakeRevocations: fakeRevocations{before: map[string]time.Time{}}}
	f.h.revoked = rev
	tok := f.token(t, nil)
	payload := event(t, "rest-token.json", tok)

	first, log1, err := f.decide(t, payload)
	checkErr(t, err, nil)
	second, log2, err := f.decide(t, payload)
	checkErr(t, err, nil)
	if first != second {
		t.Errorf("cached response differs:\n first %s\nsecond %s", first, second)
	}
	if cv.calls != 1 {
		t.Errorf("verifications = %d for two requests with one token, want 1", cv.calls)
	}
	if _, ok := log1["cached"]; ok {
		t.Errorf("first decision logged cached: %v", log1)
	}
	if log2["cached"] != true || log2["decision"] != "allow" || log2["sub"] != "alice" {
		t.Errorf("second decision log = %v, want cached true, allow, sub alice", log2)
	}
	if rev.calls != 2 {
		t.Errorf("revocation checks = %d, want 2 (one per request, cached or not)", rev.calls)
	}
	if strings.Contains(f.logs.String(), tok[len(tok)-20:]) {
		t.Errorf("the log contains the token's signature: %s", f.logs.String())
	}

	// The subject is revoked after the verdict was cached: the next request
	// is refused although the view's generation did not change yet.
	rev.before["alice"] = time.Now().Add(time.Minute)
	_, log3, err := f.decide(t, payload)
	checkErr(t, err, apigw.ErrUnauthorized)
	if log3["reason"] != "revoked" {
		t.Errorf("reason = %v, want revoked", log3["reason"])
	}

	// The view changes generation (and the revocation is lifted): the
	// cache is cleared, so the token is verified again.
	rev.before = map[string]time.Time{}
	rev.gen++
	_, log4, err := f.decide(t, payload)
	checkErr(t, err, nil)
	if _, ok := log4["cached"]; ok || cv.calls != 2 {
		t.Errorf("after a generation change: cached %v, verifications %d; want a fresh verification (2)", log4["cached"], cv.calls)
	}
}

func TestDecisionCacheRevocationViewFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	withCache(t, f, 16)
	rev := &fakeRevocations{before: map[string]time.Time{}}
	f.h.revoked = rev
	payload := event(t, "rest-token.json", f.token(t, nil))
	if _, _, err := f.decide(t, payload); err != nil {
		t.Fatal(err)
	}
	rev.err = errors.New("revocation view is stale")
	_, line, err := f.decide(t, payload)
	checkErr(t, err, &apigw.FailClosed{})
	if line["reason"] != "revocations_unavailable" {
		t.Errorf("reason = %v, want revocations_unavailable", line["reason"])
	}
}

func TestDecisionCacheAppliesTheRoute(t *testing.T) {
	// The verdict is per token; the route is per request. An HTTP API
	// simple response for the same token flips with the route.
	f := newFixture(t, map[string]string{"SIMPLE_RESPONSES": "true"})
	cv := withCache(t, f, 16)
	tok := f.token(t, nil)
	orders := event(t, "http-v2.json", tok)
	admin := bytes.ReplaceAll(orders, []byte("/GET/orders/42"), []byte("/POST/admin/users"))
	if bytes.Equal(orders, admin) {
		t.Fatal("test bug: the routeArn did not change")
	}
	for i, tc := range []struct {
		payload []byte
		want    bool
	}{{orders, true}, {admin, false}, {orders, true}} {
		out, line, err := f.decide(t, tc.payload)
		checkErr(t, err, nil)
		var r events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.IsAuthorized != tc.want {
			t.Errorf("request %d: isAuthorized = %v, want %v", i, r.IsAuthorized, tc.want)
		}
		if r.Context["sub"] != "alice" || r.Context["email"] != "alice@example.com" {
			t.Errorf("request %d: context = %v", i, r.Context)
		}
		if cached := line["cached"] == true; cached != (i > 0) {
			t.Errorf("request %d: cached = %v", i, cached)
		}
	}
	if cv.calls != 1 {
		t.Errorf("verifications = %d, want 1", cv.calls)
	}
}

func TestDecisionCacheKeepsNoRefusals(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		claims func(map[string]any)
		want   error
	}{
		{"expired", nil, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, apigw.ErrUnauthorized},
		{"wrong audience", nil, func(c map[string]any) { c["aud"] = "api://other" }, apigw.ErrUnauthorized},
		{"keys unavailable", map[string]string{"_KEYS_DOWN": "1"}, nil, &apigw.FailClosed{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env)
			cv := withCache(t, f, 16)
			payload := event(t, "rest-token.json", f.token(t, tc.claims))
			for range 2 {
				_, _, err := f.decide(t, payload)
				checkErr(t, err, tc.want)
			}
			if cv.calls != 2 {
				t.Errorf("verifications = %d, want 2: a refusal is never cached", cv.calls)
			}
			if n := f.h.cache.Len(); n != 0 {
				t.Errorf("cache holds %d entries, want 0", n)
			}
		})
	}
}

func TestDecisionCacheRevokedIsNotCached(t *testing.T) {
	f := newFixture(t, nil)
	cv := withCache(t, f, 16)
	f.h.revoked = &fakeRevocations{before: map[string]time.Time{"alice": time.Now().Add(time.Minute)}}
	payload := event(t, "rest-token.json", f.token(t, nil))
	for range 2 {
		_, line, err := f.decide(t, payload)
		checkErr(t, err, apigw.ErrUnauthorized)
		if line["reason"] != "revoked" {
			t.Errorf("reason = %v, want revoked", line["reason"])
		}
	}
	if cv.calls != 2 || f.h.cache.Len() != 0 {
		t.Errorf("verifications %d, entries %d; want 2 and 0", cv.calls, f.h.cache.Len())
	}
}

func TestDecisionCacheSize(t *testing.T) {
	base := map[string]string{"KEYS_SECRET_ID": "keys", "KEYS_ISSUER": testIssuer, "AUDIENCES": testAudience, "ROUTES": testRoutes}
	cases := []struct {
		value string
		want  int
		err   bool
	}{
		{"", defaultDecisionCache, false},
		{"0", 0, false},
		{"50000", 50000, false},
		{fmt.Sprint(token.MaxDecisionCacheSize), token.MaxDecisionCacheSize, false},
		{fmt.Sprint(token.MaxDecisionCacheSize + 1), 0, true},
		{"-1", 0, true},
		{"lots", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			env := map[string]string{"DECISION_CACHE_SIZE": tc.value}
			for k, v := range base {
				env[k] = v
			}
			c, err := loadConfig(func(k string) string { return env[k] })
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "DECISION_CACHE_SIZE") {
					t.Errorf("err = %v, want one naming DECISION_CACHE_SIZE", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.decisionCache != tc.want {
				t.Errorf("decisionCache = %d, want %d", c.decisionCache, tc.want)
			}
		})
	}
}
