package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// fakeFn is an in-process function: it records every event and answers with
// handle.
type fakeFn struct {
	mu     sync.Mutex
	events [][]byte
	handle func(event map[string]any) (rie.Result, error)
}

func (f *fakeFn) Invoke(_ context.Context, payload []byte) (rie.Result, error) {
	f.mu.Lock()
	f.events = append(f.events, append([]byte(nil), payload...))
	handle := f.handle
	f.mu.Unlock()
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		return rie.Result{}, fmt.Errorf("fake got invalid JSON: %v", err)
	}
	return handle(ev)
}

func (f *fakeFn) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

func (f *fakeFn) last() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		return nil
	}
	return f.events[len(f.events)-1]
}

// ok answers with v encoded as JSON.
func ok(v any) (rie.Result, error) {
	b, err := json.Marshal(v)
	return rie.Result{Status: 200, Payload: b}, err
}

// raw answers with the given bytes.
func raw(s string) (rie.Result, error) { return rie.Result{Status: 200, Payload: []byte(s)}, nil }

// fnError answers like a function that returned an error.
func fnError(message string) (rie.Result, error) {
	return rie.Result{Status: 200, Payload: []byte(`{"errorMessage":"` + message + `","errorType":"errorString"}`),
		Err: &rie.FunctionError{Message: message, Type: "errorString"}}, nil
}

const arnPrefix = "arn:aws:execute-api:us-east-1:123456789012:"

// iamPolicy is an authorizer answer allowing or denying resources.
func iamPolicy(principal, effect string, resources []string, ctx map[string]any) map[string]any {
	out := map[string]any{
		"principalId": principal,
		"policyDocument": map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources,
			}},
		},
	}
	if ctx != nil {
		out["context"] = ctx
	}
	return out
}

// echo is a backend that answers 200 with the event it got.
func echo(ev map[string]any) (rie.Result, error) {
	b, _ := json.Marshal(ev)
	if ev["version"] == "2.0" {
		return ok(map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": "application/json"}, "body": string(b)})
	}
	return ok(map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/json"}, "body": string(b)})
}

// testTemplate has a REST API with a TOKEN, a REQUEST and a no-cache TOKEN
// authorizer, and an HTTP API with simple-response, IAM (2.0) and 1.0
// authorizers. ttl is the cached authorizers' ReauthorizeEvery.
func testTemplate(t *testing.T, ttl int) *samtemplate.Template {
	t.Helper()
	tmpl := fmt.Sprintf(`
Globals:
  Function: {Runtime: provided.al2023, Handler: bootstrap, CodeUri: .}
Resources:
  AuthFunction: {Type: AWS::Serverless::Function}
  BackendFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        ListOrders: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /orders, Method: GET}}
        GetOrder: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: "/orders/{id}", Method: GET}}
        CreateOrder: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /orders, Method: POST}}
        Reports: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: "/reports/{proxy+}", Method: ANY}}
        ReportsSummary: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /reports/summary, Method: GET}}
        Open: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /open, Method: GET, Auth: {Authorizer: NONE}}}
        Req: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: "/req/{id}", Method: GET, Auth: {Authorizer: Req}}}
        NoCache: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /nocache, Method: GET, Auth: {Authorizer: NoCache}}}
        Partner: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: /partner, Method: POST, Auth: {ApiKeyRequired: true}}}
        HList: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /orders, Method: GET}}
        HGet: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: "/orders/{id}", Method: GET}}
        HIam: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: "/iam/{id}", Method: GET, Auth: {Authorizer: Iam}}}
        HV1: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /v1, Method: GET, Auth: {Authorizer: V1}}}
        HOpen: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Path: /open, Method: ANY, Auth: {Authorizer: NONE}}}
  RestApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Variables: {tier: gold}
      ApiKeySourceType: AUTHORIZER
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity: {Header: Authorization, ValidationExpression: "Bearer [-0-9A-Za-z_.]+", ReauthorizeEvery: %[1]d}
          Req:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: REQUEST
            Identity: {Headers: [X-Key], QueryStrings: [k], StageVariables: [tier], Context: [httpMethod], ReauthorizeEvery: %[1]d}
          NoCache:
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity: {ReauthorizeEvery: 0}
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: dev
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt AuthFunction.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity: {Headers: [Authorization], ReauthorizeEvery: %[1]d}
          Iam:
            FunctionArn: !GetAtt AuthFunction.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            Identity: {Headers: [Authorization], ReauthorizeEvery: %[1]d}
          V1:
            FunctionArn: !GetAtt AuthFunction.Arn
            AuthorizerPayloadFormatVersion: "1.0"
            Identity: {Headers: [Authorization], QueryStrings: [q], ReauthorizeEvery: %[1]d}
`, ttl)
	tm, err := samtemplate.Parse([]byte(tmpl))
	if err != nil {
		t.Fatalf("test template: %v", err)
	}
	return tm
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	t       *testing.T
	gw      *Gateway
	auth    *fakeFn
	backend *fakeFn
	clock   *fakeClock
	access  *bytes.Buffer
}

func newHarness(t *testing.T, ttl int, authorize func(map[string]any) (rie.Result, error), opts ...Option) *harness {
	t.Helper()
	h := &harness{
		t: t, auth: &fakeFn{handle: authorize}, backend: &fakeFn{handle: echo},
		clock:  &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		access: &bytes.Buffer{},
	}
	gw, err := New(testTemplate(t, ttl), map[string]Invoker{"AuthFunction": h.auth, "BackendFunction": h.backend},
		append([]Option{WithClock(h.clock.Now), WithAccessLog(syncWriter{h.access, &sync.Mutex{}})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	return h
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// do sends one request through the gateway; header pairs are name, value.
func (h *harness) do(method, target string, header ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.doBody(method, target, "", header...)
}

func (h *harness) doBody(method, target, body string, header ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:3000"+target, r)
	req.RemoteAddr = "192.0.2.10:54321"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.gw.ServeHTTP(rec, req)
	return rec
}

// expect checks a response's status and body.
func expect(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d (body %s)", rec.Code, status, rec.Body)
	}
	if body != "" && strings.TrimSpace(rec.Body.String()) != body {
		t.Errorf("body = %s, want %s", rec.Body, body)
	}
}

// backendEvent decodes the event the backend got last.
func (h *harness) backendEvent() map[string]any {
	h.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(h.backend.last(), &ev); err != nil {
		h.t.Fatalf("backend event: %v", err)
	}
	return ev
}

// authEvent decodes the event the authorizer got last.
func (h *harness) authEvent() map[string]any {
	h.t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(h.auth.last(), &ev); err != nil {
		h.t.Fatalf("authorizer event: %v", err)
	}
	return ev
}

// strictDecode decodes data into a T, refusing unknown fields, to prove a Go
// handler using aws-lambda-go's types reads the gateway's events.
func strictDecode[T any](t *testing.T, data []byte) T {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("event is not a %T: %v\n%s", v, err, data)
	}
	return v
}

const (
	token      = "Bearer abc.def.ghi"
	otherToken = "Bearer zzz.yyy.xxx"
)

// allowAll is a cache-safe authorizer: its policy covers every route of the
// REST API's stage, whatever methodArn it was invoked for.
func allowAll(ev map[string]any) (rie.Result, error) {
	return ok(iamPolicy("alice", "Allow", []string{arnPrefix + "restapi/dev/*"},
		map[string]any{"email": "alice@example.com", "tenant": 42, "admin": true, "nothing": nil}))
}

// naive is the classic authorizer bug: it allows only the methodArn it was
// invoked for, so its cached policy denies the caller's other routes.
func naive(ev map[string]any) (rie.Result, error) {
	return ok(iamPolicy("alice", "Allow", []string{ev["methodArn"].(string)}, nil))
}
