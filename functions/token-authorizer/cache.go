package main

import (
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/token"
)

// verdict is what the handler derives from a verified token's claims
// alone, and so what the decision cache keeps per token: the route and
// event of each request are applied to it afresh. It is shared between
// responses and must not be modified.
//
// The revocation check is not part of it: it runs on every request, hit or
// miss, so a revocation takes effect, and a revocation view that is too
// stale fails closed, exactly as without the cache. Cached entries are also
// stamped with the view's generation and dropped when it changes.
type verdict struct {
	allowed []policy.Rule
	context map[string]any
	usage   string // usageIdentifierKey; "" when none
}

// verdict derives the verdict for c.
func (h *handler) verdict(c *token.Claims) verdict {
	v := verdict{allowed: h.rules.Entitled(c.Scopes, c.Groups), context: h.context(c)}
	if h.usageClaim != "" {
		if x, ok := c.Value(h.usageClaim); ok {
			if s, ok := x.(string); ok {
				v.usage = s
			}
		}
	}
	return v
}

// generationer is the part of a revocation view that stamps cached
// verdicts; *revocation.View implements it.
type generationer interface{ Generation() uint64 }

// generation returns the revocation view's generation, or 0 when
// revocation checks are off (or the view does not count generations).
func (h *handler) generation() uint64 {
	if g, ok := h.revoked.(generationer); ok {
		return g.Generation()
	}
	return 0
}
