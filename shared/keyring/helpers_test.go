package keyring_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
)

// Test keys are generated once per test binary: RSA generation is slow.
var (
	rsa2048 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsa1024 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
	ecP256  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	ecP384  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P384()) })
	ecP521  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P521()) })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64int(n *big.Int) string { return b64(n.Bytes()) }

// jwk is a JWK as a JSON object, built by hand so that tests control every
// member (jwx refuses to import some of the bad keys tested here).
type jwk map[string]any

func (j jwk) with(kv ...string) jwk {
	out := jwk{}
	for k, v := range j {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (j jwk) json(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func set(t testing.TB, keys ...jwk) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rsaPublic(k *rsa.PrivateKey) jwk {
	return jwk{"kty": "RSA", "n": b64int(k.N), "e": b64int(big.NewInt(int64(k.E)))}
}

func rsaPrivate(k *rsa.PrivateKey) jwk {
	k.Precompute()
	j := rsaPublic(k)
	j["d"] = b64int(k.D)
	j["p"] = b64int(k.Primes[0])
	j["q"] = b64int(k.Primes[1])
	j["dp"] = b64int(k.Precomputed.Dp)
	j["dq"] = b64int(k.Precomputed.Dq)
	j["qi"] = b64int(k.Precomputed.Qinv)
	return j
}

func ecPublic(k *ecdsa.PrivateKey) jwk {
	e, err := k.PublicKey.ECDH()
	if err != nil {
		panic(err)
	}
	raw := e.Bytes()[1:] // uncompressed point without the 0x04 prefix
	n := len(raw) / 2
	return jwk{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64(raw[:n]), "y": b64(raw[n:])}
}

func ecPrivate(k *ecdsa.PrivateKey) jwk {
	j := ecPublic(k)
	d, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	j["d"] = b64(d)
	return j
}

func edPublic(k ed25519.PrivateKey) jwk {
	return jwk{"kty": "OKP", "crv": "Ed25519", "x": b64(k.Public().(ed25519.PublicKey))}
}

func edPrivate(k ed25519.PrivateKey) jwk {
	j := edPublic(k)
	j["d"] = b64(k.Seed())
	return j
}

func x25519Public(t testing.TB) jwk {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jwk{"kty": "OKP", "crv": "X25519", "x": b64(k.PublicKey().Bytes())}
}

func octKey(n int) jwk {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return jwk{"kty": "oct", "k": b64(b)}
}

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
