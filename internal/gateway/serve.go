package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// request is one API call on its way through the gateway.
type request struct {
	r        *http.Request
	api      *apiState
	id       string // x-amzn-RequestId
	extID    string // extended request id / apigw-requestid
	received time.Time
	sourceIP string

	// stagePath is the escaped path after the API prefix, with the stage:
	// what an HTTP API's rawPath is ("/dev/orders/1").
	stagePath string
	// path is the decoded resource path, without the stage ("/orders/1").
	path   string
	route  *route
	params map[string]string
	query  url.Values
	header http.Header // the request's headers as API Gateway forwards them
	body   []byte
	// apiKey and apiKeyID are the validated API key of a route with
	// ApiKeyRequired, "" otherwise.
	apiKey, apiKeyID string

	log accessEntry
}

func (q *request) kind() samtemplate.Kind { return q.api.Kind }

// maxMethodARN is the longest method ARN API Gateway authorizes, in bytes.
const maxMethodARN = 1600

// methodArn is the execute-api ARN of the call: the methodArn of REST and
// HTTP 1.0 events, the routeArn of HTTP 2.0 events.
func (q *request) methodArn(region, account string) string {
	return "arn:aws:execute-api:" + region + ":" + account + ":" + q.api.ID + "/" + q.api.Stage + "/" +
		q.r.Method + "/" + strings.TrimPrefix(q.path, "/")
}

// serveAPI handles a call to one of the template's APIs.
func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	esc := r.URL.EscapedPath()
	apiID, afterAPI := cutSegment(esc)
	api := g.apis[apiID]
	if api == nil {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Not Found"}`)
		return
	}
	q := &request{r: r, api: api, id: newRequestID(), extID: newExtendedID(), received: g.now(), query: r.URL.Query()}
	q.sourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	if q.sourceIP == "" {
		q.sourceIP = r.RemoteAddr
	}
	q.header = forwardedHeaders(r, q.sourceIP, q.received)
	q.log = accessEntry{RequestID: q.id, IP: q.sourceIP, RequestTime: q.received.UTC().Format(clfTime),
		HTTPMethod: r.Method, Protocol: r.Proto, API: api.ID, Stage: api.Stage, AuthorizerCache: "none"}
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		q.log.Status, q.log.ResponseLength = rw.status, rw.n
		q.log.LatencyMS = ms(g.now().Sub(q.received))
		g.access.write(q.log)
	}()

	q.stagePath = afterAPI
	resource := afterAPI
	if api.Stage != "$default" {
		stage, rest := cutSegment(afterAPI)
		if stage != api.Stage {
			g.fail(rw, q, outNoStage)
			return
		}
		resource = rest
	}
	if q.stagePath == "" {
		q.stagePath = "/"
	}
	segs, ok := decodeSegments(resource)
	if !ok {
		g.fail(rw, q, outNoRoute)
		return
	}
	q.path = "/" + strings.Join(segs, "/")
	q.route, q.params = lookup(api.routes, r.Method, segs)
	if q.route == nil {
		g.fail(rw, q, outNoRoute)
		return
	}
	q.log.RouteKey = q.route.Key()
	// API Gateway caps a method ARN at 1600 bytes when the method has an
	// authorizer (or a resource policy) and answers 414 above it: long path
	// parameter values can get there.
	if (q.route.Authorizer != "" || api.ResourcePolicy != nil) && len(q.methodArn(g.region, g.account)) > maxMethodARN {
		g.fail(rw, q, outURITooLong)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, g.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			g.fail(rw, q, outTooLarge)
			return
		}
		g.log.Warn("read request body", "requestId", q.id, "err", err)
		return
	}
	q.body = body

	var auth *authResult
	if q.route.Authorizer != "" {
		var out outcome
		var ok bool
		auth, out, ok = g.authorize(r.Context(), q, api.authorizers[q.route.Authorizer])
		if !ok {
			g.fail(rw, q, out)
			return
		}
	}
	if q.route.APIKeyRequired {
		id, ok := g.checkAPIKey(q, auth)
		if !ok {
			g.fail(rw, q, outInvalidAPIKey)
			return
		}
		q.apiKey, q.apiKeyID = auth.usageKey, id
	}
	g.integrate(rw, q, auth)
}

func (g *Gateway) fail(w http.ResponseWriter, q *request, o outcome) {
	e := errorFor(q.kind(), o)
	if e.errType != "" {
		q.log.ErrorType = e.errType
	} else if q.log.ErrorType == "" {
		q.log.ErrorType = strconv.Itoa(e.status)
	}
	writeGatewayError(w, q.kind(), q.id, q.extID, e)
}

// cutSegment splits "/a/b/c" into "a" and "/b/c".
func cutSegment(p string) (string, string) {
	p = strings.TrimPrefix(p, "/")
	first, rest, ok := strings.Cut(p, "/")
	if !ok {
		return first, ""
	}
	return first, "/" + rest
}

// forwardedHeaders returns the headers API Gateway passes on: the client's,
// with Host, and the X-Forwarded-* and X-Amzn-Trace-Id headers it adds.
func forwardedHeaders(r *http.Request, sourceIP string, now time.Time) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Host", r.Host)
	if prior := h.Get("X-Forwarded-For"); prior != "" {
		h.Set("X-Forwarded-For", prior+", "+sourceIP)
	} else {
		h.Set("X-Forwarded-For", sourceIP)
	}
	port := "80"
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	h.Set("X-Forwarded-Port", port)
	h.Set("X-Forwarded-Proto", "http")
	if h.Get("X-Amzn-Trace-Id") == "" {
		h.Set("X-Amzn-Trace-Id", newTraceID(now.Unix()))
	}
	return h
}

// restHeaders returns a REST event's headers and multiValueHeaders: names as
// received, the last value of a repeated header in headers.
func (q *request) restHeaders() (map[string]string, map[string][]string) {
	if len(q.header) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(q.header))
	multi := make(map[string][]string, len(q.header))
	for k, vs := range q.header {
		single[k] = vs[len(vs)-1]
		multi[k] = append([]string(nil), vs...)
	}
	return single, multi
}

// httpHeaders returns an HTTP API event's headers: names in lower case,
// repeated values joined with commas, cookies apart.
func (q *request) httpHeaders() (map[string]string, []string) {
	out := make(map[string]string, len(q.header))
	var cookies []string
	for k, vs := range q.header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		out[lk] = strings.Join(vs, ",")
	}
	return out, cookies
}

// restQuery returns queryStringParameters (last value wins) and
// multiValueQueryStringParameters, nil when the query is empty.
func (q *request) restQuery() (map[string]string, map[string][]string) {
	if len(q.query) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(q.query))
	multi := make(map[string][]string, len(q.query))
	for k, vs := range q.query {
		single[k] = vs[len(vs)-1]
		multi[k] = append([]string(nil), vs...)
	}
	return single, multi
}

// httpQuery returns an HTTP API's queryStringParameters: repeated values
// joined with commas.
func (q *request) httpQuery() map[string]string {
	if len(q.query) == 0 {
		return nil
	}
	out := make(map[string]string, len(q.query))
	for k, vs := range q.query {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

func (q *request) stageVariables() map[string]string {
	if len(q.api.StageVariables) == 0 {
		return nil
	}
	return q.api.StageVariables
}

func (q *request) pathParameters() map[string]string {
	if len(q.params) == 0 {
		return nil
	}
	return q.params
}

// restResourcePath is the route's resource path, "/" for the root.
func (q *request) resourcePath() string {
	if q.route.isDefault {
		return q.path
	}
	return q.route.Path
}

func (q *request) domainName() string { return q.r.Host }

func (q *request) domainPrefix() string {
	host := q.r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	first, _, _ := strings.Cut(host, ".")
	return first
}

// clfTime is API Gateway's requestTime format.
const clfTime = "02/Jan/2006:15:04:05 -0700"

func (q *request) httpContext(g *Gateway) httpContext {
	return httpContext{
		AccountID: g.account, APIID: q.api.ID,
		DomainName: q.domainName(), DomainPrefix: q.domainPrefix(),
		HTTP: httpDescription{
			Method: q.r.Method, Path: q.decodedStagePath(), Protocol: q.r.Proto,
			SourceIP: q.sourceIP, UserAgent: q.r.UserAgent(),
		},
		RequestID: q.extID, RouteKey: q.route.Key(), Stage: q.api.Stage,
		Time: q.received.UTC().Format(clfTime), TimeEpoch: q.received.UnixMilli(),
	}
}

func (q *request) decodedStagePath() string {
	if p, err := url.PathUnescape(q.stagePath); err == nil {
		return p
	}
	return q.stagePath
}

// restContextPath is requestContext.path of REST events: the path with the
// stage.
func (q *request) restContextPath() string {
	return "/" + q.api.Stage + q.path
}

// sortedKeys is for deterministic output in tests and logs.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// statusWriter records the status and size of a response for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += n
	return n, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
