package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// integrate invokes the route's function with the proxy event and writes its
// response, or the gateway's error when the function fails.
func (g *Gateway) integrate(w http.ResponseWriter, q *request, auth *authResult) {
	var event any
	limit := g.restLimit
	if q.kind() == samtemplate.REST {
		event = q.restProxyEvent(g, auth)
	} else {
		event = q.httpProxyEvent(g, auth)
		limit = g.httpLimit
	}
	payload, err := json.Marshal(event)
	if err != nil {
		g.log.Error("encode integration event", "requestId", q.id, "err", err)
		g.fail(w, q, outIntegration)
		return
	}
	ctx, cancel := context.WithTimeout(q.r.Context(), limit)
	defer cancel()
	started := g.now()
	res, err := g.fns[q.route.Function].Invoke(ctx, payload)
	q.log.IntegrationLatencyMS = ms(g.now().Sub(started))
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		q.log.IntegrationStatus = 504
		g.log.Warn("integration timed out", "requestId", q.id, "function", q.route.Function, "after", limit)
		g.fail(w, q, outTimeout)
		return
	case err != nil:
		q.log.IntegrationStatus = 502
		g.log.Error("invoke integration", "requestId", q.id, "function", q.route.Function, "err", err)
		g.fail(w, q, outIntegration)
		return
	case res.Err != nil:
		q.log.IntegrationStatus = res.Status
		q.log.FunctionError = res.Err.Type
		g.log.Warn("integration function error", "requestId", q.id, "function", q.route.Function, "errorType", res.Err.Type, "status", res.Status)
		g.fail(w, q, outIntegration)
		return
	}
	q.log.IntegrationStatus = res.Status
	var resp *proxyResponse
	if q.kind() == samtemplate.REST {
		resp, err = parseRESTResponse(res.Payload)
	} else {
		resp, err = parseHTTPResponse(res.Payload)
	}
	if err != nil {
		g.log.Warn("malformed Lambda proxy response", "requestId", q.id, "function", q.route.Function, "reason", err)
		q.log.FunctionError = "malformed proxy response"
		g.fail(w, q, outIntegration)
		return
	}
	h := w.Header()
	for k, vs := range resp.headers {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.cookies {
		h.Add("Set-Cookie", c)
	}
	if q.kind() == samtemplate.REST {
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		h.Set("X-Amzn-Trace-Id", q.header.Get("X-Amzn-Trace-Id"))
	}
	requestHeaders(h, q.kind(), q.id, q.extID)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	if q.r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// restProxyEvent is the REST API proxy integration's input. The
// authorizer's context values reach the function as strings, next to
// principalId and integrationLatency, as API Gateway passes them.
func (q *request) restProxyEvent(g *Gateway, auth *authResult) restProxyEvent {
	headers, multiHeaders := q.restHeaders()
	query, multiQuery := q.restQuery()
	e := restProxyEvent{
		Resource: q.resourcePath(), Path: q.path, HTTPMethod: q.r.Method,
		Headers: headers, MultiValueHeaders: multiHeaders,
		QueryStringParameters: query, MultiValueQueryStringParameters: multiQuery,
		PathParameters: q.pathParameters(), StageVariables: q.stageVariables(),
		RequestContext: restProxyContext{
			ResourceID: q.route.resourceID, ResourcePath: q.resourcePath(), HTTPMethod: q.r.Method,
			ExtendedRequestID: q.extID, RequestTime: q.received.UTC().Format(clfTime),
			Path: q.restContextPath(), AccountID: g.account, Protocol: q.r.Proto, Stage: q.api.Stage,
			DomainPrefix: q.domainPrefix(), RequestTimeEpoch: q.received.UnixMilli(), RequestID: q.id,
			Identity:   restProxyIdentity{SourceIP: q.sourceIP, UserAgent: q.r.UserAgent(), APIKey: q.apiKey, APIKeyID: q.apiKeyID},
			DomainName: q.domainName(), APIID: q.api.ID,
		},
	}
	if len(q.body) > 0 {
		s := string(q.body) // like a REST API without binary media types
		e.Body = &s
	}
	if auth != nil {
		m := make(map[string]any, len(auth.context)+2)
		for k, v := range auth.context {
			if v == nil {
				m[k] = nil // API Gateway passes a null context value as null
				continue
			}
			m[k] = scalarString(v)
		}
		m["principalId"] = auth.principalID
		m["integrationLatency"] = auth.latency.Milliseconds()
		e.RequestContext.Authorizer = m
	}
	return e
}

// scalarString renders a REST context value the way API Gateway passes it
// on: as a string.
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

// textual reports whether an HTTP API passes a body of this content type as
// text rather than base64.
func textual(contentType string, body []byte) bool {
	ct := strings.ToLower(contentType)
	if ct == "" {
		return utf8.Valid(body)
	}
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "javascript") || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// httpProxyEvent is the HTTP API proxy integration's input (payload 2.0);
// the authorizer's context reaches the function typed, under
// requestContext.authorizer.lambda.
func (q *request) httpProxyEvent(g *Gateway, auth *authResult) httpProxyEvent {
	headers, cookies := q.httpHeaders()
	e := httpProxyEvent{
		Version: "2.0", RouteKey: q.route.Key(), RawPath: q.stagePath, RawQueryString: q.r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: q.httpQuery(),
		PathParameters: q.pathParameters(), RequestContext: q.httpContext(g),
		StageVariables: q.stageVariables(),
	}
	if len(q.body) > 0 {
		if textual(q.header.Get("Content-Type"), q.body) {
			e.Body = string(q.body)
		} else {
			e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(q.body), true
		}
	}
	if auth != nil {
		e.RequestContext.Authorizer = &httpAuthorizer{Lambda: auth.context}
	}
	return e
}

// proxyResponse is a function's answer, ready to write.
type proxyResponse struct {
	status  int
	headers http.Header
	cookies []string
	body    []byte
}

var restResponseKeys = map[string]bool{"statusCode": true, "headers": true, "multiValueHeaders": true, "body": true, "isBase64Encoded": true}

// parseRESTResponse reads a REST proxy response strictly: API Gateway
// answers 502 "Malformed Lambda proxy response" for anything else.
func parseRESTResponse(payload []byte) (*proxyResponse, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(obj) {
		if !restResponseKeys[k] {
			return nil, fmt.Errorf("unexpected field %q", k)
		}
	}
	return readResponse(obj, true)
}

// parseHTTPResponse reads an HTTP API payload 2.0 response, inferring the
// format when the function returned JSON without a statusCode.
func parseHTTPResponse(payload []byte) (*proxyResponse, error) {
	if !json.Valid(payload) {
		return nil, errors.New("not valid JSON")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) == nil && obj != nil {
		if _, ok := obj["statusCode"]; ok {
			return readResponse(obj, false)
		}
	}
	body := payload
	var s string
	if json.Unmarshal(payload, &s) == nil {
		body = []byte(s)
	}
	return &proxyResponse{status: 200, headers: http.Header{"Content-Type": {"application/json"}}, body: body}, nil
}

func readResponse(obj map[string]json.RawMessage, rest bool) (*proxyResponse, error) {
	r := &proxyResponse{headers: http.Header{}}
	var status json.Number
	if err := json.Unmarshal(obj["statusCode"], &status); err != nil || status == "" {
		return nil, errors.New("statusCode is missing or not a number")
	}
	code, err := strconv.Atoi(status.String())
	if err != nil || code < 100 || code > 599 {
		return nil, fmt.Errorf("statusCode %s is not an HTTP status", status)
	}
	r.status = code
	var multi map[string][]json.RawMessage
	if raw, ok := obj["multiValueHeaders"]; ok {
		if err := json.Unmarshal(raw, &multi); err != nil {
			return nil, errors.New("multiValueHeaders is not a map of lists")
		}
		for k, vs := range multi {
			for _, v := range vs {
				s, err := jsonScalar(v)
				if err != nil {
					return nil, fmt.Errorf("multiValueHeaders %q: %w", k, err)
				}
				r.headers.Add(k, s)
			}
		}
	}
	var single map[string]json.RawMessage
	if raw, ok := obj["headers"]; ok {
		if err := json.Unmarshal(raw, &single); err != nil {
			return nil, errors.New("headers is not a map")
		}
		for k, v := range single {
			s, err := jsonScalar(v)
			if err != nil {
				return nil, fmt.Errorf("header %q: %w", k, err)
			}
			if len(r.headers.Values(k)) > 0 {
				continue // multiValueHeaders wins
			}
			r.headers.Set(k, s)
		}
	}
	if raw, ok := obj["cookies"]; ok && !rest {
		if err := json.Unmarshal(raw, &r.cookies); err != nil {
			return nil, errors.New("cookies is not a list of strings")
		}
	}
	var b64 *bool
	if raw, ok := obj["isBase64Encoded"]; ok {
		if err := json.Unmarshal(raw, &b64); err != nil {
			return nil, errors.New("isBase64Encoded is not a boolean")
		}
	}
	var body *string
	if raw, ok := obj["body"]; ok {
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, errors.New("body is not a string")
		}
	}
	if body != nil {
		r.body = []byte(*body)
		if b64 != nil && *b64 {
			if r.body, err = base64.StdEncoding.DecodeString(*body); err != nil {
				return nil, errors.New("body is not valid base64")
			}
		}
	}
	return r, nil
}

// jsonScalar renders a header value: a string, number or boolean.
func jsonScalar(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case float64, bool:
		return strings.TrimSpace(string(raw)), nil
	}
	return "", errors.New("not a string, number or boolean")
}
