package signer

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func TestGenerateSignVerify(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			set, err := Generate(alg, 0)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(set)
			if err != nil {
				t.Fatal(err)
			}
			if s.Alg() != alg || s.KeyID() == "" {
				t.Fatalf("alg %q kid %q, want %s and a thumbprint", s.Alg(), s.KeyID(), alg)
			}
			tok, err := s.Sign(map[string]any{"sub": "alice", "exp": 4102444800})
			if err != nil {
				t.Fatal(err)
			}
			verifyKey := set
			if !strings.HasPrefix(alg, "HS") {
				if verifyKey, err = s.Public(); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(verifyKey), `"d"`) {
					t.Fatalf("public set carries private material: %s", verifyKey)
				}
			} else if _, err := s.Public(); err == nil {
				t.Fatal("Public of a symmetric key succeeded, want an error")
			}
			keys, err := jwk.Parse(verifyKey)
			if err != nil {
				t.Fatal(err)
			}
			key, _ := keys.Key(0)
			a, _ := jwa.LookupSignatureAlgorithm(alg)
			parsed, err := jwt.Parse([]byte(tok), jwt.WithKey(a, key))
			if err != nil {
				t.Fatalf("jwx does not verify our %s token: %v", alg, err)
			}
			if sub, _ := parsed.Subject(); sub != "alice" {
				t.Fatalf("sub = %q, want alice", sub)
			}
			// The kid is the RFC 7638 thumbprint.
			var raw struct {
				Keys []map[string]any `json:"keys"`
			}
			_ = json.Unmarshal(set, &raw)
			if raw.Keys[0]["kid"] != s.KeyID() || raw.Keys[0]["alg"] != alg {
				t.Fatalf("key %v: kid/alg not set", raw.Keys[0])
			}
		})
	}
}

func TestGenerateRejects(t *testing.T) {
	for _, tc := range []struct {
		alg  string
		bits int
	}{{"none", 0}, {"HS1", 0}, {"RS256", 1024}, {"ES256K", 0}} {
		if _, err := Generate(tc.alg, tc.bits); err == nil {
			t.Errorf("Generate(%q, %d) succeeded, want an error", tc.alg, tc.bits)
		}
	}
}

func TestNewWithoutSigningKey(t *testing.T) {
	set, _ := Generate("ES256", 0)
	s, _ := New(set)
	pub, _ := s.Public()
	if _, err := New(pub); err != ErrNoSigningKey {
		t.Fatalf("New(public set) err = %v, want ErrNoSigningKey", err)
	}
}

func TestSignRawKeepsHeaderBytes(t *testing.T) {
	set, _ := Generate("HS256", 0)
	s, _ := New(set)
	hdr := `{"alg":"HS256","alg":"none"}`
	tok, err := s.SignRaw([]byte(hdr), "e30")
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(tok, ".")
	got, _ := b64.DecodeString(seg[0])
	if string(got) != hdr || seg[1] != "e30" || len(seg[2]) != 43 {
		t.Fatalf("SignRaw = %q", tok)
	}
}
