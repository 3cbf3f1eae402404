package gateway

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

func TestRouteMatching(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	tests := []struct {
		method, target string
		status         int
		resource       string
		params         map[string]any
	}{
		{"GET", "/restapi/dev/orders", 200, "/orders", nil},
		{"GET", "/restapi/dev/orders/", 200, "/orders", nil},
		{"GET", "/restapi/dev/orders/9", 200, "/orders/{id}", map[string]any{"id": "9"}},
		{"GET", "/restapi/dev/orders/a%2Fb", 200, "/orders/{id}", map[string]any{"id": "a/b"}},
		{"GET", "/restapi/dev/reports/summary", 200, "/reports/summary", nil},                                  // literal beats greedy
		{"POST", "/restapi/dev/reports/summary", 200, "/reports/{proxy+}", map[string]any{"proxy": "summary"}}, // ANY takes other methods
		{"GET", "/restapi/dev/reports/2024/q1", 200, "/reports/{proxy+}", map[string]any{"proxy": "2024/q1"}},  // greedy takes many segments
		{"GET", "/restapi/dev/reports", 403, "", nil},                                                          // greedy needs one segment
		{"DELETE", "/restapi/dev/orders", 403, "", nil},                                                        // no such method
		{"GET", "/restapi/dev/nothing", 403, "", nil},
		{"GET", "/restapi/prod/orders", 403, "", nil}, // no such stage
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			before := h.backend.calls()
			rec := h.do(tt.method, tt.target, "Authorization", token)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if h.backend.calls() != before {
					t.Error("backend invoked for an unrouted request")
				}
				return
			}
			ev := h.backendEvent()
			if ev["resource"] != tt.resource {
				t.Errorf("resource = %v, want %s", ev["resource"], tt.resource)
			}
			var params map[string]any
			if p, ok := ev["pathParameters"].(map[string]any); ok {
				params = p
			}
			if !reflect.DeepEqual(params, tt.params) {
				t.Errorf("pathParameters = %v, want %v", params, tt.params)
			}
		})
	}
	expect(t, h.do("GET", "/restapi/dev/nothing"), 403, `{"message":"Missing Authentication Token"}`)
	expect(t, h.do("GET", "/restapi/prod/orders"), 403, `{"message":"Forbidden"}`)
	expect(t, h.do("GET", "/httpapi/dev/nothing"), 404, `{"message":"Not Found"}`)
	expect(t, h.do("GET", "/nosuchapi/dev/orders"), 404, `{"message":"Not Found"}`)
}

func TestHTTPDefaultRoute(t *testing.T) {
	tm, err := samtemplate.Parse([]byte(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Events:
        Any: {Type: HttpApi}
        Get: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: GET}}
        Greedy: {Type: HttpApi, Properties: {Path: "/items/{proxy+}", Method: ANY}}
`))
	if err != nil {
		t.Fatal(err)
	}
	fn := &fakeFn{handle: echo}
	gw, err := New(tm, map[string]Invoker{"Fn": fn})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ method, path, route string }{
		{"GET", "/serverlesshttpapi/items/1", "GET /items/{id}"},
		{"POST", "/serverlesshttpapi/items/1", "ANY /items/{proxy+}"},
		{"GET", "/serverlesshttpapi/items/1/2", "ANY /items/{proxy+}"},
		{"GET", "/serverlesshttpapi/elsewhere", "$default"},
		{"PUT", "/serverlesshttpapi/", "$default"},
	} {
		rec := httpDo(gw, tt.method, tt.path)
		if rec.Code != 200 {
			t.Errorf("%s %s: status %d", tt.method, tt.path, rec.Code)
			continue
		}
		ev := strictDecode[map[string]any](t, fn.last())
		if ev["routeKey"] != tt.route {
			t.Errorf("%s %s: routeKey %v, want %s", tt.method, tt.path, ev["routeKey"], tt.route)
		}
		if tt.route == "$default" && ev["rawPath"] != tt.path[len("/serverlesshttpapi"):] {
			t.Errorf("$default rawPath = %v", ev["rawPath"])
		}
	}
	if got := gw.APIs()[0].Path; got != "/serverlesshttpapi" {
		t.Errorf("$default stage path = %q, want /serverlesshttpapi", got)
	}
}

func httpDo(gw http.Handler, method, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:3000"+target, nil)
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec
}

func TestIntegrationResponses(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		answer  func(map[string]any) (rie.Result, error)
		status  int
		body    string
		headers map[string][]string
	}{
		{"REST proxy response", "/restapi/dev/open", func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"statusCode": 201, "headers": map[string]any{"X-One": "1", "X-Both": "single"},
				"multiValueHeaders": map[string][]string{"X-Both": {"a", "b"}}, "body": "made"})
		}, 201, "made", map[string][]string{"X-One": {"1"}, "X-Both": {"a", "b"}, "Content-Type": {"application/json"}}},
		{"REST base64 body", "/restapi/dev/open", func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"statusCode": 200, "isBase64Encoded": true, "body": base64.StdEncoding.EncodeToString([]byte("bin"))})
		}, 200, "bin", nil},
		{"REST unknown field is 502", "/restapi/dev/open", func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"statusCode": 200, "body": "x", "extra": 1})
		}, 502, `{"message":"Internal server error"}`, map[string][]string{"X-Amzn-Errortype": {"InternalServerErrorException"}}},
		{"REST object body is 502", "/restapi/dev/open", func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"statusCode": 200, "body": map[string]any{"a": 1}})
		}, 502, `{"message":"Internal server error"}`, nil},
		{"REST missing statusCode is 502", "/restapi/dev/open", func(map[string]any) (rie.Result, error) { return ok(map[string]any{"body": "x"}) },
			502, `{"message":"Internal server error"}`, nil},
		{"REST function error is 502", "/restapi/dev/open", func(map[string]any) (rie.Result, error) { return fnError("boom") },
			502, `{"message":"Internal server error"}`, nil},
		{"REST unreachable function is 502", "/restapi/dev/open", func(map[string]any) (rie.Result, error) { return rie.Result{}, errTest },
			502, `{"message":"Internal server error"}`, nil},
		{"HTTP structured response with cookies", "/httpapi/dev/open", func(map[string]any) (rie.Result, error) {
			return ok(map[string]any{"statusCode": 202, "headers": map[string]any{"x-n": 5}, "cookies": []string{"a=1", "b=2"}, "body": "ok"})
		}, 202, "ok", map[string][]string{"X-N": {"5"}, "Set-Cookie": {"a=1", "b=2"}}},
		{"HTTP bare JSON object is inferred", "/httpapi/dev/open", func(map[string]any) (rie.Result, error) { return raw(`{"message":"hi"}`) },
			200, `{"message":"hi"}`, map[string][]string{"Content-Type": {"application/json"}}},
		{"HTTP bare JSON string is inferred", "/httpapi/dev/open", func(map[string]any) (rie.Result, error) { return raw(`"Hello from Lambda!"`) },
			200, "Hello from Lambda!", nil},
		{"HTTP function error is 500", "/httpapi/dev/open", func(map[string]any) (rie.Result, error) { return fnError("boom") },
			500, `{"message":"Internal Server Error"}`, nil},
		{"HTTP bad statusCode is 500", "/httpapi/dev/open", func(map[string]any) (rie.Result, error) { return raw(`{"statusCode":"abc"}`) },
			500, `{"message":"Internal Server Error"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 300, allowAll)
			h.backend.handle = tt.answer
			rec := h.do("GET", tt.target)
			expect(t, rec, tt.status, tt.body)
			for k, want := range tt.headers {
				if got := rec.Header().Values(k); !reflect.DeepEqual(got, want) {
					t.Errorf("header %s = %v, want %v", k, got, want)
				}
			}
		})
	}
}
