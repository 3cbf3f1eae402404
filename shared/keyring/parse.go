package keyring

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Limits on the keys ParseKeys accepts.
const (
	// MinRSABits is the smallest RSA modulus accepted for RS* and PS*.
	MinRSABits = 2048
	// MaxRSABits bounds the cost of one RSA verification.
	MaxRSABits = 8192
	// MaxKeys is the most keys one JWK Set may hold.
	MaxKeys = 100
)

// errSkip marks a key that is not for signatures (use other than "sig").
var errSkip = errors.New("not a signature key")

// ParseKeys parses data, a JWK or a JWK Set (RFC 7517), into verification
// keys whose Origin is origin. It is strict, for key material the project
// controls (a Secrets Manager version): every key must be usable, or
// ParseKeys fails.
//
// Each key needs an alg that fits it: RS256/384/512 and PS256/384/512 need
// an RSA key of MinRSABits to MaxRSABits bits; ES256, ES384 and ES512 need an
// EC key on P-256, P-384 and P-521; EdDSA needs an OKP Ed25519 key; HS256,
// HS384 and HS512 need an oct key of at least 32, 48 and 64 bytes. A key's
// ID is its kid, else its RFC 7638 SHA-256 thumbprint (base64url). Keys
// whose use is present and not "sig" are skipped. Private keys are accepted
// (signers keep them in the same secret), but only their public part goes
// into [Key.Material]. Two keys with one ID, or no signature key at all, is
// an error.
//
// Errors never contain key material.
func ParseKeys(data []byte, origin string) ([]Key, error) {
	return parseKeys(data, origin, parseOptions{strict: true})
}

type parseOptions struct {
	// strict fails the whole set on one bad key; otherwise bad keys are
	// skipped, as RFC 7517 section 5 recommends for a foreign JWK Set.
	strict bool
	// defaultAlg is the alg of keys that have none; "" requires alg.
	defaultAlg string
}

func parseKeys(data []byte, origin string, o parseOptions) ([]Key, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("parse JWK: empty input")
	}
	// encoding/json's syntax errors quote the offending byte, which would
	// be a byte of the key material.
	if !json.Valid(data) {
		return nil, errors.New("parse JWK: not valid JSON")
	}
	set, err := jwk.Parse(data,
		jwk.WithStrictKeySetParsing(o.strict),
		jwk.WithMaxKeys(MaxKeys),
		jwk.WithRejectDuplicateKID(false), // checked below, thumbprints included
	)
	if err != nil {
		return nil, fmt.Errorf("parse JWK: %w", err)
	}
	keys := make([]Key, 0, set.Len())
	index := make(map[string]int, set.Len())
	var firstBad error
	for i := range set.Len() {
		jk, ok := set.Key(i)
		if !ok {
			continue
		}
		k, err := toKey(jk, origin, o.defaultAlg)
		switch {
		case errors.Is(err, errSkip):
			continue
		case err != nil:
			err = fmt.Errorf("key %d: %w", i, err)
			if o.strict {
				return nil, err
			}
			if firstBad == nil {
				firstBad = err
			}
			continue
		}
		if j, dup := index[k.ID]; dup {
			return nil, fmt.Errorf("keys %d and %d share kid %q", j, i, k.ID)
		}
		index[k.ID] = i
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if firstBad != nil {
			return nil, fmt.Errorf("no usable signature key: %w", firstBad)
		}
		return nil, errors.New("no signature key")
	}
	return keys, nil
}

// toKey checks one JWK against its alg and keeps its public part.
func toKey(jk jwk.Key, origin, defaultAlg string) (Key, error) {
	if uk, ok := jk.(jwk.UnsupportedKey); ok {
		return Key{}, fmt.Errorf("unsupported key (kty %q): %w", uk.KeyType().String(), uk.Reason())
	}
	if use, ok := jk.KeyUsage(); ok && use != string(jwk.ForSignature) {
		return Key{}, errSkip
	}
	alg := defaultAlg
	if a, ok := jk.Algorithm(); ok {
		alg = a.String()
	}
	if alg == "" {
		return Key{}, errors.New("no alg")
	}
	pub, err := jk.PublicKey()
	if err != nil {
		return Key{}, fmt.Errorf("public part: %w", err)
	}
	material, err := materialFor(pub, alg)
	if err != nil {
		return Key{}, err
	}
	id, _ := jk.KeyID()
	if id == "" {
		tp, err := pub.Thumbprint(crypto.SHA256)
		if err != nil {
			return Key{}, fmt.Errorf("thumbprint: %w", err)
		}
		id = base64.RawURLEncoding.EncodeToString(tp)
	}
	return Key{ID: id, Alg: alg, Material: material, Origin: origin}, nil
}

// materialFor exports pub as the Go key that alg verifies with, checking
// that key type, curve and size fit alg.
func materialFor(pub jwk.Key, alg string) (any, error) {
	kty := pub.KeyType()
	var raw any
	export := func(want jwa.KeyType, what string) error {
		if kty != want {
			return fmt.Errorf("alg %s needs %s key, got kty %q", alg, what, kty.String())
		}
		if err := jwk.Export(pub, &raw); err != nil {
			return fmt.Errorf("alg %s: %w", alg, err)
		}
		return nil
	}
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		if err := export(jwa.RSA(), "an RSA"); err != nil {
			return nil, err
		}
		pk, ok := raw.(*rsa.PublicKey)
		if !ok || pk.N == nil {
			return nil, fmt.Errorf("alg %s: not an RSA public key", alg)
		}
		if bits := pk.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return nil, fmt.Errorf("alg %s: RSA key has %d bits, want %d to %d", alg, bits, MinRSABits, MaxRSABits)
		}
		if pk.E < 3 || pk.E%2 == 0 {
			return nil, fmt.Errorf("alg %s: RSA public exponent %d is not an odd number >= 3", alg, pk.E)
		}
		return pk, nil
	case "ES256", "ES384", "ES512":
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if err := export(jwa.EC(), "an EC"); err != nil {
			return nil, err
		}
		pk, ok := raw.(*ecdsa.PublicKey)
		if !ok || pk.Curve == nil {
			return nil, fmt.Errorf("alg %s: not an EC public key", alg)
		}
		if pk.Curve != want {
			return nil, fmt.Errorf("alg %s needs curve %s, got %s", alg, want.Params().Name, pk.Curve.Params().Name)
		}
		if _, err := pk.ECDH(); err != nil {
			return nil, fmt.Errorf("alg %s: invalid EC point", alg)
		}
		return pk, nil
	case "EdDSA":
		if err := export(jwa.OKP(), "an OKP Ed25519"); err != nil {
			return nil, err
		}
		pk, ok := raw.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("alg %s needs curve Ed25519", alg)
		}
		if len(pk) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("alg %s: Ed25519 key has %d bytes, want %d", alg, len(pk), ed25519.PublicKeySize)
		}
		return pk, nil
	case "HS256", "HS384", "HS512":
		minLen := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
		if err := export(jwa.OctetSeq(), "an oct"); err != nil {
			return nil, err
		}
		b, ok := raw.([]byte)
		if !ok {
			return nil, fmt.Errorf("alg %s: not a symmetric key", alg)
		}
		if len(b) < minLen {
			return nil, fmt.Errorf("alg %s: oct key has %d bytes, want at least %d", alg, len(b), minLen)
		}
		return bytes.Clone(b), nil
	}
	return nil, fmt.Errorf("unsupported alg %q", alg)
}
