package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/shared/policy"
)

// authResult is a valid authorizer answer, as the cache keeps it. A REST or
// HTTP IAM answer keeps its policy, which is evaluated again for every
// method ARN it is applied to.
type authResult struct {
	principalID string
	context     map[string]any // as returned; numbers are json.Number
	doc         *policy.Document
	simple      bool   // an HTTP API simple response
	authorized  bool   // its isAuthorized
	usageKey    string // a REST answer's usageIdentifierKey, "" if none
	latency     time.Duration
}

// authorize runs the route's authorizer for q in API Gateway's order:
// identity sources, validation expression, cache, invocation, decision. It
// returns the answer to pass to the integration, or the outcome to answer
// with.
func (g *Gateway) authorize(ctx context.Context, q *request, az *authorizer) (*authResult, outcome, bool) {
	q.log.Authorizer = az.Name
	values, ok := q.identityValues(g, az)
	if !ok {
		q.log.AuthorizerError = "identity source missing or empty"
		q.log.AuthorizerStatus = 401
		return nil, outUnauthorized, false
	}
	if az.validation != nil && !az.validation.MatchString(values[0]) {
		q.log.AuthorizerError = "token does not match the validation expression"
		q.log.AuthorizerStatus = 401
		return nil, outUnauthorized, false
	}
	var res *authResult
	var key string
	if az.TTL > 0 {
		key = cacheKey(az.Name, values)
		if cached, hit := g.cache.get(scope(q.api), key); hit {
			q.log.AuthorizerCache = "hit"
			res = &authResult{principalID: cached.principalID, context: cached.context, doc: cached.doc,
				simple: cached.simple, authorized: cached.authorized, usageKey: cached.usageKey} // latency 0: nothing was invoked
		} else {
			q.log.AuthorizerCache = "miss"
		}
	} else {
		q.log.AuthorizerCache = "disabled"
	}
	if res == nil {
		started := g.now()
		var out outcome
		res, out, ok = g.invokeAuthorizer(ctx, q, az, values)
		latency := g.now().Sub(started)
		q.log.AuthorizerLatencyMS = ms(latency)
		if !ok {
			q.log.AuthorizerStatus = errorFor(q.kind(), out).status
			return nil, out, false
		}
		res.latency = latency
		if az.TTL > 0 {
			g.cache.put(scope(q.api), key, res, az.TTL)
		}
	}
	out, ok := g.decide(q, res)
	if ok {
		q.log.AuthorizerStatus = 200
	} else {
		q.log.AuthorizerStatus = 403
	}
	return res, out, ok
}

// decide applies an authorizer answer to this request's method ARN.
func (g *Gateway) decide(q *request, res *authResult) (outcome, bool) {
	if res.simple {
		if res.authorized {
			return 0, true
		}
		q.log.AuthorizerError = "isAuthorized is false"
		return outImplicitDeny, false
	}
	switch policy.Evaluate(*res.doc, q.methodArn(g.region, g.account)) {
	case policy.Allow:
		return 0, true
	case policy.Deny:
		q.log.AuthorizerError = "policy denies the method explicitly"
		return outExplicitDeny, false
	default:
		q.log.AuthorizerError = "policy does not allow the method"
		return outImplicitDeny, false
	}
}

// invokeAuthorizer sends the authorizer its event and reads the answer.
func (g *Gateway) invokeAuthorizer(ctx context.Context, q *request, az *authorizer, values []string) (*authResult, outcome, bool) {
	event := g.authorizerEvent(q, az, values)
	payload, err := json.Marshal(event)
	if err != nil {
		g.log.Error("encode authorizer event", "requestId", q.id, "err", err)
		return nil, outAuthorizerFail, false
	}
	limit := g.restLimit
	if q.kind() == samtemplate.HTTP {
		limit = g.authLimit
	}
	ictx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res, err := g.fns[az.Function].Invoke(ictx, payload)
	if errors.Is(ictx.Err(), context.DeadlineExceeded) {
		// API Gateway answers an authorizer that does not answer in time as
		// any other authorizer failure.
		q.log.AuthorizerError = "authorizer timed out"
		g.log.Warn("authorizer timed out", "requestId", q.id, "authorizer", az.Name, "function", az.Function, "after", limit)
		return nil, outAuthorizerFail, false
	}
	if err != nil {
		q.log.AuthorizerError = "authorizer could not be invoked"
		g.log.Error("invoke authorizer", "requestId", q.id, "authorizer", az.Name, "function", az.Function, "err", err)
		return nil, outAuthorizerFail, false
	}
	if res.Err != nil {
		if res.Err.Message == "Unauthorized" {
			q.log.AuthorizerError = "authorizer answered Unauthorized"
			return nil, outUnauthorized, false
		}
		q.log.AuthorizerError = "authorizer failed: " + res.Err.Type
		q.log.FunctionError = res.Err.Type
		g.log.Warn("authorizer function error", "requestId", q.id, "authorizer", az.Name, "errorType", res.Err.Type, "status", res.Status)
		return nil, outAuthorizerFail, false
	}
	var ar *authResult
	if az.SimpleResponses {
		ar, err = parseSimpleResponse(res.Payload)
	} else {
		ar, err = parseIAMResponse(res.Payload, q.kind() == samtemplate.REST)
	}
	if err != nil {
		q.log.AuthorizerError = "malformed authorizer answer"
		// The reason names fields, never their values, which may hold claims.
		g.log.Warn("malformed authorizer answer", "requestId", q.id, "authorizer", az.Name, "reason", err)
		return nil, outAuthorizerFail, false
	}
	return ar, 0, true
}

// errMalformed wraps every reason an authorizer answer is refused.
var errMalformed = errors.New("malformed authorizer answer")

func decodeObject(payload []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", errMalformed)
	}
	return obj, nil
}

func decodeContext(raw json.RawMessage, scalarsOnly bool) (map[string]any, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ctx map[string]any
	if err := dec.Decode(&ctx); err != nil {
		return nil, fmt.Errorf("%w: context is not an object", errMalformed)
	}
	if scalarsOnly {
		for _, k := range sortedKeys(ctx) {
			switch ctx[k].(type) {
			case string, json.Number, bool, nil: // null passes through as null
			default:
				return nil, fmt.Errorf("%w: context value %q is not a string, number or boolean", errMalformed, k)
			}
		}
	}
	return ctx, nil
}

// parseIAMResponse reads {principalId, policyDocument, context}. REST APIs
// take only string, number and boolean context values.
func parseIAMResponse(payload []byte, rest bool) (*authResult, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, err
	}
	var principal *string
	if raw, ok := obj["principalId"]; ok {
		if err := json.Unmarshal(raw, &principal); err != nil {
			return nil, fmt.Errorf("%w: principalId is not a string", errMalformed)
		}
	}
	if principal == nil {
		return nil, fmt.Errorf("%w: principalId is missing", errMalformed)
	}
	rawDoc, ok := obj["policyDocument"]
	if !ok || string(rawDoc) == "null" {
		return nil, fmt.Errorf("%w: policyDocument is missing", errMalformed)
	}
	doc, err := policy.ParseDocument(rawDoc)
	if err != nil {
		return nil, fmt.Errorf("%w: policyDocument: %v", errMalformed, err)
	}
	ctx, err := decodeContext(obj["context"], rest)
	if err != nil {
		return nil, err
	}
	res := &authResult{principalID: *principal, context: ctx, doc: &doc}
	if raw, ok := obj["usageIdentifierKey"]; ok && rest {
		var key *string
		if err := json.Unmarshal(raw, &key); err != nil {
			return nil, fmt.Errorf("%w: usageIdentifierKey is not a string", errMalformed)
		}
		if key != nil {
			res.usageKey = *key
		}
	}
	return res, nil
}

// checkAPIKey applies a REST route's ApiKeyRequired with ApiKeySourceType
// AUTHORIZER: the authorizer's usageIdentifierKey must be one of the
// gateway's API keys ([WithAPIKeys]). It returns the key's id.
func (g *Gateway) checkAPIKey(q *request, res *authResult) (string, bool) {
	if res == nil || res.usageKey == "" {
		q.log.AuthorizerError = "API key required: the authorizer returned no usageIdentifierKey"
		return "", false
	}
	id, ok := g.apiKeys[res.usageKey]
	if !ok {
		q.log.AuthorizerError = "API key required: the usageIdentifierKey is not a key of a usage plan"
		return "", false
	}
	return id, true
}

// parseSimpleResponse reads an HTTP API simple response {isAuthorized, context}.
func parseSimpleResponse(payload []byte) (*authResult, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, err
	}
	var authorized *bool
	if raw, ok := obj["isAuthorized"]; ok {
		if err := json.Unmarshal(raw, &authorized); err != nil {
			return nil, fmt.Errorf("%w: isAuthorized is not a boolean", errMalformed)
		}
	}
	if authorized == nil {
		return nil, fmt.Errorf("%w: isAuthorized is missing", errMalformed)
	}
	ctx, err := decodeContext(obj["context"], false)
	if err != nil {
		return nil, err
	}
	return &authResult{simple: true, authorized: *authorized, context: ctx}, nil
}

// cacheKey derives the cache key from the authorizer and its identity
// values. The values themselves (tokens) are not kept.
func cacheKey(authorizer string, values []string) string {
	h := sha256.New()
	var n [8]byte
	for _, v := range append([]string{authorizer}, values...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// identityValues reads the authorizer's identity sources from q. It
// reports false when one is missing or empty: API Gateway then answers 401
// without invoking the authorizer.
func (q *request) identityValues(g *Gateway, az *authorizer) ([]string, bool) {
	values := make([]string, 0, len(az.IdentitySources))
	for _, src := range az.IdentitySources {
		var v string
		switch src.Kind {
		case samtemplate.SourceHeader:
			vs := q.header.Values(src.Name)
			switch {
			case len(vs) == 0:
			case az.Type == samtemplate.Token:
				v = vs[0]
			case q.kind() == samtemplate.REST:
				v = vs[len(vs)-1]
			default:
				v = strings.Join(vs, ",")
			}
		case samtemplate.SourceQueryString:
			vs := q.query[src.Name]
			switch {
			case len(vs) == 0:
			case q.kind() == samtemplate.REST:
				v = vs[len(vs)-1]
			default:
				v = strings.Join(vs, ",")
			}
		case samtemplate.SourceStageVariable:
			v = q.api.StageVariables[src.Name]
		case samtemplate.SourceContext:
			v = q.contextVar(g, src.Name)
		}
		if v == "" {
			return nil, false
		}
		values = append(values, v)
	}
	return values, true
}

var contextVars = map[string]bool{
	"httpMethod": true, "path": true, "stage": true, "apiId": true, "accountId": true,
	"requestId": true, "extendedRequestId": true, "protocol": true, "domainName": true,
	"domainPrefix": true, "identity.sourceIp": true, "identity.userAgent": true,
}

func knownContextVar(k samtemplate.Kind, name string) bool {
	if k == samtemplate.REST && (name == "resourcePath" || name == "resourceId") {
		return true
	}
	if k == samtemplate.HTTP && name == "routeKey" {
		return true
	}
	return contextVars[name]
}

func (q *request) contextVar(g *Gateway, name string) string {
	switch name {
	case "httpMethod":
		return q.r.Method
	case "path":
		if q.kind() == samtemplate.REST {
			return q.restContextPath()
		}
		return q.decodedStagePath()
	case "stage":
		return q.api.Stage
	case "apiId":
		return q.api.ID
	case "accountId":
		return g.account
	case "requestId":
		if q.kind() == samtemplate.REST {
			return q.id
		}
		return q.extID
	case "extendedRequestId":
		return q.extID
	case "protocol":
		return q.r.Proto
	case "domainName":
		return q.domainName()
	case "domainPrefix":
		return q.domainPrefix()
	case "identity.sourceIp":
		return q.sourceIP
	case "identity.userAgent":
		return q.r.UserAgent()
	case "resourcePath":
		return q.resourcePath()
	case "resourceId":
		return q.route.resourceID
	case "routeKey":
		return q.route.Key()
	}
	return ""
}

// authorizerEvent builds the authorizer's input the way API Gateway shapes
// it for the authorizer's type and payload format.
func (g *Gateway) authorizerEvent(q *request, az *authorizer, values []string) any {
	arn := q.methodArn(g.region, g.account)
	switch {
	case q.kind() == samtemplate.REST && az.Type == samtemplate.Token:
		return restTokenEvent{Type: "TOKEN", AuthorizationToken: values[0], MethodArn: arn}
	case q.kind() == samtemplate.REST:
		headers, multiHeaders := q.restHeaders()
		query, multiQuery := q.restQuery()
		params := q.pathParameters()
		if params == nil {
			params = map[string]string{}
		}
		return restRequestEvent{
			Type: "REQUEST", MethodArn: arn,
			Resource: q.resourcePath(), Path: q.path, HTTPMethod: q.r.Method,
			Headers: headers, MultiValueHeaders: multiHeaders,
			QueryStringParameters: query, MultiValueQueryStringParameters: multiQuery,
			PathParameters: params, StageVariables: q.stageVariables(),
			RequestContext: q.restAuthContext(g),
		}
	case az.PayloadFormat == "1.0":
		headers := map[string]string{}
		for k, vs := range q.header {
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		query, _ := q.restQuery()
		joined := strings.Join(values, ",")
		return httpV1AuthEvent{
			Version: "1.0", Type: "REQUEST", MethodArn: arn,
			IdentitySource: joined, AuthorizationToken: joined,
			Resource: q.resourcePath(), Path: q.path, HTTPMethod: q.r.Method,
			Headers: headers, QueryStringParameters: query,
			PathParameters: q.pathParameters(), StageVariables: q.stageVariables(),
			RequestContext: q.restAuthContext(g),
		}
	default:
		headers, cookies := q.httpHeaders()
		return httpV2AuthEvent{
			Version: "2.0", Type: "REQUEST", RouteArn: arn,
			IdentitySource: values, RouteKey: q.route.Key(),
			RawPath: q.stagePath, RawQueryString: q.r.URL.RawQuery,
			Cookies: cookies, Headers: headers, QueryStringParameters: q.httpQuery(),
			RequestContext: q.httpContext(g),
			PathParameters: q.pathParameters(), StageVariables: q.stageVariables(),
		}
	}
}

func (q *request) restAuthContext(g *Gateway) restAuthContext {
	return restAuthContext{
		Path: q.restContextPath(), AccountID: g.account, ResourceID: q.route.resourceID,
		Stage: q.api.Stage, RequestID: q.id, Identity: restAuthIdentity{SourceIP: q.sourceIP},
		ResourcePath: q.resourcePath(), HTTPMethod: q.r.Method, APIID: q.api.ID,
	}
}
