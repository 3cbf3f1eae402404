package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

type verifyCase struct {
	name string
	tok  string
	want token.Reason // "" means the token verifies
	v    *token.Verifier
}

// segs joins raw header, claims and signature bytes into a token.
func segs(header, claims string, sig []byte) string {
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc(sig)
}

// replaceSeg replaces segment i of tok.
func replaceSeg(tok string, i int, seg string) string {
	parts := strings.Split(tok, ".")
	parts[i] = seg
	return strings.Join(parts, ".")
}

// nonCanonical changes the last character of an unpadded base64url
// segment so that it decodes to the same bytes with non-zero trailing bits.
func nonCanonical(tb testing.TB, seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		tb.Fatalf("segment of length %d has no trailing bits", len(seg))
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

func TestVerify(t *testing.T) {
	f := keys(t)
	ks := keySource(t)
	v := newVerifier(t, ks)
	c := baseClaims()
	rs := signWith(t, "RS256", c.json())
	rsParts := strings.Split(rs, ".")
	es := keys(t).byAlg["ES256"]

	var cases []verifyCase
	add := func(name, tok string, want token.Reason) {
		cases = append(cases, verifyCase{name: name, tok: tok, want: want})
	}

	// Every algorithm verifies, signed by the test signer.
	for _, alg := range allAlgs {
		add("valid "+alg, signWith(t, alg, c.json()), "")
	}
	add("valid restricted issuer PS256", signWith(t, "PS256", c.with("iss", issRestricted).json()), "")

	// Size and structure.
	add("too large garbage", strings.Repeat("!", token.DefaultMaxTokenSize+1), token.ReasonTooLarge)
	add("too large valid", signWith(t, "HS256", c.with("pad", strings.Repeat("x", token.DefaultMaxTokenSize)).json()), token.ReasonTooLarge)
	add("empty", "", token.ReasonMalformed)
	add("two segments", rsParts[0]+"."+rsParts[1], token.ReasonMalformed)
	add("four segments", rs+".AAAA", token.ReasonMalformed)
	add("JWE five segments", rsParts[0]+".AAAA.AAAA."+rsParts[1]+"."+rsParts[2], token.ReasonMalformed)
	add("plus sign", replaceSeg(rs, 2, "+"+rsParts[2][1:]), token.ReasonMalformed)
	add("slash", replaceSeg(rs, 2, "/"+rsParts[2][1:]), token.ReasonMalformed)
	add("space", " "+rs, token.ReasonMalformed)
	add("newline in segment", replaceSeg(rs, 1, rsParts[1][:10]+"\n"+rsParts[1][10:]), token.ReasonMalformed)
	add("carriage return in segment", replaceSeg(rs, 2, rsParts[2][:10]+"\r"+rsParts[2][10:]), token.ReasonMalformed)
	add("tab in segment", replaceSeg(rs, 0, rsParts[0][:4]+"\t"+rsParts[0][4:]), token.ReasonMalformed)
	add("NUL in segment", replaceSeg(rs, 1, rsParts[1][:4]+"\x00"+rsParts[1][4:]), token.ReasonMalformed)
	add("non-ASCII in segment", replaceSeg(rs, 1, rsParts[1][:4]+"é"+rsParts[1][4:]), token.ReasonMalformed)
	add("padded segment", rs+"==", token.ReasonMalformed)
	padded := base64.URLEncoding.EncodeToString([]byte(header("RS256", "rs256") + " "))
	if !strings.HasSuffix(padded, "=") {
		padded = base64.URLEncoding.EncodeToString([]byte(header("RS256", "rs256") + "  "))
	}
	add("padded header", replaceSeg(rs, 0, padded), token.ReasonMalformed)
	add("non-canonical last char", replaceSeg(rs, 2, nonCanonical(t, rsParts[2])), token.ReasonMalformed)
	add("impossible length", replaceSeg(rs, 0, rsParts[0]+"A"), token.ReasonMalformed)

	// Header.
	hs := f.byAlg["HS256"]
	add("header not JSON", sign("HS256", hs.priv, `{"alg":"HS256"`, c.json()), token.ReasonMalformed)
	add("header array", sign("HS256", hs.priv, `["HS256"]`, c.json()), token.ReasonMalformed)
	add("header empty", sign("HS256", hs.priv, ``, c.json()), token.ReasonMalformed)
	add("duplicate alg in header", sign("HS256", hs.priv, `{"alg":"RS256","kid":"hs256","alg":"HS256"}`, c.json()), token.ReasonMalformed)
	add("duplicate escaped alg in header", sign("HS256", hs.priv, `{"alg":"HS256","kid":"hs256","\u0061lg":"HS256"}`, c.json()), token.ReasonMalformed)
	add("alg missing", sign("HS256", hs.priv, `{"kid":"hs256"}`, c.json()), token.ReasonMalformed)
	add("alg not a string", sign("HS256", hs.priv, `{"alg":256,"kid":"hs256"}`, c.json()), token.ReasonMalformed)
	add("kid not a string", sign("HS256", hs.priv, `{"alg":"HS256","kid":7}`, c.json()), token.ReasonMalformed)
	for _, none := range []string{"none", "NONE", "nOnE", "None"} {
		add("alg "+none+" unsigned", segs(header(none, ""), c.json(), nil), token.ReasonUnsupportedAlg)
		add("alg "+none+" with kid and junk signature", segs(header(none, "rs256"), c.json(), []byte("junk")), token.ReasonUnsupportedAlg)
	}
	add("alg unknown", segs(header("HS1", "hs256"), c.json(), make([]byte, 32)), token.ReasonUnsupportedAlg)
	add("alg wrong case", sign("HS256", hs.priv, header("hs256", "hs256"), c.json()), token.ReasonUnsupportedAlg)
	add("crit", signWith(t, "HS256", c.json(), `"crit":["exp"]`, `"exp":1`), token.ReasonUnknownCrit)
	add("crit b64", signWith(t, "HS256", c.json(), `"crit":["b64"]`, `"b64":true`), token.ReasonUnknownCrit)
	add("crit empty", signWith(t, "HS256", c.json(), `"crit":[]`), token.ReasonUnknownCrit)
	add("b64 false", signWith(t, "HS256", c.json(), `"b64":false`), token.ReasonMalformed)
	add("b64 not a bool", signWith(t, "HS256", c.json(), `"b64":"false"`), token.ReasonMalformed)
	add("b64 true ignored", signWith(t, "HS256", c.json(), `"b64":true`), "")
	add("unknown header member ignored", signWith(t, "HS256", c.json(), `"x-custom":{"a":[1,2]}`), "")

	// Keys and algorithm confusion.
	rsaDER, err := x509.MarshalPKIXPublicKey(&f.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})
	add("HS256 keyed with RSA public PEM", sign("HS256", rsaPEM, header("HS256", "rs256"), c.json()), token.ReasonUnsupportedAlg)
	add("HS256 keyed with RSA public DER", sign("HS256", rsaDER, header("HS256", "rs256"), c.json()), token.ReasonUnsupportedAlg)
	add("HS256 keyed with RSA modulus", sign("HS256", f.rsa.N.Bytes(), header("HS256", "rs256"), c.json()), token.ReasonUnsupportedAlg)
	add("kid of a key with another alg", sign("RS256", f.rsa, header("RS256", "es256"), c.json()), token.ReasonUnsupportedAlg)
	add("kid of same RSA key under PS256", sign("RS256", f.rsa, header("RS256", "ps256"), c.json()), token.ReasonUnsupportedAlg)
	add("alg not allowed for issuer", signWith(t, "RS256", c.with("iss", issRestricted).json()), token.ReasonUnsupportedAlg)
	add("unknown kid", sign("RS256", f.rsa, header("RS256", "nope"), c.json()), token.ReasonUnknownKey)
	add("no kid", sign("RS256", f.rsa, header("RS256", ""), c.json()), token.ReasonUnknownKey)
	weakInput := enc([]byte(header("RS256", "weak-rsa"))) + "." + enc([]byte(c.json()))
	weakSig := rawSign("RS256", f.weakRSA, []byte(weakInput))
	add("RSA key under 2048 bits", weakInput+"."+enc(weakSig), token.ReasonBadSignature) // too short for any key accepted
	add("RSA key under 2048 bits, padded signature", weakInput+"."+enc(append(make([]byte, 128), weakSig...)), token.ReasonUnsupportedAlg)
	add("HMAC key shorter than hash", sign("HS256", make([]byte, 16), header("HS256", "short-hmac"), c.json()), token.ReasonUnsupportedAlg)
	add("ES256 key on P-384", segs(header("ES256", "p384-as-es256"), c.json(), make([]byte, 64)), token.ReasonUnsupportedAlg)
	add("ES256 key on P-384, ES384 signature", sign("ES384", f.byAlg["ES384"].priv, header("ES256", "p384-as-es256"), c.json()), token.ReasonBadSignature)
	add("HS256 key holding RSA material", sign("HS256", rsaPEM, header("HS256", "hs-holding-rsa"), c.json()), token.ReasonUnsupportedAlg)
	add("ES256 key holding Ed25519 material", segs(header("ES256", "es-holding-ed"), c.json(), make([]byte, 64)), token.ReasonUnsupportedAlg)

	attackerJWK := fmt.Sprintf(`"jwk":{"kty":"EC","crv":"P-256","x":%q,"y":%q}`,
		enc(f.attacker.X.FillBytes(make([]byte, 32))), enc(f.attacker.Y.FillBytes(make([]byte, 32))))
	add("embedded jwk, real kid", sign("ES256", f.attacker, header("ES256", es.kid, attackerJWK), c.json()), token.ReasonBadSignature)
	add("embedded jwk, own kid", sign("ES256", f.attacker, header("ES256", "attacker", attackerJWK), c.json()), token.ReasonUnknownKey)
	add("embedded jwk, no kid", sign("ES256", f.attacker, header("ES256", "", attackerJWK), c.json()), token.ReasonUnknownKey)
	add("jku, own kid", sign("ES256", f.attacker, header("ES256", "attacker", `"jku":"https://evil.example/jwks.json"`), c.json()), token.ReasonUnknownKey)
	add("jku, real kid", sign("ES256", f.attacker, header("ES256", es.kid, `"jku":"https://evil.example/jwks.json"`), c.json()), token.ReasonBadSignature)
	add("x5u, real kid", sign("ES256", f.attacker, header("ES256", es.kid, `"x5u":"https://evil.example/cert.pem"`), c.json()), token.ReasonBadSignature)
	add("x5c, real kid", sign("ES256", f.attacker, header("ES256", es.kid, `"x5c":["MIIB"]`), c.json()), token.ReasonBadSignature)

	// Signatures.
	add("tampered claims", replaceSeg(rs, 1, enc([]byte(c.with("sub", "admin").json()))), token.ReasonBadSignature)
	add("tampered header", replaceSeg(rs, 0, enc([]byte(header("RS256", "rs256", `"x":1`)))), token.ReasonBadSignature)
	rsSig, err := base64.RawURLEncoding.DecodeString(rsParts[2])
	if err != nil {
		t.Fatal(err)
	}
	add("truncated signature", replaceSeg(rs, 2, enc(rsSig[:len(rsSig)-1])), token.ReasonBadSignature)
	add("empty signature", rsParts[0]+"."+rsParts[1]+".", token.ReasonBadSignature)
	add("signature one byte long", rsParts[0]+"."+rsParts[1]+".AA", token.ReasonBadSignature)
	add("RSA signature with extra byte", segs(header("RS256", "rs256"), c.json(), append(rawSign("RS256", f.rsa, []byte(rsParts[0]+"."+rsParts[1])), 0)), token.ReasonBadSignature)
	add("RSA signature bit flipped", func() string {
		sig, _ := base64.RawURLEncoding.DecodeString(rsParts[2])
		sig[100] ^= 1
		return replaceSeg(rs, 2, enc(sig))
	}(), token.ReasonBadSignature)
	esInput := enc([]byte(header("ES256", es.kid))) + "." + enc([]byte(c.json()))
	der, err := ecdsa.SignASN1(rand.Reader, es.priv.(*ecdsa.PrivateKey), digest(hashOf("ES256"), []byte(esInput)))
	if err != nil {
		t.Fatal(err)
	}
	add("ES256 signature in DER form", esInput+"."+enc(der), token.ReasonBadSignature)
	add("ES256 signature zero", esInput+"."+enc(make([]byte, 64)), token.ReasonBadSignature)
	add("ES256 signed by another key", sign("ES256", mustECDSA(elliptic.P256()), header("ES256", es.kid), c.json()), token.ReasonBadSignature)
	add("PS256 verified as RS256", sign("PS256", f.rsa, header("RS256", "rs256"), c.json()), token.ReasonBadSignature)
	add("EdDSA bit flipped", func() string {
		tok := signWith(t, "EdDSA", c.json())
		parts := strings.Split(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[0] ^= 1
		return replaceSeg(tok, 2, enc(sig))
	}(), token.ReasonBadSignature)
	add("HS256 wrong secret", sign("HS256", make([]byte, 32), header("HS256", "hs256"), c.json()), token.ReasonBadSignature)

	// Claims structure (all signed validly).
	hsTok := func(claims string) string { return signWith(t, "HS256", claims) }
	add("claims array", hsTok(`[{"iss":"`+issMain+`"}]`), token.ReasonMalformed)
	add("claims string", hsTok(`"claims"`), token.ReasonMalformed)
	add("claims empty", hsTok(``), token.ReasonMalformed)
	add("claims trailing data", hsTok(c.json()+`{}`), token.ReasonMalformed)
	add("claims invalid UTF-8", hsTok(strings.Replace(c.json(), "acme", "ac\xffme", 1)), token.ReasonMalformed)
	add("claims invalid UTF-8 in name", hsTok(strings.Replace(c.json(), `"tenant"`, "\"ten\xc3\"", 1)), token.ReasonMalformed)
	add("claims lone surrogate", hsTok(strings.Replace(c.json(), "acme", `\ud800acme`, 1)), token.ReasonMalformed)
	add("duplicate sub", hsTok(strings.Replace(c.json(), `"sub":"user-1"`, `"sub":"user-1","sub":"admin"`, 1)), token.ReasonMalformed)
	add("duplicate escaped sub", hsTok(strings.Replace(c.json(), `"sub":"user-1"`, `"sub":"user-1","\u0073ub":"admin"`, 1)), token.ReasonMalformed)
	add("duplicate nested", hsTok(strings.Replace(c.json(), `"tenant":"acme"`, `"tenant":{"a":[{"b":1,"b":2}]}`, 1)), token.ReasonMalformed)
	add("nested too deep", hsTok(strings.Replace(c.json(), `"acme"`, strings.Repeat("[", 40)+strings.Repeat("]", 40), 1)), token.ReasonMalformed)
	add("iss missing", hsTok(c.with("iss", del).json()), token.ReasonMissingClaim)
	add("iss not a string", hsTok(c.with("iss", 1).json()), token.ReasonMalformed)
	add("iss unknown", hsTok(c.with("iss", "https://evil.example").json()), token.ReasonBadIssuer)
	add("iss trailing slash", hsTok(c.with("iss", issMain+"/").json()), token.ReasonBadIssuer)
	add("iss other case", hsTok(c.with("iss", strings.ToUpper(issMain)).json()), token.ReasonBadIssuer)
	add("iss escaped", hsTok(strings.Replace(c.json(), `"iss":"https:`, `"iss":"\u0068ttps:`, 1)), "")

	// Registered claims.
	add("exp as string", hsTok(c.with("exp", fmt.Sprint(now.Add(time.Hour).Unix())).json()), token.ReasonMalformed)
	add("exp null", hsTok(c.with("exp", nil).json()), token.ReasonMalformed)
	add("exp bool", hsTok(c.with("exp", true).json()), token.ReasonMalformed)
	add("exp huge", hsTok(strings.Replace(c.json(), fmt.Sprint(now.Add(time.Hour).Unix()), "1e300", 1)), token.ReasonMalformed)
	add("exp huge integer", hsTok(strings.Replace(c.json(), fmt.Sprint(now.Add(time.Hour).Unix()), "99999999999999999999", 1)), token.ReasonMalformed)
	add("exp fractional", hsTok(c.with("exp", float64(now.Add(time.Hour).Unix())+0.5).json()), "")
	add("exp exponent form", hsTok(strings.Replace(c.json(), fmt.Sprint(now.Add(time.Hour).Unix()), "1.8000036e9", 1)), "")
	add("exp missing", hsTok(c.with("exp", del).json()), token.ReasonMissingClaim)
	add("nbf as string", hsTok(c.with("nbf", "0").json()), token.ReasonMalformed)
	add("iat as string", hsTok(c.with("iat", "0").json()), token.ReasonMalformed)
	add("sub missing", hsTok(c.with("sub", del).json()), token.ReasonMissingClaim)
	add("sub empty", hsTok(c.with("sub", "").json()), token.ReasonMissingClaim)
	add("sub not a string", hsTok(c.with("sub", 7).json()), token.ReasonMalformed)
	add("jti not a string", hsTok(c.with("jti", 7).json()), token.ReasonMalformed)
	add("scope not a string", hsTok(c.with("scope", 7).json()), token.ReasonMalformed)
	add("groups not strings", hsTok(c.with("cognito:groups", []any{"a", 1}).json()), token.ReasonMalformed)

	// Time, with 60 s of skew and a 24 h cap.
	unix := func(d time.Duration) int64 { return now.Add(d).Unix() }
	add("expired 1s beyond skew", hsTok(c.with("exp", unix(-skew-time.Second)).json()), token.ReasonExpired)
	add("expired exactly at skew", hsTok(c.with("exp", unix(-skew)).json()), token.ReasonExpired)
	add("expired within skew", hsTok(c.with("exp", unix(-skew+time.Second)).json()), "")
	add("expired long ago", hsTok(c.with("exp", 0).json()), token.ReasonExpired)
	add("nbf 1s beyond skew", hsTok(c.with("nbf", unix(skew+time.Second)).json()), token.ReasonNotYetValid)
	add("nbf within skew", hsTok(c.with("nbf", unix(skew)).json()), "")
	add("iat 1s beyond skew", hsTok(c.with("iat", unix(skew+time.Second)).json()), token.ReasonIssuedInFuture)
	add("iat within skew", hsTok(c.with("iat", unix(skew)).json()), "")
	add("exp-iat over max lifetime", hsTok(c.with("iat", unix(-time.Second)).with("exp", unix(maxLifetime)).json()), token.ReasonLifetimeTooLong)
	add("exp-iat at max lifetime", hsTok(c.with("iat", unix(0)).with("exp", unix(maxLifetime)).json()), "")
	add("exp-now over max lifetime without iat", hsTok(c.with("iat", del).with("exp", unix(maxLifetime+skew+time.Second)).json()), token.ReasonLifetimeTooLong)
	add("exp-now within max lifetime without iat", hsTok(c.with("iat", del).with("exp", unix(maxLifetime+skew)).json()), "")
	add("exp-now over max lifetime, iat in future", hsTok(c.with("iat", unix(skew)).with("exp", unix(maxLifetime+skew+time.Second)).json()), token.ReasonLifetimeTooLong)

	// Audience, client and token use.
	add("aud wrong", hsTok(c.with("aud", "wrong").json()), token.ReasonBadAudience)
	add("aud empty string", hsTok(c.with("aud", "").json()), token.ReasonBadAudience)
	add("aud array containing right one", hsTok(c.with("aud", []string{"x", "other-api"}).json()), "")
	add("aud array without right one", hsTok(c.with("aud", []string{"x", "y"}).json()), token.ReasonBadAudience)
	add("aud empty array", hsTok(c.with("aud", []string{}).json()), token.ReasonBadAudience)
	add("aud missing", hsTok(c.with("aud", del).json()), token.ReasonBadAudience)
	add("aud number", hsTok(c.with("aud", 1).json()), token.ReasonMalformed)
	add("aud array with number", hsTok(c.with("aud", []any{"api", 1}).json()), token.ReasonMalformed)
	add("aud nested array", hsTok(c.with("aud", []any{[]string{"api"}}).json()), token.ReasonMalformed)

	cog := func(claims claimSet) string {
		return sign("RS256", f.rsa, header("RS256", "cognito"), claims.json())
	}
	access := c.with("iss", issCognito).with("aud", del).with("client_id", "client-b").with("token_use", "access")
	add("cognito access token", cog(access), "")
	add("cognito client_id wrong", cog(access.with("client_id", "client-z")), token.ReasonBadClient)
	add("cognito client_id missing", cog(access.with("client_id", del)), token.ReasonBadClient)
	add("cognito client_id not a string", cog(access.with("client_id", 1)), token.ReasonMalformed)
	add("cognito aud right, client_id wrong", cog(access.with("aud", "client-a").with("client_id", "client-z")), token.ReasonBadClient)
	add("cognito aud wrong", cog(access.with("aud", "client-z")), token.ReasonBadAudience)
	add("cognito token_use id", cog(access.with("token_use", "id")), token.ReasonBadTokenUse)
	add("cognito token_use missing", cog(access.with("token_use", del)), token.ReasonBadTokenUse)
	add("cognito id token", cog(access.with("aud", "client-a").with("client_id", del).with("token_use", "id")), token.ReasonBadTokenUse)

	// Options and key sources.
	cases = append(cases,
		verifyCase{name: "custom size cap", tok: rs, want: token.ReasonTooLarge, v: newVerifier(t, ks, token.WithMaxTokenSize(100))},
		verifyCase{name: "no skew", tok: hsTok(c.with("exp", unix(-time.Second)).json()), want: token.ReasonExpired, v: newVerifier(t, ks, token.WithClockSkew(0))},
		verifyCase{name: "no lifetime cap", tok: hsTok(c.with("exp", unix(100*maxLifetime)).json()), want: "", v: newVerifier(t, ks, token.WithMaxLifetime(0))},
		verifyCase{name: "keys unavailable", tok: rs, want: token.ReasonKeysUnavailable,
			v: newVerifier(t, errKeys{fmt.Errorf("secrets manager: %w", token.ErrKeysUnavailable)})},
		verifyCase{name: "keys unavailable and unknown", tok: rs, want: token.ReasonKeysUnavailable,
			v: newVerifier(t, errKeys{errors.Join(token.ErrUnknownKey, token.ErrKeysUnavailable)})},
		verifyCase{name: "key source fails otherwise", tok: rs, want: token.ReasonKeysUnavailable, v: newVerifier(t, errKeys{errors.New("boom")})},
		verifyCase{name: "key source cancelled", tok: rs, want: token.ReasonKeysUnavailable, v: newVerifier(t, errKeys{context.Canceled})},
		verifyCase{name: "key source unknown key", tok: rs, want: token.ReasonUnknownKey, v: newVerifier(t, errKeys{fmt.Errorf("kid: %w", token.ErrUnknownKey)})},
	)

	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			vv := tc.v
			if vv == nil {
				vv = v
			}
			claims, err := vv.Verify(context.Background(), tc.tok)
			if got := token.ReasonOf(err); got != tc.want {
				t.Fatalf("reason = %q (err: %v), want %q", got, err, tc.want)
			}
			if tc.want == "" {
				if claims == nil || claims.Subject == "" {
					t.Fatalf("claims = %+v, want claims with a subject", claims)
				}
				return
			}
			if claims != nil {
				t.Errorf("claims = %+v, want nil with an error", claims)
			}
			var te *token.Error
			if !errors.As(err, &te) {
				t.Fatalf("err is %T, want *token.Error", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "token: "+string(tc.want)) {
				t.Errorf("err = %q, want it to start with %q", msg, "token: "+string(tc.want))
			}
			for _, seg := range strings.Split(tc.tok, ".") {
				if len(seg) >= 8 && strings.Contains(msg, seg) {
					t.Errorf("err = %q contains a token segment", msg)
				}
			}
			for _, secret := range []string{"user-1", "acme", "admin"} {
				if strings.Contains(msg, secret) {
					t.Errorf("err = %q contains the claim value %q", msg, secret)
				}
			}
		})
	}
}

// TestVerifySizeCap checks the cap's boundary: a valid token of exactly
// the cap verifies; one byte more does not.
func TestVerifySizeCap(t *testing.T) {
	const limit = 2000
	v := newVerifier(t, keySource(t), token.WithMaxTokenSize(limit))
	k := keys(t).byAlg["HS256"]
	var tok string
	for n := 0; len(tok) != limit && n < limit; n++ {
		for m := 0; m < 4 && len(tok) != limit; m++ {
			hdr := header("HS256", k.kid, `"p":"`+strings.Repeat("y", m)+`"`)
			tok = sign("HS256", k.priv, hdr, baseClaims().with("pad", strings.Repeat("x", n)).json())
		}
	}
	if len(tok) != limit {
		t.Fatalf("could not build a token of exactly %d bytes", limit)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("token of %d bytes: %v, want it to verify", len(tok), err)
	}
	tok = signWith(t, "HS256", baseClaims().with("pad", strings.Repeat("x", limit)).json())
	if _, err := v.Verify(context.Background(), tok); token.ReasonOf(err) != token.ReasonTooLarge {
		t.Fatalf("token of %d bytes: reason = %q, want %q", len(tok), token.ReasonOf(err), token.ReasonTooLarge)
	}
}

func TestVerifyClaims(t *testing.T) {
	v := newVerifier(t, keySource(t))
	ctx := context.Background()

	full := baseClaims().with("exp", float64(now.Add(time.Hour).Unix())+0.25).
		with("client_id", "client-x").with("token_use", "id").
		with("nested", map[string]any{"n": json.Number("12345678901234567890"), "b": true}).
		with("big", 9007199254740993).with("flag", false).with("nothing", nil).
		with("list", []any{"a", 1}).with("on", true).with("esc", "a\"b\u00e9\n<").with("ratio", 1.5)
	c, err := v.Verify(ctx, signWith(t, "ES256", full.json()))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Issuer", c.Issuer, issMain},
		{"Subject", c.Subject, "user-1"},
		{"ID", c.ID, "token-1"},
		{"ClientID", c.ClientID, "client-x"},
		{"TokenUse", c.TokenUse, "id"},
		{"KeyID", c.KeyID, "es256"},
		{"Alg", c.Alg, "ES256"},
		{"Audience", c.Audience, []string{"api"}},
		{"Expiry", c.Expiry, now.Add(time.Hour + 250*time.Millisecond)},
		{"IssuedAt", c.IssuedAt, now.Add(-time.Minute)},
		{"NotBefore", c.NotBefore, now.Add(-time.Minute)},
		{"Scopes", c.Scopes, []string{"read", "write"}},
		{"Groups", c.Groups, []string{"admin", "ops"}},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !c.Expiry.Equal(now.Add(time.Hour + 250*time.Millisecond)) {
		t.Errorf("Expiry = %v, want %v", c.Expiry, now.Add(time.Hour+250*time.Millisecond))
	}

	values := []struct {
		name string
		want string // fmt.Sprintf("%T %v")
		ok   bool
	}{
		{"tenant", "string acme", true},
		{"sub", "string user-1", true},
		{"big", "json.Number 9007199254740993", true},
		{"flag", "bool false", true},
		{"on", "bool true", true},
		{"esc", "string a\"bé\n<", true},
		{"ratio", "json.Number 1.5", true},
		{"nothing", "<nil> <nil>", true},
		{"list", "[]interface {} [a 1]", true},
		{"nested", "map[string]interface {} map[b:true n:12345678901234567890]", true},
		{"cognito:groups", "[]interface {} [admin ops]", true},
		{"absent", "<nil> <nil>", false},
		{"Tenant", "<nil> <nil>", false},
	}
	for _, tc := range values {
		t.Run("Value "+tc.name, func(t *testing.T) {
			got, ok := c.Value(tc.name)
			if s := fmt.Sprintf("%T %v", got, got); s != tc.want || ok != tc.ok {
				t.Errorf("Value(%q) = %s, %v; want %s, %v", tc.name, s, ok, tc.want, tc.ok)
			}
		})
	}
	var nilClaims *token.Claims
	if got, ok := nilClaims.Value("sub"); got != nil || ok {
		t.Errorf("nil Claims Value = %v, %v; want nil, false", got, ok)
	}

	variants := []struct {
		name       string
		claims     claimSet
		wantScopes []string
		wantGroups []string
		wantAud    []string
	}{
		{"scp array", baseClaims().with("scope", del).with("scp", []string{"a:read", "b write"}), []string{"a:read", "b write"}, []string{"admin", "ops"}, []string{"api"}},
		{"scp string", baseClaims().with("scope", del).with("scp", "x  y"), []string{"x", "y"}, []string{"admin", "ops"}, []string{"api"}},
		{"scope wins over scp", baseClaims().with("scp", "ignored"), []string{"read", "write"}, []string{"admin", "ops"}, []string{"api"}},
		{"no scope", baseClaims().with("scope", del), nil, []string{"admin", "ops"}, []string{"api"}},
		{"groups string", baseClaims().with("cognito:groups", del).with("groups", "staff"), []string{"read", "write"}, []string{"staff"}, []string{"api"}},
		{"groups array", baseClaims().with("cognito:groups", del).with("groups", []string{"a", "b"}), []string{"read", "write"}, []string{"a", "b"}, []string{"api"}},
		{"cognito:groups string", baseClaims().with("cognito:groups", "solo"), []string{"read", "write"}, []string{"solo"}, []string{"api"}},
		{"no groups", baseClaims().with("cognito:groups", del), []string{"read", "write"}, nil, []string{"api"}},
		{"aud array", baseClaims().with("aud", []string{"x", "api"}), []string{"read", "write"}, []string{"admin", "ops"}, []string{"x", "api"}},
		{"escaped strings", baseClaims().with("aud", []string{"api", "é😀\"\\\t\n"}), []string{"read", "write"}, []string{"admin", "ops"}, []string{"api", "é😀\"\\\t\n"}},
	}
	for _, tc := range variants {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(ctx, signWith(t, "HS256", tc.claims.json()))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !slices.Equal(c.Scopes, tc.wantScopes) || (c.Scopes == nil) != (tc.wantScopes == nil) {
				t.Errorf("Scopes = %q, want %q", c.Scopes, tc.wantScopes)
			}
			if !slices.Equal(c.Groups, tc.wantGroups) || (c.Groups == nil) != (tc.wantGroups == nil) {
				t.Errorf("Groups = %q, want %q", c.Groups, tc.wantGroups)
			}
			if !slices.Equal(c.Audience, tc.wantAud) {
				t.Errorf("Audience = %q, want %q", c.Audience, tc.wantAud)
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	ks := fakeKeys{}
	ok := token.Issuer{Issuer: issMain, Audiences: []string{"api"}}
	cases := []struct {
		name    string
		keys    token.KeySource
		issuers []token.Issuer
		opts    []token.Option
		wantErr string // substring; "" means success
	}{
		{"valid", ks, []token.Issuer{ok}, nil, ""},
		{"valid client IDs only", ks, []token.Issuer{{Issuer: issCognito, ClientIDs: []string{"c"}, TokenUse: "access"}}, nil, ""},
		{"valid algorithms", ks, []token.Issuer{{Issuer: issMain, Audiences: []string{"api"}, Algorithms: allAlgs}}, nil, ""},
		{"nil key source", nil, []token.Issuer{ok}, nil, "nil KeySource"},
		{"no issuers", ks, nil, nil, "no issuers"},
		{"empty iss", ks, []token.Issuer{{Audiences: []string{"api"}}}, nil, "empty Issuer"},
		{"duplicate iss", ks, []token.Issuer{ok, ok}, nil, "configured twice"},
		{"no audience or client", ks, []token.Issuer{{Issuer: issMain}}, nil, "neither Audiences nor ClientIDs"},
		{"empty audience", ks, []token.Issuer{{Issuer: issMain, Audiences: []string{""}}}, nil, "empty audience"},
		{"empty client ID", ks, []token.Issuer{{Issuer: issMain, ClientIDs: []string{""}}}, nil, "empty client ID"},
		{"bad token use", ks, []token.Issuer{{Issuer: issMain, Audiences: []string{"api"}, TokenUse: "acess"}}, nil, "TokenUse"},
		{"unknown alg", ks, []token.Issuer{{Issuer: issMain, Audiences: []string{"api"}, Algorithms: []string{"RS256", "HS1"}}}, nil, `unknown algorithm "HS1"`},
		{"alg none", ks, []token.Issuer{{Issuer: issMain, Audiences: []string{"api"}, Algorithms: []string{"none"}}}, nil, `unknown algorithm "none"`},
		{"negative skew", ks, []token.Issuer{ok}, []token.Option{token.WithClockSkew(-1)}, "negative clock skew"},
		{"negative lifetime", ks, []token.Issuer{ok}, []token.Option{token.WithMaxLifetime(-1)}, "negative max lifetime"},
		{"nil clock", ks, []token.Issuer{ok}, []token.Option{token.WithClock(nil)}, "nil clock"},
		{"zero size", ks, []token.Issuer{ok}, []token.Option{token.WithMaxTokenSize(0)}, "not in 1.."},
		{"huge size", ks, []token.Issuer{ok}, []token.Option{token.WithMaxTokenSize(1 << 30)}, "not in 1.."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := token.NewVerifier(tc.keys, tc.issuers, tc.opts...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tc.wantErr == "" && v == nil:
				t.Fatal("Verifier = nil, want one")
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr != "" && v != nil:
				t.Fatal("Verifier != nil with an error")
			}
		})
	}

	t.Run("reports every problem", func(t *testing.T) {
		_, err := token.NewVerifier(nil, []token.Issuer{{}}, token.WithClockSkew(-1))
		for _, want := range []string{"nil KeySource", "empty Issuer", "neither Audiences", "negative clock skew"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to contain %q", err, want)
			}
		}
	})

	t.Run("copies the configuration", func(t *testing.T) {
		issuers := []token.Issuer{{Issuer: issMain, Audiences: []string{"api"}}}
		v := newVerifierFrom(t, keySource(t), issuers)
		issuers[0].Audiences[0] = "changed"
		if _, err := v.Verify(context.Background(), signWith(t, "HS256", baseClaims().json())); err != nil {
			t.Fatalf("Verify after the caller changed its slice: %v", err)
		}
	})
}

func newVerifierFrom(tb testing.TB, ks token.KeySource, issuers []token.Issuer) *token.Verifier {
	tb.Helper()
	v, err := token.NewVerifier(ks, issuers, token.WithClock(func() time.Time { return now }))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestReasonValues pins the reasons' strings: they are metric dimensions
// and log values that dashboards depend on.
func TestReasonValues(t *testing.T) {
	want := map[token.Reason]string{
		token.ReasonMalformed: "malformed", token.ReasonTooLarge: "too_large", token.ReasonUnsupportedAlg: "unsupported_alg",
		token.ReasonUnknownKey: "unknown_key", token.ReasonBadSignature: "bad_signature", token.ReasonExpired: "expired",
		token.ReasonNotYetValid: "not_yet_valid", token.ReasonIssuedInFuture: "issued_in_future",
		token.ReasonLifetimeTooLong: "lifetime_too_long", token.ReasonBadIssuer: "bad_issuer",
		token.ReasonBadAudience: "bad_audience", token.ReasonBadClient: "bad_client", token.ReasonBadTokenUse: "bad_token_use",
		token.ReasonMissingClaim: "missing_claim", token.ReasonUnknownCrit: "unknown_crit", token.ReasonKeysUnavailable: "keys_unavailable",
	}
	if len(want) != len(knownReasons) {
		t.Fatalf("%d reasons pinned, %d known", len(want), len(knownReasons))
	}
	for r, s := range want {
		if string(r) != s {
			t.Errorf("reason %q, want %q", r, s)
		}
	}
}

func TestReasonOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want token.Reason
	}{
		{"nil", nil, ""},
		{"foreign", errors.New("other"), ""},
		{"direct", &token.Error{Reason: token.ReasonExpired}, token.ReasonExpired},
		{"wrapped", fmt.Errorf("authorize: %w", &token.Error{Reason: token.ReasonBadAudience, Err: errors.New("x")}), token.ReasonBadAudience},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := token.ReasonOf(tc.err); got != tc.want {
				t.Errorf("ReasonOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	v := newVerifier(t, errKeys{fmt.Errorf("secrets manager down: %w", token.ErrKeysUnavailable)})
	_, err := v.Verify(context.Background(), signWith(t, "HS256", baseClaims().json()))
	if !errors.Is(err, token.ErrKeysUnavailable) {
		t.Errorf("errors.Is(%v, ErrKeysUnavailable) = false, want true", err)
	}
	if !token.ReasonOf(err).ServerFault() {
		t.Errorf("ReasonOf(%v).ServerFault() = false, want true", err)
	}
	if token.ReasonUnknownKey.ServerFault() || token.ReasonBadSignature.ServerFault() {
		t.Error("a token reason reports ServerFault, want only keys_unavailable to")
	}
	if got := (&token.Error{Reason: token.ReasonExpired}).Error(); got != "token: expired" {
		t.Errorf("Error() = %q, want %q", got, "token: expired")
	}
}

// TestVerifyKeyLookup checks what the KeySource is asked: the configured
// issuer and the header's kid, and nothing for tokens refused earlier.
func TestVerifyKeyLookup(t *testing.T) {
	rec := &recordingKeys{KeySource: keySource(t)}
	v := newVerifier(t, rec)
	ctx := context.Background()
	if _, err := v.Verify(ctx, signWith(t, "ES256", baseClaims().json())); err != nil {
		t.Fatal(err)
	}
	if want := [][2]string{{issMain, "es256"}}; !slices.Equal(rec.calls, want) {
		t.Errorf("lookups = %q, want %q", rec.calls, want)
	}
	rec.calls = nil
	f := keys(t)
	refusedEarly := []string{
		segs(header("ES256", "es256"), baseClaims().json(), make([]byte, 10)),                          // wrong signature size
		sign("ES256", f.attacker, header("ES256", "x"), `{"iss":"https://evil"}`),                      // unknown issuer
		sign("RS256", f.rsa, header("RS256", "rs256"), baseClaims().with("iss", issRestricted).json()), // alg not allowed
		segs(header("none", "es256"), baseClaims().json(), nil),
	}
	for _, tok := range refusedEarly {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Fatal("Verify succeeded, want an error")
		}
	}
	if len(rec.calls) != 0 {
		t.Errorf("lookups = %q, want none for tokens refused before the key lookup", rec.calls)
	}
}

type recordingKeys struct {
	token.KeySource
	calls [][2]string
}

func (r *recordingKeys) Key(ctx context.Context, issuer, kid string) (keyring.Key, error) {
	r.calls = append(r.calls, [2]string{issuer, kid})
	return r.KeySource.Key(ctx, issuer, kid)
}

// TestVerifyConcurrent shares one Verifier between goroutines; run with
// -race to check it holds no mutable state.
func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier(t, keySource(t))
	toks := map[string]string{}
	for _, alg := range []string{"HS256", "ES256", "EdDSA", "RS256"} {
		toks[alg] = signWith(t, alg, baseClaims().with("sub", "user-"+alg).json())
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 25 {
				for alg, tok := range toks {
					c, err := v.Verify(context.Background(), tok)
					if err != nil || c.Subject != "user-"+alg {
						errs <- fmt.Errorf("%s: subject %v, err %v", alg, c, err)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
