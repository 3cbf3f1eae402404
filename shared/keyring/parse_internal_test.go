package keyring

import "testing"

// FuzzParseJWKS fuzzes the lenient parse that JWK Sets fetched from issuers
// go through.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","alg":"HS256","kid":"a"},{"kty":"ML-DSA","kid":"pq"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","use":"sig"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","kid":"a"},{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","kid":"a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, alg := range []string{"", "RS256", "EdDSA"} {
			keys, err := parseKeys(data, OriginJWKS, parseOptions{defaultAlg: alg})
			if err != nil {
				if keys != nil {
					t.Fatalf("keys and an error")
				}
				continue
			}
			if len(keys) == 0 {
				t.Fatalf("no keys, nil error")
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if k.ID == "" || k.Alg == "" || k.Material == nil || seen[k.ID] {
					t.Fatalf("bad key %+v", k)
				}
				seen[k.ID] = true
				switch k.Alg {
				case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512":
				default:
					t.Fatalf("alg %q accepted", k.Alg)
				}
			}
		}
	})
}
