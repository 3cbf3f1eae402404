package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// benchAlgs are the algorithms benchmarked, each with distinct tokens so
// that nothing could be served from a cache.
var benchAlgs = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"}

const benchTokens = 64

type benchToken struct {
	raw   string
	input []byte // signing input
	sig   []byte // decoded signature; DER for ECDSA
}

// benchSet returns benchTokens distinct Cognito-sized tokens for alg.
func benchSet(b *testing.B, alg string) []benchToken {
	b.Helper()
	out := make([]benchToken, benchTokens)
	for i := range out {
		c := baseClaims().with("jti", fmt.Sprintf("token-%d", i)).
			with("client_id", "6a7b8c9d0e1f2g3h4i5j6k7l8m").with("token_use", "access").
			with("auth_time", now.Add(-time.Hour).Unix()).with("version", 2).
			with("origin_jti", fmt.Sprintf("0f1e2d3c-4b5a-6978-%04d-abcdefabcdef", i)).
			with("username", fmt.Sprintf("user-%d@example.com", i))
		raw := signWith(b, alg, c.json())
		parts := strings.Split(raw, ".")
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			b.Fatal(err)
		}
		if alg[:2] == "ES" {
			half := len(sig) / 2
			sig, err = derSig(sig[:half], sig[half:])
			if err != nil {
				b.Fatal(err)
			}
		}
		out[i] = benchToken{raw: raw, input: []byte(parts[0] + "." + parts[1]), sig: sig}
	}
	return out
}

func derSig(r, s []byte) ([]byte, error) {
	type sigASN1 struct{ R, S *big.Int }
	return asn1.Marshal(sigASN1{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
}

// loop runs fn for b.Loop and reports allocations and, besides wall time,
// the process's CPU time per operation (cpu-ns/op): on a machine shared
// with other work, wall time swings with the load while CPU time, and so
// the Verify/Floor ratio, stays put.
func loop(b *testing.B, fn func(i int)) {
	b.ReportAllocs()
	start := processCPU()
	i := 0
	for b.Loop() {
		fn(i)
		i++
	}
	if d := processCPU() - start; d > 0 && i > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(i), "cpu-ns/op")
	}
}

// BenchmarkVerify measures a full verification with keys held in memory.
func BenchmarkVerify(b *testing.B) {
	v := newVerifier(b, keySource(b))
	ctx := context.Background()
	for _, alg := range benchAlgs {
		toks := benchSet(b, alg)
		b.Run(alg, func(b *testing.B) {
			loop(b, func(i int) {
				if _, err := v.Verify(ctx, toks[i%benchTokens].raw); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkFloor measures only the signature check over the same signing
// inputs: hash plus the crypto primitive, with the signature already
// decoded (and, for ECDSA, already in DER). Verify/Floor is the overhead.
func BenchmarkFloor(b *testing.B) {
	for _, alg := range benchAlgs {
		toks := benchSet(b, alg)
		check := floorCheck(b, alg)
		b.Run(alg, func(b *testing.B) {
			loop(b, func(i int) {
				if !check(&toks[i%benchTokens]) {
					b.Fatal("signature does not verify")
				}
			})
		})
	}
}

// BenchmarkRatio alternates a full verification and the floor's check of
// the same token, timing each, so that both see the same load: on a
// shared machine it gives a steadier floor/verify ratio than two separate
// benchmarks do.
func BenchmarkRatio(b *testing.B) {
	v := newVerifier(b, keySource(b))
	ctx := context.Background()
	for _, alg := range benchAlgs {
		toks := benchSet(b, alg)
		check := floorCheck(b, alg)
		b.Run(alg, func(b *testing.B) {
			var verify, floor time.Duration
			i := 0
			for b.Loop() {
				t := &toks[i%benchTokens]
				start := time.Now()
				if _, err := v.Verify(ctx, t.raw); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if !check(t) {
					b.Fatal("signature does not verify")
				}
				verify += mid.Sub(start)
				floor += time.Since(mid)
				i++
			}
			b.ReportMetric(float64(verify.Nanoseconds())/float64(i), "verify-ns/op")
			b.ReportMetric(float64(floor.Nanoseconds())/float64(i), "floor-ns/op")
			b.ReportMetric(float64(floor)/float64(verify), "floor/verify")
		})
	}
}

// floorCheck returns the bare signature check for alg's fixture key.
func floorCheck(b *testing.B, alg string) func(t *benchToken) bool {
	pub := keys(b).byAlg[alg].key.Material
	switch alg {
	case "RS256":
		return func(t *benchToken) bool {
			d := sha256.Sum256(t.input)
			return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, d[:], t.sig) == nil
		}
	case "PS256":
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		return func(t *benchToken) bool {
			d := sha256.Sum256(t.input)
			return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, d[:], t.sig, opts) == nil
		}
	case "ES256":
		return func(t *benchToken) bool {
			d := sha256.Sum256(t.input)
			return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], t.sig)
		}
	case "ES384":
		return func(t *benchToken) bool {
			d := sha512.Sum384(t.input)
			return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], t.sig)
		}
	case "EdDSA":
		return func(t *benchToken) bool { return ed25519.Verify(pub.(ed25519.PublicKey), t.input, t.sig) }
	case "HS256":
		return func(t *benchToken) bool {
			mac := hmac.New(sha256.New, pub.([]byte))
			mac.Write(t.input)
			return hmac.Equal(mac.Sum(nil), t.sig)
		}
	}
	b.Fatalf("no floor for %s", alg)
	return nil
}
