package validate

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Request is one API Gateway request as the validator sees it, whichever
// payload format carried it. Build it with [RequestV1] or [RequestV2]; a
// Request is read, never modified, by [Validator.Validate].
type Request struct {
	// Method is the HTTP method, upper case.
	Method string
	// Resource is the route's path template, such as "/orders/{id}", or ""
	// for an HTTP API's $default route.
	Resource string
	// PathParameters are the route's path variables.
	PathParameters map[string]string
	// Query holds every query parameter with all its values.
	Query map[string][]string
	// Header holds the request headers, names in lower case.
	Header map[string][]string
	// Body is the body as API Gateway passed it: base64 text when
	// IsBase64Encoded is set.
	Body            string
	IsBase64Encoded bool
	// Authorized is true when an authorizer (Lambda, JWT, IAM or Cognito)
	// let the request through; responses to it are marked no-store.
	Authorized bool
}

// RequestV1 views a REST API (or HTTP API payload 1.0) proxy event. Query
// and header values come from the multi-value maps, so a repeated parameter
// is seen with all its values; single-value entries missing from them are
// added.
func RequestV1(e *events.APIGatewayProxyRequest) *Request {
	r := &Request{
		Method:          strings.ToUpper(e.HTTPMethod),
		Resource:        e.Resource,
		PathParameters:  e.PathParameters,
		Query:           map[string][]string{},
		Header:          map[string][]string{},
		Body:            e.Body,
		IsBase64Encoded: e.IsBase64Encoded,
	}
	for k, vs := range e.MultiValueQueryStringParameters {
		r.Query[k] = append(r.Query[k], vs...)
	}
	for k, v := range e.QueryStringParameters {
		if _, ok := e.MultiValueQueryStringParameters[k]; !ok {
			r.Query[k] = append(r.Query[k], v)
		}
	}
	for k, vs := range e.MultiValueHeaders {
		lk := strings.ToLower(k)
		r.Header[lk] = append(r.Header[lk], vs...)
	}
	for k, v := range e.Headers {
		// Header names are case-insensitive: a header already taken from
		// multiValueHeaders under any spelling is not added twice.
		lk := strings.ToLower(k)
		if _, ok := r.Header[lk]; !ok {
			r.Header[lk] = []string{v}
		}
	}
	for _, v := range e.RequestContext.Authorizer {
		if v != nil {
			r.Authorized = true
			break
		}
	}
	return r
}

// RequestV2 views an HTTP API payload 2.0 event. Query parameters are parsed
// from rawQueryString (each name and value percent-decoded once, '+' as
// space), because queryStringParameters joins repeated values with commas;
// the cookies field is folded back into a "cookie" header.
func RequestV2(e *events.APIGatewayV2HTTPRequest) *Request {
	r := &Request{
		Method:          strings.ToUpper(e.RequestContext.HTTP.Method),
		PathParameters:  e.PathParameters,
		Query:           map[string][]string{},
		Header:          map[string][]string{},
		Body:            e.Body,
		IsBase64Encoded: e.IsBase64Encoded,
	}
	if _, path, ok := strings.Cut(e.RouteKey, " "); ok {
		r.Resource = path
	}
	if e.RawQueryString != "" {
		r.Query = parseQuery(e.RawQueryString)
	} else {
		for k, v := range e.QueryStringParameters {
			r.Query[k] = []string{v}
		}
	}
	for k, v := range e.Headers {
		lk := strings.ToLower(k)
		r.Header[lk] = append(r.Header[lk], v)
	}
	if len(e.Cookies) > 0 {
		r.Header["cookie"] = append(r.Header["cookie"], strings.Join(e.Cookies, "; "))
	}
	if a := e.RequestContext.Authorizer; a != nil && (a.JWT != nil || a.IAM != nil || len(a.Lambda) > 0) {
		r.Authorized = true
	}
	return r
}

// parseQuery splits a raw query string (or form body) on '&', decoding each
// name and value once. Unlike url.ParseQuery it never fails: a malformed
// escape is kept as written, and the injection checks see it.
func parseQuery(raw string) map[string][]string {
	q := map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = percentDecode(k, true)
		q[k] = append(q[k], percentDecode(v, true))
	}
	return q
}

// header returns the values of the named (lower-case) header.
func (r *Request) header(name string) []string { return r.Header[name] }
