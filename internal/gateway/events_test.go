package gateway

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/internal/rie"
)

func TestRESTTokenEvent(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	expect(t, h.do("GET", "/restapi/dev/orders/7?x=1", "Authorization", token), 200, "")
	ev := strictDecode[events.APIGatewayCustomAuthorizerRequest](t, h.auth.last())
	want := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token,
		MethodArn: arnPrefix + "restapi/dev/GET/orders/7"}
	if ev != want {
		t.Errorf("event = %+v, want %+v", ev, want)
	}
	var keys map[string]any
	_ = json.Unmarshal(h.auth.last(), &keys)
	if len(keys) != 3 {
		t.Errorf("TOKEN event has %d fields, want exactly type, authorizationToken, methodArn: %v", len(keys), keys)
	}
}

func TestRESTRequestEvent(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	expect(t, h.do("GET", "/restapi/dev/req/42?k=a&k=b&other=1", "X-Key", "secret", "Accept", "text/plain", "Accept", "application/json"), 200, "")
	ev := strictDecode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, h.auth.last())
	if ev.Type != "REQUEST" || ev.MethodArn != arnPrefix+"restapi/dev/GET/req/42" {
		t.Errorf("type %q methodArn %q", ev.Type, ev.MethodArn)
	}
	if ev.Resource != "/req/{id}" || ev.Path != "/req/42" || ev.HTTPMethod != "GET" {
		t.Errorf("resource %q path %q method %q", ev.Resource, ev.Path, ev.HTTPMethod)
	}
	if ev.Headers["X-Key"] != "secret" || ev.Headers["Accept"] != "application/json" ||
		!reflect.DeepEqual(ev.MultiValueHeaders["Accept"], []string{"text/plain", "application/json"}) {
		t.Errorf("headers %v multi %v", ev.Headers, ev.MultiValueHeaders)
	}
	if ev.QueryStringParameters["k"] != "b" || !reflect.DeepEqual(ev.MultiValueQueryStringParameters["k"], []string{"a", "b"}) {
		t.Errorf("query %v multi %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
	}
	if ev.PathParameters["id"] != "42" || ev.StageVariables["tier"] != "gold" {
		t.Errorf("path params %v stage vars %v", ev.PathParameters, ev.StageVariables)
	}
	rc := ev.RequestContext
	if rc.Path != "/dev/req/42" || rc.Stage != "dev" || rc.ResourcePath != "/req/{id}" || rc.APIID != "restapi" ||
		rc.AccountID != "123456789012" || rc.Identity.SourceIP != "192.0.2.10" || rc.RequestID == "" || rc.HTTPMethod != "GET" {
		t.Errorf("requestContext = %+v", rc)
	}
}

func TestHTTPV2AuthorizerEvent(t *testing.T) {
	h := newHarness(t, 300, func(map[string]any) (rie.Result, error) { return ok(map[string]any{"isAuthorized": true}) })
	expect(t, h.do("GET", "/httpapi/dev/orders/5?a=1&a=2", "Authorization", token, "X-Multi", "1", "X-Multi", "2",
		"Cookie", "c1=v1; c2=v2", "User-Agent", "curl/8"), 200, "")
	ev := strictDecode[events.APIGatewayV2CustomAuthorizerV2Request](t, h.auth.last())
	if ev.Version != "2.0" || ev.Type != "REQUEST" || ev.RouteArn != arnPrefix+"httpapi/dev/GET/orders/5" {
		t.Errorf("version %q type %q routeArn %q", ev.Version, ev.Type, ev.RouteArn)
	}
	if !reflect.DeepEqual(ev.IdentitySource, []string{token}) || ev.RouteKey != "GET /orders/{id}" {
		t.Errorf("identitySource %v routeKey %q", ev.IdentitySource, ev.RouteKey)
	}
	if ev.RawPath != "/dev/orders/5" || ev.RawQueryString != "a=1&a=2" || ev.QueryStringParameters["a"] != "1,2" {
		t.Errorf("rawPath %q rawQuery %q query %v", ev.RawPath, ev.RawQueryString, ev.QueryStringParameters)
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower case", k)
		}
	}
	if ev.Headers["authorization"] != token || ev.Headers["x-multi"] != "1,2" {
		t.Errorf("headers = %v", ev.Headers)
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"c1=v1", "c2=v2"}) {
		t.Errorf("cookies = %v", ev.Cookies)
	}
	rc := ev.RequestContext
	if rc.HTTP.SourceIP != "192.0.2.10" || rc.HTTP.Method != "GET" || rc.HTTP.Path != "/dev/orders/5" || rc.HTTP.UserAgent != "curl/8" ||
		rc.RouteKey != "GET /orders/{id}" || rc.Stage != "dev" || rc.APIID != "httpapi" || rc.TimeEpoch == 0 || rc.RequestID == "" {
		t.Errorf("requestContext = %+v", rc)
	}
	if ev.PathParameters["id"] != "5" {
		t.Errorf("pathParameters = %v", ev.PathParameters)
	}
}

func TestHTTPV1AuthorizerEvent(t *testing.T) {
	h := newHarness(t, 300, func(ev map[string]any) (rie.Result, error) {
		return ok(iamPolicy("bob", "Allow", []string{ev["methodArn"].(string)}, nil))
	})
	expect(t, h.do("GET", "/httpapi/dev/v1?q=z", "Authorization", token), 200, "")
	ev := strictDecode[events.APIGatewayV2CustomAuthorizerV1Request](t, h.auth.last())
	if ev.Version != "1.0" || ev.Type != "REQUEST" || ev.MethodArn != arnPrefix+"httpapi/dev/GET/v1" {
		t.Errorf("version %q type %q methodArn %q", ev.Version, ev.Type, ev.MethodArn)
	}
	if ev.IdentitySource != token+",z" || ev.AuthorizationToken != token+",z" {
		t.Errorf("identitySource %q authorizationToken %q, want both %q", ev.IdentitySource, ev.AuthorizationToken, token+",z")
	}
	if ev.Headers["authorization"] != token || ev.Resource != "/v1" || ev.RequestContext.Stage != "dev" {
		t.Errorf("event = %+v", ev)
	}
}

func TestRESTProxyEvent(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	rec := h.doBody("POST", "/restapi/dev/orders?a=1&a=2", `{"item":"x"}`, "Authorization", token, "Content-Type", "application/json", "User-Agent", "curl/8")
	expect(t, rec, 200, "")
	ev := strictDecode[events.APIGatewayProxyRequest](t, h.backend.last())
	if ev.Resource != "/orders" || ev.Path != "/orders" || ev.HTTPMethod != "POST" || ev.Body != `{"item":"x"}` || ev.IsBase64Encoded {
		t.Errorf("resource %q path %q method %q body %q b64 %v", ev.Resource, ev.Path, ev.HTTPMethod, ev.Body, ev.IsBase64Encoded)
	}
	if ev.QueryStringParameters["a"] != "2" || !reflect.DeepEqual(ev.MultiValueQueryStringParameters["a"], []string{"1", "2"}) {
		t.Errorf("query %v multi %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
	}
	if ev.Headers["Authorization"] != token || ev.Headers["X-Forwarded-For"] != "192.0.2.10" || ev.Headers["Host"] != "127.0.0.1:3000" {
		t.Errorf("headers = %v", ev.Headers)
	}
	rc := ev.RequestContext
	if rc.Path != "/dev/orders" || rc.Stage != "dev" || rc.ResourcePath != "/orders" || rc.Identity.SourceIP != "192.0.2.10" ||
		rc.Identity.UserAgent != "curl/8" || rc.RequestTimeEpoch == 0 || rc.RequestID == "" || rc.APIID != "restapi" {
		t.Errorf("requestContext = %+v", rc)
	}
	if rc.Authorizer["principalId"] != "alice" {
		t.Errorf("authorizer = %v", rc.Authorizer)
	}
	if got := rec.Header().Get("X-Amzn-Requestid"); got != rc.RequestID {
		t.Errorf("x-amzn-RequestId %q != requestContext.requestId %q", got, rc.RequestID)
	}
	// No body is null, as API Gateway sends it.
	expect(t, h.do("GET", "/restapi/dev/open"), 200, "")
	var m map[string]json.RawMessage
	_ = json.Unmarshal(h.backend.last(), &m)
	for _, k := range []string{"body", "queryStringParameters", "pathParameters"} {
		if string(m[k]) != "null" {
			t.Errorf("%s = %s, want null", k, m[k])
		}
	}
}

func TestHTTPProxyEvent(t *testing.T) {
	h := newHarness(t, 300, func(map[string]any) (rie.Result, error) { return ok(map[string]any{"isAuthorized": true}) })
	expect(t, h.doBody("GET", "/httpapi/dev/orders/3?x=1", "hello", "Authorization", token, "Content-Type", "text/plain"), 200, "")
	ev := strictDecode[events.APIGatewayV2HTTPRequest](t, h.backend.last())
	if ev.Version != "2.0" || ev.RouteKey != "GET /orders/{id}" || ev.RawPath != "/dev/orders/3" || ev.RawQueryString != "x=1" {
		t.Errorf("event = %+v", ev)
	}
	if ev.Body != "hello" || ev.IsBase64Encoded || ev.PathParameters["id"] != "3" || ev.Headers["content-type"] != "text/plain" {
		t.Errorf("body %q b64 %v params %v headers %v", ev.Body, ev.IsBase64Encoded, ev.PathParameters, ev.Headers)
	}
	if ev.RequestContext.HTTP.SourceIP != "192.0.2.10" || ev.RequestContext.Authorizer == nil {
		t.Errorf("requestContext = %+v", ev.RequestContext)
	}
	// A binary body arrives base64-encoded.
	expect(t, h.doBody("GET", "/httpapi/dev/open", "\x00\xff", "Content-Type", "application/octet-stream"), 200, "")
	ev = strictDecode[events.APIGatewayV2HTTPRequest](t, h.backend.last())
	if !ev.IsBase64Encoded || ev.Body != "AP8=" {
		t.Errorf("binary body %q b64 %v, want AP8= true", ev.Body, ev.IsBase64Encoded)
	}
}
