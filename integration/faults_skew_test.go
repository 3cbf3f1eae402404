//go:build integration

package integration

import (
	"strconv"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
)

// TestFaultClockSkewAtTheEdges sends tokens from an issuer whose clock is
// ahead of or behind the authorizer's by a little less and a little more
// than the template's CLOCK_SKEW_SECONDS, and tokens whose lifetime is at
// the edge of MAX_TOKEN_LIFETIME_SECONDS, through the local gateway. Inside
// the edges they are allowed (200); outside they are 401, and the
// authorizer logs the exact reason.
func TestFaultClockSkewAtTheEdges(t *testing.T) {
	fs := startFaultStack(t, nil)
	fnEnv := fs.Template.Functions["TokenAuthorizerFunction"].Env
	skewS, err := strconv.Atoi(fnEnv["CLOCK_SKEW_SECONDS"])
	if err != nil || skewS < 10 {
		t.Fatalf("template CLOCK_SKEW_SECONDS = %q: want a number of seconds of at least 10", fnEnv["CLOCK_SKEW_SECONDS"])
	}
	lifeS, err := strconv.Atoi(fnEnv["MAX_TOKEN_LIFETIME_SECONDS"])
	if err != nil || lifeS < 60 {
		t.Fatalf("template MAX_TOKEN_LIFETIME_SECONDS = %q", fnEnv["MAX_TOKEN_LIFETIME_SECONDS"])
	}
	t.Logf("configured edges: clock skew %d s, max token lifetime %d s", skewS, lifeS)
	skew, life := time.Duration(skewS)*time.Second, time.Duration(lifeS)*time.Second
	// margin keeps each case clear of its edge despite whole-second claims
	// and the time a request takes.
	const margin = 5 * time.Second
	in, out := skew-margin, skew+margin

	type claimsAt func(now time.Time) map[string]any
	base := func(now time.Time, iat, exp time.Time) map[string]any {
		return map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "skew", "scope": "orders:read",
			"iat": iat.Unix(), "exp": exp.Unix()}
	}
	cases := []struct {
		name   string
		claims claimsAt
		code   int
		reason string
	}{
		{"issuer behind: expired inside the skew", func(n time.Time) map[string]any { return base(n, n.Add(-time.Hour), n.Add(-in)) }, 200, "ok"},
		{"issuer behind: expired beyond the skew", func(n time.Time) map[string]any { return base(n, n.Add(-time.Hour), n.Add(-out)) }, 401, "expired"},
		{"issuer ahead: iat inside the skew", func(n time.Time) map[string]any { return base(n, n.Add(in), n.Add(time.Hour)) }, 200, "ok"},
		{"issuer ahead: iat beyond the skew", func(n time.Time) map[string]any { return base(n, n.Add(out), n.Add(time.Hour)) }, 401, "issued_in_future"},
		{"issuer ahead: nbf inside the skew", func(n time.Time) map[string]any {
			c := base(n, n, n.Add(time.Hour))
			c["nbf"] = n.Add(in).Unix()
			return c
		}, 200, "ok"},
		{"issuer ahead: nbf beyond the skew", func(n time.Time) map[string]any {
			c := base(n, n, n.Add(time.Hour))
			c["nbf"] = n.Add(out).Unix()
			return c
		}, 401, "not_yet_valid"},
		{"lifetime exactly the maximum, issued ahead inside the skew", func(n time.Time) map[string]any {
			return base(n, n.Add(in), n.Add(in+life))
		}, 200, "ok"},
		{"lifetime one second over the maximum", func(n time.Time) map[string]any { return base(n, n, n.Add(life+time.Second)) }, 401, "lifetime_too_long"},
		// The template turns revocation checks on, which need iat: a token
		// without one is refused whatever its exp (shared/token's tests
		// cover the exp-now cap that applies without revocation checks).
		{"no iat, with revocation checks on", func(n time.Time) map[string]any {
			c := base(n, n, n.Add(time.Hour))
			delete(c, "iat")
			return c
		}, 401, "missing_claim"},
	}
	_, offset := fs.decisions(0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := fs.Keys.Current.Sign(tc.claims(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
				got := fs.fire(path, tok)
				if got.code != tc.code {
					t.Errorf("GET %s = %d %s, want %d", path, got.code, got.body, tc.code)
				}
				var recs []map[string]any
				for deadline := time.Now().Add(2 * time.Second); len(recs) == 0 && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
					recs, offset = fs.decisions(offset)
				}
				if len(recs) != 1 || recs[0]["reason"] != tc.reason {
					t.Errorf("GET %s: decision records %v, want one with reason %q", path, recs, tc.reason)
				}
			}
		})
	}
}
