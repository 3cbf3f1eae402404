package deploycheck

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// publicRoutes are the only routes without an authorizer: the JWKS, which
// verifiers outside AWS must fetch without credentials.
var publicRoutes = map[string]bool{
	"RestApi GET /.well-known/jwks.json": true,
	"HttpApi GET /.well-known/jwks.json": true,
}

// apiRoute is one route of a REST or HTTP API, as a function event declares it.
type apiRoute struct {
	api, kind      string // logical id; "Api" or "HttpApi"
	key            string // "GET /orders" or "$default"
	function       string
	authorizer     string // the effective authorizer; "" for none
	apiKeyRequired bool
}

func (r apiRoute) String() string { return r.api + " " + r.key }

// collectRoutes reads every function's Api and HttpApi events. Problems are
// what makes a route impossible to check.
func collectRoutes(tp tmpl) ([]apiRoute, []string) {
	var out []apiRoute
	var problems []string
	for _, fid := range tp.ofType("AWS::Serverless::Function") {
		events := obj(tp.props(fid)["Events"])
		names := make([]string, 0, len(events))
		for n := range events {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			ev := obj(events[name])
			typ, _ := ev["Type"].(string)
			if typ != "Api" && typ != "HttpApi" {
				continue
			}
			p := obj(ev["Properties"])
			idProp, implicit := "RestApiId", "ServerlessRestApi"
			if typ == "HttpApi" {
				idProp, implicit = "ApiId", "ServerlessHttpApi"
			}
			api := implicit
			if p[idProp] != nil {
				ref, ok := refOf(p[idProp])
				if !ok {
					problems = append(problems, fmt.Sprintf("%s event %s: %s is not a Ref to an API of this template", fid, name, idProp))
					continue
				}
				api = ref
			}
			r := apiRoute{api: api, kind: typ, function: fid, key: "$default"}
			if p["Path"] != nil || p["Method"] != nil {
				method, _ := p["Method"].(string)
				path, _ := p["Path"].(string)
				r.key = strings.ToUpper(method) + " " + path
			}
			r.authorizer, _ = obj(obj(tp.props(api)["Auth"]))["DefaultAuthorizer"].(string)
			auth := obj(p["Auth"])
			if a, ok := auth["Authorizer"].(string); ok {
				r.authorizer = a
			}
			if r.authorizer == "NONE" {
				r.authorizer = ""
			}
			r.apiKeyRequired, _ = auth["ApiKeyRequired"].(bool)
			out = append(out, r)
		}
	}
	return out, problems
}

// checkRouteAuth: every route has an authorizer of its API unless it is
// public; routes outside function events (OpenAPI bodies, raw methods) are
// checked too or reported as uncheckable.
func checkRouteAuth(tp tmpl, public map[string]bool) []string {
	routes, problems := collectRoutes(tp)
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	seen := map[string]bool{}
	for _, r := range routes {
		seen[r.String()] = true
		switch {
		case r.authorizer == "" && !public[r.String()]:
			bad("%s (%s): no authorizer, and it is not a listed public route", r, r.function)
		case r.authorizer != "" && public[r.String()]:
			bad("%s is listed as public but has authorizer %s: remove it from the list", r, r.authorizer)
		case r.authorizer == "" || r.authorizer == "AWS_IAM":
		case obj(obj(obj(tp.props(r.api)["Auth"]))["Authorizers"])[r.authorizer] == nil:
			bad("%s: authorizer %s is not in %s's Auth.Authorizers", r, r.authorizer, r.api)
		}
	}
	for k := range public {
		if !seen[k] {
			bad("public route %s is not a route of template.yaml: remove it from the list", k)
		}
	}
	for _, typ := range []string{"AWS::Serverless::Api", "AWS::Serverless::HttpApi"} {
		for _, id := range tp.ofType(typ) {
			for _, p := range []string{"DefinitionBody", "DefinitionUri"} {
				if tp.props(id)[p] != nil {
					bad("%s: routes in an OpenAPI %s cannot be checked; declare them as function events", id, p)
				}
			}
		}
	}
	for _, typ := range []string{"AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Route"} {
		for _, id := range tp.ofType(typ) {
			if at := tp.props(id)["AuthorizationType"]; at == nil || at == "NONE" {
				bad("%s (%s): AuthorizationType %v", id, typ, at)
			}
		}
	}
	return problems
}

func TestEveryRouteHasAnAuthorizer(t *testing.T) {
	tp := readTemplate(t)
	expectNone(t, checkRouteAuth(tp, publicRoutes))
	routes, _ := collectRoutes(tp)
	if len(routes) < 15 {
		t.Errorf("%d routes found, want at least 15 (REST and HTTP): %v", len(routes), routes)
	}

	t.Run("route without an authorizer", func(t *testing.T) {
		c := tp.clone(t)
		ev := obj(obj(obj(c.props("ValidatorFunction")["Events"])["HttpCreateOrder"])["Properties"])
		ev["Auth"] = map[string]any{"Authorizer": "NONE"}
		expectProblem(t, checkRouteAuth(c, publicRoutes), "HttpApi POST /orders (ValidatorFunction): no authorizer")
	})
	t.Run("API without a default authorizer", func(t *testing.T) {
		c := tp.clone(t)
		delete(obj(c.props("RestApi")["Auth"]), "DefaultAuthorizer")
		expectProblem(t, checkRouteAuth(c, publicRoutes), "RestApi GET /orders (EchoBackendFunction): no authorizer")
	})
	t.Run("unknown authorizer", func(t *testing.T) {
		c := tp.clone(t)
		delete(obj(obj(c.props("HttpApi")["Auth"])["Authorizers"]), "SignedRequestAuthorizer")
		expectProblem(t, checkRouteAuth(c, publicRoutes), "HttpApi POST /webhooks/orders: authorizer SignedRequestAuthorizer is not in HttpApi's Auth.Authorizers")
	})
	t.Run("stale public route", func(t *testing.T) {
		expectProblem(t, checkRouteAuth(tp, map[string]bool{"RestApi GET /health": true}), "public route RestApi GET /health is not a route")
	})
	t.Run("raw method without authorization", func(t *testing.T) {
		c := tp.clone(t)
		c.resources()["Raw"] = map[string]any{"Type": "AWS::ApiGateway::Method", "Properties": map[string]any{"AuthorizationType": "NONE"}}
		expectProblem(t, checkRouteAuth(c, publicRoutes), "Raw (AWS::ApiGateway::Method): AuthorizationType NONE")
	})
}

// checkMetering: the usage plan meters something. REST routes protected by
// a signed-request authorizer (partners) require an API key, the API takes
// the key from the authorizer's usageIdentifierKey, and a usage plan with a
// key covers the API.
func checkMetering(tp tmpl) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	routes, _ := collectRoutes(tp)
	metered := map[string]bool{}
	for _, r := range routes {
		if r.kind != "Api" || r.authorizer == "" {
			continue
		}
		az := obj(obj(obj(obj(tp.props(r.api)["Auth"]))["Authorizers"])[r.authorizer])
		headers, _ := stringValues(obj(az["Identity"])["Headers"])
		if !slices.Contains(headers, "Signature") {
			continue
		}
		if !r.apiKeyRequired {
			bad("partner route %s (%s) does not require an API key: the usage plan cannot meter it", r, r.authorizer)
			continue
		}
		metered[r.api] = true
	}
	if len(metered) == 0 {
		bad("no REST route requires an API key: the partner usage plan meters nothing")
	}
	for api := range metered {
		if src := tp.props(api)["ApiKeySourceType"]; src != "AUTHORIZER" {
			bad("%s: ApiKeySourceType is %v, want AUTHORIZER (the request authorizer returns the key as usageIdentifierKey)", api, src)
		}
		var plans []string
		for _, id := range tp.ofType("AWS::ApiGateway::UsagePlan") {
			for _, st := range list(tp.props(id)["ApiStages"]) {
				if ref, _ := refOf(obj(st)["ApiId"]); ref == api {
					plans = append(plans, id)
				}
			}
		}
		if len(plans) == 0 {
			bad("%s: no usage plan covers it", api)
		}
		for _, plan := range plans {
			keyed := false
			for _, id := range tp.ofType("AWS::ApiGateway::UsagePlanKey") {
				if ref, _ := refOf(tp.props(id)["UsagePlanId"]); ref == plan {
					keyed = true
				}
			}
			if !keyed {
				bad("usage plan %s has no AWS::ApiGateway::UsagePlanKey", plan)
			}
		}
	}
	return problems
}

func TestPartnerRoutesAreMetered(t *testing.T) {
	tp := readTemplate(t)
	expectNone(t, checkMetering(tp))

	t.Run("route without ApiKeyRequired", func(t *testing.T) {
		c := tp.clone(t)
		delete(obj(obj(obj(obj(c.props("ValidatorFunction")["Events"])["RestWebhook"])["Properties"])["Auth"]), "ApiKeyRequired")
		expectProblem(t, checkMetering(c), "partner route RestApi POST /webhooks/orders (SignedRequestAuthorizer) does not require an API key")
		expectProblem(t, checkMetering(c), "the partner usage plan meters nothing")
	})
	t.Run("key from the header", func(t *testing.T) {
		c := tp.clone(t)
		c.props("RestApi")["ApiKeySourceType"] = "HEADER"
		expectProblem(t, checkMetering(c), "RestApi: ApiKeySourceType is HEADER")
	})
	t.Run("plan without a key", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "PartnerUsagePlanKey")
		expectProblem(t, checkMetering(c), "usage plan PartnerUsagePlan has no AWS::ApiGateway::UsagePlanKey")
	})
}

// routeRule is one entry of an authorizer function's ROUTES.
type routeRule struct {
	Route    string          `json:"route"`
	Accept   []string        `json:"accept"`
	SourceIP json.RawMessage `json:"sourceIp"`
}

// checkAuthorizerRoutes, on the template as the local gateway resolves it:
// every protected route is in its authorizer function's ROUTES (else the
// authorizer answers 403 everywhere on it) and every ROUTES entry is a
// route; the authorizer's cache key covers what the decision depends on:
// signed requests and client certificates are never cached, source-IP rules
// need the source IP in the identity sources, and HTTP simple responses
// need the route key.
func checkAuthorizerRoutes(tm *samtemplate.Template) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	rules := map[string]map[string]routeRule{} // function → route → rule
	used := map[string]map[string]bool{}
	for _, id := range tm.FunctionIDs() {
		raw, ok := tm.Functions[id].Env["ROUTES"]
		if !ok {
			continue
		}
		var rs []routeRule
		if err := json.Unmarshal([]byte(raw), &rs); err != nil {
			bad("%s: ROUTES is not a JSON list of routes: %v", id, err)
			continue
		}
		rules[id], used[id] = map[string]routeRule{}, map[string]bool{}
		for _, r := range rs {
			rules[id][r.Route] = r
		}
	}
	for _, api := range tm.APIs {
		for _, r := range api.Routes {
			if r.Authorizer == "" {
				continue
			}
			az := api.Authorizers[r.Authorizer]
			fn := az.Function
			rule, ok := rules[fn][r.Key()]
			if !ok {
				bad("%s %s: %s's ROUTES has no %q (every call would be refused)", api.LogicalID, r.Key(), fn, r.Key())
				continue
			}
			used[fn][r.Key()] = true
			sources := map[string]bool{}
			for _, s := range az.IdentitySources {
				sources[s.Expression(api.Kind)] = true
			}
			cached := az.TTL > 0
			switch {
			case cached && slices.Contains(rule.Accept, "signature"):
				bad("%s %s: %s caches for %v, but a signature proves one request (set ReauthorizeEvery 0)", api.LogicalID, r.Key(), r.Authorizer, az.TTL)
			case cached && slices.Contains(rule.Accept, "certificate"):
				bad("%s %s: %s caches for %v, but the client certificate is not in its cache key", api.LogicalID, r.Key(), r.Authorizer, az.TTL)
			}
			if cached && len(rule.SourceIP) > 0 {
				ip := "context.identity.sourceIp"
				if api.Kind == samtemplate.HTTP {
					ip = "$context.identity.sourceIp"
				}
				if !sources[ip] {
					bad("%s %s: the route has source-IP rules, but %s caches without %s in its identity sources", api.LogicalID, r.Key(), r.Authorizer, ip)
				}
			}
			if cached && api.Kind == samtemplate.HTTP && az.SimpleResponses && !sources["$context.routeKey"] {
				bad("%s %s: %s answers per route (simple responses) but caches without $context.routeKey", api.LogicalID, r.Key(), r.Authorizer)
			}
		}
	}
	for fn, rs := range rules {
		for key := range rs {
			if !used[fn][key] {
				bad("%s's ROUTES has %q, which no API routes to it", fn, key)
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// mtlsParams turn the mutual-TLS route on.
var mtlsParams = map[string]string{
	"DomainName": "api.example.com", "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
	"MtlsTruststoreUri": "s3://bucket/truststore.pem",
}

func loadResolved(t *testing.T, params map[string]string) *samtemplate.Template {
	t.Helper()
	tm, err := samtemplate.Load(filepath.Join(root, "template.yaml"), samtemplate.WithParameters(params))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestAuthorizerRoutesAndCacheKeys(t *testing.T) {
	for name, params := range map[string]map[string]string{"defaults": nil, "mutual TLS": mtlsParams} {
		t.Run(name, func(t *testing.T) {
			expectNone(t, checkAuthorizerRoutes(loadResolved(t, params)))
		})
	}
	tm := loadResolved(t, mtlsParams)
	var partner bool
	for _, r := range tm.API("RestApi").Routes {
		partner = partner || r.Key() == "GET /partner/orders" && r.Authorizer == "CertificateAuthorizer"
	}
	if !partner {
		t.Error("with a truststore, RestApi has no GET /partner/orders behind CertificateAuthorizer")
	}

	t.Run("signed requests cached", func(t *testing.T) {
		tm := loadResolved(t, nil)
		tm.API("HttpApi").Authorizers["SignedRequestAuthorizer"].TTL = 300e9
		expectProblem(t, checkAuthorizerRoutes(tm), "HttpApi POST /webhooks/orders: SignedRequestAuthorizer caches for 5m0s, but a signature proves one request")
	})
	t.Run("certificate cached", func(t *testing.T) {
		tm := loadResolved(t, mtlsParams)
		tm.API("RestApi").Authorizers["CertificateAuthorizer"].TTL = 60e9
		expectProblem(t, checkAuthorizerRoutes(tm), "RestApi GET /partner/orders: CertificateAuthorizer caches for 1m0s, but the client certificate")
	})
	t.Run("source IP not in the cache key", func(t *testing.T) {
		tm := loadResolved(t, nil)
		az := tm.API("RestApi").Authorizers["CredentialsAuthorizer"]
		az.IdentitySources = az.IdentitySources[:1]
		expectProblem(t, checkAuthorizerRoutes(tm), "RestApi GET /admin/audit: the route has source-IP rules, but CredentialsAuthorizer caches without context.identity.sourceIp")
	})
	t.Run("route key not in the cache key", func(t *testing.T) {
		tm := loadResolved(t, nil)
		az := tm.API("HttpApi").Authorizers["TokenAuthorizer"]
		az.IdentitySources = az.IdentitySources[:1]
		expectProblem(t, checkAuthorizerRoutes(tm), "HttpApi GET /orders: TokenAuthorizer answers per route (simple responses) but caches without $context.routeKey")
	})
	t.Run("route missing from ROUTES", func(t *testing.T) {
		tm := loadResolved(t, nil)
		tm.Functions["TokenAuthorizerFunction"].Env["ROUTES"] = `[{"route":"GET /orders","scopes":["orders:read"]}]`
		expectProblem(t, checkAuthorizerRoutes(tm), `RestApi POST /admin/users: TokenAuthorizerFunction's ROUTES has no "POST /admin/users"`)
	})
	t.Run("stale ROUTES entry", func(t *testing.T) {
		tm := loadResolved(t, nil)
		f := tm.Functions["RequestAuthorizerFunction"]
		f.Env["ROUTES"] = strings.Replace(f.Env["ROUTES"], `[`, `[{"route":"DELETE /gone","accept":["credentials"]},`, 1)
		expectProblem(t, checkAuthorizerRoutes(tm), `RequestAuthorizerFunction's ROUTES has "DELETE /gone", which no API routes to it`)
	})
}
