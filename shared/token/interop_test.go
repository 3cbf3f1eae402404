package token_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/apigw-guard/guard/shared/token"
)

// TestJWXInterop checks that tokens jwx v3 signs verify here, for every
// algorithm, and that the test signer's tokens verify with jwx, so the
// rest of the suite tests against a correct signer.
func TestJWXInterop(t *testing.T) {
	v := newVerifier(t, keySource(t))
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := keys(t).byAlg[alg]
			jalg, ok := jwa.LookupSignatureAlgorithm(alg)
			if !ok {
				t.Fatalf("jwx has no algorithm %s", alg)
			}

			tok, err := jwt.NewBuilder().
				Issuer(issMain).
				Subject("jwx-user").
				Audience([]string{"other-api", "api"}).
				IssuedAt(now).
				Expiration(now.Add(time.Hour)).
				JwtID("jwx-"+alg).
				Claim("scope", "read write").
				Claim("tenant", "acme").
				Build()
			if err != nil {
				t.Fatal(err)
			}
			hdrs := jws.NewHeaders()
			if err := hdrs.Set(jws.KeyIDKey, k.kid); err != nil {
				t.Fatal(err)
			}
			signed, err := jwt.Sign(tok, jwt.WithKey(jalg, k.priv, jws.WithProtectedHeaders(hdrs)))
			if err != nil {
				t.Fatalf("jwt.Sign: %v", err)
			}
			c, err := v.Verify(context.Background(), string(signed))
			if err != nil {
				t.Fatalf("Verify(jwx %s token): %v", alg, err)
			}
			if c.Subject != "jwx-user" || c.ID != "jwx-"+alg || c.KeyID != k.kid || c.Alg != alg ||
				!slices.Equal(c.Audience, []string{"other-api", "api"}) || !slices.Equal(c.Scopes, []string{"read", "write"}) ||
				!c.Expiry.Equal(now.Add(time.Hour)) || !c.IssuedAt.Equal(now) {
				t.Errorf("claims = %+v, want those jwx signed", c)
			}

			// jwx-signed, then tampered: refused.
			tampered := append([]byte(nil), signed...)
			tampered[len(tampered)/2] ^= 'A' ^ 'B'
			if _, err := v.Verify(context.Background(), string(tampered)); err == nil {
				t.Error("tampered jwx token verified, want an error")
			}

			// The test signer's token verifies with jwx.
			ours := signWith(t, alg, baseClaims().json())
			if _, err := jws.Verify([]byte(ours), jws.WithKey(jalg, k.key.Material)); err != nil {
				t.Errorf("jws.Verify(test signer's %s token): %v", alg, err)
			}
		})
	}

	t.Run("jwx token with a foreign kid", func(t *testing.T) {
		k := keys(t).byAlg["ES256"]
		hdrs := jws.NewHeaders()
		if err := hdrs.Set(jws.KeyIDKey, "not-ours"); err != nil {
			t.Fatal(err)
		}
		signed, err := jws.Sign([]byte(baseClaims().json()), jws.WithKey(jwa.ES256(), k.priv, jws.WithProtectedHeaders(hdrs)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), string(signed)); token.ReasonOf(err) != token.ReasonUnknownKey {
			t.Errorf("reason = %q, want %q", token.ReasonOf(err), token.ReasonUnknownKey)
		}
	})
}
