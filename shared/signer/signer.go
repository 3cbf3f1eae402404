package signer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Algorithms lists the algorithms [Generate] accepts.
var Algorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// ErrNoSigningKey means a key set holds no private or symmetric key with an alg.
var ErrNoSigningKey = errors.New("no signing key in the key set")

// Generate makes a new private key for alg and returns it as a JWK Set with
// one key whose kid is its RFC 7638 thumbprint. rsaBits applies to RS* and PS*
// (2048 or 3072; 0 means 2048). HMAC keys get as many random bytes as the
// hash's output (at least 256 bits).
func Generate(alg string, rsaBits int) ([]byte, error) {
	var raw any
	switch alg {
	case "HS256", "HS384", "HS512":
		b := make([]byte, map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg])
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		raw = b
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		if rsaBits == 0 {
			rsaBits = 2048
		}
		if rsaBits != 2048 && rsaBits != 3072 && rsaBits != 4096 {
			return nil, fmt.Errorf("generate %s key: %d bits; want 2048, 3072 or 4096", alg, rsaBits)
		}
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		raw = k
	case "ES256", "ES384", "ES512":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		raw = k
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate %s key: %w", alg, err)
		}
		raw = k
	default:
		return nil, fmt.Errorf("generate key: unsupported algorithm %q", alg)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	if err := key.Set(jwk.AlgorithmKey, alg); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, err
	}
	if err := jwk.AssignKeyID(key); err != nil {
		return nil, fmt.Errorf("generate %s key: thumbprint: %w", alg, err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// Signer signs tokens with one private or symmetric key.
type Signer struct {
	key jwk.Key
	alg jwa.SignatureAlgorithm
	kid string
}

// New returns a Signer for the first key in data (a JWK or JWK Set) that can
// sign: private or symmetric, with an alg. It fails with [ErrNoSigningKey]
// when there is none.
func New(data []byte) (*Signer, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	for i := 0; i < set.Len(); i++ {
		key, _ := set.Key(i)
		algv, ok := key.Algorithm()
		if !ok {
			continue
		}
		alg, ok := jwa.LookupSignatureAlgorithm(algv.String())
		if !ok {
			continue
		}
		if !isSigningKey(key) {
			continue
		}
		kid, _ := key.KeyID()
		return &Signer{key: key, alg: alg, kid: kid}, nil
	}
	return nil, ErrNoSigningKey
}

func isSigningKey(key jwk.Key) bool {
	switch key.(type) {
	case jwk.SymmetricKey:
		return true
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey:
		return true
	case jwk.OKPPrivateKey:
		return true
	}
	return false
}

// KeyID returns the kid the Signer puts in each token's header.
func (s *Signer) KeyID() string { return s.kid }

// Alg returns the signing algorithm.
func (s *Signer) Alg() string { return s.alg.String() }

// Sign returns a compact JWS over claims with typ JWT, alg and kid in the
// header. Claims named iat and exp may be time.Time values or numbers.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	tok := jwt.New()
	for k, v := range claims {
		if t, ok := v.(time.Time); ok {
			v = t.Unix()
		}
		if err := tok.Set(k, v); err != nil {
			return "", fmt.Errorf("sign: claim %q: %w", k, err)
		}
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, s.kid); err != nil {
		return "", err
	}
	b, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", s.kid, err)
	}
	return string(b), nil
}

// PublicSet returns the public part of a JWK Set (symmetric keys are
// dropped), for publishing as a JWKS document.
func PublicSet(data []byte) ([]byte, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse key set: %w", err)
	}
	out := jwk.NewSet()
	for i := 0; i < set.Len(); i++ {
		key, _ := set.Key(i)
		if _, ok := key.(jwk.SymmetricKey); ok {
			continue
		}
		pub, err := key.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("public part of key %d: %w", i, err)
		}
		if err := out.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return json.Marshal(out)
}

// b64 is the encoding of JWS segments, for tests that craft tokens by hand.
var b64 = base64.RawURLEncoding

// SignRaw returns a compact JWS over exactly the given header JSON and
// base64url payload segment, without checking either. It exists for tests
// and tools that must craft unusual tokens (duplicate members, crit, odd
// claims) with a real signature; never use it to issue tokens.
func (s *Signer) SignRaw(header []byte, payloadSegment string) (string, error) {
	input := b64.EncodeToString(header) + "." + payloadSegment
	sg, err := jws.SignerFor(s.alg)
	if err != nil {
		return "", err
	}
	var raw any
	if err := jwk.Export(s.key, &raw); err != nil {
		return "", fmt.Errorf("export key %s: %w", s.kid, err)
	}
	sig, err := sg.Sign(raw, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", s.kid, err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// Public returns the public part of the Signer's key as a JWK Set; for a
// symmetric key it fails, since there is nothing public to share.
func (s *Signer) Public() ([]byte, error) {
	set := jwk.NewSet()
	if err := set.AddKey(s.key); err != nil {
		return nil, err
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	out, err := PublicSet(b)
	if err != nil {
		return nil, err
	}
	if string(out) == `{"keys":[]}` {
		return nil, errors.New("a symmetric key has no public part")
	}
	return out, nil
}
