package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/signer"
)

// Path is the only path the function answers.
const Path = "/.well-known/jwks.json"

// maxEventSize bounds the events handle decodes; API Gateway's own limits
// keep a GET far below it.
const maxEventSize = 1 << 20

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 section 6). A published key never has one.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// versions is the part of *secretver.Reader the handler uses.
type versions interface {
	Get(ctx context.Context) (secretver.Snapshot, error)
}

// handler answers GET and HEAD of Path.
type handler struct {
	keys         versions
	cacheControl string
	log          *slog.Logger
	// broken is set when the configuration is bad: every request gets 500.
	broken error

	mu         sync.Mutex
	generation uint64
	doc        *document
}

// document is the rendered JWKS of one snapshot.
type document struct {
	body []byte
	etag string
}

func newHandler(keys versions, maxAge time.Duration, log *slog.Logger) *handler {
	return &handler{
		keys:         keys,
		cacheControl: "public, max-age=" + strconv.Itoa(int(maxAge/time.Second)),
		log:          log,
	}
}

// request is what handle needs of either event shape.
type request struct {
	v2      bool
	method  string
	path    string
	headers map[string]string // lower-cased names
}

// response is what handle answers, before it takes the event's shape.
type response struct {
	status  int
	headers map[string]string
	body    string
}

// handle decodes a REST (1.0) or HTTP API (2.0) proxy event and answers in
// the same shape. An event that is neither fails the invocation (API
// Gateway then answers 502): the function is wired to the wrong source.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	req, err := decode(raw)
	if err != nil {
		h.log.ErrorContext(ctx, "not an API Gateway proxy event", "err", err)
		return nil, err
	}
	resp := h.serve(ctx, req)
	var out any
	if req.v2 {
		out = events.APIGatewayV2HTTPResponse{StatusCode: resp.status, Headers: resp.headers, Body: resp.body}
	} else {
		out = events.APIGatewayProxyResponse{StatusCode: resp.status, Headers: resp.headers, Body: resp.body}
	}
	return json.Marshal(out)
}

// errNotProxyEvent means the payload is neither proxy event shape.
var errNotProxyEvent = errors.New("not an API Gateway proxy event (REST payload 1.0 or HTTP API payload 2.0)")

func decode(raw []byte) (request, error) {
	if len(raw) > maxEventSize {
		return request{}, fmt.Errorf("%w: %d bytes", errNotProxyEvent, len(raw))
	}
	var head struct {
		Version    string `json:"version"`
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return request{}, fmt.Errorf("%w: %v", errNotProxyEvent, err)
	}
	switch {
	case head.Version == "2.0":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return request{}, fmt.Errorf("%w: %v", errNotProxyEvent, err)
		}
		if ev.RequestContext.HTTP.Method == "" {
			return request{}, fmt.Errorf("%w: no requestContext.http.method", errNotProxyEvent)
		}
		return request{v2: true, method: ev.RequestContext.HTTP.Method, path: ev.RawPath, headers: lower(ev.Headers, nil)}, nil
	case head.HTTPMethod != "" && (head.Version == "" || head.Version == "1.0"):
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return request{}, fmt.Errorf("%w: %v", errNotProxyEvent, err)
		}
		return request{method: ev.HTTPMethod, path: ev.Path, headers: lower(ev.Headers, ev.MultiValueHeaders)}, nil
	}
	return request{}, errNotProxyEvent
}

// lower merges single- and multi-value headers under lower-cased names;
// repeated values are joined with ", ".
func lower(single map[string]string, multi map[string][]string) map[string]string {
	out := make(map[string]string, len(single)+len(multi))
	for k, v := range single {
		out[strings.ToLower(k)] = v
	}
	for k, vs := range multi {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

func (h *handler) serve(ctx context.Context, req request) response {
	switch {
	case !strings.HasSuffix(req.path, Path):
		return problem(http.StatusNotFound, "not found")
	case req.method != http.MethodGet && req.method != http.MethodHead:
		r := problem(http.StatusMethodNotAllowed, "method not allowed")
		r.headers["Allow"] = "GET, HEAD"
		return r
	}
	doc, err := h.document(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "build the JWKS", "err", err)
		return problem(http.StatusInternalServerError, "internal error")
	}
	headers := map[string]string{
		"Cache-Control":          h.cacheControl,
		"ETag":                   doc.etag,
		"Content-Type":           "application/json",
		"X-Content-Type-Options": "nosniff",
	}
	if etagMatch(req.headers["if-none-match"], doc.etag) {
		return response{status: http.StatusNotModified, headers: headers}
	}
	r := response{status: http.StatusOK, headers: headers}
	if req.method == http.MethodGet {
		r.body = string(doc.body)
	}
	return r
}

func problem(status int, msg string) response {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return response{status: status, body: string(b), headers: map[string]string{
		"Content-Type":           "application/json",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}}
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 section
// 13.1.2) against our one strong ETag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// document returns the JWKS of the secret's current snapshot, rendering it
// only when the snapshot changed.
func (h *handler) document(ctx context.Context) (*document, error) {
	if h.broken != nil {
		return nil, h.broken
	}
	snap, err := h.keys.Get(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.doc != nil && snap.Generation == h.generation {
		return h.doc, nil
	}
	doc, err := h.render(ctx, snap)
	if err != nil {
		return nil, err
	}
	h.doc, h.generation = doc, snap.Generation
	return doc, nil
}

// render publishes the public part of each version's keys, AWSCURRENT's
// first; a kid is published once. A version that is not key material fails
// the document when it is AWSCURRENT, and is left out (and logged) when it
// is AWSPREVIOUS: the placeholder a secret holds before its first rotation
// then does not keep the current keys from being published.
func (h *handler) render(ctx context.Context, snap secretver.Snapshot) (*document, error) {
	keys := []map[string]any{}
	seen := map[string]bool{}
	for _, v := range snap.Versions {
		pub, err := publicKeys(v.Value)
		if err != nil {
			if v.Stage == secretver.StageCurrent {
				return nil, fmt.Errorf("version %s: %w", v, err)
			}
			h.log.WarnContext(ctx, "a version is left out of the JWKS", "version", v, "err", err)
			continue
		}
		for _, k := range pub {
			kid, _ := k["kid"].(string)
			if kid == "" || seen[kid] {
				continue
			}
			seen[kid] = true
			keys = append(keys, k)
		}
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return &document{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}, nil
}

// publicKeys returns the public JWKs of value, a JWK or JWK Set that
// keyring.ParseKeys accepts. Symmetric keys are dropped. It fails, rather
// than publish, if a key it would publish still carries private material.
func publicKeys(value string) ([]map[string]any, error) {
	if _, err := keyring.ParseKeys([]byte(value), ""); err != nil {
		return nil, err
	}
	pub, err := signer.PublicSet([]byte(value))
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(pub))
	dec.UseNumber()
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("public key set: %w", err)
	}
	for i, k := range set.Keys {
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				return nil, fmt.Errorf("public key %d carries the private member %q", i, m)
			}
		}
	}
	return set.Keys, nil
}
