package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/secretver"
)

const (
	restARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/"
	httpARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/"
)

func setSourceIP(ip string) func(map[string]any) {
	return func(m map[string]any) {
		if http, ok := obj(m, "requestContext")["http"]; ok {
			http.(map[string]any)["sourceIp"] = ip
			return
		}
		obj(m, "requestContext", "identity")["sourceIp"] = ip
	}
}

func TestSignedRequests(t *testing.T) {
	cases := []struct {
		name    string
		payload func(t *testing.T) []byte
		want    string // allow, deny, unauthorized
		reason  string
		stage   string
	}{
		{"REST: AWSCURRENT key", func(t *testing.T) []byte { return signed(t, "rest-signed.json", signOpts{}) }, "allow", "ok", secretver.StageCurrent},
		{"REST: AWSPREVIOUS key (rotated secret, old key)", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{key: keyOld})
		}, "allow", "ok", secretver.StagePrevious},
		{"REST: key two rotations old", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{key: keyOldOld})
		}, "unauthorized", "bad_signature", ""},
		{"HTTP 2.0: AWSCURRENT key, query covered", func(t *testing.T) []byte { return signed(t, "http-v2-signed.json", signOpts{}) }, "allow", "ok", secretver.StageCurrent},
		{"HTTP 2.0: @target-uri instead of @authority, @path, @query", func(t *testing.T) []byte {
			return signed(t, "http-v2-signed.json", signOpts{components: []string{"@method", "@target-uri", "content-digest"}})
		}, "allow", "ok", secretver.StageCurrent},
		{"bad signature: signed for another path", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{edit: func(r *httpsig.Request) { r.Path = "/dev/webhooks/refunds" }})
		}, "unauthorized", "bad_signature", ""},
		{"bad signature: signed for another host", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{edit: func(r *httpsig.Request) { r.Authority = "evil.example.com" }})
		}, "unauthorized", "bad_signature", ""},
		{"bad signature: body digest changed after signing", func(t *testing.T) []byte {
			return bytes.ReplaceAll(signed(t, "rest-signed.json", signOpts{}), []byte("KknMayu1UJ5bUZUHVXWRTpnjB37LSd6dQBljFF9EKa4="), []byte("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="))
		}, "unauthorized", "bad_signature", ""},
		{"wrong covered components: no content-digest", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{components: []string{"@method", "@authority", "@path"}})
		}, "unauthorized", "signature_components", ""},
		{"wrong covered components: HTTP 2.0 query not covered", func(t *testing.T) []byte {
			return signed(t, "http-v2-signed.json", signOpts{components: signedComponents})
		}, "unauthorized", "signature_components", ""},
		{"stale created", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{created: testNow.Add(-301 * time.Second)})
		}, "unauthorized", "signature_expired", ""},
		{"created in the future beyond the skew", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{created: testNow.Add(31 * time.Second)})
		}, "unauthorized", "signature_future", ""},
		{"unknown key id", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{keyID: "partner-z"})
		}, "unauthorized", "unknown_key", ""},
		{"valid signature, principal not listed on the route", func(t *testing.T) []byte {
			return signed(t, "rest-signed.json", signOpts{keyID: "partner-b", key: keyB})
		}, "deny", "not_entitled", ""},
		{"X-Forwarded-For ignored: source IP outside the route's allow list", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), setSourceIP("203.0.113.5"))
		}, "deny", "ip_not_allowed", ""},
		{"IPv6 source in the route's allow list", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), setSourceIP("2001:db8::17"))
		}, "allow", "ok", secretver.StageCurrent},
		{"no signature at all", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), func(m map[string]any) {
				for _, h := range []string{"headers", "multiValueHeaders"} {
					delete(obj(m, h), "Signature")
					delete(obj(m, h), "Signature-Input")
				}
			})
		}, "unauthorized", "no_credentials", ""},
		{"signature header duplicated: REST combines the values, so the member is repeated", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), func(m map[string]any) {
				mv := obj(m, "multiValueHeaders")
				sig := mv["Signature"].([]any)
				mv["Signature"] = append(sig, sig[0])
			})
		}, "unauthorized", "signature_malformed", ""},
		{"covered header under two spellings (REST passes both): left out, so refused, even when joined they match the signed value", func(t *testing.T) []byte {
			const sha512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
			joined := "sha-256=:KknMayu1UJ5bUZUHVXWRTpnjB37LSd6dQBljFF9EKa4=:, " + sha512
			return edit(t, signed(t, "rest-signed.json", signOpts{edit: func(r *httpsig.Request) { r.Header["content-digest"] = joined }}), func(m map[string]any) {
				obj(m, "headers")["content-digest"] = sha512
				obj(m, "multiValueHeaders")["content-digest"] = []any{sha512}
			})
		}, "unauthorized", "signature_components", ""}, // the covered field is absent
		{"signature header under two spellings: a credential presented, malformed", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), func(m map[string]any) {
				obj(m, "headers")["signature"] = "sig1=:AAAA:"
			})
		}, "unauthorized", "signature_malformed", ""},
		{"unread header under two spellings with different values: no effect", func(t *testing.T) []byte {
			return edit(t, signed(t, "rest-signed.json", signOpts{}), func(m map[string]any) {
				obj(m, "headers")["X-Trace"], obj(m, "headers")["x-trace"] = "a", "b"
			})
		}, "allow", "ok", secretver.StageCurrent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			got := f.run(t, tc.payload(t))
			if got.outcome != tc.want {
				t.Fatalf("outcome = %s, want %s; log: %s", got.outcome, tc.want, f.logs)
			}
			if !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("log %s, want reason %s", f.logs, tc.reason)
			}
			if tc.stage != "" {
				if got.resp.PrincipalID != "partner-a" || got.resp.Context["secretStage"] != tc.stage || got.resp.Context["authMethod"] != "signature" {
					t.Fatalf("principal %q context %v, want partner-a from %s", got.resp.PrincipalID, got.resp.Context, tc.stage)
				}
			}
		})
	}
}

func TestSignedPolicyCoversOnlyTheSignedRoute(t *testing.T) {
	f := newFixture(t, nil, nil)
	got := f.run(t, signed(t, "rest-signed.json", signOpts{}))
	if got.outcome != "allow" {
		t.Fatalf("outcome = %s, want allow", got.outcome)
	}
	// GET /orders accepts signatures too, but this signature proves one
	// request: a cached copy of the answer must not open other routes.
	for arn, want := range map[string]bool{
		restARN + "POST/webhooks/orders":   true,
		restARN + "GET/orders":             false,
		restARN + "POST/admin/users":       false,
		restARN + "POST/webhooks/orders/x": false,
	} {
		if allows(t, got, arn) != want {
			t.Errorf("policy allows %s = %v, want %v: %+v", arn, !want, want, got.resp.PolicyDocument)
		}
	}
	if got.resp.UsageIdentifierKey != usagePartner {
		t.Errorf("usageIdentifierKey = %q, want %q", got.resp.UsageIdentifierKey, usagePartner)
	}
}

func TestReplay(t *testing.T) {
	f := newFixture(t, nil, nil)
	p := signed(t, "rest-signed.json", signOpts{})
	if got := f.run(t, p); got.outcome != "allow" {
		t.Fatalf("first use: %s", got.outcome)
	}
	if got := f.run(t, p); got.outcome != "unauthorized" || !strings.Contains(f.logs.String(), `"reason":"replay"`) {
		t.Fatalf("replay: %s, log %s", got.outcome, f.logs)
	}
	// After the window the replay is refused as stale, not as a replay.
	*f.now = testNow.Add(302 * time.Second)
	f.logs.Reset()
	if got := f.run(t, p); got.outcome != "unauthorized" || !strings.Contains(f.logs.String(), `"reason":"signature_expired"`) {
		t.Fatalf("replay after the window: %s, log %s", got.outcome, f.logs)
	}
}

func TestSignedSecretRotationPickedUp(t *testing.T) {
	f := newFixture(t, nil, nil)
	keyNext := bytes.Repeat([]byte{0x04}, 32)
	vs := versions(t)
	next := secretJSON(t, mustDoc(t, vs[0].Value, func(d *docT) { d.HMAC["partner-a"] = hmacEntry(keyNext) }))
	f.reader.pending = []secretver.Version{
		{ID: "v3", Stage: secretver.StageCurrent, Value: next},
		{ID: "v2", Stage: secretver.StagePrevious, Value: vs[0].Value},
	}
	// The client already signs with the newest key; the cached versions do
	// not hold it, so the mismatch makes the store re-read the secret.
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{key: keyNext})); got.outcome != "allow" || got.resp.Context["secretStage"] != secretver.StageCurrent {
		t.Fatalf("new key after rotation: %s %v; log %s", got.outcome, got.resp.Context, f.logs)
	}
	// keyNew is now AWSPREVIOUS and still works; keyOld (the old AWSPREVIOUS) is gone.
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{key: keyNew, created: testNow.Add(-time.Second)})); got.outcome != "allow" || got.resp.Context["secretStage"] != secretver.StagePrevious {
		t.Fatalf("previous key after rotation: %s %v", got.outcome, got.resp.Context)
	}
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{key: keyOld, created: testNow.Add(-2 * time.Second)})); got.outcome != "unauthorized" {
		t.Fatalf("old-old key after rotation: %s, want unauthorized", got.outcome)
	}
}

func TestCredentials(t *testing.T) {
	cases := []struct {
		name    string
		payload func(t *testing.T) []byte
		want    string
		reason  string
		stage   string
	}{
		{"REST: AWSCURRENT secret from the admin network", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
		}, "allow", "ok", secretver.StageCurrent},
		{"REST: AWSPREVIOUS secret", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "ops", opsOldSecret), setSourceIP("10.1.2.3"))
		}, "allow", "ok", secretver.StagePrevious},
		{"HTTP 1.0: AWSCURRENT secret", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "http-v1-credentials.json", "ops", opsNewSecret), setSourceIP("10.200.0.1"))
		}, "allow", "ok", secretver.StageCurrent},
		{"IPv4-mapped IPv6 source in an IPv4 allow list", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("::ffff:10.1.2.3"))
		}, "allow", "ok", secretver.StageCurrent},
		{"X-Forwarded-For says 10.1.2.3, the source is outside: 403", func(t *testing.T) []byte {
			return withBasic(t, "rest-credentials.json", "ops", opsNewSecret)
		}, "deny", "ip_not_allowed", ""},
		{"hash mismatch", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "ops", "wrong-secret-0123456789"), setSourceIP("10.1.2.3"))
		}, "unauthorized", "bad_credentials", ""},
		{"unknown client", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "nobody", opsNewSecret), setSourceIP("10.1.2.3"))
		}, "unauthorized", "bad_credentials", ""},
		{"basic credentials not base64", func(t *testing.T) []byte {
			return edit(t, fill(readFixture(t, "rest-credentials.json"), map[string]string{"basic": "b3Bz%%%"}), setSourceIP("10.1.2.3"))
		}, "unauthorized", "bad_credentials", ""},
		{"a bearer token is no credential here", func(t *testing.T) []byte {
			return edit(t, bytes.ReplaceAll(readFixture(t, "rest-credentials.json"), []byte("Basic {{basic}}"), []byte("Bearer abc.def.ghi")), setSourceIP("10.1.2.3"))
		}, "unauthorized", "no_credentials", ""},
		{"Authorization under two spellings, one of them the right secret: presented, refused", func(t *testing.T) []byte {
			return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), func(m map[string]any) {
				setSourceIP("10.1.2.3")(m)
				obj(m, "headers")["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:wrong-secret-0123456789"))
			})
		}, "unauthorized", "bad_credentials", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			got := f.run(t, tc.payload(t))
			if got.outcome != tc.want || !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("outcome = %s, want %s with reason %s; log: %s", got.outcome, tc.want, tc.reason, f.logs)
			}
			if tc.stage != "" && (got.resp.PrincipalID != "ops" || got.resp.Context["clientId"] != "ops" ||
				got.resp.Context["secretStage"] != tc.stage || got.resp.UsageIdentifierKey != usageOps) {
				t.Fatalf("answer %+v, want ops from %s with its usage key", got.resp, tc.stage)
			}
		})
	}
}

func TestCredentialsPolicyIsCacheSafe(t *testing.T) {
	f := newFixture(t, nil, nil)
	got := f.run(t, edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3")))
	if got.outcome != "allow" {
		t.Fatalf("outcome %s", got.outcome)
	}
	// Exactly the routes ops may call from 10.1.2.3, over the whole stage:
	// the reports route needs a client certificate this request lacks.
	for arn, want := range map[string]bool{
		restARN + "POST/admin/users":     true,
		restARN + "GET/admin/users":      true,
		restARN + "GET/orders":           true,
		restARN + "POST/webhooks/orders": false,
		restARN + "GET/reports/daily":    false,
		restARN + "DELETE/admin/users":   false,
		restARN + "GET/orders/1":         false,
	} {
		if allows(t, got, arn) != want {
			t.Errorf("policy allows %s = %v, want %v", arn, !want, want)
		}
	}
	// The same client from outside 10.0.0.0/8 (another cache key, since the
	// README puts the source IP in the identity sources) gets GET /orders only.
	got = f.run(t, edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("198.51.100.77")))
	if got.outcome != "deny" || !allows(t, got, restARN+"GET/orders") || allows(t, got, restARN+"GET/admin/users") {
		t.Fatalf("outside the admin network: outcome %s, policy %+v", got.outcome, got.resp.PolicyDocument)
	}
}

func TestCredentialsCachedAfterFirstUse(t *testing.T) {
	f := newFixture(t, nil, nil)
	p := edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
	if got := f.run(t, p); got.outcome != "allow" {
		t.Fatal(got.outcome)
	}
	c, err := f.h.creds.Authenticate(context.Background(), "ops", opsNewSecret)
	if err != nil || !c.Cached {
		t.Fatalf("second verification = %+v, %v; want it from the cache", c, err)
	}
}

func TestCredentialHeaders(t *testing.T) {
	f := newFixture(t, map[string]string{"CLIENT_ID_HEADER": "X-Client-Id", "CLIENT_SECRET_HEADER": "X-Client-Secret"}, nil)
	base := edit(t, readFixture(t, "rest-credentials.json"), func(m map[string]any) {
		setSourceIP("10.1.2.3")(m)
		h := obj(m, "headers")
		delete(h, "Authorization")
		h["X-Client-Id"] = "ops"
		h["X-Client-Secret"] = opsNewSecret
		delete(obj(m, "multiValueHeaders"), "Authorization")
	})
	if got := f.run(t, base); got.outcome != "allow" {
		t.Fatalf("headers: %s; log %s", got.outcome, f.logs)
	}
	missing := edit(t, base, func(m map[string]any) { delete(obj(m, "headers"), "X-Client-Secret") })
	if got := f.run(t, missing); got.outcome != "unauthorized" {
		t.Fatalf("secret header missing: %s, want unauthorized", got.outcome)
	}
	basic := edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
	if got := f.run(t, basic); got.outcome != "unauthorized" {
		t.Fatalf("Basic while headers are configured: %s, want unauthorized", got.outcome)
	}
}

func TestClientCertificates(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		now    time.Time
		file   string
		mutate func(map[string]any)
		want   string
		reason string
	}{
		{"REST mTLS: allowed fingerprint and issuer", nil, testNow, "rest-mtls.json", nil, "allow", "ok"},
		{"HTTP 2.0 mTLS", nil, testNow, "http-v2-mtls.json", nil, "allow", "ok"},
		{"expired certificate", nil, time.Date(2031, 1, 1, 0, 0, 1, 0, time.UTC), "rest-mtls.json", nil, "unauthorized", "cert_expired"},
		{"not yet valid certificate", nil, time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), "rest-mtls.json", nil, "unauthorized", "cert_not_yet_valid"},
		{"fingerprint mismatch", map[string]string{"ROUTES": strings.Replace(testRoutes, fixtureFingerprint, strings.Repeat("ab", 32), 1)}, testNow, "rest-mtls.json", nil, "unauthorized", "cert_not_allowed"},
		{"issuer mismatch", map[string]string{"ROUTES": strings.Replace(testRoutes, fixtureIssuer, "CN=Other CA", 1)}, testNow, "rest-mtls.json", nil, "unauthorized", "cert_not_allowed"},
		{"no certificate, no other credential", nil, testNow, "rest-mtls.json", func(m map[string]any) {
			delete(obj(m, "requestContext", "identity"), "clientCert")
		}, "unauthorized", "no_credentials"},
		{"PEM tampered", nil, testNow, "rest-mtls.json", func(m map[string]any) {
			c := obj(m, "requestContext", "identity", "clientCert")
			c["clientCertPem"] = strings.Replace(c["clientCertPem"].(string), "MIIBsj", "MIIBsk", 1)
		}, "unauthorized", "cert_malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.env, nil)
			*f.now = tc.now
			p := readFixture(t, tc.file)
			if tc.mutate != nil {
				p = edit(t, p, tc.mutate)
			}
			got := f.run(t, p)
			if got.outcome != tc.want || !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("outcome = %s, want %s with %s; log %s", got.outcome, tc.want, tc.reason, f.logs)
			}
			if tc.want == "allow" && tc.file == "rest-mtls.json" {
				if got.resp.PrincipalID != fixtureSubject || got.resp.Context["certFingerprint"] != fixtureFingerprint || got.resp.Context["authMethod"] != "certificate" {
					t.Fatalf("answer %+v", got.resp)
				}
				// The certificate admits the reports route only.
				if !allows(t, got, restARN+"POST/reports/monthly") || allows(t, got, restARN+"GET/orders") {
					t.Fatalf("policy %+v", got.resp.PolicyDocument)
				}
			}
		})
	}
}

func TestCertificateRulesOnCredentialRoutes(t *testing.T) {
	f := newFixture(t, nil, nil)
	// Credentials on the reports route, which also has certificate rules:
	// with the certificate it is allowed, without it refused (403).
	creds := func(withCert bool) []byte {
		p := edit(t, readFixture(t, "rest-mtls.json"), func(m map[string]any) {
			obj(m, "headers")["Authorization"] = "Basic {{basic}}"
			if !withCert {
				delete(obj(m, "requestContext", "identity"), "clientCert")
			}
		})
		return fill(p, map[string]string{"basic": "b3BzOm9wcy1uZXctc2VjcmV0LTAxMjM0NTY3ODk="}) // ops:ops-new-secret-0123456789
	}
	if got := f.run(t, creds(true)); got.outcome != "allow" || got.resp.Context["authMethod"] != "credentials" {
		t.Fatalf("credentials with certificate: %s %v; log %s", got.outcome, got.resp.Context, f.logs)
	}
	if got := f.run(t, creds(false)); got.outcome != "deny" || !strings.Contains(f.logs.String(), `"reason":"cert_rejected"`) {
		t.Fatalf("credentials without certificate: %s; log %s", got.outcome, f.logs)
	}
}

func TestSimpleResponses(t *testing.T) {
	f := newFixture(t, map[string]string{"SIMPLE_RESPONSES": "true"}, nil)
	got := f.run(t, signed(t, "http-v2-signed.json", signOpts{}))
	if got.simple == nil || !got.simple.IsAuthorized || got.simple.Context["principal"] != "partner-a" {
		t.Fatalf("simple response = %+v", got.simple)
	}
	got = f.run(t, edit(t, signed(t, "http-v2-signed.json", signOpts{created: testNow.Add(-time.Second)}), setSourceIP("203.0.113.9")))
	if got.simple == nil || got.simple.IsAuthorized {
		t.Fatalf("outside the allow list: simple response = %+v", got.simple)
	}
	// REST events always get a policy.
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{})); got.simple != nil || got.outcome != "allow" {
		t.Fatalf("REST with SIMPLE_RESPONSES: %+v", got)
	}
}

func TestAPIWideSourceIPRules(t *testing.T) {
	f := newFixture(t, map[string]string{"SOURCE_IP_DENY": "198.51.100.0/28, 2001:db8:bad::/48"}, nil)
	for _, ip := range []string{"198.51.100.1", "::ffff:198.51.100.2", "2001:db8:bad::1"} {
		got := f.run(t, edit(t, signed(t, "rest-signed.json", signOpts{}), setSourceIP(ip)))
		if got.outcome != "deny" || got.resp.PrincipalID != "anonymous" || allows(t, got, restARN+"GET/orders") {
			t.Fatalf("%s: outcome %s principal %q, want a deny of everything", ip, got.outcome, got.resp.PrincipalID)
		}
	}
	if !strings.Contains(f.logs.String(), `"reason":"ip_denied"`) {
		t.Fatalf("log %s", f.logs)
	}
	// A denied address is refused before any credential is checked.
	if strings.Contains(f.logs.String(), `"principal"`) {
		t.Fatalf("a denied address was authenticated: %s", f.logs)
	}
	f = newFixture(t, map[string]string{"SOURCE_IP_ALLOW": "198.51.100.0/24"}, nil)
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{})); got.outcome != "allow" {
		t.Fatalf("inside the API allow list: %s", got.outcome)
	}
}

func TestFailures(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		broken  func(*fixture)
		want    string
		reason  string
	}{
		{"not JSON", []byte(`{`), nil, "error:FailClosed", "malformed_event"},
		{"TOKEN event", []byte(`{"type":"TOKEN","authorizationToken":"x","methodArn":"` + restARN + `GET/orders"}`), nil, "error:FailClosed", "malformed_event"},
		{"bad ARN", bytes.ReplaceAll(readFixture(t, "rest-mtls.json"), []byte("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/reports/daily"), []byte("arn:aws:s3:::bucket")), nil, "error:FailClosed", "bad_arn"},
		{"route not configured", bytes.ReplaceAll(readFixture(t, "rest-mtls.json"), []byte("/dev/GET/reports/daily"), []byte("/dev/GET/unknown")), nil, "deny", "no_route"},
		{"secret unreadable: credentials", edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3")),
			func(f *fixture) { f.reader.err = errors.New("AccessDeniedException") }, "error:FailClosed", "credentials_unavailable"},
		{"secret unreadable: signature", signed(t, "rest-signed.json", signOpts{}),
			func(f *fixture) { f.reader.err = errors.New("AccessDeniedException") }, "error:FailClosed", "keys_unavailable"},
		{"secret version does not parse", signed(t, "rest-signed.json", signOpts{}),
			func(f *fixture) {
				f.reader.snap = secretver.Snapshot{Generation: 9, Versions: []secretver.Version{{ID: "v9", Stage: "AWSCURRENT", Value: "not json"}}}
			}, "error:FailClosed", "keys_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			if tc.broken != nil {
				tc.broken(f)
			}
			got := f.run(t, tc.payload)
			if got.outcome != tc.want || !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("outcome %s, want %s with %s; log %s", got.outcome, tc.want, tc.reason, f.logs)
			}
		})
	}
	t.Run("replay guard down", func(t *testing.T) {
		f := newFixture(t, nil, failingGuard{})
		if got := f.run(t, signed(t, "rest-signed.json", signOpts{})); got.outcome != "error:FailClosed" || !strings.Contains(f.logs.String(), `"reason":"replay_unavailable"`) {
			t.Fatalf("outcome %s; log %s", got.outcome, f.logs)
		}
	})
}

type failingGuard struct{}

func (failingGuard) Seen(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("ProvisionedThroughputExceededException")
}

func TestDecisionLog(t *testing.T) {
	f := newFixture(t, nil, nil)
	sig := signed(t, "rest-signed.json", signOpts{})
	f.run(t, sig)
	f.run(t, edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3")))
	f.run(t, edit(t, withBasic(t, "rest-credentials.json", "ops", "wrong-secret-0123456789"), setSourceIP("10.1.2.3")))
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 decisions: %s", len(lines), f.logs)
	}
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("log line %q is not JSON", l)
		}
		for _, k := range []string{"decision", "reason", "event", "latencyMs", "route"} {
			if _, ok := e[k]; !ok {
				t.Errorf("log line %s lacks %s", l, k)
			}
		}
	}
	var p struct {
		Headers map[string]string `json:"headers"`
	}
	_ = json.Unmarshal(sig, &p)
	sigValue := strings.TrimSuffix(strings.TrimPrefix(p.Headers["Signature"], "sig1=:"), ":")
	for _, secret := range []string{sigValue, opsNewSecret, "wrong-secret-0123456789", "b3Bz"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("log holds %q: %s", secret, f.logs)
		}
	}
	if !strings.Contains(lines[1], `"principal":"ops"`) || !strings.Contains(lines[0], `"principal":"partner-a"`) {
		t.Errorf("principals missing from %s", f.logs)
	}
}

func TestFixturesDecodeStrictly(t *testing.T) {
	strict := func(name string, v any) {
		t.Helper()
		dec := json.NewDecoder(bytes.NewReader(readFixture(t, name)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s is not a %T: %v", name, v, err)
		}
	}
	for _, n := range []string{"rest-signed.json", "rest-credentials.json", "rest-mtls.json"} {
		var e events.APIGatewayCustomAuthorizerRequestTypeRequest
		strict(n, &e)
		if e.Type != "REQUEST" || e.RequestContext.Identity.SourceIP == "" || e.RequestContext.Path == "" {
			t.Errorf("%s: %+v", n, e.RequestContext)
		}
	}
	var v1 events.APIGatewayV2CustomAuthorizerV1Request
	strict("http-v1-credentials.json", &v1)
	if v1.Version != "1.0" || v1.MethodArn == "" {
		t.Errorf("http-v1-credentials.json: version %q", v1.Version)
	}
	for _, n := range []string{"http-v2-signed.json", "http-v2-mtls.json"} {
		var e events.APIGatewayV2CustomAuthorizerV2Request
		strict(n, &e)
		if e.Version != "2.0" || e.RouteArn == "" || e.RawPath == "" {
			t.Errorf("%s: version %q", n, e.Version)
		}
	}
	var m events.APIGatewayCustomAuthorizerRequestTypeRequest
	strict("rest-mtls.json", &m)
	if m.RequestContext.Identity.ClientCert.SubjectDN != fixtureSubject {
		t.Errorf("rest-mtls.json client certificate: %+v", m.RequestContext.Identity.ClientCert)
	}
}
