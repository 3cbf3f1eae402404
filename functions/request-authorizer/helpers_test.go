package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/replay"
	"github.com/apigw-guard/guard/shared/secretver"
)

// The fixed clock of the tests: inside the fixture certificate's validity
// (2026-01-01 to 2031-01-01).
var testNow = time.Date(2026, 12, 3, 19, 3, 58, 0, time.UTC)

// Fingerprint, subject and issuer of the certificate in the mTLS fixtures.
const (
	fixtureFingerprint = "763c6441ad6f0c1f45d44f44fd38fd8a5dde17e4f1dc419977fdb028a82e8776"
	fixtureSubject     = "CN=partner-a.example.com,O=Example Corp"
	fixtureIssuer      = "CN=Example Partner CA,O=Example Corp"
)

// The body the signed fixtures' Content-Digest is the SHA-256 of.
const fixtureBody = `{"order":42,"items":[{"sku":"A-1","qty":2}]}`

var (
	keyOldOld = bytes.Repeat([]byte{0x01}, 32) // partner-a's key two rotations ago: gone
	keyOld    = bytes.Repeat([]byte{0x02}, 32) // partner-a's key in AWSPREVIOUS
	keyNew    = bytes.Repeat([]byte{0x03}, 32) // partner-a's key in AWSCURRENT
	keyB      = bytes.Repeat([]byte{0x0b}, 32) // partner-b's key
)

const (
	opsOldSecret = "ops-old-secret-0123456789"
	opsNewSecret = "ops-new-secret-0123456789"
	usageOps     = "usage-key-ops-0123456789"
	usagePartner = "usage-key-partner-a-0123"
)

const testRoutes = `[
 {"route":"POST /webhooks/orders","accept":["signature"],"principals":["partner-a"],
  "sourceIp":{"allow":["198.51.100.0/24","2001:db8::/32"]}},
 {"route":"POST /admin/users","accept":["credentials"],"principals":["ops"],"sourceIp":{"allow":["10.0.0.0/8"]}},
 {"route":"GET /admin/users","accept":["credentials"],"sourceIp":{"allow":["10.0.0.0/8"]}},
 {"route":"GET /orders","accept":["credentials","signature"]},
 {"route":"ANY /reports/{proxy+}","accept":["certificate","credentials"],
  "clientCert":{"issuers":["` + fixtureIssuer + `"],"fingerprints":["` + fixtureFingerprint + `"]}}
]`

// fakeReader serves the secret's versions like a secretver.Reader: Refresh
// moves to the pending versions, if any.
type fakeReader struct {
	mu      sync.Mutex
	snap    secretver.Snapshot
	pending []secretver.Version
	err     error
}

func (f *fakeReader) Get(context.Context) (secretver.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return secretver.Snapshot{}, f.err
	}
	return f.snap, nil
}

func (f *fakeReader) Refresh(context.Context) (secretver.Snapshot, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return secretver.Snapshot{}, false, f.err
	}
	if f.pending != nil {
		f.snap = secretver.Snapshot{Versions: f.pending, Generation: f.snap.Generation + 1}
		f.pending = nil
	}
	return f.snap, true, nil
}

func (f *fakeReader) SecretID() string { return "guard-local-request-credentials" }

func secretJSON(t testing.TB, d credential.Document) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func clientEntry(t testing.TB, secret, usage string) credential.ClientEntry {
	t.Helper()
	e, err := credential.NewClientEntry(secret, credential.MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	e.UsageKey = usage
	return e
}

// versions returns the test secret: AWSCURRENT v2 and AWSPREVIOUS v1.
func versions(t testing.TB) []secretver.Version {
	v1 := secretJSON(t, credential.Document{
		HMAC:    map[string]credential.HMACEntry{"partner-a": {Key: keyOld}, "partner-b": {Key: keyB}},
		Clients: map[string]credential.ClientEntry{"ops": clientEntry(t, opsOldSecret, usageOps)},
	})
	v2 := secretJSON(t, credential.Document{
		HMAC:    map[string]credential.HMACEntry{"partner-a": {Key: keyNew, UsageKey: usagePartner}, "partner-b": {Key: keyB}},
		Clients: map[string]credential.ClientEntry{"ops": clientEntry(t, opsNewSecret, usageOps)},
	})
	return []secretver.Version{
		{ID: "v2", Stage: secretver.StageCurrent, Value: v2},
		{ID: "v1", Stage: secretver.StagePrevious, Value: v1},
	}
}

type fixture struct {
	h      *handler
	reader *fakeReader
	logs   *bytes.Buffer
	now    *time.Time
}

// newFixture builds the handler the way setup does, over a fake secret
// reader, with env overriding the test configuration.
func newFixture(t testing.TB, env map[string]string, guard httpsig.ReplayGuard) *fixture {
	t.Helper()
	base := map[string]string{"CREDENTIALS_SECRET_ID": "guard-local-request-credentials", "ROUTES": testRoutes}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := loadConfig(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reader: &fakeReader{snap: secretver.Snapshot{Versions: versions(t), Generation: 1}}, logs: &bytes.Buffer{}}
	now := testNow
	f.now = &now
	clock := func() time.Time { return *f.now }
	store := credential.NewStore(f.reader, credential.WithCache(cfg.verifiedTTL, 0), credential.WithClock(clock))
	if guard == nil {
		guard = replay.NewMemory(cfg.replaySize, replay.WithClock(clock))
	}
	sig, err := httpsig.NewVerifier(secretKeys{store}, httpsig.WithClock(clock),
		httpsig.WithWindow(cfg.window), httpsig.WithClockSkew(cfg.skew),
		httpsig.WithRequired(cfg.components...), httpsig.WithLabel(cfg.label), httpsig.WithTag(cfg.tag),
		httpsig.WithReplayGuard(guard))
	if err != nil {
		t.Fatal(err)
	}
	f.h = &handler{routes: cfg.routes, apiIP: cfg.apiIP, sig: sig, creds: store,
		idHeader: cfg.clientIDHeader, secretHeader: cfg.secretHeader, simple: cfg.simple,
		log: slog.New(slog.NewJSONHandler(f.logs, nil)), now: clock}
	return f
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "request-authorizer", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// fill replaces {{name}} placeholders with values, JSON-escaped.
func fill(b []byte, values map[string]string) []byte {
	for k, v := range values {
		b = bytes.ReplaceAll(b, []byte("{{"+k+"}}"), []byte(jsonText(v)))
	}
	return b
}

// edit decodes a fixture into a generic map, lets mutate change it, and
// encodes it again.
func edit(t testing.TB, b []byte, mutate func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	mutate(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// signedRequests are the requests the signed fixtures describe, written
// out by hand (not derived by the code under test): what the client sent.
var signedRequests = map[string]httpsig.Request{
	"rest-signed.json": {Method: "POST", Authority: "abcdef1234.execute-api.us-east-1.amazonaws.com", Path: "/dev/webhooks/orders",
		Header: map[string]string{"content-digest": "sha-256=:KknMayu1UJ5bUZUHVXWRTpnjB37LSd6dQBljFF9EKa4=:", "content-type": "application/json"}},
	"http-v2-signed.json": {Method: "POST", Authority: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", Path: "/dev/webhooks/orders",
		Query:  "source=shop&attempt=1",
		Header: map[string]string{"content-digest": "sha-256=:KknMayu1UJ5bUZUHVXWRTpnjB37LSd6dQBljFF9EKa4=:", "content-type": "application/json"}},
}

var signedComponents = []string{"@method", "@authority", "@path", "content-digest", "content-type"}

// signed returns the signed fixture name, signed with key as keyID over
// components at created (the defaults: partner-a, keyNew, signedComponents,
// testNow, plus @query when the request has a query).
type signOpts struct {
	keyID      string
	key        []byte
	components []string
	created    time.Time
	edit       func(*httpsig.Request)
}

func signed(t testing.TB, name string, o signOpts) []byte {
	t.Helper()
	r := signedRequests[name]
	r.Header = map[string]string{}
	for k, v := range signedRequests[name].Header {
		r.Header[k] = v
	}
	if o.keyID == "" {
		o.keyID = "partner-a"
	}
	if o.key == nil {
		o.key = keyNew
	}
	if o.components == nil {
		o.components = signedComponents
		if r.Query != "" {
			o.components = append([]string{"@query"}, signedComponents...)
		}
	}
	if o.created.IsZero() {
		o.created = testNow
	}
	if o.edit != nil {
		o.edit(&r)
	}
	fields, err := httpsig.Sign(&r, "sig1", o.components, httpsig.Params{Created: o.created, KeyID: o.keyID, Alg: true}, o.key)
	if err != nil {
		t.Fatal(err)
	}
	return fill(readFixture(t, name), map[string]string{"signature-input": fields.SignatureInput, "signature": fields.Signature})
}

// withBasic returns a credentials fixture carrying id:secret.
func withBasic(t testing.TB, name, id, secret string) []byte {
	t.Helper()
	return fill(readFixture(t, name), map[string]string{"basic": base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))})
}

// result is a decision in the terms API Gateway acts on.
type result struct {
	outcome string // allow, deny, unauthorized, error:<type>
	resp    events.APIGatewayCustomAuthorizerResponse
	simple  *events.APIGatewayV2CustomAuthorizerSimpleResponse
}

// run invokes the handler and decides like API Gateway: the error
// "Unauthorized" is 401, any other error 500, else the policy evaluated
// against the event's own ARN.
func (f *fixture) run(t testing.TB, payload []byte) result {
	t.Helper()
	out, err := f.h.handle(context.Background(), payload)
	if err != nil {
		if err.Error() == "Unauthorized" {
			return result{outcome: "unauthorized"}
		}
		if _, ok := errors.AsType[*apigw.FailClosed](err); ok && err.Error() == "authorizer unavailable" {
			return result{outcome: "error:FailClosed"}
		}
		return result{outcome: "error:" + err.Error()}
	}
	switch v := out.(type) {
	case events.APIGatewayV2CustomAuthorizerSimpleResponse:
		o := "deny"
		if v.IsAuthorized {
			o = "allow"
		}
		return result{outcome: o, simple: &v}
	case events.APIGatewayCustomAuthorizerResponse:
		arn := eventARN(t, payload)
		if policy.Evaluate(fromEvents(t, v.PolicyDocument), arn) == policy.Allow {
			return result{outcome: "allow", resp: v}
		}
		return result{outcome: "deny", resp: v}
	}
	t.Fatalf("handler answered %T", out)
	return result{}
}

func eventARN(t testing.TB, payload []byte) string {
	t.Helper()
	var e struct {
		MethodArn string `json:"methodArn"`
		RouteArn  string `json:"routeArn"`
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		t.Fatal(err)
	}
	return e.MethodArn + e.RouteArn
}

func fromEvents(t testing.TB, p events.APIGatewayCustomAuthorizerPolicy) policy.Document {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := policy.ParseDocument(b)
	if err != nil {
		t.Fatalf("policy %s: %v", b, err)
	}
	return doc
}

// allows reports whether the answer's policy allows the request of arn.
func allows(t testing.TB, r result, arn string) bool {
	t.Helper()
	return policy.Evaluate(fromEvents(t, r.resp.PolicyDocument), arn) == policy.Allow
}

type docT = credential.Document

// mustDoc parses a secret version and lets mutate change it.
func mustDoc(t testing.TB, value string, mutate func(*docT)) docT {
	t.Helper()
	d, err := credential.Parse([]byte(value))
	if err != nil {
		t.Fatal(err)
	}
	mutate(d)
	return *d
}

func hmacEntry(k []byte) credential.HMACEntry { return credential.HMACEntry{Key: k} }
