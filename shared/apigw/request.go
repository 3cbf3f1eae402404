package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
	// Headers has lower-cased names. A header given under two spellings
	// with different values is left out (AmbiguousHeaders names it).
	Headers    map[string]string
	Query      map[string]string
	PathParams map[string]string
	StageVars  map[string]string
	Method     string // HTTP method of the call (empty for TOKEN events)
	Path       string // the request path (empty for TOKEN events)
	RouteKey   string // HTTP APIs: "GET /orders/{id}"; REST: "GET /orders/{id}" from the resource path
	SourceIP   string // from the request context only, never X-Forwarded-For
	RequestID  string // API Gateway's request id, when the event carries one
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
	// of names that differ only in case are appended in the names' sorted
	// order).
	MultiHeaders map[string][]string
	// AmbiguousHeaders are the lower-cased names of headers the event gives
	// under spellings that differ only in case, with different values:
	// left out of Headers, as which value is meant is not knowable.
	AmbiguousHeaders []string
}

// Decode reads an authorizer event: one JSON object with the type, version
// and ARN of one of the four authorizer payloads. Anything else fails with
// an error wrapping [ErrMalformedEvent], and so does an event in which a
// member Decode reads (of any payload kind) has another type than API
// Gateway gives it, or data follows the object. Those are events API
// Gateway does not send; a client's request cannot make one. (A header a
// client sends under two spellings is not an error: see
// [Request.AmbiguousHeaders].)
//
// The event is read in one pass into [event], which holds only the members
// Request needs, of every payload kind at once: the authorizer's hot path
// pays for one scan of the event, not for a first pass that finds the kind
// and a second into the kind's full aws-lambda-go type. Members Request does
// not use are skipped, whatever their type: API Gateway adds members over
// time. Every event aws-lambda-go's type for its kind can hold, Decode
// accepts and reads the same way (FuzzDecodeMatchesFullTypes).
func Decode(payload []byte) (Request, error) {
	if len(payload) > MaxEventSize {
		return Request{}, fmt.Errorf("%w: %d bytes", ErrMalformedEvent, len(payload))
	}
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	switch {
	case e.Version == "2.0" && e.Type == "REQUEST":
		return e.v2()
	case e.Version == "1.0" && e.Type == "REQUEST":
		return e.v1(HTTPv1)
	case e.Version == "" && e.Type == "REQUEST":
		return e.v1(RESTRequest)
	case e.Version == "" && e.Type == "TOKEN":
		if e.MethodArn == "" {
			return Request{}, fmt.Errorf("%w: no methodArn", ErrMalformedEvent)
		}
		return Request{Kind: RESTToken, ARN: e.MethodArn, Authorization: e.AuthorizationToken}, nil
	}
	return Request{}, fmt.Errorf("%w: type %q version %q", ErrMalformedEvent, e.Type, e.Version)
}

// event is the union of the members Request reads from the four authorizer
// payloads, with aws-lambda-go's JSON names: the REST TOKEN event
// (events.APIGatewayCustomAuthorizerRequest), the REST REQUEST and HTTP 1.0
// event (events.APIGatewayCustomAuthorizerRequestTypeRequest, which HTTP 1.0
// extends with version and authorizationToken) and the HTTP 2.0 event
// (events.APIGatewayV2CustomAuthorizerV2Request). No two payloads give one
// name different types among these members.
type event struct {
	Type               string `json:"type"`
	Version            string `json:"version"`
	MethodArn          string `json:"methodArn"` // REST, HTTP 1.0
	RouteArn           string `json:"routeArn"`  // HTTP 2.0
	AuthorizationToken string `json:"authorizationToken"`

	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"` // REST, HTTP 1.0
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"` // REST, HTTP 1.0
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`

	HTTPMethod     string `json:"httpMethod"` // REST, HTTP 1.0
	Path           string `json:"path"`       // REST, HTTP 1.0
	Resource       string `json:"resource"`   // REST, HTTP 1.0
	RouteKey       string `json:"routeKey"`   // HTTP 2.0
	RawPath        string `json:"rawPath"`    // HTTP 2.0
	RawQueryString string `json:"rawQueryString"`

	RequestContext struct {
		RequestID string `json:"requestId"`
		Path      string `json:"path"` // REST, HTTP 1.0
		Identity  struct {
			SourceIP   string     `json:"sourceIp"`
			ClientCert clientCert `json:"clientCert"`
		} `json:"identity"` // REST, HTTP 1.0
		HTTP struct {
			Method   string `json:"method"`
			Path     string `json:"path"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"` // HTTP 2.0
		Authentication struct {
			ClientCert clientCert `json:"clientCert"`
		} `json:"authentication"` // HTTP 2.0
	} `json:"requestContext"`
}

// clientCert has the JSON shape of both requestContext.identity.clientCert
// (REST, HTTP 1.0) and requestContext.authentication.clientCert (HTTP 2.0).
type clientCert = events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert

func (e *event) v1(kind Kind) (Request, error) {
	if e.MethodArn == "" {
		return Request{}, fmt.Errorf("%w: no methodArn", ErrMalformedEvent)
	}
	h, ambiguous := lower(e.Headers)
	// Names in sorted order, so that names differing only in case merge
	// the same way every time.
	names := slices.Sorted(maps.Keys(e.MultiValueHeaders))
	for _, k := range names {
		lk, vs := strings.ToLower(k), e.MultiValueHeaders[k]
		if h[lk] == "" && len(vs) > 0 && !slices.Contains(ambiguous, lk) {
			h[lk] = vs[0]
		}
	}
	var mh map[string][]string
	if len(names) > 0 {
		mh = make(map[string][]string, len(names))
		for _, k := range names {
			lk := strings.ToLower(k)
			mh[lk] = append(mh[lk], e.MultiValueHeaders[k]...)
		}
	}
	r := Request{
		Kind: kind, ARN: e.MethodArn, Headers: h,
		Query: e.QueryStringParameters, PathParams: e.PathParameters, StageVars: e.StageVariables,
		Method: e.HTTPMethod, Path: e.Path,
		RouteKey:         routeKey(e.HTTPMethod, e.Resource),
		SourceIP:         e.RequestContext.Identity.SourceIP,
		RequestID:        e.RequestContext.RequestID,
		RequestPath:      e.RequestContext.Path,
		MultiQuery:       e.MultiValueQueryStringParameters,
		MultiHeaders:     mh,
		AmbiguousHeaders: ambiguous,
	}
	if c := e.RequestContext.Identity.ClientCert; c.ClientCertPem != "" {
		r.ClientCert = &c
	}
	r.Authorization = h["authorization"]
	return r, nil
}

func (e *event) v2() (Request, error) {
	if e.RouteArn == "" {
		return Request{}, fmt.Errorf("%w: no routeArn", ErrMalformedEvent)
	}
	h, ambiguous := lower(e.Headers)
	r := Request{
		Kind: HTTPv2, ARN: e.RouteArn, Headers: h,
		Query: e.QueryStringParameters, PathParams: e.PathParameters, StageVars: e.StageVariables,
		Method:           e.RequestContext.HTTP.Method,
		Path:             e.RequestContext.HTTP.Path,
		RouteKey:         e.RouteKey,
		SourceIP:         e.RequestContext.HTTP.SourceIP,
		RequestID:        e.RequestContext.RequestID,
		Authorization:    h["authorization"],
		RequestPath:      e.RawPath,
		RawQuery:         e.RawQueryString,
		AmbiguousHeaders: ambiguous,
	}
	if c := e.RequestContext.Authentication.ClientCert; c.ClientCertPem != "" {
		r.ClientCert = &c
	}
	return r, nil
}

// lower returns the headers with lower-cased names. Names that differ only
// in case name one HTTP header; when they hold different values (a REST API
// passes `X-Foo: a` and `x-foo: b` as two members), which value is meant is
// not knowable, so the header is left out and its name returned in
// ambiguous (sorted): a decision that needs it refuses, as without it.
func lower(in map[string]string) (out map[string]string, ambiguous []string) {
	out = make(map[string]string, len(in))
	conflict := map[string]bool{}
	for k, v := range in {
		lk := strings.ToLower(k)
		if prev, dup := out[lk]; dup && prev != v {
			conflict[lk] = true
		}
		out[lk] = v
	}
	for lk := range conflict {
		delete(out, lk)
		ambiguous = append(ambiguous, lk)
	}
	slices.Sort(ambiguous)
	return out, ambiguous
}

func routeKey(method, resource string) string {
	if method == "" || resource == "" {
		return ""
	}
	return method + " " + resource
}
