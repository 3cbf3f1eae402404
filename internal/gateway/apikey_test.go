package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/internal/rie"
)

const partnerKey = "pk-0123456789abcdefghij" // an API key value (20 to 128 characters)

// withUsageKey is allowAll with usageIdentifierKey set to key ("" leaves
// it out).
func withUsageKey(key string) func(map[string]any) (rie.Result, error) {
	return func(ev map[string]any) (rie.Result, error) {
		p := iamPolicy("partner-a", "Allow", []string{arnPrefix + "restapi/dev/*"}, nil)
		if key != "" {
			p["usageIdentifierKey"] = key
		}
		return ok(p)
	}
}

// TestAPIKeyRequired: on a REST method with ApiKeyRequired and the API's
// ApiKeySourceType AUTHORIZER, an allowed call reaches the backend only when
// the authorizer's usageIdentifierKey is an API key of a usage plan; else
// 403 Forbidden (ForbiddenException), the backend not invoked.
func TestAPIKeyRequired(t *testing.T) {
	const forbidden = `{"message":"Forbidden"}`
	cases := []struct {
		name, returned string
		known          []string
		status         int
		logged         string
	}{
		{"known key", partnerKey, []string{partnerKey, "pk-other-0123456789ab"}, 200, ""},
		{"no key returned", "", []string{partnerKey}, 403, "returned no usageIdentifierKey"},
		{"unknown key", "pk-revoked-0123456789", []string{partnerKey}, 403, "not a key of a usage plan"},
		{"no keys configured", partnerKey, nil, 403, "not a key of a usage plan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 300, withUsageKey(tc.returned), WithAPIKeys(tc.known...))
			rec := h.doBody("POST", "/restapi/dev/partner", `{"order":1}`, "Authorization", token)
			if tc.status != 200 {
				expect(t, rec, tc.status, forbidden)
				if got := rec.Header().Get("X-Amzn-Errortype"); got != "ForbiddenException" {
					t.Errorf("x-amzn-ErrorType = %q, want ForbiddenException", got)
				}
				if n := h.backend.calls(); n != 0 {
					t.Errorf("backend invoked %d times, want 0", n)
				}
				var entry accessEntry
				if err := json.Unmarshal(h.access.Bytes(), &entry); err != nil {
					t.Fatal(err)
				}
				if entry.Status != 403 || !strings.Contains(entry.AuthorizerError, tc.logged) {
					t.Errorf("access log %s: want status 403 and an error saying %q", h.access, tc.logged)
				}
				if tc.returned != "" && strings.Contains(h.access.String(), tc.returned) {
					t.Errorf("access log %s holds the API key", h.access)
				}
				return
			}
			expect(t, rec, 200, "")
			identity := h.backendEvent()["requestContext"].(map[string]any)["identity"].(map[string]any)
			if identity["apiKey"] != partnerKey || identity["apiKeyId"] != apiKeyID(partnerKey) || len(apiKeyID(partnerKey)) != 10 {
				t.Errorf("identity apiKey %v apiKeyId %v, want the key and its id", identity["apiKey"], identity["apiKeyId"])
			}
		})
	}
}

// TestAPIKeyCheckedOnCachedAnswers: the key comes with the cached answer,
// so a cache hit is checked like the first call.
func TestAPIKeyCheckedOnCachedAnswers(t *testing.T) {
	h := newHarness(t, 300, withUsageKey(partnerKey), WithAPIKeys(partnerKey))
	for range 3 {
		expect(t, h.doBody("POST", "/restapi/dev/partner", `{}`, "Authorization", token), 200, "")
	}
	if n := h.auth.calls(); n != 1 {
		t.Errorf("authorizer invoked %d times, want 1 (cached)", n)
	}
	h = newHarness(t, 300, withUsageKey(""), WithAPIKeys(partnerKey))
	for range 2 {
		expect(t, h.doBody("POST", "/restapi/dev/partner", `{}`, "Authorization", token), 403, `{"message":"Forbidden"}`)
	}
	// The same cached answer still serves routes that need no key.
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 1 {
		t.Errorf("authorizer invoked %d times, want 1 (cached)", n)
	}
}

// TestAPIKeyIgnoredWhereNotRequired: other methods pass with or without a
// usageIdentifierKey, known or not, and the backend sees no key.
func TestAPIKeyIgnoredWhereNotRequired(t *testing.T) {
	h := newHarness(t, 300, withUsageKey("pk-unknown-0123456789"))
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	identity := h.backendEvent()["requestContext"].(map[string]any)["identity"].(map[string]any)
	if _, ok := identity["apiKey"]; ok {
		t.Errorf("identity has apiKey %v on a method that requires none", identity["apiKey"])
	}
}

// TestUsageKeyMustBeAString: a usageIdentifierKey that is not a string is a
// malformed answer (500), as API Gateway treats it.
func TestUsageKeyMustBeAString(t *testing.T) {
	h := newHarness(t, 300, func(map[string]any) (rie.Result, error) {
		p := iamPolicy("partner-a", "Allow", []string{arnPrefix + "restapi/dev/*"}, nil)
		p["usageIdentifierKey"] = 42
		return ok(p)
	}, WithAPIKeys(partnerKey))
	expect(t, h.doBody("POST", "/restapi/dev/partner", `{}`, "Authorization", token), 500, "")
}
