//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/signer"
)

const methodArn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/orders"

var routes = `[{"route":"GET /orders","scopes":["orders:read"]},{"route":"POST /admin/users","scopes":["admin"]}]`

// tokenEvent is a REST TOKEN authorizer event.
func tokenEvent(t *testing.T, tok string) []byte {
	return mustJSON(t, map[string]string{"type": "TOKEN", "authorizationToken": "Bearer " + tok, "methodArn": methodArn})
}

// decide returns "allow", "deny", "unauthorized" or "error:<type>".
func decide(t *testing.T, f *rie.Function, tok string) string {
	t.Helper()
	res := invoke(t, f, tokenEvent(t, tok))
	if res.Err != nil {
		if res.Err.Message == "Unauthorized" {
			return "unauthorized"
		}
		return "error:" + res.Err.Type
	}
	var out struct {
		PrincipalID    string          `json:"principalId"`
		PolicyDocument json.RawMessage `json:"policyDocument"`
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("answer %s: %v", res.Payload, err)
	}
	doc, err := policy.ParseDocument(out.PolicyDocument)
	if err != nil {
		t.Fatalf("policy %s: %v", out.PolicyDocument, err)
	}
	if policy.Evaluate(doc, methodArn) == policy.Allow {
		return "allow"
	}
	return "deny"
}

func claims(scope string) map[string]any {
	return demo.Claims("alice", scope, time.Hour)
}

func TestTokenAuthorizerUnderEmulator(t *testing.T) {
	needTools(t)
	m := startMoto(t)
	ctx := context.Background()
	sm := demo.LocalSecrets(m.Endpoint)
	keys, err := demo.Seed(ctx, sm, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if keys.Previous == nil || keys.Previous.KeyID() == keys.Current.KeyID() {
		t.Fatalf("seeded secret lacks a distinct AWSPREVIOUS key")
	}
	f := startFunction(t, "token-authorizer", build(t, "functions/token-authorizer"), map[string]string{
		"KEYS_SECRET_ID": demo.SecretName, "KEYS_ISSUER": demo.Issuer, "AUDIENCES": demo.Audience,
		"ROUTES": routes, "AWS_ENDPOINT_URL_SECRETS_MANAGER": m.Endpoint,
		"KEYS_REFRESH_COOLDOWN_SECONDS": "2",
	})
	sign := func(s *signer.Signer, c map[string]any) string {
		tok, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	t.Run("AWSCURRENT token allowed", func(t *testing.T) {
		if got := decide(t, f, sign(keys.Current, claims("orders:read"))); got != "allow" {
			t.Fatalf("decision = %s, want allow", got)
		}
	})
	t.Run("AWSPREVIOUS token allowed", func(t *testing.T) {
		if got := decide(t, f, sign(keys.Previous, claims("orders:read"))); got != "allow" {
			t.Fatalf("decision = %s, want allow", got)
		}
	})
	t.Run("valid token not entitled is denied", func(t *testing.T) {
		if got := decide(t, f, sign(keys.Current, claims("admin"))); got != "deny" {
			t.Fatalf("decision = %s, want deny", got)
		}
	})
	t.Run("unknown key is 401", func(t *testing.T) {
		set, _ := signer.Generate("ES256", 0)
		stranger, _ := signer.New(set)
		if got := decide(t, f, sign(stranger, claims("orders:read"))); got != "unauthorized" {
			t.Fatalf("decision = %s, want unauthorized", got)
		}
	})
	for name, tok := range attacks(t, keys.Current) {
		t.Run("attack "+name, func(t *testing.T) {
			if got := decide(t, f, tok); got != "unauthorized" {
				t.Fatalf("decision = %s, want unauthorized", got)
			}
		})
	}
	t.Run("rotated key accepted within the cool-down without restart", func(t *testing.T) {
		set, err := signer.Generate("ES256", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(demo.SecretName), SecretString: aws.String(string(set)),
		}); err != nil {
			t.Fatal(err)
		}
		next, _ := signer.New(set)
		tok := sign(next, claims("orders:read"))
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := decide(t, f, tok)
			if got == "allow" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("new AWSCURRENT key still refused after 5 s (cool-down 2 s): %s", got)
			}
			time.Sleep(250 * time.Millisecond)
		}
		// The key that was AWSCURRENT is now AWSPREVIOUS and keeps verifying.
		if got := decide(t, f, sign(keys.Current, claims("orders:read"))); got != "allow" {
			t.Fatalf("old AWSCURRENT (now AWSPREVIOUS) = %s, want allow", got)
		}
	})
	t.Run("moto stopped after warm-up: still verifies with held keys", func(t *testing.T) {
		m.Stop()
		keys2, _ := demo.Load(ctx, sm) // fails: moto is gone
		_ = keys2
		if got := decide(t, f, sign(keys.Current, claims("orders:read"))); got != "allow" {
			t.Fatalf("decision = %s, want allow", got)
		}
		set, _ := signer.Generate("ES256", 0)
		stranger, _ := signer.New(set)
		if got := decide(t, f, sign(stranger, claims("orders:read"))); got != "unauthorized" {
			t.Fatalf("unknown key with Secrets Manager down = %s, want unauthorized", got)
		}
	})
}

// attacks returns tokens that must never verify.
func attacks(t *testing.T, s *signer.Signer) map[string]string {
	t.Helper()
	b64 := base64.RawURLEncoding
	enc := func(v any) string { return b64.EncodeToString(mustJSON(t, v)) }
	now := time.Now()
	body := map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "mallory", "scope": "orders:read admin",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	valid, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	hmacSign := func(header, payload string, key []byte) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(header + "." + payload))
		return header + "." + payload + "." + b64.EncodeToString(mac.Sum(nil))
	}
	// The public key of the current signing key, as an attacker can fetch it.
	pubSet, err := s.Public()
	if err != nil {
		t.Fatal(err)
	}
	pubKeys, err := keyring.ParseKeys(pubSet, "jwks")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pubKeys[0].Material)
	payload := enc(body)
	attackerSet, _ := signer.Generate("HS256", 0)
	var attackerJWK struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal(attackerSet, &attackerJWK)
	attackerKey, _ := b64.DecodeString(attackerJWK.Keys[0]["k"].(string))
	// An attacker's own ES256 key, named by the real kid and offered in the
	// header three ways: the authorizer must look up the real key by kid
	// and so refuse the attacker's signature.
	evilSet, err := signer.Generate("ES256", 0)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := signer.New(evilSet)
	if err != nil {
		t.Fatal(err)
	}
	evilPub, err := evil.Public()
	if err != nil {
		t.Fatal(err)
	}
	var evilJWK struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(evilPub, &evilJWK); err != nil || len(evilJWK.Keys) != 1 {
		t.Fatalf("attacker public set %s: %v", evilPub, err)
	}
	selfNamed := func(member, value string) string {
		return resign(t, evil, `{"alg":"ES256","kid":"`+s.KeyID()+`","`+member+`":`+value+`}`, payload)
	}
	// The signature segment with its unused low bits set: it decodes to
	// the same bytes under a lenient decoder, but is not canonical.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := parts[2]
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	nonCanonical := sig[:len(sig)-1] + string(alphabet[last|0b11])
	if nonCanonical == sig {
		nonCanonical = sig[:len(sig)-1] + string(alphabet[last&^0b11|0b01])
	}
	if a, b := mustDecode(t, sig), mustDecodeLenient(t, nonCanonical); !bytes.Equal(a, b) {
		t.Fatal("the non-canonical segment must decode to the same signature under a lenient decoder")
	}

	return map[string]string{
		"alg none":                  enc(map[string]any{"alg": "none", "typ": "JWT", "kid": s.KeyID()}) + "." + payload + ".",
		"alg NoNe":                  enc(map[string]any{"alg": "NoNe", "kid": s.KeyID()}) + "." + payload + ".",
		"HS256 with the public key": hmacSign(enc(map[string]any{"alg": "HS256", "kid": s.KeyID()}), payload, der),
		"embedded jwk":              hmacSign(enc(map[string]any{"alg": "HS256", "jwk": attackerJWK.Keys[0]}), payload, attackerKey),
		"jku":                       hmacSign(enc(map[string]any{"alg": "HS256", "kid": attackerJWK.Keys[0]["kid"], "jku": "https://evil.example.com/jwks.json"}), payload, attackerKey),
		"unknown crit":              hmacSign(enc(map[string]any{"alg": "ES256", "kid": s.KeyID(), "crit": []string{"exp2"}, "exp2": 1}), payload, attackerKey),
		"crit on valid signature":   resign(t, s, `{"alg":"ES256","kid":"`+s.KeyID()+`","crit":["zip2"],"zip2":1}`, payload),
		"duplicate header alg":      resign(t, s, `{"alg":"ES256","kid":"`+s.KeyID()+`","alg":"none"}`, payload),
		"duplicate claim sub":       resign(t, s, `{"alg":"ES256","kid":"`+s.KeyID()+`"}`, b64.EncodeToString([]byte(`{"iss":"`+demo.Issuer+`","aud":"`+demo.Audience+`","sub":"alice","sub":"admin","exp":`+jsonNum(now.Add(time.Hour).Unix())+`}`))),
		"padded segment":            parts[0] + "=." + parts[1] + "." + parts[2],
		"tampered payload":          parts[0] + "." + enc(map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "root", "exp": now.Add(time.Hour).Unix()}) + "." + parts[2],
		"expired":                   mustSign(t, s, map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "alice", "scope": "orders:read", "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}),
		"exp as string":             resign(t, s, `{"alg":"ES256","kid":"`+s.KeyID()+`"}`, b64.EncodeToString([]byte(`{"iss":"`+demo.Issuer+`","aud":"`+demo.Audience+`","sub":"alice","exp":"`+jsonNum(now.Add(time.Hour).Unix())+`"}`))),
		"oversized":                 mustSign(t, s, map[string]any{"iss": demo.Issuer, "aud": demo.Audience, "sub": "alice", "exp": now.Add(time.Hour).Unix(), "pad": strings.Repeat("A", 9000)}),
		"wrong audience":            mustSign(t, s, map[string]any{"iss": demo.Issuer, "aud": "api://other", "sub": "alice", "exp": now.Add(time.Hour).Unix()}),
		"embedded jwk, real kid":    selfNamed("jwk", string(evilJWK.Keys[0])),
		"jku, real kid":             selfNamed("jku", `"https://evil.example.com/jwks.json"`),
		"x5u, real kid":             selfNamed("x5u", `"https://evil.example.com/cert.pem"`),
		"non-canonical base64url":   parts[0] + "." + parts[1] + "." + nonCanonical,
		"JWE five segments":         parts[0] + "." + parts[1] + "." + parts[2] + ".AAAA.BBBB",
	}
}

func resign(t *testing.T, s *signer.Signer, header, payloadSegment string) string {
	t.Helper()
	tok, err := s.SignRaw([]byte(header), payloadSegment)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustSign(t *testing.T, s *signer.Signer, c map[string]any) string {
	t.Helper()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustDecode(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecodeLenient(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonNum(n int64) string { return strconv.FormatInt(n, 10) }
