package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

// now is the fixed time of every test verifier.
var now = time.Unix(1_800_000_000, 0)

const (
	issMain       = "https://issuer.example"
	issCognito    = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"
	issRestricted = "https://restricted.example"
	skew          = 60 * time.Second
	maxLifetime   = 24 * time.Hour
)

// allAlgs lists every algorithm the package implements.
var allAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}

// signingKey is a private key (or secret) and the keyring.Key that
// verifies it.
type signingKey struct {
	alg  string
	kid  string
	priv any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte
	key  keyring.Key
}

type fixture struct {
	byAlg    map[string]*signingKey // the main issuer's key for each alg, kid = lower-case alg
	rsa      *rsa.PrivateKey
	weakRSA  *rsa.PrivateKey // 1024 bits
	attacker *ecdsa.PrivateKey
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
)

// keys returns the test binary's keys, generated once: one RSA-2048 key
// serves every RS and PS kid.
func keys(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() {
		f := &fixture{byAlg: map[string]*signingKey{}}
		var err error
		if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if f.weakRSA, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
		f.attacker = mustECDSA(elliptic.P256())
		for _, alg := range allAlgs {
			var priv, pub any
			switch alg[:2] {
			case "RS", "PS":
				priv, pub = f.rsa, &f.rsa.PublicKey
			case "ES":
				k := mustECDSA(map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg])
				priv, pub = k, &k.PublicKey
			case "Ed":
				p, k, err := ed25519.GenerateKey(rand.Reader)
				if err != nil {
					panic(err)
				}
				priv, pub = k, p
			case "HS":
				secret := make([]byte, map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg])
				rand.Read(secret)
				priv, pub = secret, secret
			}
			kid := strings.ToLower(alg)
			f.byAlg[alg] = &signingKey{alg: alg, kid: kid, priv: priv, key: keyring.Key{ID: kid, Alg: alg, Material: pub, Origin: "jwks"}}
		}
		fixtureVal = f
	})
	return fixtureVal
}

func mustECDSA(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// fakeKeys is a KeySource over a map from issuer and kid.
type fakeKeys map[[2]string]keyring.Key

func (f fakeKeys) Key(_ context.Context, issuer, kid string) (keyring.Key, error) {
	if k, ok := f[[2]string{issuer, kid}]; ok {
		return k, nil
	}
	return keyring.Key{}, fmt.Errorf("kid %q of %q: %w", kid, issuer, token.ErrUnknownKey)
}

// errKeys is a KeySource that always fails with its error.
type errKeys struct{ err error }

func (e errKeys) Key(context.Context, string, string) (keyring.Key, error) {
	return keyring.Key{}, e.err
}

// keySource returns the standard fake: every alg's key for the main
// issuer, plus the keys the attack cases point at.
func keySource(tb testing.TB) fakeKeys {
	f := keys(tb)
	ks := fakeKeys{}
	for _, k := range f.byAlg {
		ks[[2]string{issMain, k.kid}] = k.key
		ks[[2]string{issRestricted, k.kid}] = k.key
	}
	ks[[2]string{issCognito, "cognito"}] = f.byAlg["RS256"].key
	ks[[2]string{issMain, "weak-rsa"}] = keyring.Key{ID: "weak-rsa", Alg: "RS256", Material: &f.weakRSA.PublicKey}
	ks[[2]string{issMain, "short-hmac"}] = keyring.Key{ID: "short-hmac", Alg: "HS256", Material: make([]byte, 16)}
	ks[[2]string{issMain, "p384-as-es256"}] = keyring.Key{ID: "p384-as-es256", Alg: "ES256", Material: f.byAlg["ES384"].key.Material}
	ks[[2]string{issMain, "hs-holding-rsa"}] = keyring.Key{ID: "hs-holding-rsa", Alg: "HS256", Material: &f.rsa.PublicKey}
	ks[[2]string{issMain, "es-holding-ed"}] = keyring.Key{ID: "es-holding-ed", Alg: "ES256", Material: f.byAlg["EdDSA"].key.Material}
	return ks
}

func testIssuers() []token.Issuer {
	return []token.Issuer{
		{Issuer: issMain, Audiences: []string{"api", "other-api"}},
		{Issuer: issCognito, Audiences: []string{"client-a"}, ClientIDs: []string{"client-a", "client-b"}, TokenUse: "access"},
		{Issuer: issRestricted, Audiences: []string{"api"}, Algorithms: []string{"PS256", "ES256"}},
	}
}

func newVerifier(tb testing.TB, ks token.KeySource, opts ...token.Option) *token.Verifier {
	tb.Helper()
	opts = append([]token.Option{
		token.WithClock(func() time.Time { return now }),
		token.WithClockSkew(skew),
		token.WithMaxLifetime(maxLifetime),
	}, opts...)
	v, err := token.NewVerifier(ks, testIssuers(), opts...)
	if err != nil {
		tb.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// header returns a JOSE header with alg and kid (omitted when empty) and
// any extra members, given as raw JSON fragments.
func header(alg, kid string, extra ...string) string {
	members := []string{fmt.Sprintf(`"alg":%q`, alg)}
	if kid != "" {
		members = append(members, fmt.Sprintf(`"kid":%q`, kid))
	}
	members = append(members, `"typ":"JWT"`)
	return "{" + strings.Join(append(members, extra...), ",") + "}"
}

// claimSet is a claims set under construction.
type claimSet map[string]any

// baseClaims are valid claims for the main issuer at now.
func baseClaims() claimSet {
	return claimSet{
		"iss":            issMain,
		"sub":            "user-1",
		"aud":            "api",
		"exp":            now.Add(time.Hour).Unix(),
		"iat":            now.Add(-time.Minute).Unix(),
		"nbf":            now.Add(-time.Minute).Unix(),
		"jti":            "token-1",
		"scope":          "read write",
		"cognito:groups": []string{"admin", "ops"},
		"tenant":         "acme",
	}
}

// with returns a copy of c with name set to value, or deleted when value
// is the special del.
func (c claimSet) with(name string, value any) claimSet {
	out := maps.Clone(c)
	if value == del {
		delete(out, name)
	} else {
		out[name] = value
	}
	return out
}

type deleted struct{}

var del = deleted{}

func (c claimSet) json() string {
	b, err := json.Marshal(map[string]any(c))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sign returns the compact JWS of header and claims (raw JSON), signed
// with priv under alg.
func sign(alg string, priv any, header, claims string) string {
	input := enc([]byte(header)) + "." + enc([]byte(claims))
	return input + "." + enc(rawSign(alg, priv, []byte(input)))
}

// signWith signs claims with the fixture key for alg, whose kid it names.
func signWith(tb testing.TB, alg string, claims string, extraHeader ...string) string {
	k := keys(tb).byAlg[alg]
	return sign(alg, k.priv, header(alg, k.kid, extraHeader...), claims)
}

func hashOf(alg string) crypto.Hash {
	switch alg[2:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

func digest(h crypto.Hash, input []byte) []byte {
	d := h.New()
	d.Write(input)
	return d.Sum(nil)
}

// rawSign is the test suite's own small JWS signer.
func rawSign(alg string, priv any, input []byte) []byte {
	switch alg[:2] {
	case "RS":
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), hashOf(alg), digest(hashOf(alg), input))
		if err != nil {
			panic(err)
		}
		return sig
	case "PS":
		sig, err := rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), hashOf(alg), digest(hashOf(alg), input),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			panic(err)
		}
		return sig
	case "ES":
		k := priv.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest(hashOf(alg), input))
		if err != nil {
			panic(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig
	case "Ed":
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	case "HS":
		newHash := map[crypto.Hash]func() hash.Hash{crypto.SHA256: sha256.New, crypto.SHA384: sha512.New384, crypto.SHA512: sha512.New}[hashOf(alg)]
		mac := hmac.New(newHash, priv.([]byte))
		mac.Write(input)
		return mac.Sum(nil)
	}
	panic("rawSign: unknown alg " + alg)
}

// oracleVerify checks raw's signature against every fixture key with the
// standard library, independently of the package: true means some key
// signed it.
func oracleVerify(tb testing.TB, raw string) bool {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	input := []byte(parts[0] + "." + parts[1])
	for _, k := range keys(tb).byAlg {
		switch pub := k.key.Material.(type) {
		case *rsa.PublicKey:
			d := digest(hashOf(k.alg), input)
			if k.alg[0] == 'R' && rsa.VerifyPKCS1v15(pub, hashOf(k.alg), d, sig) == nil {
				return true
			}
			if k.alg[0] == 'P' && rsa.VerifyPSS(pub, hashOf(k.alg), d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil {
				return true
			}
		case *ecdsa.PublicKey:
			size := (pub.Curve.Params().BitSize + 7) / 8
			if len(sig) == 2*size {
				r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
				if ecdsa.Verify(pub, digest(hashOf(k.alg), input), r, s) {
					return true
				}
			}
		case ed25519.PublicKey:
			if ed25519.Verify(pub, input, sig) {
				return true
			}
		case []byte:
			if hmac.Equal(rawSign(k.alg, pub, input), sig) {
				return true
			}
		}
	}
	return false
}
