package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
)

// hsKeys is a KeySource of HS256 secrets by kid.
type hsKeys map[string][]byte

func (k hsKeys) Key(_ context.Context, _, kid string) (keyring.Key, error) {
	if s, ok := k[kid]; ok {
		return keyring.Key{ID: kid, Alg: "HS256", Material: s}, nil
	}
	return keyring.Key{}, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

func hsToken(header, claims string, secret []byte) string {
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(header)) + "." + enc([]byte(claims))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + enc(mac.Sum(nil))
}

func headerVerifier(t *testing.T, keys hsKeys) *Verifier {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(keys, []Issuer{{Issuer: "https://iss", Audiences: []string{"api"}}},
		WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const headerTestClaims = `{"iss":"https://iss","sub":"u","aud":"api","exp":1800000060}`

func TestHeaderCache(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	keys := hsKeys{"k1": secret, "k2": []byte("fedcba9876543210fedcba9876543210")}
	ctx := context.Background()

	t.Run("remembered only after a token verifies", func(t *testing.T) {
		v := headerVerifier(t, keys)
		h := `{"alg":"HS256","kid":"k1"}`
		seg := base64.RawURLEncoding.EncodeToString([]byte(h))
		forged := hsToken(h, headerTestClaims, []byte("not-the-secret-not-the-secret!!!"))
		if _, err := v.Verify(ctx, forged); ReasonOf(err) != ReasonBadSignature {
			t.Fatalf("forged token: reason %q, want %q", ReasonOf(err), ReasonBadSignature)
		}
		if _, _, ok := v.headers.lookup(seg); ok {
			t.Fatal("header of a forged token was remembered")
		}
		c, err := v.Verify(ctx, hsToken(h, headerTestClaims, secret))
		if err != nil {
			t.Fatal(err)
		}
		a, kid, ok := v.headers.lookup(seg)
		if !ok || a != algHS256 || kid != "k1" {
			t.Fatalf("lookup = %v %q %v, want HS256 \"k1\" true", a, kid, ok)
		}
		if c.KeyID != "k1" || c.Alg != "HS256" {
			t.Fatalf("claims kid %q alg %q, want k1 HS256", c.KeyID, c.Alg)
		}
	})

	t.Run("a remembered header does not vouch for the signature", func(t *testing.T) {
		v := headerVerifier(t, keys)
		h := `{"alg":"HS256","kid":"k1"}`
		if _, err := v.Verify(ctx, hsToken(h, headerTestClaims, secret)); err != nil {
			t.Fatal(err)
		}
		forged := hsToken(h, headerTestClaims, keys["k2"])
		if _, err := v.Verify(ctx, forged); ReasonOf(err) != ReasonBadSignature {
			t.Fatalf("forged token after a good one: reason %q, want %q", ReasonOf(err), ReasonBadSignature)
		}
		c, err := v.Verify(ctx, hsToken(h, headerTestClaims, secret))
		if err != nil || c.KeyID != "k1" {
			t.Fatalf("second good token: kid %v, err %v", c, err)
		}
	})

	t.Run("bounded, newest first", func(t *testing.T) {
		v := headerVerifier(t, keys)
		var segs []string
		for i := range headerCacheSize + 3 {
			// Distinct headers for the same key: an unknown extra member.
			h := fmt.Sprintf(`{"alg":"HS256","kid":"k2","n":%d}`, i)
			segs = append(segs, base64.RawURLEncoding.EncodeToString([]byte(h)))
			if _, err := v.Verify(ctx, hsToken(h, headerTestClaims, keys["k2"])); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(*v.headers.list.Load()); n != headerCacheSize {
			t.Fatalf("cache holds %d headers, want %d", n, headerCacheSize)
		}
		for i, seg := range segs {
			_, kid, ok := v.headers.lookup(seg)
			if want := i >= 3; ok != want || (ok && kid != "k2") {
				t.Errorf("header %d: lookup = %q %v, want remembered %v", i, kid, ok, want)
			}
		}
	})

	t.Run("an empty kid is remembered as empty", func(t *testing.T) {
		v := headerVerifier(t, hsKeys{"": secret})
		h := `{"alg":"HS256"}`
		for range 2 {
			c, err := v.Verify(ctx, hsToken(h, headerTestClaims, secret))
			if err != nil || c.KeyID != "" {
				t.Fatalf("kid %v, err %v; want empty, nil", c, err)
			}
		}
	})
}

// TestClaimStringsAliasOrCopy checks that claim strings decode escapes
// (so they are copies) and otherwise keep the exact text.
func TestClaimStringsAliasOrCopy(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v := headerVerifier(t, hsKeys{"k1": secret})
	claims := `{"iss":"https://iss","sub":"caf\u00e9","aud":["api","x\/y"],"exp":1800000060,` +
		`"scope":"a b\tc  d","jti":"j-1","groups":"one","client_id":"\"c\""}`
	c, err := v.Verify(context.Background(), hsToken(`{"alg":"HS256","kid":"k1"}`, claims, secret))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"sub", c.Subject, "café"},
		{"jti", c.ID, "j-1"},
		{"client_id", c.ClientID, `"c"`},
		{"aud", fmt.Sprint(c.Audience), "[api x/y]"},
		{"scope", fmt.Sprintf("%q", c.Scopes), `["a" "b\tc" "d"]`},
		{"groups", fmt.Sprint(c.Groups), "[one]"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %s, want %s", ch.name, ch.got, ch.want)
		}
	}
	// Appending to one list must never write into the next.
	c.Audience = append(c.Audience, "zzz")
	if fmt.Sprintf("%q", c.Scopes) != `["a" "b\tc" "d"]` {
		t.Errorf("after append to Audience, Scopes = %q", c.Scopes)
	}
}

// TestClaimListsSpill checks lists longer than the inline store.
func TestClaimListsSpill(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v := headerVerifier(t, hsKeys{"k1": secret})
	claims := `{"iss":"https://iss","sub":"u","aud":["api","b","c","d","e"],"exp":1800000060,` +
		`"scope":"s1 s2 s3 s4 s5 s6","cognito:groups":["g1","g2","g3"]}`
	c, err := v.Verify(context.Background(), hsToken(`{"alg":"HS256","kid":"k1"}`, claims, secret))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.Audience, c.Scopes, c.Groups); got != "[api b c d e] [s1 s2 s3 s4 s5 s6] [g1 g2 g3]" {
		t.Errorf("lists = %s", got)
	}
}
