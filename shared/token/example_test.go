package token_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

// staticKeys is a KeySource over a fixed list of keys, as a test or a
// local tool might use; the real one is package keyring.
type staticKeys []keyring.Key

func (s staticKeys) Key(_ context.Context, _, kid string) (keyring.Key, error) {
	for _, k := range s {
		if k.ID == kid {
			return k, nil
		}
	}
	return keyring.Key{}, fmt.Errorf("kid %q: %w", kid, token.ErrUnknownKey)
}

// hs256 signs claims (raw JSON) with secret, as an issuer would.
func hs256(kid string, secret []byte, claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64([]byte(`{"alg":"HS256","kid":"`+kid+`"}`)) + "." + b64([]byte(claims))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

func ExampleVerifier_Verify() {
	secret := []byte("0123456789abcdef0123456789abcdef") // 256 bits
	keys := staticKeys{{ID: "k1", Alg: "HS256", Material: secret, Origin: "AWSCURRENT"}}
	now := time.Unix(1_800_000_000, 0)

	// At init: one Verifier, shared by every invocation.
	v, err := token.NewVerifier(keys,
		[]token.Issuer{{Issuer: "https://issuer.example", Audiences: []string{"orders-api"}}},
		token.WithClockSkew(30*time.Second),
		token.WithMaxLifetime(time.Hour),
		token.WithClock(func() time.Time { return now }),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Per request.
	raw := hs256("k1", secret, `{"iss":"https://issuer.example","sub":"user-42","aud":"orders-api",`+
		`"exp":1800000300,"scope":"orders:read orders:write","tenant":"acme"}`)
	claims, err := v.Verify(context.Background(), raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	tenant, _ := claims.Value("tenant")
	fmt.Println(claims.Subject, claims.Scopes, tenant, claims.Expiry.Sub(now))

	// Refusals carry a Reason for logs and metrics.
	parts := strings.Split(raw, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(
		`{"iss":"https://issuer.example","sub":"admin","aud":"orders-api","exp":1800000300}`)) + "." + parts[2]
	expired := hs256("k1", secret, `{"iss":"https://issuer.example","sub":"user-42","aud":"orders-api","exp":1799999000}`)
	rotated := hs256("k2", secret, `{"iss":"https://issuer.example","sub":"user-42","aud":"orders-api","exp":1800000300}`)
	for _, tok := range []string{forged, expired, rotated, "not a token"} {
		_, err := v.Verify(context.Background(), tok)
		r := token.ReasonOf(err)
		status := 401
		if r.ServerFault() {
			status = 500
		}
		fmt.Println(r, status)
	}
	// Output:
	// user-42 [orders:read orders:write] acme 5m0s
	// bad_signature 401
	// expired 401
	// unknown_key 401
	// malformed 401
}
