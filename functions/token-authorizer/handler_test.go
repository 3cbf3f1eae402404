package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
)

const (
	testIssuer   = "https://auth.example.com"
	testAudience = "api://guard-demo"
	testRoutes   = `[{"route":"GET /orders","scopes":["orders:read"]},
		{"route":"GET /orders/{id}","scopes":["orders:read"]},
		{"route":"POST /admin/users","scopes":["admin"]},
		{"route":"ANY /reports/{proxy+}","groups":["analysts"]}]`
	arnPrefix = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/"
)

// fakeKeys is a KeySource over fixed keys, or one that always fails.
type fakeKeys struct {
	keys map[string]keyring.Key
	err  error
}

func (f fakeKeys) Key(_ context.Context, issuer, kid string) (keyring.Key, error) {
	if f.err != nil {
		return keyring.Key{}, f.err
	}
	if k, ok := f.keys[kid]; ok && issuer == testIssuer {
		return k, nil
	}
	return keyring.Key{}, keyring.ErrUnknownKey
}

type fixture struct {
	h      *handler
	sign   *signer.Signer
	logs   *bytes.Buffer
	keyErr *error
}

func newFixture(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	set, err := signer.Generate("ES256", 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.New(set)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.ParseKeys(set, "AWSCURRENT")
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"KEYS_SECRET_ID": "keys", "KEYS_ISSUER": testIssuer, "AUDIENCES": testAudience,
		"ROUTES": testRoutes, "CONTEXT_CLAIMS": "email,tenant", "USAGE_IDENTIFIER_CLAIM": "api_key",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := loadConfig(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	fk := fakeKeys{keys: map[string]keyring.Key{keys[0].ID: keys[0]}}
	f := &fixture{sign: s, logs: &bytes.Buffer{}}
	var ks token.KeySource = fk
	if env["_KEYS_DOWN"] == "1" {
		ks = fakeKeys{err: token.ErrKeysUnavailable}
	}
	v, err := token.NewVerifier(ks, cfg.issuers(), token.WithClockSkew(cfg.skew), token.WithMaxLifetime(cfg.maxLifetime))
	if err != nil {
		t.Fatal(err)
	}
	f.h = &handler{
		verify: v, rules: cfg.rules, simple: cfg.simple, contextClaims: cfg.contextClaims,
		usageClaim: cfg.usageClaim, log: slog.New(slog.NewJSONHandler(f.logs, nil)), now: time.Now,
	}
	return f
}

func (f *fixture) token(t *testing.T, mutate func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "alice", "scope": "orders:read profile",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": "alice@example.com",
		"tenant": map[string]any{"id": 7}, "api_key": "usage-key-1",
	}
	if mutate != nil {
		mutate(c)
	}
	tok, err := f.sign.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// event reads a sample event and puts tok where the sample has {{token}}.
func event(t *testing.T, name, tok string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "token-authorizer", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("{{token}}"), []byte(tok))
}

// readEvent decodes a sample strictly into the aws-lambda-go type API
// Gateway's event corresponds to.
func readEvent[T any](t *testing.T, name string) T {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(event(t, name, "x")))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not a %T: %v", name, v, err)
	}
	return v
}

func TestFixturesDecodeStrictly(t *testing.T) {
	if e := readEvent[events.APIGatewayCustomAuthorizerRequest](t, "rest-token.json"); e.Type != "TOKEN" || e.MethodArn == "" {
		t.Errorf("rest-token.json: type %q arn %q", e.Type, e.MethodArn)
	}
	if e := readEvent[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "rest-request.json"); e.Type != "REQUEST" || e.RequestContext.Identity.SourceIP == "" {
		t.Errorf("rest-request.json: type %q", e.Type)
	}
	if e := readEvent[events.APIGatewayV2CustomAuthorizerV2Request](t, "http-v2.json"); e.Version != "2.0" || e.RouteArn == "" {
		t.Errorf("http-v2.json: version %q arn %q", e.Version, e.RouteArn)
	}
}

func TestDecisions(t *testing.T) {
	type want struct {
		err      error  // apigw.ErrUnauthorized, or a *apigw.FailClosed (matched by type)
		reason   string // logged reason
		allowed  []string
		denied   []string
		simple   *bool
		envelope string
	}
	yes, no := true, false
	cases := []struct {
		name   string
		env    map[string]string
		file   string
		claims func(map[string]any)
		tok    string // overrides the minted token when set
		want   want
	}{
		{name: "rest token allowed", file: "rest-token.json", want: want{reason: "ok",
			allowed: []string{"GET/orders", "GET/orders/42"}, denied: []string{"POST/admin/users", "DELETE/orders/42", "GET/reports/x"}}},
		{name: "rest request allowed", file: "rest-request.json", want: want{reason: "ok",
			allowed: []string{"GET/orders/42", "GET/orders"}, denied: []string{"POST/admin/users"}}},
		{name: "http 2.0 iam allowed", file: "http-v2.json", want: want{reason: "ok", allowed: []string{"GET/orders/42"}}},
		{name: "http 2.0 simple allowed", file: "http-v2.json", env: map[string]string{"SIMPLE_RESPONSES": "true"}, want: want{reason: "ok", simple: &yes}},
		{name: "http 2.0 simple not entitled", file: "http-v2.json", env: map[string]string{"SIMPLE_RESPONSES": "true"},
			claims: func(c map[string]any) { c["scope"] = "profile" }, want: want{reason: "not_entitled", simple: &no}},
		{name: "rest not entitled gets a policy that denies the route", file: "rest-token.json",
			claims: func(c map[string]any) { c["scope"] = "admin" },
			want:   want{reason: "not_entitled", allowed: []string{"POST/admin/users"}, denied: []string{"GET/orders", "GET/orders/42"}}},
		{name: "group entitles proxy route", file: "rest-token.json",
			claims: func(c map[string]any) { c["scope"] = ""; c["cognito:groups"] = []string{"analysts"} },
			want:   want{reason: "not_entitled", allowed: []string{"GET/reports/2026/q1", "POST/reports/x"}, denied: []string{"GET/orders"}}},
		{name: "no token", file: "rest-token.json", tok: "", want: want{err: apigw.ErrUnauthorized, reason: "no_token"}},
		{name: "not bearer", file: "rest-token.json", tok: "Basic dXNlcjpwYXNz", want: want{err: apigw.ErrUnauthorized, reason: "no_token"}},
		{name: "expired", file: "rest-request.json", claims: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
			want: want{err: apigw.ErrUnauthorized, reason: string(token.ReasonExpired)}},
		{name: "wrong audience", file: "http-v2.json", claims: func(c map[string]any) { c["aud"] = "api://other" },
			want: want{err: apigw.ErrUnauthorized, reason: string(token.ReasonBadAudience)}},
		{name: "wrong issuer", file: "rest-token.json", claims: func(c map[string]any) { c["iss"] = "https://evil.example.com" },
			want: want{err: apigw.ErrUnauthorized, reason: string(token.ReasonBadIssuer)}},
		{name: "garbage token", file: "rest-token.json", tok: "Bearer abc.def.ghi", want: want{err: apigw.ErrUnauthorized, reason: string(token.ReasonMalformed)}},
		{name: "keys unavailable fails closed", file: "rest-token.json", env: map[string]string{"_KEYS_DOWN": "1"},
			want: want{err: &apigw.FailClosed{}, reason: string(token.ReasonKeysUnavailable)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env)
			tok := "Bearer " + f.token(t, tc.claims)
			if tc.tok != "" || strings.HasPrefix(tc.name, "no token") {
				tok = tc.tok
			}
			payload := event(t, tc.file, strings.TrimPrefix(tok, "Bearer "))
			if !strings.HasPrefix(tok, "Bearer ") {
				payload = bytes.ReplaceAll(event(t, tc.file, "@@"), []byte("Bearer @@"), []byte(tok))
			}
			resp, err := f.h.handle(context.Background(), payload)
			checkErr(t, err, tc.want.err)
			if !strings.Contains(f.logs.String(), `"reason":"`+tc.want.reason+`"`) {
				t.Errorf("log %s lacks reason %q", f.logs.String(), tc.want.reason)
			}
			if raw := strings.TrimPrefix(tok, "Bearer "); len(raw) > 20 && strings.Contains(f.logs.String(), raw[len(raw)-20:]) {
				t.Errorf("the log contains the token's signature: %s", f.logs.String())
			}
			if tc.want.err != nil {
				if resp != nil {
					t.Errorf("response = %v with an error, want nil", resp)
				}
				return
			}
			if tc.want.simple != nil {
				s, ok := resp.(events.APIGatewayV2CustomAuthorizerSimpleResponse)
				if !ok {
					t.Fatalf("response is %T, want a simple response", resp)
				}
				if s.IsAuthorized != *tc.want.simple {
					t.Errorf("isAuthorized = %v, want %v", s.IsAuthorized, *tc.want.simple)
				}
				checkContext(t, s.Context)
				return
			}
			r, ok := resp.(events.APIGatewayCustomAuthorizerResponse)
			if !ok {
				t.Fatalf("response is %T, want an IAM policy response", resp)
			}
			if r.PrincipalID != "alice" {
				t.Errorf("principalId = %q, want alice", r.PrincipalID)
			}
			checkContext(t, r.Context)
			doc := roundTrip(t, r.PolicyDocument)
			base := arnPrefix
			if tc.file == "http-v2.json" {
				base = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/"
			}
			for _, m := range tc.want.allowed {
				if d := policy.Evaluate(doc, base+m); d != policy.Allow {
					t.Errorf("policy decides %v for %s, want Allow", d, m)
				}
			}
			for _, m := range tc.want.denied {
				if d := policy.Evaluate(doc, base+m); d == policy.Allow {
					t.Errorf("policy allows %s, want it denied", m)
				}
			}
			if d := policy.Evaluate(doc, "arn:aws:execute-api:us-east-1:123456789012:otherapi/dev/GET/orders"); d == policy.Allow {
				t.Errorf("policy allows another API")
			}
			if r.UsageIdentifierKey != "usage-key-1" {
				t.Errorf("usageIdentifierKey = %q, want usage-key-1", r.UsageIdentifierKey)
			}
		})
	}
}

// roundTrip marshals the response's policy and parses it the way the
// gateway (and API Gateway) does.
func roundTrip(t *testing.T, p events.APIGatewayCustomAuthorizerPolicy) policy.Document {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.ParseDocument(b)
	if err != nil {
		t.Fatalf("policy %s does not parse: %v", b, err)
	}
	return doc
}

func checkContext(t *testing.T, ctx map[string]any) {
	t.Helper()
	if ctx["sub"] != "alice" || ctx["iss"] != testIssuer || ctx["email"] != "alice@example.com" {
		t.Errorf("context = %v, want sub, iss and email", ctx)
	}
	if _, ok := ctx["tenant"]; ok {
		t.Errorf("context kept the object claim tenant: %v", ctx)
	}
	for k, v := range ctx {
		switch v.(type) {
		case string, bool, float64, int64, int, json.Number:
		default:
			t.Errorf("context[%q] is %T, want a scalar", k, v)
		}
	}
}

func checkErr(t *testing.T, got, want error) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Fatalf("err = %v, want nil", got)
		}
	case *apigw.FailClosed:
		var fc *apigw.FailClosed
		if !errors.As(got, &fc) || got.Error() == "Unauthorized" {
			t.Fatalf("err = %v, want a FailClosed error (500)", got)
		}
	default:
		if got == nil || got.Error() != w.Error() {
			t.Fatalf("err = %v, want exactly %q", got, w.Error())
		}
	}
}

func TestMalformedEventsFailClosed(t *testing.T) {
	f := newFixture(t, nil)
	for name, payload := range map[string]string{
		"not json":     `{`,
		"unknown type": `{"type":"COOKIE","methodArn":"` + arnPrefix + `GET/orders"}`,
		"no arn":       `{"type":"TOKEN","authorizationToken":"Bearer x"}`,
		"bad arn":      `{"type":"TOKEN","authorizationToken":"Bearer x","methodArn":"arn:aws:s3:::bucket"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.h.handle(context.Background(), []byte(payload))
			checkErr(t, err, &apigw.FailClosed{})
		})
	}
}

func TestMisconfiguredFailsClosed(t *testing.T) {
	var logs bytes.Buffer
	h := apigw.Misconfigured(slog.New(slog.NewJSONHandler(&logs, nil)), errors.New("ROUTES is not set"))
	_, err := h(context.Background(), []byte(`{}`))
	checkErr(t, err, &apigw.FailClosed{})
	if !strings.Contains(logs.String(), "ROUTES is not set") || !strings.Contains(logs.String(), `"reason":"misconfigured"`) {
		t.Errorf("log = %s, want the cause and reason misconfigured", logs.String())
	}
}

func TestLoadConfigReportsEveryError(t *testing.T) {
	env := map[string]string{
		"KEYS_SECRET_ID": "keys", "CLOCK_SKEW_SECONDS": "-1", "SIMPLE_RESPONSES": "maybe",
		"OIDC_ISSUERS": `[{"issuer":"http://evil.example.com"}]`,
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("loadConfig accepted a broken configuration")
	}
	for _, want := range []string{"KEYS_ISSUER", "AUDIENCES", "CLOCK_SKEW_SECONDS", "SIMPLE_RESPONSES", "OIDC_ISSUERS[0].issuer", "audiences or client_ids", "ROUTES is not set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	env := map[string]string{"OIDC_ISSUERS": `[{"issuer":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc","client_ids":["c1"],"token_use":"access"}]`, "ROUTES": testRoutes}
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.skew != 30*time.Second || c.maxLifetime != 24*time.Hour || c.coolDown != 10*time.Second || c.simple {
		t.Errorf("defaults: skew %v lifetime %v cool-down %v simple %v", c.skew, c.maxLifetime, c.coolDown, c.simple)
	}
	iss := c.issuers()
	if len(iss) != 1 || iss[0].TokenUse != "access" || iss[0].ClientIDs[0] != "c1" {
		t.Errorf("issuers = %+v", iss)
	}
}

// fakeRevocations revokes subjects issued before a time, or fails.
type fakeRevocations struct {
	before map[string]time.Time
	err    error
	calls  int
}

func (f *fakeRevocations) Check(_ context.Context, _, sub, _ string, iat time.Time) (bool, error) {
	f.calls++
	if f.err != nil {
		return false, f.err
	}
	t, ok := f.before[sub]
	return ok && iat.Before(t), nil
}

func TestRevocation(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name   string
		rev    *fakeRevocations
		iat    time.Time
		err    error
		reason string
	}{
		{"revoked subject", &fakeRevocations{before: map[string]time.Time{"alice": now}}, now.Add(-time.Minute), apigw.ErrUnauthorized, "revoked"},
		{"token issued after the revocation", &fakeRevocations{before: map[string]time.Time{"alice": now.Add(-time.Hour)}}, now, nil, "ok"},
		{"other subject revoked", &fakeRevocations{before: map[string]time.Time{"bob": now}}, now.Add(-time.Minute), nil, "ok"},
		{"table unreadable beyond staleness", &fakeRevocations{err: errors.New("revocation view stale")}, now, &apigw.FailClosed{}, "revocations_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.h.revoked = tc.rev
			tok := f.token(t, func(c map[string]any) { c["iat"] = tc.iat.Unix() })
			_, err := f.h.handle(context.Background(), event(t, "rest-token.json", tok))
			checkErr(t, err, tc.err)
			if !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Errorf("log %s lacks reason %q", f.logs.String(), tc.reason)
			}
			if tc.rev.calls != 1 {
				t.Errorf("revocation checks = %d, want 1", tc.rev.calls)
			}
		})
	}
}

// TestAuthorizationUnderTwoSpellings: an event whose Authorization header
// comes under two spellings with different values (a valid token and
// another) carries no credential the authorizer can pick: 401, never a
// 500, and never the valid token's decision.
func TestAuthorizationUnderTwoSpellings(t *testing.T) {
	for file, spelling := range map[string]string{"rest-request.json": `"Authorization"`, "http-v2.json": `"authorization"`} {
		t.Run(file, func(t *testing.T) {
			f := newFixture(t, nil)
			payload := event(t, file, f.token(t, nil))
			payload = bytes.Replace(payload, []byte(spelling+":"), []byte(`"AUTHORIZATION": "Bearer other.token.value", `+spelling+":"), 1)
			resp, err := f.h.handle(context.Background(), payload)
			checkErr(t, err, apigw.ErrUnauthorized)
			if resp != nil || !strings.Contains(f.logs.String(), `"reason":"no_token"`) {
				t.Errorf("response %v, log %s; want 401 with reason no_token", resp, f.logs)
			}
		})
	}
}

// TestNoIssuedAtWithRevocations: while revocation checks are on, a token
// must carry iat (a subject revocation compares it, and its entry lasts only
// the longest token lifetime); without revocation checks iat stays optional.
func TestNoIssuedAtWithRevocations(t *testing.T) {
	noIat := func(c map[string]any) { delete(c, "iat") }
	f := newFixture(t, nil)
	f.h.revoked = &fakeView{}
	_, err := f.h.handle(context.Background(), event(t, "rest-token.json", f.token(t, noIat)))
	checkErr(t, err, apigw.ErrUnauthorized)
	if !strings.Contains(f.logs.String(), `"reason":"`+string(token.ReasonMissingClaim)+`"`) {
		t.Errorf("log %s, want reason %s", f.logs, token.ReasonMissingClaim)
	}
	if _, err := f.h.handle(context.Background(), event(t, "rest-token.json", f.token(t, nil))); err != nil {
		t.Errorf("a token with iat: %v", err)
	}

	f = newFixture(t, nil)
	if _, err := f.h.handle(context.Background(), event(t, "rest-token.json", f.token(t, noIat))); err != nil {
		t.Errorf("without revocation checks, a token without iat: %v, want it allowed", err)
	}
}
