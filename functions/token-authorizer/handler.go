package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/token"
)

// verifier checks a raw JWT.
type verifier interface {
	Verify(ctx context.Context, raw string) (*token.Claims, error)
}

// revocations answers whether a verified token was revoked, from a local
// view of the revocation table (no table call on the hot path).
type revocations interface {
	Check(ctx context.Context, issuer, sub, jti string, issuedAt time.Time) (bool, error)
}

// handler decides one authorizer event.
type handler struct {
	verify        verifier
	revoked       revocations                   // nil: revocation checks are off
	cache         *token.DecisionCache[verdict] // nil: no decision cache
	rules         *policy.Rules
	simple        bool // HTTP API 2.0 events get {"isAuthorized":…}
	contextClaims []string
	usageClaim    string
	log           *slog.Logger
	now           func() time.Time
	obs           *observer // nil: no metrics, every decision logged (metrics.go)
}

// decision is what handle answers and logs.
type decision struct {
	resp    any
	err     error
	outcome string // allow, deny, unauthorized, error
	reason  string // a fixed set: ok, not_entitled, no_token, revoked, revocations_unavailable, malformed_event, bad_arn, and token.Reason values
	kind    apigw.Kind
	claims  *token.Claims
	cached  bool  // the verdict came from the decision cache
	cause   error // for the log only
}

// handle answers one authorizer event: a policy or simple response, the
// error "Unauthorized" (API Gateway's 401), or a FailClosed error (500).
func (h *handler) handle(ctx context.Context, payload json.RawMessage) (any, error) {
	start := h.now()
	ctx, cancel := beforeDeadline(ctx, start)
	defer cancel()
	d := h.decide(ctx, payload)
	h.logDecision(ctx, d, h.now().Sub(start))
	return d.resp, d.err
}

func (h *handler) decide(ctx context.Context, payload []byte) decision {
	req, err := apigw.Decode(payload)
	if err != nil {
		return failClosed("malformed_event", err)
	}
	arn, err := policy.ParseARN(req.ARN)
	if err != nil {
		return failClosed("bad_arn", err)
	}
	raw, err := apigw.BearerToken(req.Authorization)
	if err != nil {
		return decision{err: apigw.ErrUnauthorized, outcome: "unauthorized", reason: "no_token", kind: req.Kind}
	}
	gen := h.generation()
	v, claims, cached := h.cache.Get(ctx, raw, gen)
	if !cached {
		claims, err = h.verify.Verify(ctx, raw)
	}
	if err != nil {
		reason := token.ReasonOf(err)
		if reason == token.ReasonKeysUnavailable {
			d := failClosed(string(reason), err)
			d.kind = req.Kind
			return d
		}
		return decision{err: apigw.ErrUnauthorized, outcome: "unauthorized", reason: string(reason), kind: req.Kind, cause: err}
	}

	if h.revoked != nil {
		if claims.IssuedAt.IsZero() {
			// A subject revocation refuses the tokens issued before it, for
			// as long as its entry lasts (the longest token lifetime): a
			// token without iat has no issue time to compare, and one with a
			// far exp would outlive every entry.
			return decision{err: apigw.ErrUnauthorized, outcome: "unauthorized", reason: string(token.ReasonMissingClaim),
				kind: req.Kind, claims: claims, cause: errNoIssuedAt}
		}
		revoked, err := h.revoked.Check(ctx, claims.Issuer, claims.Subject, claims.ID, claims.IssuedAt)
		if err != nil {
			d := failClosed("revocations_unavailable", err)
			d.kind, d.claims = req.Kind, claims
			return d
		}
		if revoked {
			return decision{err: apigw.ErrUnauthorized, outcome: "unauthorized", reason: "revoked", kind: req.Kind, claims: claims}
		}
	}

	if !cached {
		v = h.verdict(claims)
		h.cache.Put(ctx, raw, claims, gen, v)
	}
	d := decision{outcome: "deny", reason: "not_entitled", kind: req.Kind, claims: claims, cached: cached}
	// The ARN names the concrete method and path (without the stage) for
	// every event kind, so route selection works the same for all of them.
	if rule, ok := h.rules.Match(arn.Method, "/"+arn.Resource); ok && contains(v.allowed, rule) {
		d.outcome, d.reason = "allow", "ok"
	}
	if req.Kind == apigw.HTTPv2 && h.simple {
		d.resp = events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: d.outcome == "allow", Context: v.context}
		return d
	}
	d.resp = events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:        claims.Subject,
		PolicyDocument:     apigw.PolicyDocument(h.rules.Policy(arn, v.allowed)),
		Context:            v.context,
		UsageIdentifierKey: v.usage,
	}
	return d
}

// errNoIssuedAt is why a token without iat is refused while revocation
// checks are on.
var errNoIssuedAt = errors.New("no iat claim, which revocation checks need")

// maxMargin is how long before the invocation's deadline the handler stops
// waiting for Secrets Manager, a JWKS endpoint or DynamoDB. Each of those
// calls has its own bounds, but in sequence (and with the SDK's retries)
// they can add up to more than the function timeout, and API Gateway gives
// up on an authorizer after 10 s. Answering in time matters twice: a timed
// out invocation is a 500 anyway, and Lambda then re-initialises the
// execution environment, dropping every key and revocation it held.
const maxMargin = time.Second

// beforeDeadline bounds ctx to end a margin before the invocation's
// deadline: maxMargin, or a quarter of the time left for very short
// timeouts. Work on the hot path (keys held) never waits on ctx.
func beforeDeadline(ctx context.Context, now time.Time) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	margin := max(0, min(maxMargin, deadline.Sub(now)/4))
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

func failClosed(reason string, cause error) decision {
	return decision{err: apigw.NewFailClosed(cause), outcome: "error", reason: reason, cause: cause}
}

// context builds the authorizer context the backend receives: only strings,
// numbers and booleans, as API Gateway requires.
func (h *handler) context(c *token.Claims) map[string]any {
	v := map[string]any{"sub": c.Subject, "iss": c.Issuer}
	if len(c.Scopes) > 0 {
		v["scope"] = strings.Join(c.Scopes, " ")
	}
	if c.ClientID != "" {
		v["client_id"] = c.ClientID
	}
	if c.TokenUse != "" {
		v["token_use"] = c.TokenUse
	}
	if len(c.Groups) > 0 {
		v["groups"] = strings.Join(c.Groups, ",")
	}
	for _, name := range h.contextClaims {
		if _, taken := v[name]; taken {
			continue
		}
		if x, ok := c.Value(name); ok {
			v[name] = x
		}
	}
	return policy.Context(v)
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
	if d.claims != nil {
		attrs = append(attrs, slog.String("kid", d.claims.KeyID), slog.String("iss", d.claims.Issuer), slog.String("sub", d.claims.Subject))
	}
	if d.cached {
		attrs = append(attrs, slog.Bool("cached", true))
	}
	level := slog.LevelInfo
	if d.outcome == "error" {
		level = slog.LevelError
		if d.cause != nil {
			attrs = append(attrs, slog.String("err", d.cause.Error()))
		}
	}
	h.log.LogAttrs(ctx, level, "authorizer decision", attrs...)
}

func contains(rules []policy.Rule, r policy.Rule) bool {
	for _, x := range rules {
		if x.Route == r.Route {
			return true
		}
	}
	return false
}
