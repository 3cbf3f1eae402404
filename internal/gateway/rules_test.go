package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/rie"
)

// These tests follow DESIGN.md "API Gateway authorizer rules", one rule per
// test, each asserting the status, the body and whether the authorizer ran.

func TestIdentitySourceMissingIs401WithoutInvoking(t *testing.T) {
	tests := []struct {
		name   string
		target string
		header []string
		body   string
	}{
		{"REST TOKEN no header", "/restapi/dev/orders", nil, `{"message":"Unauthorized"}`},
		{"REST TOKEN empty header", "/restapi/dev/orders", []string{"Authorization", ""}, `{"message":"Unauthorized"}`},
		{"REST REQUEST missing query", "/restapi/dev/req/1", []string{"X-Key", "k1"}, `{"message":"Unauthorized"}`},
		{"REST REQUEST empty query", "/restapi/dev/req/1?k=", []string{"X-Key", "k1"}, `{"message":"Unauthorized"}`},
		{"REST REQUEST missing header", "/restapi/dev/req/1?k=v", nil, `{"message":"Unauthorized"}`},
		{"HTTP no header", "/httpapi/dev/orders", nil, `{"message":"Unauthorized"}`},
		{"HTTP 1.0 missing query", "/httpapi/dev/v1", []string{"Authorization", token}, `{"message":"Unauthorized"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 300, allowAll)
			rec := h.do("GET", tt.target, tt.header...)
			expect(t, rec, 401, tt.body)
			if n := h.auth.calls(); n != 0 {
				t.Errorf("authorizer invoked %d times, want 0", n)
			}
			if n := h.backend.calls(); n != 0 {
				t.Errorf("backend invoked %d times, want 0", n)
			}
			if strings.HasPrefix(tt.target, "/restapi") && rec.Header().Get("X-Amzn-Errortype") != "UnauthorizedException" {
				t.Errorf("x-amzn-ErrorType = %q, want UnauthorizedException", rec.Header().Get("X-Amzn-Errortype"))
			}
		})
	}
}

func TestValidationExpressionMismatchIs401WithoutInvoking(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	for _, v := range []string{"Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "xBearer abc"} {
		expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", v), 401, `{"message":"Unauthorized"}`)
	}
	if n := h.auth.calls(); n != 0 {
		t.Errorf("authorizer invoked %d times, want 0", n)
	}
	// The expression must match the whole token, as API Gateway's does.
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 1 {
		t.Errorf("authorizer invoked %d times for a valid token, want 1", n)
	}
}

func TestCacheHitDoesNotInvoke(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	for i := 0; i < 3; i++ {
		expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	}
	if n := h.auth.calls(); n != 1 {
		t.Errorf("authorizer invoked %d times for 3 calls with one token, want 1", n)
	}
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", otherToken), 200, "")
	if n := h.auth.calls(); n != 2 {
		t.Errorf("authorizer invoked %d times after a second token, want 2 (the key is the identity source)", n)
	}
	if n := h.backend.calls(); n != 4 {
		t.Errorf("backend invoked %d times, want 4", n)
	}
	// A REQUEST authorizer's key is all of its identity sources.
	expect(t, h.do("GET", "/restapi/dev/req/1?k=a", "X-Key", "x"), 200, "")
	expect(t, h.do("GET", "/restapi/dev/req/2?k=a", "X-Key", "x"), 200, "")
	expect(t, h.do("GET", "/restapi/dev/req/1?k=b", "X-Key", "x"), 200, "")
	if n := h.auth.calls(); n != 4 {
		t.Errorf("authorizer invoked %d times, want 4 (one per distinct header+query)", n)
	}
}

func TestTTLZeroInvokesEveryTime(t *testing.T) {
	for _, target := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
		t.Run(target, func(t *testing.T) {
			h := newHarness(t, 0, func(ev map[string]any) (rie.Result, error) {
				if ev["version"] == "2.0" {
					return ok(map[string]any{"isAuthorized": true})
				}
				return allowAll(ev)
			})
			for i := 0; i < 3; i++ {
				expect(t, h.do("GET", target, "Authorization", token), 200, "")
			}
			if n := h.auth.calls(); n != 3 {
				t.Errorf("authorizer invoked %d times with TTL 0, want 3", n)
			}
		})
	}
	// The template's NoCache authorizer has ReauthorizeEvery: 0.
	h := newHarness(t, 300, allowAll)
	for i := 0; i < 2; i++ {
		expect(t, h.do("GET", "/restapi/dev/nocache", "Authorization", token), 200, "")
	}
	if n := h.auth.calls(); n != 2 {
		t.Errorf("NoCache authorizer invoked %d times, want 2", n)
	}
}

func TestTTLExpiry(t *testing.T) {
	h := newHarness(t, 60, allowAll)
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	h.clock.Advance(59 * time.Second)
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 1 {
		t.Fatalf("authorizer invoked %d times within the TTL, want 1", n)
	}
	h.clock.Advance(time.Second)
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 2 {
		t.Errorf("authorizer invoked %d times once the TTL passed, want 2", n)
	}
}

// TestCachedPolicyIsReusedAcrossRoutes is the rule this gateway exists for:
// API Gateway applies a cached REST policy to every method the caller then
// calls with the same token.
func TestCachedPolicyIsReusedAcrossRoutes(t *testing.T) {
	t.Run("cache-safe policy allows the next route without invoking", func(t *testing.T) {
		h := newHarness(t, 300, allowAll)
		expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
		expect(t, h.do("GET", "/restapi/dev/orders/7", "Authorization", token), 200, "")
		expect(t, h.do("POST", "/restapi/dev/orders", "Authorization", token), 200, "")
		if n := h.auth.calls(); n != 1 {
			t.Errorf("authorizer invoked %d times, want 1", n)
		}
		if n := h.backend.calls(); n != 3 {
			t.Errorf("backend invoked %d times, want 3", n)
		}
	})
	t.Run("naive methodArn-only policy gives 403 on the next route", func(t *testing.T) {
		h := newHarness(t, 300, naive)
		expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
		rec := h.do("GET", "/restapi/dev/orders/7", "Authorization", token)
		expect(t, rec, 403, `{"message":"User is not authorized to access this resource"}`)
		if got := rec.Header().Get("X-Amzn-Errortype"); got != "AccessDeniedException" {
			t.Errorf("x-amzn-ErrorType = %q, want AccessDeniedException", got)
		}
		if n := h.auth.calls(); n != 1 {
			t.Errorf("authorizer invoked %d times, want 1 (the second call used the cached policy)", n)
		}
		if n := h.backend.calls(); n != 1 {
			t.Errorf("backend invoked %d times, want 1", n)
		}
		// Proof it was the cache: with TTL 0 the same authorizer works.
		h0 := newHarness(t, 0, naive)
		expect(t, h0.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
		expect(t, h0.do("GET", "/restapi/dev/orders/7", "Authorization", token), 200, "")
	})
	t.Run("HTTP IAM policy is re-evaluated against the routeArn", func(t *testing.T) {
		h := newHarness(t, 300, func(ev map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Allow", []string{ev["routeArn"].(string)}, nil))
		})
		expect(t, h.do("GET", "/httpapi/dev/iam/1", "Authorization", token), 200, "")
		expect(t, h.do("GET", "/httpapi/dev/iam/2", "Authorization", token), 403, `{"message":"Forbidden"}`)
		if n := h.auth.calls(); n != 1 {
			t.Errorf("authorizer invoked %d times, want 1", n)
		}
	})
	t.Run("HTTP simple response applies to every route with the same identity", func(t *testing.T) {
		h := newHarness(t, 300, func(ev map[string]any) (rie.Result, error) {
			return ok(map[string]any{"isAuthorized": ev["routeKey"] == "GET /orders"})
		})
		expect(t, h.do("GET", "/httpapi/dev/orders", "Authorization", token), 200, "")
		// The template lacks $context.routeKey in the identity sources, so the
		// cached true also admits the other route: the authorizer must decide
		// over all routes, or add routeKey to the identity sources.
		expect(t, h.do("GET", "/httpapi/dev/orders/9", "Authorization", token), 200, "")
		if n := h.auth.calls(); n != 1 {
			t.Errorf("authorizer invoked %d times, want 1", n)
		}
	})
}

func TestAuthorizerOutcomes(t *testing.T) {
	deny := func(ev map[string]any) (rie.Result, error) {
		return ok(iamPolicy("alice", "Deny", []string{arnPrefix + "restapi/dev/GET/orders"}, nil))
	}
	denyBeatsAllow := func(ev map[string]any) (rie.Result, error) {
		p := iamPolicy("alice", "Allow", []string{arnPrefix + "restapi/dev/*"}, nil)
		doc := p["policyDocument"].(map[string]any)
		doc["Statement"] = append(doc["Statement"].([]any), map[string]any{
			"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": arnPrefix + "restapi/dev/GET/order?",
		})
		return ok(p)
	}
	tests := []struct {
		name      string
		target    string
		authorize func(map[string]any) (rie.Result, error)
		status    int
		body      string
		errType   string
	}{
		{"Unauthorized error is 401", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) { return fnError("Unauthorized") },
			401, `{"message":"Unauthorized"}`, "UnauthorizedException"},
		{"other error is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) { return fnError("unauthorized") },
			500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"crash is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			return rie.Result{Status: 502, Err: &rie.FunctionError{Message: "exit", Type: "Runtime.ExitError"}}, nil
		}, 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"unreachable is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) { return rie.Result{}, errTest },
			500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"explicit deny is 403", "/restapi/dev/orders", deny,
			403, `{"message":"User is not authorized to access this resource with an explicit deny"}`, "AccessDeniedException"},
		{"explicit deny beats allow", "/restapi/dev/orders", denyBeatsAllow,
			403, `{"message":"User is not authorized to access this resource with an explicit deny"}`, "AccessDeniedException"},
		{"policy not covering the method is 403", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Allow", []string{arnPrefix + "restapi/dev/POST/*"}, nil))
		}, 403, `{"message":"User is not authorized to access this resource"}`, "AccessDeniedException"},
		{"not JSON is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) { return raw(`"allow"`) },
			500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"no policyDocument is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) { return raw(`{"principalId":"a"}`) },
			500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"bad Effect is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Permit", []string{"*"}, nil))
		}, 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"missing principalId is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			p := iamPolicy("alice", "Allow", []string{"*"}, nil)
			delete(p, "principalId")
			return ok(p)
		}, 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"non-scalar context value is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Allow", []string{"*"}, map[string]any{"groups": []string{"a"}}))
		}, 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"object context value is 500", "/restapi/dev/orders", func(map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Allow", []string{"*"}, map[string]any{"claims": map[string]any{"a": 1}}))
		}, 500, `{"message":null}`, "AuthorizerConfigurationException"},
		{"HTTP simple false is 403", "/httpapi/dev/orders", func(map[string]any) (rie.Result, error) { return ok(map[string]any{"isAuthorized": false}) },
			403, `{"message":"Forbidden"}`, ""},
		{"HTTP Unauthorized error is 401", "/httpapi/dev/orders", func(map[string]any) (rie.Result, error) { return fnError("Unauthorized") },
			401, `{"message":"Unauthorized"}`, ""},
		{"HTTP other error is 500", "/httpapi/dev/orders", func(map[string]any) (rie.Result, error) { return fnError("boom") },
			500, `{"message":"Internal Server Error"}`, ""},
		{"HTTP simple without isAuthorized is 500", "/httpapi/dev/orders", func(map[string]any) (rie.Result, error) { return raw(`{"context":{}}`) },
			500, `{"message":"Internal Server Error"}`, ""},
		{"HTTP simple isAuthorized string is 500", "/httpapi/dev/orders", func(map[string]any) (rie.Result, error) { return raw(`{"isAuthorized":"true"}`) },
			500, `{"message":"Internal Server Error"}`, ""},
		{"HTTP IAM deny is 403", "/httpapi/dev/iam/1", func(map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Deny", []string{"*"}, nil))
		}, 403, `{"message":"Forbidden"}`, ""},
		{"HTTP 1.0 IAM allow", "/httpapi/dev/v1?q=1", func(ev map[string]any) (rie.Result, error) {
			return ok(iamPolicy("alice", "Allow", []string{ev["methodArn"].(string)}, map[string]any{"list": []any{1}}))
		}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 300, tt.authorize)
			rec := h.do("GET", tt.target, "Authorization", token)
			expect(t, rec, tt.status, tt.body)
			if got := rec.Header().Get("X-Amzn-Errortype"); got != tt.errType {
				t.Errorf("x-amzn-ErrorType = %q, want %q", got, tt.errType)
			}
			if n := h.auth.calls(); n != 1 {
				t.Errorf("authorizer invoked %d times, want 1", n)
			}
			wantBackend := 0
			if tt.status == 200 {
				wantBackend = 1
			}
			if n := h.backend.calls(); n != wantBackend {
				t.Errorf("backend invoked %d times, want %d", n, wantBackend)
			}
			if strings.HasPrefix(tt.target, "/restapi") && rec.Header().Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			if strings.HasPrefix(tt.target, "/httpapi") && rec.Header().Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
		})
	}
}

func TestFailedAnswersAreNotCached(t *testing.T) {
	answers := []func(map[string]any) (rie.Result, error){
		func(map[string]any) (rie.Result, error) { return fnError("Unauthorized") },
		func(map[string]any) (rie.Result, error) { return raw(`{}`) },
		allowAll,
	}
	i := 0
	h := newHarness(t, 300, func(ev map[string]any) (rie.Result, error) { i++; return answers[i-1](ev) })
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 401, "")
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 500, "")
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 3 {
		t.Errorf("authorizer invoked %d times, want 3 (errors are not cached, the allow is)", n)
	}
}

func TestContextReachesTheBackend(t *testing.T) {
	t.Run("REST: strings, with principalId", func(t *testing.T) {
		h := newHarness(t, 300, allowAll)
		expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
		authz := h.backendEvent()["requestContext"].(map[string]any)["authorizer"].(map[string]any)
		for k, want := range map[string]string{"principalId": "alice", "email": "alice@example.com", "tenant": "42", "admin": "true"} {
			if got, isString := authz[k].(string); !isString || got != want {
				t.Errorf("authorizer[%s] = %#v, want the string %q", k, authz[k], want)
			}
		}
		if v, present := authz["nothing"]; !present || v != nil {
			t.Errorf("authorizer[nothing] = %#v (present %v), want null as API Gateway passes it", v, present)
		}
		if _, ok := authz["integrationLatency"].(float64); !ok {
			t.Errorf("integrationLatency = %#v, want a number", authz["integrationLatency"])
		}
		// From the cache, the context is the same.
		expect(t, h.do("GET", "/restapi/dev/orders/1", "Authorization", token), 200, "")
		if got := h.backendEvent()["requestContext"].(map[string]any)["authorizer"].(map[string]any)["tenant"]; got != "42" {
			t.Errorf("cached authorizer[tenant] = %#v, want \"42\"", got)
		}
	})
	t.Run("HTTP 2.0: typed, under lambda", func(t *testing.T) {
		h := newHarness(t, 300, func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"isAuthorized": true, "context": map[string]any{
				"email": "a@example.com", "tenant": 42, "admin": true, "groups": []any{"analysts"}}})
		})
		expect(t, h.do("GET", "/httpapi/dev/orders", "Authorization", token), 200, "")
		lambda := h.backendEvent()["requestContext"].(map[string]any)["authorizer"].(map[string]any)["lambda"].(map[string]any)
		if lambda["tenant"] != float64(42) || lambda["admin"] != true || lambda["email"] != "a@example.com" {
			t.Errorf("authorizer.lambda = %v, want typed values", lambda)
		}
		if g, ok := lambda["groups"].([]any); !ok || len(g) != 1 || g[0] != "analysts" {
			t.Errorf("authorizer.lambda.groups = %#v, want [analysts]", lambda["groups"])
		}
	})
}

func TestRoutesWithoutAuthorizerSkipIt(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	expect(t, h.do("GET", "/restapi/dev/open"), 200, "")
	expect(t, h.do("DELETE", "/httpapi/dev/open"), 200, "")
	if n := h.auth.calls(); n != 0 {
		t.Errorf("authorizer invoked %d times, want 0", n)
	}
	if _, has := h.backendEvent()["requestContext"].(map[string]any)["authorizer"]; has {
		t.Error("an unauthorized route's event carries an authorizer block")
	}
}

var errTest = jsonError("emulator gone")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func TestAccessLog(t *testing.T) {
	h := newHarness(t, 300, nil)
	// The fakes take a known time on the gateway's clock, so the latencies
	// are exact: the authorizer 15 ms, the backend 7 ms.
	h.auth.handle = func(ev map[string]any) (rie.Result, error) {
		h.clock.Advance(15 * time.Millisecond)
		if ev["authorizationToken"] == otherToken {
			return ok(iamPolicy("bob", "Deny", []string{arnPrefix + "restapi/dev/*"}, nil))
		}
		return allowAll(ev)
	}
	h.backend.handle = func(ev map[string]any) (rie.Result, error) {
		h.clock.Advance(7 * time.Millisecond)
		return echo(ev)
	}
	h.do("GET", "/restapi/dev/orders?secret=q", "Authorization", token)
	h.do("GET", "/restapi/dev/orders/1", "Authorization", token)
	h.do("GET", "/restapi/dev/orders")
	h.do("GET", "/restapi/dev/orders", "Authorization", otherToken)
	lines := strings.Split(strings.TrimSpace(h.access.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d access-log lines, want 4:\n%s", len(lines), h.access)
	}
	var entries []map[string]any
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		entries = append(entries, e)
		if strings.Contains(l, "abc.def") || strings.Contains(l, "zzz.yyy") || strings.Contains(l, "secret") {
			t.Errorf("access log leaks the token or query: %s", l)
		}
	}
	for i, want := range []struct {
		status          float64
		route           string
		cache           string
		authStatus      any // nil: the field is absent
		authLatency     float64
		integStatus     any
		integLatency    float64
		latency         float64
		authorizerError any
		errorType       any
	}{
		{200, "GET /orders", "miss", float64(200), 15, float64(200), 7, 22, nil, nil},
		{200, "GET /orders/{id}", "hit", float64(200), 0, float64(200), 7, 7, nil, nil},
		{401, "GET /orders", "none", float64(401), 0, nil, 0, 0, "identity source missing or empty", "UnauthorizedException"},
		{403, "GET /orders", "miss", float64(403), 15, nil, 0, 15, "policy denies the method explicitly", "AccessDeniedException"},
	} {
		e := entries[i]
		if e["status"] != want.status || e["routeKey"] != want.route || e["authorizerCache"] != want.cache {
			t.Errorf("line %d = status %v route %v cache %v, want %v %v %v", i, e["status"], e["routeKey"], e["authorizerCache"], want.status, want.route, want.cache)
		}
		if e["authorizerStatus"] != want.authStatus || e["authorizerLatencyMs"] != want.authLatency {
			t.Errorf("line %d: authorizerStatus %v authorizerLatencyMs %v, want %v %v", i, e["authorizerStatus"], e["authorizerLatencyMs"], want.authStatus, want.authLatency)
		}
		if e["integrationStatus"] != want.integStatus || e["integrationLatencyMs"] != want.integLatency {
			t.Errorf("line %d: integrationStatus %v integrationLatencyMs %v, want %v %v", i, e["integrationStatus"], e["integrationLatencyMs"], want.integStatus, want.integLatency)
		}
		if e["responseLatencyMs"] != want.latency {
			t.Errorf("line %d: responseLatencyMs %v, want %v", i, e["responseLatencyMs"], want.latency)
		}
		if e["authorizerError"] != want.authorizerError || e["errorType"] != want.errorType {
			t.Errorf("line %d: authorizerError %v errorType %v, want %v %v", i, e["authorizerError"], e["errorType"], want.authorizerError, want.errorType)
		}
		if e["requestId"] == "" || e["ip"] != "192.0.2.10" || e["httpMethod"] != "GET" || e["authorizer"] != "Tok" {
			t.Errorf("line %d lacks request id / ip / method / authorizer: %v", i, e)
		}
	}
	// The REST event's integrationLatency is the authorizer's latency.
	var first map[string]any
	if err := json.Unmarshal(h.backend.events[0], &first); err != nil {
		t.Fatal(err)
	}
	authz := first["requestContext"].(map[string]any)["authorizer"].(map[string]any)
	if authz["integrationLatency"] != float64(15) {
		t.Errorf("requestContext.authorizer.integrationLatency = %v, want 15", authz["integrationLatency"])
	}
}
