package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/clientcert"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/sourceip"
)

// sigVerifier checks an RFC 9421 signed request.
type sigVerifier interface {
	Verify(ctx context.Context, r *httpsig.Request) (httpsig.Result, error)
}

// authenticator checks a client id and secret.
type authenticator interface {
	Authenticate(ctx context.Context, clientID, secret string) (credential.Client, error)
}

// revocations answers whether a principal was revoked, from a local view of
// the revocation table (no table call on the hot path).
type revocations interface {
	Check(ctx context.Context, issuer, sub, jti string, issuedAt time.Time) (revoked bool, err error)
}

// RevocationIssuer is the issuer this authorizer's principals are checked
// under: a revocation of a subject for this issuer (or for every issuer)
// revokes the keyid, client id or certificate subject of that name.
// Credentials have no issue time, so a revoked principal stays refused
// until the entry expires or is deleted: rotate its key or secret, then
// lift the revocation.
const RevocationIssuer = "urn:guard:request-authorizer"

// handler decides one authorizer event.
type handler struct {
	routes       *routeTable
	apiIP        *sourceip.Rules
	sig          sigVerifier
	creds        authenticator
	idHeader     string // "" = HTTP Basic in Authorization
	secretHeader string
	simple       bool // HTTP API 2.0 events get {"isAuthorized":…}
	log          *slog.Logger
	now          func() time.Time
	obs          *observer   // nil: no metrics, every decision logged (metrics.go)
	revoked      revocations // nil: revocation checks are off
}

// identity is who the caller proved to be, and how.
type identity struct {
	method    string // methodSignature, methodCredentials or methodCertificate
	principal string // the keyid, the client id or the certificate's subject DN
	keyID     string
	clientID  string
	stage     string // the secret version (AWSCURRENT or AWSPREVIOUS) that verified
	usageKey  string
	cert      *clientcert.Certificate
}

// decision is what handle answers and logs.
type decision struct {
	resp    any
	err     error
	outcome string // allow, deny, unauthorized, error
	// reason is one of a fixed set: ok; not_entitled, ip_not_allowed,
	// cert_rejected (a 403 on this route); ip_denied, no_route (403 on
	// every route); no_credentials, bad_credentials, cert_missing,
	// cert_malformed, cert_expired, cert_not_yet_valid, cert_not_allowed,
	// revoked and the httpsig reasons (401); malformed_event, bad_arn,
	// credentials_unavailable, keys_unavailable, replay_unavailable,
	// revocations_unavailable (500).
	reason string
	kind   apigw.Kind
	route  string
	id     *identity
	cause  error // for the log only
}

// handle answers one authorizer event: a policy or simple response, the
// error "Unauthorized" (API Gateway's 401), or a FailClosed error (500).
func (h *handler) handle(ctx context.Context, payload json.RawMessage) (any, error) {
	start := h.now()
	d := h.decide(ctx, payload)
	h.logDecision(ctx, d, h.now().Sub(start))
	return d.resp, d.err
}

func (h *handler) decide(ctx context.Context, payload []byte) decision {
	req, err := apigw.Decode(payload)
	if err != nil {
		return failClosed("malformed_event", err)
	}
	if req.Kind == apigw.RESTToken {
		return failClosed("malformed_event", errors.New("a TOKEN event carries no request: attach this function as a REQUEST authorizer"))
	}
	arn, err := policy.ParseARN(req.ARN)
	if err != nil {
		d := failClosed("bad_arn", err)
		d.kind = req.Kind
		return d
	}
	d := decision{kind: req.Kind}
	addr, _ := sourceip.ParseAddr(req.SourceIP) // invalid: the zero Addr, which no IP rule admits
	rt, ok := h.routes.match(arn)
	if !ok {
		return h.refuse(d, arn, "no_route")
	}
	d.route = rt.rule.Route
	if !h.apiIP.Allows(addr) {
		return h.refuse(d, arn, "ip_denied")
	}

	now := h.now()
	id, reason, cause := h.authenticate(ctx, &req, rt, now)
	switch {
	case reason == "credentials_unavailable" || httpsig.Reason(reason).ServerFault():
		f := failClosed(reason, cause)
		f.kind, f.route = d.kind, d.route
		return f
	case id == nil:
		d.err, d.outcome, d.reason, d.cause = apigw.ErrUnauthorized, "unauthorized", reason, cause
		return d
	}
	d.id = id
	if h.revoked != nil {
		revoked, err := h.revoked.Check(ctx, RevocationIssuer, id.principal, "", time.Time{})
		if err != nil {
			f := failClosed("revocations_unavailable", err)
			f.kind, f.route, f.id = d.kind, d.route, id
			return f
		}
		if revoked {
			d.err, d.outcome, d.reason = apigw.ErrUnauthorized, "unauthorized", "revoked"
			return d
		}
	}

	// The policy covers every route this caller may call, so API Gateway
	// can apply a cached answer to the next route; a signature proves one
	// request only, so it entitles at most the route it was made for.
	var allowed []policy.Rule
	d.outcome, d.reason = "deny", "not_entitled"
	for _, r := range h.routes.routes {
		if id.method == methodSignature && r != rt {
			continue
		}
		why := h.check(r, id, &req, addr, now)
		if r == rt {
			if why == "" {
				d.outcome, d.reason = "allow", "ok"
			} else {
				d.reason = why
			}
		}
		if why == "" {
			allowed = append(allowed, r.rule)
		}
	}
	ctxv := id.context()
	if req.Kind == apigw.HTTPv2 && h.simple {
		d.resp = events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: d.outcome == "allow", Context: ctxv}
		return d
	}
	d.resp = events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:        id.principal,
		PolicyDocument:     apigw.PolicyDocument(h.routes.rules.Policy(arn, allowed)),
		Context:            ctxv,
		UsageIdentifierKey: id.usageKey,
	}
	return d
}

// refuse answers 403 on every route: nothing about the caller was checked.
func (h *handler) refuse(d decision, arn policy.ARN, reason string) decision {
	d.outcome, d.reason = "deny", reason
	if d.kind == apigw.HTTPv2 && h.simple {
		d.resp = events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
		return d
	}
	d.resp = events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:    "anonymous",
		PolicyDocument: apigw.PolicyDocument(h.routes.rules.Policy(arn, nil)),
	}
	return d
}

// check says why r refuses id ("" when it admits it): the method, the
// principal list, the route's source-IP rules, its certificate rules.
func (h *handler) check(r *route, id *identity, req *apigw.Request, addr netip.Addr, now time.Time) string {
	switch {
	case !r.accepts(id.method):
		return "not_entitled"
	case len(r.principals) > 0 && !slices.Contains(r.principals, id.principal):
		return "not_entitled"
	case !r.ip.Allows(addr):
		return "ip_not_allowed"
	}
	if r.cert != nil {
		if _, err := r.cert.Check(req.ClientCert, now); err != nil {
			return "cert_rejected"
		}
	}
	return ""
}

// authenticate tries the methods the current route accepts, in a fixed
// order, with the first credential the request presents. A presented
// credential that fails is final (401): it never falls through to another
// method. It returns the identity, or the reason and cause of the refusal.
func (h *handler) authenticate(ctx context.Context, req *apigw.Request, rt *route, now time.Time) (*identity, string, error) {
	for _, m := range methodOrder {
		if !rt.accepts(m) {
			continue
		}
		switch m {
		case methodSignature:
			if ambiguous(req, "signature-input", "signature") {
				return nil, string(httpsig.ReasonMalformed), errAmbiguousCredential
			}
			if req.Headers["signature-input"] == "" && req.Headers["signature"] == "" {
				continue
			}
			res, err := h.sig.Verify(ctx, signedRequest(req))
			if err != nil {
				return nil, string(httpsig.ReasonOf(err)), err
			}
			id := &identity{method: m, principal: res.KeyID, keyID: res.KeyID}
			if k, ok := res.Key.Meta.(credential.HMACKey); ok {
				id.stage, id.usageKey = k.Stage, k.UsageKey
			}
			return id, "", nil
		case methodCredentials:
			clientID, secret, presented, err := h.credentialsOf(req)
			if !presented {
				continue
			}
			if err != nil {
				return nil, "bad_credentials", err
			}
			c, err := h.creds.Authenticate(ctx, clientID, secret)
			switch {
			case errors.Is(err, credential.ErrBadCredentials):
				return nil, "bad_credentials", err
			case err != nil:
				return nil, "credentials_unavailable", err
			}
			return &identity{method: m, principal: c.ID, clientID: c.ID, stage: c.Stage, usageKey: c.UsageKey}, "", nil
		case methodCertificate:
			if req.ClientCert == nil {
				continue
			}
			info, err := rt.cert.Check(req.ClientCert, now)
			if err != nil {
				return nil, certReason(err), err
			}
			return &identity{method: m, principal: info.SubjectDN, cert: &info}, "", nil
		}
	}
	return nil, "no_credentials", nil
}

// credentialsOf reads the client id and secret: HTTP Basic (RFC 7617) in
// Authorization, or the two configured headers. presented is false when
// the request carries neither.
func (h *handler) credentialsOf(req *apigw.Request) (id, secret string, presented bool, err error) {
	if h.idHeader != "" && ambiguous(req, h.idHeader, h.secretHeader) || h.idHeader == "" && ambiguous(req, "authorization") {
		return "", "", true, errAmbiguousCredential
	}
	if h.idHeader != "" {
		id, secret = req.Headers[h.idHeader], req.Headers[h.secretHeader]
		if id == "" && secret == "" {
			return "", "", false, nil
		}
		if id == "" || secret == "" {
			return "", "", true, errors.New("client id or secret header missing")
		}
		return id, secret, true, nil
	}
	scheme, rest, ok := strings.Cut(req.Authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimLeft(rest, " "))
	if err != nil {
		return "", "", true, errors.New("basic credentials are not base64")
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", true, errors.New("basic credentials without ':'")
	}
	return id, secret, true, nil
}

// errAmbiguousCredential is the cause of refusing a request that presents
// a credential header under two spellings with different values (see
// apigw.Request.AmbiguousHeaders): it presented a credential, so no other
// method is tried, and which value it meant is not knowable.
var errAmbiguousCredential = errors.New("a credential header is given under two spellings with different values")

// ambiguous reports whether any of the lower-cased header names is one
// apigw left out as ambiguous.
func ambiguous(req *apigw.Request, names ...string) bool {
	for _, n := range names {
		if slices.Contains(req.AmbiguousHeaders, n) {
			return true
		}
	}
	return false
}

// signedRequest is the request as the signature verifier sees it: the path
// the client sent as API Gateway reports it, and the query raw (HTTP 2.0)
// or rebuilt in canonical form (REST, HTTP 1.0).
func signedRequest(req *apigw.Request) *httpsig.Request {
	r := &httpsig.Request{Method: req.Method, Authority: req.Headers["host"], Path: req.RequestPath, Header: req.Headers}
	switch {
	case req.Kind == apigw.HTTPv2:
		r.Query = req.RawQuery
	case len(req.MultiQuery) > 0:
		r.Query = httpsig.EncodeQuery(req.MultiQuery)
	case len(req.Query) > 0:
		q := make(map[string][]string, len(req.Query))
		for k, v := range req.Query {
			q[k] = []string{v}
		}
		r.Query = httpsig.EncodeQuery(q)
	}
	if len(req.MultiHeaders) > 0 {
		// A field sent more than once is covered as its values joined by
		// ", " (RFC 9421 Section 2.1); API Gateway's headers map keeps only
		// the last one.
		r.Header = make(map[string]string, len(req.Headers))
		for k, v := range req.Headers {
			r.Header[k] = v
		}
		for k, vs := range req.MultiHeaders {
			// A name apigw left out as ambiguous stays out: joined here in
			// the spellings' order, not the wire's, its value would be a
			// guess.
			if len(vs) > 1 && !slices.Contains(req.AmbiguousHeaders, k) {
				r.Header[k] = strings.Join(vs, ", ")
			}
		}
	}
	return r
}

func certReason(err error) string {
	switch {
	case errors.Is(err, clientcert.ErrNoCertificate):
		return "cert_missing"
	case errors.Is(err, clientcert.ErrExpired):
		return "cert_expired"
	case errors.Is(err, clientcert.ErrNotYetValid):
		return "cert_not_yet_valid"
	case errors.Is(err, clientcert.ErrNotAllowed):
		return "cert_not_allowed"
	}
	return "cert_malformed"
}

// context builds the authorizer context the backend receives: strings
// only, never a secret.
func (id *identity) context() map[string]any {
	v := map[string]any{"principal": id.principal, "authMethod": id.method}
	if id.keyID != "" {
		v["keyId"] = id.keyID
	}
	if id.clientID != "" {
		v["clientId"] = id.clientID
	}
	if id.stage != "" {
		v["secretStage"] = id.stage
	}
	if id.cert != nil {
		v["certSubject"] = id.cert.SubjectDN
		v["certSerial"] = id.cert.Serial
		if id.cert.Fingerprint != "" {
			v["certFingerprint"] = id.cert.Fingerprint
		}
	}
	return policy.Context(v)
}

func failClosed(reason string, cause error) decision {
	return decision{err: apigw.NewFailClosed(cause), outcome: "error", reason: reason, cause: cause}
}

func (h *handler) logDecision(ctx context.Context, d decision, latency time.Duration) {
	if !h.observe(ctx, d, latency) {
		return // an allow whose line is sampled out; it is counted all the same
	}
	attrs := []slog.Attr{
		slog.String("decision", d.outcome),
		slog.String("reason", d.reason),
		slog.String("event", d.kind.String()),
		slog.Float64("latencyMs", float64(latency.Microseconds())/1000),
	}
	if d.route != "" {
		attrs = append(attrs, slog.String("route", d.route))
	}
	if id := d.id; id != nil {
		attrs = append(attrs, slog.String("method", id.method), slog.String("principal", id.principal))
		if id.stage != "" {
			attrs = append(attrs, slog.String("secretStage", id.stage))
		}
	}
	level := slog.LevelInfo
	if d.outcome == "error" {
		level = slog.LevelError
	}
	if d.cause != nil {
		// Causes name reasons, keyids, client ids and dates, never a
		// secret, a signature or a hash.
		attrs = append(attrs, slog.String("err", d.cause.Error()))
	}
	h.log.LogAttrs(ctx, level, "authorizer decision", attrs...)
}
