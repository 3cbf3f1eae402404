package token_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/token"
)

var knownReasons = map[token.Reason]bool{
	token.ReasonMalformed: true, token.ReasonTooLarge: true, token.ReasonUnsupportedAlg: true,
	token.ReasonUnknownKey: true, token.ReasonBadSignature: true, token.ReasonExpired: true,
	token.ReasonNotYetValid: true, token.ReasonIssuedInFuture: true, token.ReasonLifetimeTooLong: true,
	token.ReasonBadIssuer: true, token.ReasonBadAudience: true, token.ReasonBadClient: true,
	token.ReasonBadTokenUse: true, token.ReasonMissingClaim: true, token.ReasonUnknownCrit: true,
	token.ReasonKeysUnavailable: true,
}

// FuzzVerify checks that no input panics, that every refusal carries a
// known Reason and keeps the token out of its message, and that nothing
// verifies unless one of the keys really signed it (checked independently
// with the standard library).
func FuzzVerify(f *testing.F) {
	c := baseClaims()
	for _, alg := range []string{"HS256", "ES256", "EdDSA", "RS256", "PS256", "HS512"} {
		f.Add(signWith(f, alg, c.json()))
	}
	f.Add(signWith(f, "HS256", c.with("aud", []string{"x", "api"}).with("scp", []string{"a"}).json()))
	f.Add(signWith(f, "HS256", c.with("exp", 1).json()))
	f.Add(signWith(f, "HS256", c.json(), `"crit":["b64"]`, `"b64":false`))
	f.Add(segs(header("none", ""), c.json(), nil))
	f.Add(segs(`{"alg":"HS256","alg":"none"}`, c.json(), make([]byte, 32)))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	v := newVerifier(f, keySource(f))
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := v.Verify(context.Background(), raw)
		if err != nil {
			if claims != nil {
				t.Fatalf("Verify returned claims and error %v", err)
			}
			if r := token.ReasonOf(err); !knownReasons[r] {
				t.Fatalf("reason %q of %v is not a known Reason", r, err)
			}
			msg := err.Error()
			for _, seg := range strings.Split(raw, ".") {
				if len(seg) >= 16 && strings.Contains(msg, seg) {
					t.Fatalf("error %q contains a token segment", msg)
				}
			}
			return
		}
		if !oracleVerify(t, raw) {
			t.Fatalf("Verify(%q) succeeded but no key signed it", raw)
		}
		if claims == nil || claims.Subject == "" || claims.Expiry.IsZero() || claims.Issuer == "" {
			t.Fatalf("Verify(%q) = %+v, want complete claims", raw, claims)
		}
		if sub, ok := claims.Value("sub"); !ok || sub != claims.Subject {
			t.Fatalf("Value(sub) = %v, %v; want %q", sub, ok, claims.Subject)
		}
	})
}
