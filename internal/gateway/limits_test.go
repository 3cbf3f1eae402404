package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// hangFn is a function that never answers: it returns only when the
// gateway gives up on it, and records the deadline it was given.
type hangFn struct {
	mu        sync.Mutex
	n         int
	deadlines []time.Duration // time left at the start of each call
}

func (f *hangFn) Invoke(ctx context.Context, _ []byte) (rie.Result, error) {
	f.mu.Lock()
	f.n++
	if d, ok := ctx.Deadline(); ok {
		f.deadlines = append(f.deadlines, time.Until(d))
	} else {
		f.deadlines = append(f.deadlines, 0)
	}
	f.mu.Unlock()
	<-ctx.Done()
	return rie.Result{}, ctx.Err()
}

func (f *hangFn) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// httptestRequest is a request to the gateway with ctx; header pairs are
// name, value.
func httptestRequest(ctx context.Context, method, target string, header ...string) *http.Request {
	req := httptest.NewRequest(method, "http://127.0.0.1:3000"+target, nil).WithContext(ctx)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

// lastEntry decodes the harness's last access-log line.
func (h *harness) lastEntry() map[string]any {
	h.t.Helper()
	lines := strings.Split(strings.TrimSpace(h.access.String()), "\n")
	var e map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
		h.t.Fatalf("access-log line %q: %v", lines[len(lines)-1], err)
	}
	return e
}

func TestDefaultTimeouts(t *testing.T) {
	g, err := New(testTemplate(t, 300), map[string]Invoker{"AuthFunction": &fakeFn{}, "BackendFunction": &fakeFn{}})
	if err != nil {
		t.Fatal(err)
	}
	if g.restLimit != 29*time.Second || g.httpLimit != 30*time.Second || g.authLimit != 10*time.Second {
		t.Errorf("timeouts: REST %v, HTTP %v, HTTP authorizer %v; want API Gateway's 29s, 30s, 10s", g.restLimit, g.httpLimit, g.authLimit)
	}
	g, err = New(testTemplate(t, 300), map[string]Invoker{"AuthFunction": &fakeFn{}, "BackendFunction": &fakeFn{}},
		WithTimeouts(0, 2*time.Second, 0))
	if err != nil {
		t.Fatal(err)
	}
	if g.restLimit != 29*time.Second || g.httpLimit != 2*time.Second || g.authLimit != 10*time.Second {
		t.Errorf("WithTimeouts(0, 2s, 0): REST %v, HTTP %v, HTTP authorizer %v; want 29s, 2s, 10s", g.restLimit, g.httpLimit, g.authLimit)
	}

	// The default HTTP API authorizer limit is the one the invocation gets.
	hang := &hangFn{}
	g, err = New(testTemplate(t, 300), map[string]Invoker{"AuthFunction": hang, "BackendFunction": &fakeFn{handle: echo}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptestRequest(ctx, "GET", "/httpapi/dev/orders", "Authorization", token)
		g.ServeHTTP(httptest.NewRecorder(), req)
	}()
	for hang.calls() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if left := hang.deadlines[0]; left <= 9*time.Second || left > 10*time.Second {
		t.Errorf("the HTTP API authorizer was given %v, want 10s", left)
	}
}

func TestHTTPAuthorizerTimeoutIs500(t *testing.T) {
	hang := &hangFn{}
	h := newHarness(t, 300, nil)
	gw, err := New(testTemplate(t, 300), map[string]Invoker{"AuthFunction": hang, "BackendFunction": h.backend},
		WithClock(h.clock.Now), WithAccessLog(syncWriter{h.access, &sync.Mutex{}}), WithTimeouts(0, 0, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	for _, target := range []string{"/httpapi/dev/orders", "/httpapi/dev/iam/1", "/httpapi/dev/v1?q=1"} {
		rec := h.do("GET", target, "Authorization", token)
		expect(t, rec, 500, `{"message":"Internal Server Error"}`)
		if rec.Header().Get("Apigw-Requestid") == "" {
			t.Errorf("%s: no apigw-requestid header", target)
		}
		e := h.lastEntry()
		if e["authorizerStatus"] != float64(500) || e["authorizerError"] != "authorizer timed out" {
			t.Errorf("%s: access log authorizerStatus %v authorizerError %v, want 500, authorizer timed out", target, e["authorizerStatus"], e["authorizerError"])
		}
	}
	if n := hang.calls(); n != 3 {
		t.Errorf("authorizer invoked %d times, want 3", n)
	}
	// A timeout is not cached: the next call invokes again.
	expect(t, h.do("GET", "/httpapi/dev/orders", "Authorization", token), 500, `{"message":"Internal Server Error"}`)
	if n := hang.calls(); n != 4 {
		t.Errorf("authorizer invoked %d times after a timed-out call, want 4 (not cached)", n)
	}
	if n := h.backend.calls(); n != 0 {
		t.Errorf("backend invoked %d times, want 0", n)
	}
	for i, left := range hang.deadlines {
		if left > 20*time.Millisecond {
			t.Errorf("call %d was given %v, want at most the injected 20ms", i, left)
		}
	}
}

func TestIntegrationTimeout(t *testing.T) {
	tests := []struct {
		name, target string
		status       int
		body         string
	}{
		// REST: the INTEGRATION_TIMEOUT gateway response.
		{"REST is 504", "/restapi/dev/orders", 504, `{"message":"Endpoint request timed out"}`},
		// HTTP APIs answer an integration timeout with 503 Service Unavailable
		// (cortexlabs/cortex#1225 shows the response, serverless/serverless#11222
		// the same after a cold start).
		{"HTTP is 503", "/httpapi/dev/orders", 503, `{"message":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hang := &hangFn{}
			h := newHarness(t, 300, nil)
			auth := &fakeFn{handle: func(ev map[string]any) (rie.Result, error) {
				if ev["version"] == "2.0" {
					return ok(map[string]any{"isAuthorized": true})
				}
				return allowAll(ev)
			}}
			gw, err := New(testTemplate(t, 300), map[string]Invoker{"AuthFunction": auth, "BackendFunction": hang},
				WithClock(h.clock.Now), WithAccessLog(syncWriter{h.access, &sync.Mutex{}}),
				WithTimeouts(20*time.Millisecond, 20*time.Millisecond, 0))
			if err != nil {
				t.Fatal(err)
			}
			h.gw = gw
			rec := h.do("GET", tt.target, "Authorization", token)
			expect(t, rec, tt.status, tt.body)
			if n := hang.calls(); n != 1 {
				t.Errorf("backend invoked %d times, want 1", n)
			}
			if left := hang.deadlines[0]; left > 20*time.Millisecond || left <= 0 {
				t.Errorf("the integration was given %v, want the injected 20ms", left)
			}
			if e := h.lastEntry(); e["status"] != float64(tt.status) || e["integrationStatus"] != float64(504) {
				t.Errorf("access log status %v integrationStatus %v, want %d and 504", e["status"], e["integrationStatus"], tt.status)
			}
		})
	}
}

func TestMethodARNLimit(t *testing.T) {
	authorize := func(ev map[string]any) (rie.Result, error) {
		if ev["version"] == "2.0" {
			return ok(map[string]any{"isAuthorized": true})
		}
		return allowAll(ev)
	}
	for _, api := range []string{"restapi", "httpapi"} {
		t.Run(api, func(t *testing.T) {
			h := newHarness(t, 0, authorize)
			prefix := arnPrefix + api + "/dev/GET/orders/"
			atLimit := strings.Repeat("a", 1600-len(prefix))
			expect(t, h.do("GET", "/"+api+"/dev/orders/"+atLimit, "Authorization", token), 200, "")
			if n := h.auth.calls(); n != 1 {
				t.Fatalf("a 1600-byte method ARN: authorizer invoked %d times, want 1", n)
			}
			rec := h.do("GET", "/"+api+"/dev/orders/"+atLimit+"a", "Authorization", token)
			expect(t, rec, 414, `{"message":"Request-URI Too Long"}`)
			if n := h.auth.calls(); n != 1 {
				t.Errorf("a 1601-byte method ARN: authorizer invoked %d times in all, want 1 (refused before authorizing)", n)
			}
			if n := h.backend.calls(); n != 1 {
				t.Errorf("backend invoked %d times, want 1", n)
			}
			// UTF-8: the limit is in bytes, not characters.
			rec = h.do("GET", "/"+api+"/dev/orders/"+strings.Repeat("%C3%A9", (1600-len(prefix))/2+1), "Authorization", token)
			expect(t, rec, 414, `{"message":"Request-URI Too Long"}`)
		})
	}
	// Without an authorizer the method ARN is not limited.
	tm, err := samtemplate.Parse([]byte(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        Open: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/open/{id}", Method: GET}}
  Api: {Type: AWS::Serverless::HttpApi, Properties: {StageName: dev}}
`))
	if err != nil {
		t.Fatal(err)
	}
	backend := &fakeFn{handle: echo}
	gw, err := New(tm, map[string]Invoker{"Fn": backend})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, httpDo(gw, "GET", "/api/dev/open/"+strings.Repeat("a", 2000)), 200, "")
	if n := backend.calls(); n != 1 {
		t.Errorf("open route backend invoked %d times, want 1", n)
	}
}

// TestRouteKeyIdentitySource is DESIGN.md's advice for route-specific HTTP
// API rules: with $context.routeKey among the identity sources, each route
// has its own cache entry for the same token; without it, one entry serves
// every route.
func TestRouteKeyIdentitySource(t *testing.T) {
	tm, err := samtemplate.Parse([]byte(`
Resources:
  Auth: {Type: AWS::Serverless::Function, Properties: {CodeUri: .}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        A: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /a, Method: GET, Auth: {Authorizer: PerRoute}}}
        B: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /b, Method: GET, Auth: {Authorizer: PerRoute}}}
        C: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /c, Method: GET, Auth: {Authorizer: Shared}}}
        D: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /d, Method: GET, Auth: {Authorizer: Shared}}}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: dev
      Auth:
        Authorizers:
          PerRoute:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization], Context: [routeKey], ReauthorizeEvery: 300}
          Shared:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization], ReauthorizeEvery: 300}
`))
	if err != nil {
		t.Fatal(err)
	}
	// A route-specific rule: this token may call GET /a and GET /c only.
	newGateway := func(t *testing.T) (*Gateway, *fakeFn) {
		auth := &fakeFn{handle: func(ev map[string]any) (rie.Result, error) {
			rk := ev["routeKey"]
			return ok(map[string]any{"isAuthorized": rk == "GET /a" || rk == "GET /c"})
		}}
		gw, err := New(tm, map[string]Invoker{"Auth": auth, "Fn": &fakeFn{handle: echo}})
		if err != nil {
			t.Fatal(err)
		}
		return gw, auth
	}
	call := func(gw *Gateway, path string) int {
		req := httptestRequest(context.Background(), "GET", "/api/dev"+path, "Authorization", token)
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		return rec.Code
	}

	t.Run("with routeKey: one invocation per route", func(t *testing.T) {
		gw, auth := newGateway(t)
		for i, step := range []struct {
			path   string
			status int
			calls  int
		}{{"/a", 200, 1}, {"/b", 403, 2}, {"/a", 200, 2}, {"/b", 403, 2}} {
			if got := call(gw, step.path); got != step.status {
				t.Errorf("step %d: GET %s = %d, want %d", i, step.path, got, step.status)
			}
			if n := auth.calls(); n != step.calls {
				t.Errorf("step %d: GET %s: authorizer invoked %d times in all, want %d", i, step.path, n, step.calls)
			}
		}
		var ev map[string]any
		if err := json.Unmarshal(auth.last(), &ev); err != nil {
			t.Fatal(err)
		}
		src, _ := ev["identitySource"].([]any)
		if len(src) != 2 || src[0] != token || src[1] != "GET /b" {
			t.Errorf("identitySource = %v, want [%q \"GET /b\"]", ev["identitySource"], token)
		}
	})
	t.Run("without routeKey: one invocation for every route", func(t *testing.T) {
		gw, auth := newGateway(t)
		if got := call(gw, "/c"); got != 200 {
			t.Errorf("GET /c = %d, want 200", got)
		}
		// The cached true admits GET /d too, which the rule does not allow:
		// the bug routeKey in the identity sources prevents.
		if got := call(gw, "/d"); got != 200 {
			t.Errorf("GET /d = %d, want 200 (the cached answer for /c)", got)
		}
		if n := auth.calls(); n != 1 {
			t.Errorf("authorizer invoked %d times, want 1", n)
		}
	})
}
