package keyring_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/keyring"
)

func TestParseKeysAccepts(t *testing.T) {
	tests := []struct {
		name string
		key  jwk
		alg  string
		want any // the expected Material
	}{
		{"RS256", rsaPublic(rsa2048()), "RS256", &rsa2048().PublicKey},
		{"RS384", rsaPublic(rsa2048()), "RS384", &rsa2048().PublicKey},
		{"RS512", rsaPublic(rsa2048()), "RS512", &rsa2048().PublicKey},
		{"PS256", rsaPublic(rsa2048()), "PS256", &rsa2048().PublicKey},
		{"PS384", rsaPublic(rsa2048()), "PS384", &rsa2048().PublicKey},
		{"PS512", rsaPublic(rsa2048()), "PS512", &rsa2048().PublicKey},
		{"ES256", ecPublic(ecP256()), "ES256", &ecP256().PublicKey},
		{"ES384", ecPublic(ecP384()), "ES384", &ecP384().PublicKey},
		{"ES512", ecPublic(ecP521()), "ES512", &ecP521().PublicKey},
		{"EdDSA", edPublic(edKey()), "EdDSA", edKey().Public()},
		{"HS256 32 bytes", octKey(32), "HS256", mustOct(t, octKey(32))},
		{"HS384 48 bytes", octKey(48), "HS384", mustOct(t, octKey(48))},
		{"HS512 64 bytes", octKey(64), "HS512", mustOct(t, octKey(64))},
		{"HS256 longer key", octKey(64), "HS256", mustOct(t, octKey(64))},
		{"RSA private", rsaPrivate(rsa2048()), "RS256", &rsa2048().PublicKey},
		{"EC private", ecPrivate(ecP256()), "ES256", &ecP256().PublicKey},
		{"Ed25519 private", edPrivate(edKey()), "EdDSA", edKey().Public()},
		{"use sig", rsaPublic(rsa2048()).with("use", "sig"), "RS256", &rsa2048().PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := keyring.ParseKeys(tt.key.with("alg", tt.alg, "kid", "k1").json(t), "AWSCURRENT")
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if len(keys) != 1 {
				t.Fatalf("got %d keys, want 1", len(keys))
			}
			k := keys[0]
			if k.ID != "k1" || k.Alg != tt.alg || k.Origin != "AWSCURRENT" {
				t.Errorf("key = {ID %q, Alg %q, Origin %q}, want {k1, %s, AWSCURRENT}", k.ID, k.Alg, k.Origin, tt.alg)
			}
			if !sameMaterial(k.Material, tt.want) {
				t.Errorf("Material = %T, not the expected public key %T", k.Material, tt.want)
			}
		})
	}
}

func mustOct(t *testing.T, j jwk) []byte {
	b, err := decodeB64(j["k"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameMaterial compares public keys (or symmetric bytes) exactly, and fails
// for any private key type.
func sameMaterial(got, want any) bool {
	switch g := got.(type) {
	case *rsa.PublicKey:
		w, ok := want.(*rsa.PublicKey)
		return ok && g.Equal(w)
	case *ecdsa.PublicKey:
		w, ok := want.(*ecdsa.PublicKey)
		return ok && g.Equal(w)
	case ed25519.PublicKey:
		w, ok := want.(ed25519.PublicKey)
		return ok && g.Equal(w)
	case []byte:
		w, ok := want.([]byte)
		return ok && bytes.Equal(g, w)
	}
	return false
}

func TestParseKeysRejects(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"missing alg", rsaPublic(rsa2048()).json(t), "no alg"},
		{"alg none", rsaPublic(rsa2048()).with("alg", "none").json(t), "unsupported alg"},
		{"encryption alg", rsaPublic(rsa2048()).with("alg", "RSA-OAEP").json(t), "unsupported alg"},
		{"RSA 1024", rsaPublic(rsa1024()).with("alg", "RS256").json(t), "1024 bits"},
		{"RSA 1024 PS256", rsaPublic(rsa1024()).with("alg", "PS256").json(t), "1024 bits"},
		{"RSA key with ES256", rsaPublic(rsa2048()).with("alg", "ES256").json(t), "needs an EC key"},
		{"RSA key with HS256", rsaPublic(rsa2048()).with("alg", "HS256").json(t), "needs an oct key"},
		{"RSA key with EdDSA", rsaPublic(rsa2048()).with("alg", "EdDSA").json(t), "needs an OKP"},
		{"P-256 with ES384", ecPublic(ecP256()).with("alg", "ES384").json(t), "needs curve P-384"},
		{"P-384 with ES256", ecPublic(ecP384()).with("alg", "ES256").json(t), "needs curve P-256"},
		{"P-521 with ES256", ecPublic(ecP521()).with("alg", "ES256").json(t), "needs curve P-256"},
		{"P-256 with ES512", ecPublic(ecP256()).with("alg", "ES512").json(t), "needs curve P-521"},
		{"EC key with RS256", ecPublic(ecP256()).with("alg", "RS256").json(t), "needs an RSA key"},
		{"EC key with EdDSA", ecPublic(ecP256()).with("alg", "EdDSA").json(t), "needs an OKP"},
		{"Ed25519 with ES256", edPublic(edKey()).with("alg", "ES256").json(t), "needs an EC key"},
		{"X25519 with EdDSA", x25519Public(t).with("alg", "EdDSA").json(t), "needs curve Ed25519"},
		{"oct with RS256", octKey(32).with("alg", "RS256").json(t), "needs an RSA key"},
		{"short HS256", octKey(31).with("alg", "HS256").json(t), "31 bytes, want at least 32"},
		{"short HS384", octKey(32).with("alg", "HS384").json(t), "32 bytes, want at least 48"},
		{"short HS512", octKey(48).with("alg", "HS512").json(t), "48 bytes, want at least 64"},
		{"EC point off curve", ecPublic(ecP256()).with("alg", "ES256", "y", b64(make([]byte, 32))).json(t), ""},
		{"duplicate kid", set(t, rsaPublic(rsa2048()).with("alg", "RS256", "kid", "a"), ecPublic(ecP256()).with("alg", "ES256", "kid", "a")), `share kid "a"`},
		{"duplicate thumbprint", set(t, rsaPublic(rsa2048()).with("alg", "RS256"), rsaPublic(rsa2048()).with("alg", "RS256")), "share kid"},
		{"one bad key fails the set", set(t, rsaPublic(rsa2048()).with("alg", "RS256", "kid", "a"), octKey(16).with("alg", "HS256", "kid", "b")), "key 1"},
		{"only enc keys", set(t, rsaPublic(rsa2048()).with("alg", "RSA-OAEP", "use", "enc")), "no signature key"},
		{"empty set", []byte(`{"keys":[]}`), "no signature key"},
		{"empty input", nil, "empty"},
		{"blank input", []byte("  \n"), "empty"},
		{"not JSON", []byte("-----BEGIN PUBLIC KEY-----"), "parse JWK"},
		{"JSON array", []byte(`[]`), "parse JWK"},
		{"JSON null", []byte(`null`), "parse JWK"},
		{"empty object", []byte(`{}`), "parse JWK"},
		{"unknown kty", []byte(`{"kty":"XYZ","alg":"RS256","kid":"a"}`), ""},
		{"unknown use", rsaPublic(rsa2048()).with("alg", "RS256", "use", "other").json(t), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := keyring.ParseKeys(tt.data, "AWSCURRENT")
			if err == nil {
				t.Fatalf("ParseKeys = %d keys, nil error; want an error", len(keys))
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseKeysNeverRevealsPrivateParts(t *testing.T) {
	priv := rsaPrivate(rsa2048())
	bad := []jwk{
		priv.with("alg", "ES256"),
		priv.with("alg", "RS256", "d", "!!!not-base64!!!"),
		priv.with("alg", "RS256", "e", "AA"),
		ecPrivate(ecP256()).with("alg", "ES384"),
		octKey(16).with("alg", "HS256"),
	}
	for i, j := range bad {
		_, err := keyring.ParseKeys(j.json(t), "AWSCURRENT")
		if err == nil {
			continue
		}
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if v, ok := j[member].(string); ok && len(v) > 8 && strings.Contains(err.Error(), v[:8]) {
				t.Errorf("case %d: err %q reveals member %s", i, err, member)
			}
		}
	}
}

func TestParseKeysThumbprintKid(t *testing.T) {
	// RFC 7638 section 3.1's example key and its SHA-256 thumbprint.
	const rfcKey = `{"kty":"RSA",
	 "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
	 "e":"AQAB","alg":"RS256"}`
	keys, err := keyring.ParseKeys([]byte(rfcKey), "jwks")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys[0].ID, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("kid = %q, want RFC 7638's %q", got, want)
	}

	// A private key's thumbprint is its public key's.
	pub, err := keyring.ParseKeys(rsaPublic(rsa2048()).with("alg", "RS256").json(t), "x")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keyring.ParseKeys(rsaPrivate(rsa2048()).with("alg", "RS256").json(t), "x")
	if err != nil {
		t.Fatal(err)
	}
	if pub[0].ID != priv[0].ID || len(pub[0].ID) != 43 {
		t.Errorf("private kid %q, public kid %q; want the same 43-character thumbprint", priv[0].ID, pub[0].ID)
	}
	// An empty kid counts as absent.
	empty, err := keyring.ParseKeys(rsaPublic(rsa2048()).with("alg", "RS256").with("kid", "").json(t), "x")
	if err != nil || empty[0].ID != pub[0].ID {
		t.Errorf("kid for empty kid = %v, %v; want thumbprint %q", empty, err, pub[0].ID)
	}
}

func TestParseKeysSet(t *testing.T) {
	data := set(t,
		rsaPrivate(rsa2048()).with("alg", "RS256", "kid", "rsa", "use", "sig"),
		rsaPublic(rsa2048()).with("alg", "RSA-OAEP", "kid", "enc", "use", "enc"),
		ecPrivate(ecP256()).with("alg", "ES256", "kid", "ec"),
		octKey(32).with("alg", "HS256", "kid", "hmac"),
	)
	keys, err := keyring.ParseKeys(data, "AWSPREVIOUS")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.ID+":"+k.Alg+":"+k.Origin)
		switch k.Material.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			t.Errorf("key %s: Material is a private key (%T)", k.ID, k.Material)
		}
	}
	if g, w := strings.Join(got, " "), "rsa:RS256:AWSPREVIOUS ec:ES256:AWSPREVIOUS hmac:HS256:AWSPREVIOUS"; g != w {
		t.Errorf("keys = %q, want %q (enc key skipped)", g, w)
	}
}

func TestParseKeysMaterialIsACopy(t *testing.T) {
	data := octKey(32).with("alg", "HS256").json(t)
	keys, err := keyring.ParseKeys(data, "x")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := keyring.ParseKeys(data, "x")
	keys[0].Material.([]byte)[0] ^= 0xff
	if bytes.Equal(keys[0].Material.([]byte), again[0].Material.([]byte)) {
		t.Errorf("two parses share the symmetric key's bytes")
	}
}

func TestParseKeysTooManyKeys(t *testing.T) {
	var keys []jwk
	for i := 0; i <= keyring.MaxKeys; i++ {
		keys = append(keys, octKey(32).with("alg", "HS256", "kid", strings.Repeat("k", i+1)))
	}
	if _, err := keyring.ParseKeys(set(t, keys...), "x"); err == nil {
		t.Errorf("ParseKeys of %d keys = nil error, want an error", len(keys))
	}
}

func FuzzParseKeys(f *testing.F) {
	f.Add([]byte(`{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","alg":"HS256"}`))
	f.Add(set(f, rsaPublic(rsa2048()).with("alg", "RS256", "kid", "a"), ecPublic(ecP256()).with("alg", "ES256")))
	f.Add(edPrivate(edKey()).with("alg", "EdDSA").json(f))
	f.Add(ecPublic(ecP384()).with("alg", "ES384", "use", "enc").json(f))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":"","alg":"ES256"}]}`))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"AA","alg":"EdDSA"}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := keyring.ParseKeys(data, "fuzz")
		if err != nil {
			if keys != nil {
				t.Fatalf("ParseKeys returned keys and an error")
			}
			return
		}
		if len(keys) == 0 {
			t.Fatalf("ParseKeys = no keys, nil error")
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if k.ID == "" || k.Alg == "" || k.Material == nil || k.Origin != "fuzz" {
				t.Fatalf("incomplete key %+v", k)
			}
			if seen[k.ID] {
				t.Fatalf("duplicate kid %q", k.ID)
			}
			seen[k.ID] = true
			switch m := k.Material.(type) {
			case *rsa.PublicKey:
				if m.N.BitLen() < keyring.MinRSABits {
					t.Fatalf("weak RSA key accepted: %d bits", m.N.BitLen())
				}
			case *ecdsa.PublicKey, ed25519.PublicKey:
			case []byte:
				if len(m) < 32 {
					t.Fatalf("short HMAC key accepted: %d bytes", len(m))
				}
			default:
				t.Fatalf("Material of type %T", m)
			}
		}
	})
}

// TestParseErrorsHoldNoValueBytes: what ParseKeys says of input that is not
// JSON quotes none of it (encoding/json's syntax errors would quote the
// offending byte).
func TestParseErrorsHoldNoValueBytes(t *testing.T) {
	for _, in := range []string{`s3cr3t-value`, `{"kty":"oct","k":"c2VjcmV0`, `{"kty":"oct","k":"c2VjcmV0"}}`, `{"kty":"oct",,"k":"x"}`} {
		_, err := keyring.ParseKeys([]byte(in), "AWSCURRENT")
		if err == nil {
			t.Fatalf("ParseKeys(%q) accepted", in)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "'") || strings.Contains(msg, "c2VjcmV0") || strings.Contains(msg, "s3cr3t") {
			t.Errorf("ParseKeys(%q) error %q quotes the input", in, msg)
		}
	}
}
