package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/validate"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:orders-backend:live"

// fakeLambda records each Invoke and answers with a canned result.
type fakeLambda struct {
	calls   []*lambdasvc.InvokeInput
	payload string
	fnErr   string
	err     error
}

func (f *fakeLambda) Invoke(_ context.Context, in *lambdasvc.InvokeInput, _ ...func(*lambdasvc.Options)) (*lambdasvc.InvokeOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	out := &lambdasvc.InvokeOutput{StatusCode: 200, Payload: []byte(f.payload)}
	if f.fnErr != "" {
		out.FunctionError = aws.String(f.fnErr)
	}
	return out, nil
}

const backendOK = `{"statusCode":201,"headers":{"Content-Type":"application/json","X-Backend":"orders"},"body":"{\"id\":\"o-1\"}"}`

func newHandler(t *testing.T, fake *fakeLambda) *handler {
	t.Helper()
	rules, err := os.ReadFile(filepath.Join("testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(rules, validate.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return &handler{validator: v, downstream: fake, target: testARN}
}

func eventPath(name string) string { return filepath.Join("..", "..", "events", "validator", name) }

// readEvent decodes a sample event strictly, so a payload 1.0 sample given
// to a 2.0 type (or the reverse) fails here rather than in production.
func readEvent[T any](t *testing.T, name string) ([]byte, T) {
	t.Helper()
	b, err := os.ReadFile(eventPath(name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not a %T: %v", name, v, err)
	}
	return b, v
}

// response is the part of both response types the tests look at.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
}

func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file       string
		v2         bool
		status     int
		problem    string // problem type suffix, "" when forwarded
		pointer    string
		authorized bool
	}{
		{"rest-create-order.json", false, 201, "", "", true},
		{"rest-get-order.json", false, 201, "", "", true},
		{"rest-base64-body.json", false, 201, "", "", true},
		{"rest-privilege-escalation.json", false, 400, "privileged-field", "#/role", true},
		{"rest-sqli-query.json", false, 400, "sql-injection", "", true},
		{"http-create-order.json", true, 201, "", "", true},
		{"http-get-order-unauthorized.json", true, 201, "", "", false},
		{"http-content-digest.json", true, 201, "", "", true},
		{"http-privilege-escalation.json", true, 400, "privileged-field", "#/role", true},
		{"http-xss-body.json", true, 400, "xss", "#/items/0/note", true},
		{"http-missing-content-type.json", true, 415, "unsupported-media-type", "", true},
		{"http-content-digest-mismatch.json", true, 400, "content-digest-mismatch", "", true},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			var raw []byte
			if tt.v2 {
				raw, _ = readEvent[events.APIGatewayV2HTTPRequest](t, tt.file)
			} else {
				raw, _ = readEvent[events.APIGatewayProxyRequest](t, tt.file)
			}
			fake := &fakeLambda{payload: backendOK}
			out, err := newHandler(t, fake).handle(context.Background(), raw)
			if err != nil {
				t.Fatalf("handle = %v, want a response", err)
			}
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.status, resp.Body)
			}
			for k, want := range map[string]string{
				"Strict-Transport-Security": validate.HSTS,
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
			} {
				if got := resp.Headers[k]; got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.problem == "" {
				if len(fake.calls) != 1 {
					t.Fatalf("downstream called %d times, want 1", len(fake.calls))
				}
				call := fake.calls[0]
				if got := aws.ToString(call.FunctionName); got != testARN {
					t.Errorf("FunctionName = %q, want %q", got, testARN)
				}
				if !bytes.Equal(call.Payload, raw) {
					t.Errorf("forwarded payload differs from the original event")
				}
				if resp.Headers["X-Backend"] != "orders" || resp.Body != `{"id":"o-1"}` {
					t.Errorf("response = %v %q, want the backend's headers and body", resp.Headers, resp.Body)
				}
				wantCache := ""
				if tt.authorized {
					wantCache = "no-store"
				}
				if got := resp.Headers["Cache-Control"]; got != wantCache {
					t.Errorf("Cache-Control = %q, want %q", got, wantCache)
				}
				return
			}
			if len(fake.calls) != 0 {
				t.Errorf("downstream called %d times for a rejected request, want 0", len(fake.calls))
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
				t.Fatalf("problem body %q: %v", resp.Body, err)
			}
			if want := validate.DefaultProblemTypeBase + tt.problem; p["type"] != want {
				t.Errorf("type = %v, want %s", p["type"], want)
			}
			if p["status"] != float64(tt.status) {
				t.Errorf("problem status = %v, want %d", p["status"], tt.status)
			}
			if got, _ := p["pointer"].(string); got != tt.pointer {
				t.Errorf("pointer = %q, want %q", got, tt.pointer)
			}
			if strings.Contains(resp.Body, "superuser") || strings.Contains(resp.Body, "onerror") {
				t.Errorf("problem body %s echoes a request value", resp.Body)
			}
		})
	}
	// Every sample event must be covered here.
	err := filepath.WalkDir(filepath.Join("..", "..", "events", "validator"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !seen[d.Name()] {
			t.Errorf("sample event %s is not tested", d.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDownstreamFailures(t *testing.T) {
	tests := []struct {
		name   string
		fake   *fakeLambda
		status int
		body   string
	}{
		{"function error", &fakeLambda{fnErr: "Unhandled", payload: `{"errorMessage":"boom: secret detail","errorType":"panic"}`}, 502, ""},
		{"invoke error", &fakeLambda{err: errors.New("connection refused")}, 502, ""},
		{"malformed response", &fakeLambda{payload: `not json`}, 502, ""},
		{"status code out of range", &fakeLambda{payload: `{"statusCode":42}`}, 502, ""},
		{"2.0 bare object is a 200 JSON body", &fakeLambda{payload: `{"message":"hi"}`}, 200, `{"message":"hi"}`},
		{"2.0 bare string is the body", &fakeLambda{payload: `"Hello from Lambda!"`}, 200, "Hello from Lambda!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := readEvent[events.APIGatewayV2HTTPRequest](t, "http-create-order.json")
			out, err := newHandler(t, tt.fake).handle(context.Background(), raw)
			if err != nil {
				t.Fatalf("handle = %v, want a response", err)
			}
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 502 {
				if resp.Headers["Content-Type"] != "application/problem+json" || strings.Contains(resp.Body, "secret") {
					t.Errorf("502 response = %v %s, want an opaque problem", resp.Headers, resp.Body)
				}
				return
			}
			if resp.Body != tt.body || resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("response = %v %q, want application/json %q", resp.Headers, resp.Body, tt.body)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store on an authorized response", resp.Headers["Cache-Control"])
			}
		})
	}
}

// TestBackendHeadersKept checks that a backend's stricter header survives and
// a weaker one is raised, for both payload formats.
func TestBackendHeadersKept(t *testing.T) {
	backend := `{"statusCode":200,
	  "headers":{"Content-Type":"text/html","Content-Security-Policy":"default-src 'self'","strict-transport-security":"max-age=63072000; includeSubDomains; preload"},
	  "multiValueHeaders":{"Cache-Control":["public","max-age=600"],"Set-Cookie":["a=1","b=2"]},
	  "body":"<p>hi</p>"}`
	for _, file := range []string{"rest-create-order.json", "http-create-order.json"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(eventPath(file))
			if err != nil {
				t.Fatal(err)
			}
			out, err := newHandler(t, &fakeLambda{payload: backend}).handle(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy":   "default-src 'self'",
				"strict-transport-security": "max-age=63072000; includeSubDomains; preload",
				"Cache-Control":             "no-store",
			} {
				if got := resp.Headers[k]; got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if _, ok := resp.MultiValueHeaders["Cache-Control"]; ok {
				t.Error("the backend's multi-value Cache-Control survived beside no-store")
			}
			if got := resp.MultiValueHeaders["Set-Cookie"]; len(got) != 2 {
				t.Errorf("Set-Cookie = %q, want both cookies", got)
			}
		})
	}
}

func TestUnsupportedEvents(t *testing.T) {
	for _, raw := range []string{`{}`, `[]`, `"x"`, `{"version":"3.0"}`, `{"Records":[]}`, `not json`} {
		fake := &fakeLambda{payload: backendOK}
		_, err := newHandler(t, fake).handle(context.Background(), json.RawMessage(raw))
		var want unsupportedEventError
		if !errors.As(err, &want) {
			t.Errorf("handle(%s) = %v, want unsupportedEventError", raw, err)
		}
		if len(fake.calls) != 0 {
			t.Errorf("handle(%s) invoked the downstream function", raw)
		}
	}
}

func TestLoadEnv(t *testing.T) {
	files := map[string][]byte{"/var/task/rules.json": []byte(`{"routes":{}}`)}
	readFile := func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name    string
		env     map[string]string
		rules   string
		wantErr []string
	}{
		{"inline rules", map[string]string{"DOWNSTREAM_FUNCTION_ARN": testARN, "VALIDATION_RULES": `{"routes":{"GET /x":{}}}`}, `{"routes":{"GET /x":{}}}`, nil},
		{"rules file", map[string]string{"DOWNSTREAM_FUNCTION_ARN": testARN, "VALIDATION_RULES_FILE": "/var/task/rules.json"}, `{"routes":{}}`, nil},
		{"nothing set", map[string]string{}, "", []string{"DOWNSTREAM_FUNCTION_ARN is not set", "neither VALIDATION_RULES"}},
		{"both rules", map[string]string{"DOWNSTREAM_FUNCTION_ARN": testARN, "VALIDATION_RULES": "{}", "VALIDATION_RULES_FILE": "x"}, "", []string{"not both"}},
		{"missing file", map[string]string{"DOWNSTREAM_FUNCTION_ARN": testARN, "VALIDATION_RULES_FILE": "/nope"}, "", []string{"VALIDATION_RULES_FILE", "not exist"}},
		{"not an ARN", map[string]string{"DOWNSTREAM_FUNCTION_ARN": "orders-backend", "VALIDATION_RULES": "{}"}, "", []string{"DOWNSTREAM_FUNCTION_ARN"}},
		{"not a Lambda ARN", map[string]string{"DOWNSTREAM_FUNCTION_ARN": "arn:aws:s3:::bucket", "VALIDATION_RULES": "{}"}, "", []string{"not a Lambda function ARN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := loadEnv(func(k string) string { return tt.env[k] }, readFile)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("loadEnv = %v, want nil", err)
				}
				if env.target != testARN || string(env.rules) != tt.rules {
					t.Errorf("loadEnv = %q %q, want %q %q", env.target, env.rules, testARN, tt.rules)
				}
				return
			}
			if err == nil {
				t.Fatal("loadEnv = nil, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("loadEnv = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestRealClientThroughEndpointOverride runs the real SDK client, built the
// way main builds it, against a local server standing in for the Lambda
// Invoke API (as the Runtime Interface Emulator or the local gateway would),
// reached through AWS_ENDPOINT_URL_LAMBDA.
func TestRealClientThroughEndpointOverride(t *testing.T) {
	var gotPath string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		gotBody, _ = io.ReadAll(r.Body)
		if strings.Contains(string(gotBody), `"superuser"`) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			io.WriteString(w, `{"errorMessage":"should never be called"}`)
			return
		}
		io.WriteString(w, backendOK)
	}))
	defer srv.Close()

	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, nil)
	h.downstream = lambdasvc.NewFromConfig(cfg)

	raw, err := os.ReadFile(eventPath("http-create-order.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.handle(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Errorf("status = %d, want 201 from the backend", resp.StatusCode)
	}
	if want := "/2015-03-31/functions/" + strings.ReplaceAll(testARN, ":", "%3A") + "/invocations"; gotPath != want {
		t.Errorf("invoked %s, want %s", gotPath, want)
	}
	if !bytes.Equal(gotBody, raw) {
		t.Error("the payload sent to Lambda differs from the original event")
	}

	// The privilege escalation never reaches the backend.
	gotBody = nil
	raw, _ = os.ReadFile(eventPath("http-privilege-escalation.json"))
	out, _ = h.handle(context.Background(), raw)
	_ = json.Unmarshal(out, &resp)
	if resp.StatusCode != 400 || gotBody != nil {
		t.Errorf("escalation: status %d, backend called = %v; want 400 and no call", resp.StatusCode, gotBody != nil)
	}
}
