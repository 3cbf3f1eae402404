package validate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func testValidator(t testing.TB, opts ...Option) *Validator {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(b, append([]Option{WithLogger(discardLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const validOrder = `{"items":[{"sku":"TEA-001","qty":2}]}`

func jsonPost(resource, body string) *Request {
	return &Request{Method: "POST", Resource: resource,
		Header: map[string][]string{"content-type": {"application/json"}}, Body: body}
}

func get(resource string, path map[string]string, query map[string][]string) *Request {
	return &Request{Method: "GET", Resource: resource, PathParameters: path, Query: query, Header: map[string][]string{}}
}

func withHeader(r *Request, name string, values ...string) *Request {
	r.Header[name] = values
	return r
}

func digest256(body string) string {
	s := sha256.Sum256([]byte(body))
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func digest512(body string) string {
	s := sha512.Sum512([]byte(body))
	return "sha-512=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func profilePut(body, contentType string, digest ...string) *Request {
	r := &Request{Method: "PUT", Resource: "/profiles/{id}", PathParameters: map[string]string{"id": "42"},
		Header: map[string][]string{"content-type": {contentType}}, Body: body}
	if len(digest) > 0 {
		r.Header["content-digest"] = digest
	}
	return r
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat(`}`, depth)
}

// TestValidate covers every rule with the status, problem type and location
// it must produce.
func TestValidate(t *testing.T) {
	v := testValidator(t)
	type want struct {
		status  int
		rule    Rule
		pointer string // body location, or ""
		in      string // parameter location, or ""
		param   string
	}
	ok := want{}
	tests := []struct {
		name string
		req  *Request
		want want
	}{
		// Routes.
		{"valid order", jsonPost("/orders", validOrder), ok},
		{"unknown route fails closed", get("/nope", nil, nil), want{404, RuleUnknownRoute, "", "", ""}},
		{"ANY matches any method", &Request{Method: "DELETE", Resource: "/health", Header: map[string][]string{}}, ok},

		// Size.
		{"body over route limit", &Request{Method: "POST", Resource: "/upload",
			Header: map[string][]string{"content-type": {"application/octet-stream"}}, Body: strings.Repeat("x", 65)},
			want{413, RuleBodyTooLarge, "", "", ""}},
		{"base64 body over limit before decoding", &Request{Method: "POST", Resource: "/upload",
			Header:          map[string][]string{"content-type": {"application/octet-stream"}},
			Body:            base64.StdEncoding.EncodeToString(make([]byte, 100)),
			IsBase64Encoded: true}, want{413, RuleBodyTooLarge, "", "", ""}},
		{"base64 body over limit only after decoding", &Request{Method: "POST", Resource: "/upload",
			Header:          map[string][]string{"content-type": {"application/octet-stream"}},
			Body:            base64.StdEncoding.EncodeToString(make([]byte, 65)),
			IsBase64Encoded: true}, want{413, RuleBodyTooLarge, "", "", ""}},
		{"base64 body at limit", &Request{Method: "POST", Resource: "/upload",
			Header:          map[string][]string{"content-type": {"application/octet-stream"}},
			Body:            base64.StdEncoding.EncodeToString([]byte(strings.Repeat("<script>", 8))),
			IsBase64Encoded: true}, ok},
		{"bad base64", &Request{Method: "POST", Resource: "/upload",
			Header: map[string][]string{"content-type": {"application/octet-stream"}}, Body: "!!!!", IsBase64Encoded: true},
			want{400, RuleBodyEncoding, "", "", ""}},

		// Content type.
		{"JSON route without content type", &Request{Method: "POST", Resource: "/orders", Header: map[string][]string{}, Body: validOrder},
			want{415, RuleMediaType, "", "", ""}},
		{"JSON route with empty body and no content type", &Request{Method: "POST", Resource: "/orders", Header: map[string][]string{}},
			want{415, RuleMediaType, "", "", ""}},
		{"JSON route with text/plain", withHeader(jsonPost("/orders", validOrder), "content-type", "text/plain"),
			want{415, RuleMediaType, "", "", ""}},
		{"JSON route with a +json type it does not list", withHeader(jsonPost("/orders", validOrder), "content-type", "application/merge-patch+json"),
			want{415, RuleMediaType, "", "", ""}},
		{"JSON route with UTF-16 charset", withHeader(jsonPost("/orders", validOrder), "content-type", "application/json; charset=utf-16"),
			want{415, RuleMediaType, "", "", ""}},
		{"two Content-Type headers", withHeader(jsonPost("/orders", validOrder), "content-type", "application/json", "application/json"),
			want{415, RuleMediaType, "", "", ""}},
		{"content type case and parameters", withHeader(jsonPost("/orders", validOrder), "content-type", `Application/JSON; Charset="UTF-8"`), ok},
		{"malformed content type", withHeader(jsonPost("/orders", validOrder), "content-type", "application/json; charset"),
			want{415, RuleMediaType, "", "", ""}},
		{"body on a route that takes none", &Request{Method: "GET", Resource: "/orders/{id}", PathParameters: map[string]string{"id": "7"},
			Header: map[string][]string{"content-type": {"application/json"}}, Body: "{}"}, want{415, RuleMediaType, "", "", ""}},
		{"listed +json type", profilePut(`{"displayName":"Ada"}`, "application/merge-patch+json", digest256(`{"displayName":"Ada"}`)), ok},
		{"empty body on a JSON route", jsonPost("/orders", ""), want{400, RuleInvalidJSON, "#", "", ""}},

		// Content-Digest.
		{"digest required but missing", profilePut(`{}`, "application/json"), want{400, RuleDigestMissing, "", "", ""}},
		{"sha-256 digest", profilePut(`{"displayName":"Ada"}`, "application/json", digest256(`{"displayName":"Ada"}`)), ok},
		{"sha-512 digest", profilePut(`{"displayName":"Ada"}`, "application/json", digest512(`{"displayName":"Ada"}`)), ok},
		{"both digests", profilePut(`{}`, "application/json", digest256(`{}`)+", "+digest512(`{}`)), ok},
		{"digest over two header lines", profilePut(`{}`, "application/json", digest256(`{}`), digest512(`{}`)), ok},
		{"digest mismatch", profilePut(`{"displayName":"Eve"}`, "application/json", digest256(`{"displayName":"Ada"}`)),
			want{400, RuleDigestMismatch, "", "", ""}},
		{"one of two digests wrong", profilePut(`{}`, "application/json", digest256(`{}`)+", "+digest512(`[]`)),
			want{400, RuleDigestMismatch, "", "", ""}},
		{"malformed digest", profilePut(`{}`, "application/json", "sha-256=abc"), want{400, RuleDigestInvalid, "", "", ""}},
		{"only an insecure algorithm", profilePut(`{}`, "application/json", "md5=:mZFLkyvTelC5g8XnyQrpOw==:"),
			want{400, RuleDigestInvalid, "", "", ""}},
		{"digest checked where not required", withHeader(jsonPost("/orders", validOrder), "content-digest", digest256("other")),
			want{400, RuleDigestMismatch, "", "", ""}},

		// Parameters.
		{"path parameter pattern", get("/orders/{id}", map[string]string{"id": "abc"}, nil),
			want{400, RuleInvalidParameter, "", "path", "id"}},
		{"required path parameter missing", get("/orders/{id}", nil, nil), want{400, RuleMissingParameter, "", "path", "id"}},
		{"unknown query parameter", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"debug": {"1"}}),
			want{400, RuleUnknownParameter, "", "query", "debug"}},
		{"repeated single-value parameter", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"fields": {"id", "status"}}),
			want{400, RuleInvalidParameter, "", "query", "fields"}},
		{"repeated multi-value parameter", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"tag": {"a", "b"}}), ok},
		{"parameter too long", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"tag": {strings.Repeat("é", 21)}}),
			want{400, RuleInvalidParameter, "", "query", "tag"}},
		{"parameter at max length in characters", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"tag": {strings.Repeat("é", 20)}}), ok},
		{"enum parameter", withHeader(jsonPost("/orders", validOrder), "x-request-id", "abc-123"), ok},
		{"enum parameter outside enum", &Request{Method: "POST", Resource: "/orders", Query: map[string][]string{"dryRun": {"maybe"}},
			Header: map[string][]string{"content-type": {"application/json"}}, Body: validOrder}, want{400, RuleInvalidParameter, "", "query", "dryRun"}},
		{"privileged query parameter", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"Tenant_ID": {"t2"}}),
			want{400, RulePrivilegedField, "", "query", "Tenant_ID"}},
		{"SQL injection in query", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"search": {"' OR '1'='1"}}),
			want{400, RuleSQLi, "", "query", "search"}},
		{"ordinary search", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"search": {"O'Brien's tea"}}), ok},
		{"header pattern", withHeader(jsonPost("/orders", validOrder), "x-request-id", "no spaces allowed"),
			want{400, RuleInvalidParameter, "", "header", "x-request-id"}},
		{"XSS in an inspected header", withHeader(jsonPost("/orders", validOrder), "referer", "javascript:alert(1)"),
			want{400, RuleXSS, "", "header", "referer"}},
		{"XSS in an uninspected header is not this layer's business", withHeader(jsonPost("/orders", validOrder), "x-note", "<script>"), ok},
		{"XSS in a path parameter", get("/items/{slug}", map[string]string{"slug": "<svg/onload=alert(1)>"}, nil),
			want{400, RuleXSS, "", "path", "slug"}},
		{"unsafe parameter name is percent-encoded", get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"<b>": {"1"}}),
			want{400, RuleUnknownParameter, "", "query", "%3Cb%3E"}},

		// JSON pre-parser.
		{"malformed JSON", jsonPost("/orders", `{"items":[}`), want{400, RuleInvalidJSON, "#/items/0", "", ""}},
		{"trailing data", jsonPost("/orders", validOrder+` {}`), want{400, RuleInvalidJSON, "#", "", ""}},
		{"duplicate member", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"a","q":"b"}`),
			want{400, RuleDuplicateMember, "#/q", "", ""}},
		{"duplicate member differing in case", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2,"QTY":50}]}`),
			want{400, RuleDuplicateMember, "#/items/0/QTY", "", ""}},
		{"duplicate member via escapes", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"a","\u0071":"b"}`),
			want{400, RuleDuplicateMember, "#/q", "", ""}},
		{"invalid UTF-8", jsonPost("/orders", "{\"items\":[{\"sku\":\"TEA-001\",\"qty\":2}],\"q\":\"a\xffb\"}"),
			want{400, RuleInvalidUTF8, "#/q", "", ""}},
		{"lone surrogate", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"\ud800"}`),
			want{400, RuleInvalidUTF8, "#/q", "", ""}},
		{"integer beyond 2^53", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"amount":9007199254740993}`),
			want{400, RuleNumberPrecision, "#/amount", "", ""}},
		{"decimal that does not round-trip", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"amount":0.10000000000000001}`),
			want{400, RuleNumberPrecision, "#/amount", "", ""}},
		{"ordinary decimal", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"amount":19.99}`), ok},
		{"too deep", jsonPost("/small", `{"a":{"b":{"c":{}}}}`), want{400, RuleMaxDepth, "#/a/b/c", "", ""}},
		{"at max depth", jsonPost("/small", `{"a":{"b":{"c":1}}}`), ok},
		{"too many members", jsonPost("/small", `[1,2,3,4,5,6]`), want{400, RuleMaxMembers, "#/5", "", ""}},

		// Mass assignment.
		{"seed privilege escalation", jsonPost("/orders", `{"userId": "admin", "role": "superuser"}`),
			want{400, RulePrivilegedField, "#/role", "", ""}},
		{"privileged field in another case", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"ISADMIN":true}`),
			want{400, RulePrivilegedField, "#/ISADMIN", "", ""}},
		{"privileged field in snake case", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"tenant_id":"t2"}`),
			want{400, RulePrivilegedField, "#/tenant_id", "", ""}},
		{"privileged field nested in a free-form map", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"metadata":{"userId":"u2"}}`),
			want{400, RulePrivilegedField, "#/metadata/userId", "", ""}},
		{"privileged field spelt with a long s (folds to s)", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"i\u017fAdmin":true}`),
			want{400, RulePrivilegedField, "#/i%C5%BFAdmin", "", ""}},
		{"look-alike that does not fold is merely unknown", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"ro\u2c62e":1}`),
			want{400, RuleUnknownMember, "#/ro%E2%B1%A2e", "", ""}},
		{"unknown member", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"discount":100}`),
			want{400, RuleUnknownMember, "#/discount", "", ""}},
		{"unknown nested member", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2,"price":0}]}`),
			want{400, RuleUnknownMember, "#/items/0/price", "", ""}},
		{"unknown member named like markup is percent-encoded", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"<img src=x onerror=alert(1)>":1}`),
			want{400, RuleUnknownMember, "#/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E", "", ""}},
		{"pointer escaping", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"a/b~c":1}`),
			want{400, RuleUnknownMember, "#/a~1b~0c", "", ""}},
		{"free-form member accepted", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"metadata":{"gift":"yes"}}`), ok},

		// Schema.
		{"schema: out of range", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":200}]}`),
			want{400, RuleSchema, "#/items/0/qty", "", ""}},
		{"schema: required at root", jsonPost("/orders", `{}`), want{400, RuleSchema, "#", "", ""}},
		{"schema: format asserted", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"customer":{"email":"not an email"}}`),
			want{400, RuleSchema, "#/customer/email", "", ""}},
		{"schema: draft-04 exclusiveMaximum", profilePut(`{"age":150}`, "application/json", digest256(`{"age":150}`)),
			want{400, RuleSchema, "#/age", "", ""}},
		{"schema: draft-04 valid", profilePut(`{"age":149}`, "application/json", digest256(`{"age":149}`)), ok},

		// Injection in the body.
		{"SQL injection in a body field", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"1' OR '1'='1"}`),
			want{400, RuleSQLi, "#/q", "", ""}},
		{"XSS in a text-mode field", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2,"note":"<img src=x onerror=alert(1)>"}]}`),
			want{400, RuleXSS, "#/items/0/note", "", ""}},
		{"SQL in a text-mode field passes", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"description":"SELECT * FROM t WHERE a = 1"}`), ok},
		{"XSS hidden by JSON escapes", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`),
			want{400, RuleXSS, "#/q", "", ""}},
		{"XSS in an array element", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"tags":["ok","javascript:alert(1)"]}`),
			want{400, RuleXSS, "#/tags/1", "", ""}},
		{"bare top-level string", jsonPost("/notes", `"<script>alert(1)</script>"`), want{400, RuleXSS, "#", "", ""}},
		{"bare top-level ordinary string", jsonPost("/notes", `"It's fine"`), ok},
		{"apostrophes pass", jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"customer":{"name":"Siobhán O'Brien"},"q":"it's"}`), ok},

		// Form and text bodies.
		{"form body", formPost("comment=Great+service%2C+thanks!&rating=5"), ok},
		{"form: privileged field", formPost("comment=hi&role=admin"), want{400, RulePrivilegedField, "#/role", "", ""}},
		{"form: XSS", formPost("name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"), want{400, RuleXSS, "#/name", "", ""}},
		{"form: SQL in a text field passes", formPost("comment=SELECT+*+FROM+users+WHERE+id+%3D+1"), ok},
		{"form: SQL injection", formPost("name=1%27+OR+%271%27%3D%271"), want{400, RuleSQLi, "#/name", "", ""}},
		{"text body with XSS", textPost("<script>alert(1)</script>"), want{400, RuleXSS, "#", "", ""}},
		{"text body, invalid UTF-8", textPost("a\xffb"), want{400, RuleInvalidUTF8, "#", "", ""}},
		{"form body over its limit", formPost("comment=" + strings.Repeat("a", 4096)), want{413, RuleBodyTooLarge, "", "", ""}},
		{"binary bodies are not inspected", &Request{Method: "POST", Resource: "/upload",
			Header: map[string][]string{"content-type": {"application/octet-stream"}}, Body: "<script>"}, ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate(context.Background(), tt.req)
			if tt.want == ok {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("Validate = %v (%T), want a *Problem", err, err)
			}
			if p.Status != tt.want.status {
				t.Errorf("status = %d, want %d", p.Status, tt.want.status)
			}
			if p.Rule != tt.want.rule {
				t.Errorf("rule = %q, want %q", p.Rule, tt.want.rule)
			}
			if wantType := DefaultProblemTypeBase + string(tt.want.rule); p.Type != wantType {
				t.Errorf("type = %q, want %q", p.Type, wantType)
			}
			if p.Pointer != tt.want.pointer {
				t.Errorf("pointer = %q, want %q", p.Pointer, tt.want.pointer)
			}
			if p.In != tt.want.in || p.Parameter != tt.want.param {
				t.Errorf("parameter = %s %q, want %s %q", p.In, p.Parameter, tt.want.in, tt.want.param)
			}
		})
	}
}

func formPost(body string) *Request {
	return &Request{Method: "POST", Resource: "/feedback",
		Header: map[string][]string{"content-type": {"application/x-www-form-urlencoded"}}, Body: body}
}

func textPost(body string) *Request {
	return &Request{Method: "POST", Resource: "/feedback",
		Header: map[string][]string{"content-type": {"text/plain; charset=utf-8"}}, Body: body}
}

// TestRejectionNeverEchoesValue checks the problem body and the log line of
// rejections whose values carry a recognisable marker.
func TestRejectionNeverEchoesValue(t *testing.T) {
	var logs bytes.Buffer
	v := testValidator(t, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	const marker = "SUPERUSER-MARKER"
	reqs := []*Request{
		jsonPost("/orders", `{"userId": "admin", "role": "`+marker+`"}`),
		jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2}],"q":"' OR 1=1 -- `+marker+`"}`),
		jsonPost("/orders", `{"items":[{"sku":"`+marker+`!","qty":2}]}`),
		get("/orders/{id}", map[string]string{"id": marker}, nil),
		get("/orders/{id}", map[string]string{"id": "7"}, map[string][]string{"search": {"<script>" + marker}}),
		withHeader(jsonPost("/orders", validOrder), "x-request-id", marker+" !"),
	}
	for i, r := range reqs {
		logs.Reset()
		err := v.Validate(context.Background(), r)
		if err == nil {
			t.Fatalf("request %d: Validate = nil, want a rejection", i)
		}
		resp := ProblemV2(err)
		if strings.Contains(resp.Body, marker) {
			t.Errorf("request %d: problem body %s echoes the value", i, resp.Body)
		}
		if strings.Contains(err.Error(), marker) {
			t.Errorf("request %d: error %q echoes the value", i, err)
		}
		line := logs.String()
		if strings.Count(line, "\n") != 1 {
			t.Errorf("request %d: logged %q, want exactly one line", i, line)
		}
		if strings.Contains(line, marker) {
			t.Errorf("request %d: log line %s echoes the value", i, line)
		}
	}
}

func TestRejectionLogLine(t *testing.T) {
	var logs bytes.Buffer
	v := testValidator(t, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	err := v.Validate(context.Background(), jsonPost("/orders", `{"items":[{"sku":"TEA-001","qty":2,"price":0}]}`))
	if err == nil {
		t.Fatal("Validate = nil, want unknown-member")
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log line %q is not JSON: %v", logs.String(), err)
	}
	for k, want := range map[string]any{
		"level": "WARN", "msg": "request rejected", "rule": "unknown-member",
		"pointer": "#/items/0/price", "route": "POST /orders", "status": float64(400),
	} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
}

func TestProblemResponses(t *testing.T) {
	v := testValidator(t, WithProblemTypeBase("https://errors.example.com/"))
	err := v.Validate(context.Background(), jsonPost("/orders", `{"userId": "admin", "role": "superuser"}`))

	r1 := ProblemV1(err)
	r2 := ProblemV2(err)
	for _, c := range []struct {
		name    string
		status  int
		headers map[string]string
		body    string
	}{{"v1", r1.StatusCode, r1.Headers, r1.Body}, {"v2", r2.StatusCode, r2.Headers, r2.Body}} {
		t.Run(c.name, func(t *testing.T) {
			if c.status != 400 {
				t.Errorf("status = %d, want 400", c.status)
			}
			for k, want := range map[string]string{
				"Content-Type":              "application/problem+json",
				"Cache-Control":             "no-store",
				"X-Content-Type-Options":    "nosniff",
				"Strict-Transport-Security": HSTS,
				"Referrer-Policy":           "no-referrer",
			} {
				if got := c.headers[k]; got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			var doc map[string]any
			dec := json.NewDecoder(strings.NewReader(c.body))
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("body %q: %v", c.body, err)
			}
			want := map[string]any{
				"type":    "https://errors.example.com/privileged-field",
				"title":   "Privileged field",
				"status":  float64(400),
				"detail":  ruleInfos[RulePrivilegedField].detail,
				"pointer": "#/role",
			}
			if len(doc) != len(want) {
				t.Errorf("problem has members %v, want exactly %v", doc, want)
			}
			for k, w := range want {
				if doc[k] != w {
					t.Errorf("problem %s = %v, want %v", k, doc[k], w)
				}
			}
		})
	}

	// Anything that is not a *Problem becomes an opaque 500.
	r := ProblemV2(errors.New("secret internal detail"))
	if r.StatusCode != 500 || strings.Contains(r.Body, "secret") {
		t.Errorf("ProblemV2(plain error) = %d %s, want an opaque 500", r.StatusCode, r.Body)
	}
}

func TestDefaultRoute(t *testing.T) {
	v, err := New([]byte(`{"routes": {"$default": {}, "GET /x": {"query": {"a": {}}}}}`), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(context.Background(), get("/anything", nil, nil)); err != nil {
		t.Errorf("unmatched route with $default rules: Validate = %v, want nil", err)
	}
	if err := v.Validate(context.Background(), get("/x", nil, map[string][]string{"b": {"1"}})); err == nil {
		t.Error("GET /x with unknown query: Validate = nil, want the route's own rules applied")
	}
}

// readEvent decodes a sample event strictly: a REST payload given to an HTTP
// API type (or the reverse) fails.
func readEvent[T any](t *testing.T, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "validator", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not a %T: %v", name, v, err)
	}
	return v
}

func TestSampleEvents(t *testing.T) {
	v := testValidator(t)
	type result struct {
		rule       Rule
		authorized bool
	}
	v1 := map[string]result{
		"rest-create-order.json":         {"", true},
		"rest-get-order.json":            {"", true},
		"rest-base64-body.json":          {"", true},
		"rest-privilege-escalation.json": {RulePrivilegedField, true},
		"rest-sqli-query.json":           {RuleSQLi, true},
	}
	v2 := map[string]result{
		"http-create-order.json":            {"", true},
		"http-get-order-unauthorized.json":  {"", false},
		"http-content-digest.json":          {"", true},
		"http-privilege-escalation.json":    {RulePrivilegedField, true},
		"http-xss-body.json":                {RuleXSS, true},
		"http-missing-content-type.json":    {RuleMediaType, true},
		"http-content-digest-mismatch.json": {RuleDigestMismatch, true},
	}
	check := func(t *testing.T, r *Request, want result) {
		if r.Authorized != want.authorized {
			t.Errorf("Authorized = %v, want %v", r.Authorized, want.authorized)
		}
		err := v.Validate(context.Background(), r)
		var got Rule
		if p, ok := err.(*Problem); ok {
			got = p.Rule
		} else if err != nil {
			t.Fatalf("Validate = %v, want nil or *Problem", err)
		}
		if got != want.rule {
			t.Errorf("rule = %q, want %q", got, want.rule)
		}
	}
	for name, want := range v1 {
		t.Run(name, func(t *testing.T) {
			e := readEvent[events.APIGatewayProxyRequest](t, name)
			check(t, RequestV1(&e), want)
		})
	}
	for name, want := range v2 {
		t.Run(name, func(t *testing.T) {
			e := readEvent[events.APIGatewayV2HTTPRequest](t, name)
			check(t, RequestV2(&e), want)
		})
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "events", "validator"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := v1[e.Name()]; !ok {
			if _, ok := v2[e.Name()]; !ok {
				t.Errorf("sample event %s has no expectation here", e.Name())
			}
		}
	}
}

func TestRequestViews(t *testing.T) {
	e1 := readEvent[events.APIGatewayProxyRequest](t, "rest-get-order.json")
	r1 := RequestV1(&e1)
	if r1.Method != "GET" || r1.Resource != "/orders/{id}" || r1.PathParameters["id"] != "1234" {
		t.Errorf("RequestV1 = %s %s %v, want GET /orders/{id} id=1234", r1.Method, r1.Resource, r1.PathParameters)
	}
	if got := r1.Query["tag"]; len(got) != 2 || got[0] != "gift" || got[1] != "express" {
		t.Errorf("RequestV1 query tag = %q, want [gift express]", got)
	}
	if got := r1.Header["user-agent"]; len(got) != 1 || got[0] != "curl/8.5.0" {
		t.Errorf("RequestV1 header user-agent = %q, want [curl/8.5.0] (lower-cased name)", got)
	}

	// A header in both maps, spelt differently, is one header.
	mixed := RequestV1(&events.APIGatewayProxyRequest{
		Headers:           map[string]string{"content-type": "application/json", "X-One": "1"},
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
	})
	if got := mixed.Header["content-type"]; len(got) != 1 {
		t.Errorf("RequestV1 content-type = %q, want one value", got)
	}
	if got := mixed.Header["x-one"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("RequestV1 x-one = %q, want [1] from the single-value map", got)
	}

	e2 := events.APIGatewayV2HTTPRequest{
		RouteKey:              "ANY /things/{id}",
		RawQueryString:        "a=1&a=2&b=%3Cx%3E&c=x+y&d",
		QueryStringParameters: map[string]string{"a": "1,2"},
		Cookies:               []string{"s=1", "t=2"},
		Headers:               map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "post"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{}},
		},
	}
	r2 := RequestV2(&e2)
	if r2.Method != "POST" || r2.Resource != "/things/{id}" || !r2.Authorized {
		t.Errorf("RequestV2 = %s %s authorized=%v, want POST /things/{id} authorized", r2.Method, r2.Resource, r2.Authorized)
	}
	for k, want := range map[string][]string{"a": {"1", "2"}, "b": {"<x>"}, "c": {"x y"}, "d": {""}} {
		if got := r2.Query[k]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("RequestV2 query %s = %q, want %q", k, got, want)
		}
	}
	if got := r2.Header["cookie"]; len(got) != 1 || got[0] != "s=1; t=2" {
		t.Errorf("RequestV2 cookie = %q, want [s=1; t=2]", got)
	}
	if got := r2.Header["content-type"]; len(got) != 1 {
		t.Errorf("RequestV2 content-type = %q, want one lower-cased entry", got)
	}
	if (&events.APIGatewayV2HTTPRequest{RouteKey: "$default"}).RouteKey != "$default" || RequestV2(&events.APIGatewayV2HTTPRequest{RouteKey: "$default"}).Resource != "" {
		t.Error("RequestV2($default).Resource should be empty")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, cfg, want string
	}{
		{"not JSON", `{`, "unexpected EOF"},
		{"unknown field", `{"routes": {"GET /x": {"shema": {}}}}`, `unknown field "shema"`},
		{"no routes", `{"routes": {}}`, "no routes"},
		{"bad route key", `{"routes": {"FETCH /x": {}}}`, `route "FETCH /x"`},
		{"JSON type without schema", `{"routes": {"POST /x": {"contentTypes": ["application/json"]}}}`, "needs a schema"},
		{"application/* without schema", `{"routes": {"POST /x": {"contentTypes": ["application/*"]}}}`, "needs a schema"},
		{"schema with a non-JSON type", `{"routes": {"POST /x": {"schema": {}, "contentTypes": ["text/plain"]}}}`, "accepts only JSON"},
		{"invalid schema", `{"routes": {"POST /x": {"schema": {"type": 5}}}}`, "schema"},
		{"remote $ref", `{"routes": {"POST /x": {"schema": {"$ref": "https://example.com/s.json"}}}}`, "schema"},
		{"file $ref", `{"routes": {"POST /x": {"schema": {"$ref": "file:///etc/passwd"}}}}`, "schema"},
		{"bad pattern", `{"routes": {"GET /x": {"query": {"a": {"pattern": "("}}}}}`, "pattern"},
		{"depth beyond cap", `{"routes": {"GET /x": {"maxDepth": 100000}}}`, "maxDepth"},
		{"negative body limit", `{"defaults": {"maxBodyBytes": -1}, "routes": {"GET /x": {}}}`, "maxBodyBytes"},
		{"bad inspect mode", `{"routes": {"GET /x": {"inspect": {"/a": "lenient"}}}}`, "inspect"},
		{"bad inspect pointer", `{"routes": {"GET /x": {"inspect": {"a": "text"}}}}`, "inspect"},
		{"bad media type", `{"routes": {"POST /x": {"contentTypes": ["json"]}}}`, "content type"},
		{"trailing data", `{"routes": {"GET /x": {}}} {}`, "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]byte(tt.cfg))
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want an ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestConfigReportsEveryProblem checks that New lists all errors at once.
func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := New([]byte(`{"routes": {"GET /a": {"maxDepth": 0}, "GET /b": {"query": {"q": {"pattern": "["}}}}}`))
	if err == nil || !strings.Contains(err.Error(), `route "GET /a"`) || !strings.Contains(err.Error(), `route "GET /b"`) {
		t.Errorf("New = %v, want both routes reported", err)
	}
}

// FuzzValidate drives whole requests through the validator: whatever the
// body, query and headers, it returns nil or a *Problem with a known rule,
// and never panics.
func FuzzValidate(f *testing.F) {
	v := testValidator(f)
	for _, s := range []string{validOrder, `{"userId":"admin","role":"superuser"}`, `[[[`, `"x"`, `{"metadata":{"a":{"b":1}}}`, "{\"q\":\"\xff\"}"} {
		f.Add(s, "application/json", "search=a", false)
	}
	f.Add("comment=hi&role=x", "application/x-www-form-urlencoded", "", false)
	f.Add("PHNjcmlwdD4=", "text/plain", "", true)
	f.Fuzz(func(t *testing.T, body, contentType, rawQuery string, b64 bool) {
		for _, resource := range []string{"/orders", "/feedback", "/notes", "/small"} {
			r := &Request{Method: "POST", Resource: resource, Query: parseQuery(rawQuery),
				Header: map[string][]string{"content-type": {contentType}}, Body: body, IsBase64Encoded: b64}
			err := v.Validate(context.Background(), r)
			if err == nil {
				continue
			}
			p, ok := err.(*Problem)
			if !ok {
				t.Fatalf("Validate = %v (%T), want *Problem", err, err)
			}
			if _, known := ruleInfos[p.Rule]; !known || p.Status == 0 {
				t.Fatalf("Validate = %+v, want a known rule and status", p)
			}
			if len(p.Pointer) > maxPointerLen || len(p.Parameter) > maxPointerLen {
				t.Fatalf("Validate = %+v: location longer than %d bytes", p, maxPointerLen)
			}
		}
	})
}
