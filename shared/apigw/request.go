package apigw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Kind says which authorizer event a Request came from.
type Kind int

// The authorizer event kinds.
const (
	RESTToken   Kind = iota + 1 // REST API TOKEN authorizer (payload 1.0)
	RESTRequest                 // REST API REQUEST authorizer (payload 1.0)
	HTTPv1                      // HTTP API authorizer, payload format 1.0
	HTTPv2                      // HTTP API authorizer, payload format 2.0
)

func (k Kind) String() string {
	switch k {
	case RESTToken:
		return "rest-token"
	case RESTRequest:
		return "rest-request"
	case HTTPv1:
		return "http-1.0"
	case HTTPv2:
		return "http-2.0"
	}
	return "unknown"
}

// MaxEventSize bounds the events Decode accepts. API Gateway's own limits
// (10 KB of headers, 1600-byte ARNs) keep real events far below it.
const MaxEventSize = 256 << 10

// ErrMalformedEvent means the payload is not an authorizer event API Gateway
// would send: the authorizer is misconfigured (attached to the wrong event
// source) and must fail closed.
var ErrMalformedEvent = errors.New("malformed authorizer event")

// Request is the normalised view of one authorizer event.
type Request struct {
	Kind Kind
	// ARN is the methodArn (REST, HTTP 1.0) or routeArn (HTTP 2.0).
	ARN string
	// Authorization is the TOKEN event's authorizationToken, or the
	// Authorization header of a REQUEST event; empty when absent.
	Authorization string
	Headers       map[string]string // lower-cased names
	Query         map[string]string
	PathParams    map[string]string
	StageVars     map[string]string
	Method        string // HTTP method of the call (empty for TOKEN events)
	Path          string // the request path (empty for TOKEN events)
	RouteKey      string // HTTP APIs: "GET /orders/{id}"; REST: "GET /orders/{id}" from the resource path
	SourceIP      string // from the request context only, never X-Forwarded-For
	RequestID     string // API Gateway's request id, when the event carries one
	// ClientCert is the mutual-TLS client certificate (REST and HTTP 1.0:
	// requestContext.identity.clientCert; HTTP 2.0:
	// requestContext.authentication.clientCert), nil without one.
	ClientCert *events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert
	// RequestPath is the path the client requested, as API Gateway reports
	// it: requestContext.path for REST and HTTP 1.0 (with the stage on the
	// execute-api endpoint, with the base path on a custom domain), rawPath
	// for HTTP 2.0. Empty for TOKEN events.
	RequestPath string
	// RawQuery is the HTTP 2.0 rawQueryString; REST and HTTP 1.0 events
	// carry the query only parsed (Query, MultiQuery).
	RawQuery string
	// MultiQuery is the REST multiValueQueryStringParameters.
	MultiQuery map[string][]string
	// MultiHeaders is the REST multiValueHeaders, names lower-cased (values
	// of names that differ only in case are appended in no set order).
	MultiHeaders map[string][]string
}

// Decode reads an authorizer event. It accepts exactly the shapes API
// Gateway sends and fails with an error wrapping [ErrMalformedEvent]
// otherwise.
func Decode(payload []byte) (Request, error) {
	if len(payload) > MaxEventSize {
		return Request{}, fmt.Errorf("%w: %d bytes", ErrMalformedEvent, len(payload))
	}
	var head struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	switch {
	case head.Version == "2.0" && head.Type == "REQUEST":
		return decodeV2(payload)
	case head.Version == "1.0" && head.Type == "REQUEST":
		return decodeRequest(payload, HTTPv1)
	case head.Version == "" && head.Type == "REQUEST":
		return decodeRequest(payload, RESTRequest)
	case head.Version == "" && head.Type == "TOKEN":
		var e events.APIGatewayCustomAuthorizerRequest
		if err := strict(payload, &e); err != nil {
			return Request{}, err
		}
		if e.MethodArn == "" {
			return Request{}, fmt.Errorf("%w: no methodArn", ErrMalformedEvent)
		}
		return Request{Kind: RESTToken, ARN: e.MethodArn, Authorization: e.AuthorizationToken}, nil
	}
	return Request{}, fmt.Errorf("%w: type %q version %q", ErrMalformedEvent, head.Type, head.Version)
}

// v1Request is the REST REQUEST / HTTP 1.0 authorizer event. The HTTP 1.0
// payload adds version, identitySource and authorizationToken to the REST
// shape.
type v1Request struct {
	events.APIGatewayCustomAuthorizerRequestTypeRequest
	Version            string `json:"version"`
	IdentitySource     string `json:"identitySource"`
	AuthorizationToken string `json:"authorizationToken"`
}

func decodeRequest(payload []byte, kind Kind) (Request, error) {
	var e v1Request
	if err := strict(payload, &e); err != nil {
		return Request{}, err
	}
	if e.MethodArn == "" {
		return Request{}, fmt.Errorf("%w: no methodArn", ErrMalformedEvent)
	}
	h := lower(e.Headers)
	for k, vs := range e.MultiValueHeaders {
		if lk := strings.ToLower(k); h[lk] == "" && len(vs) > 0 {
			h[lk] = vs[0]
		}
	}
	var mh map[string][]string
	if len(e.MultiValueHeaders) > 0 {
		mh = make(map[string][]string, len(e.MultiValueHeaders))
		for k, vs := range e.MultiValueHeaders {
			lk := strings.ToLower(k)
			mh[lk] = append(mh[lk], vs...)
		}
	}
	r := Request{
		Kind: kind, ARN: e.MethodArn, Headers: h,
		Query: e.QueryStringParameters, PathParams: e.PathParameters, StageVars: e.StageVariables,
		Method: e.HTTPMethod, Path: e.Path,
		RouteKey:     routeKey(e.HTTPMethod, e.Resource),
		SourceIP:     e.RequestContext.Identity.SourceIP,
		RequestID:    e.RequestContext.RequestID,
		RequestPath:  e.RequestContext.Path,
		MultiQuery:   e.MultiValueQueryStringParameters,
		MultiHeaders: mh,
	}
	if c := e.RequestContext.Identity.ClientCert; c.ClientCertPem != "" {
		r.ClientCert = &c
	}
	r.Authorization = h["authorization"]
	return r, nil
}

func decodeV2(payload []byte) (Request, error) {
	var e events.APIGatewayV2CustomAuthorizerV2Request
	if err := strict(payload, &e); err != nil {
		return Request{}, err
	}
	if e.RouteArn == "" {
		return Request{}, fmt.Errorf("%w: no routeArn", ErrMalformedEvent)
	}
	h := lower(e.Headers)
	r := Request{
		Kind: HTTPv2, ARN: e.RouteArn, Headers: h,
		Query: e.QueryStringParameters, PathParams: e.PathParameters, StageVars: e.StageVariables,
		Method:        e.RequestContext.HTTP.Method,
		Path:          e.RequestContext.HTTP.Path,
		RouteKey:      e.RouteKey,
		SourceIP:      e.RequestContext.HTTP.SourceIP,
		RequestID:     e.RequestContext.RequestID,
		Authorization: h["authorization"],
		RequestPath:   e.RawPath,
		RawQuery:      e.RawQueryString,
	}
	if c := e.RequestContext.Authentication.ClientCert; c.ClientCertPem != "" {
		r.ClientCert = &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{
			ClientCertPem: c.ClientCertPem, IssuerDN: c.IssuerDN, SerialNumber: c.SerialNumber, SubjectDN: c.SubjectDN,
			Validity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCertValidity{
				NotAfter: c.Validity.NotAfter, NotBefore: c.Validity.NotBefore},
		}
	}
	return r, nil
}

// strict decodes one JSON value into v; trailing data is an error. Unknown
// fields are allowed: API Gateway adds fields over time.
func strict(payload []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrMalformedEvent)
	}
	return nil
}

func lower(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[strings.ToLower(k)] = v
	}
	return out
}

func routeKey(method, resource string) string {
	if method == "" || resource == "" {
		return ""
	}
	return method + " " + resource
}
