package main

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
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

// result is one measured loop, as both sides print it.
type result struct {
	Ops    int     `json:"ops"`
	WallNs int64   `json:"wallNs"`
	CPUNs  int64   `json:"cpuNs"`
	Allocs float64 `json:"allocsPerOp,omitempty"`
	Bytes  float64 `json:"bytesPerOp,omitempty"`
}

// line is one JSON line of results.
type line struct {
	Side    string  `json:"side"` // "go" or "node"
	Alg     string  `json:"alg"`
	Runtime string  `json:"runtime"`
	Verify  result  `json:"verify"`
	Floor   *result `json:"floor,omitempty"` // Go only
}

// staticSource is a keyring.Source holding fixed keys, so that lookups go
// through a real keyring.Ring as in the authorizers.
type staticSource []keyring.Key

func (s staticSource) Keys(context.Context) ([]keyring.Key, error) { return s, nil }
func (s staticSource) Refresh(context.Context) (bool, error)       { return false, nil }

// run measures Verify and the floor for alg on one core and prints a line.
func run(dir, alg string, d time.Duration) error {
	if dir == "" {
		return errNoDir
	}
	runtime.GOMAXPROCS(1)
	var tf tokenFile
	if err := readJSON(filepath.Join(dir, "tokens.json"), &tf); err != nil {
		return err
	}
	toks := tf.Tokens[alg]
	if len(toks) == 0 {
		return fmt.Errorf("no %s tokens in %s", alg, dir)
	}
	keyFile := "jwks.json"
	if alg[:2] == "HS" {
		keyFile = "secret.jwks.json"
	}
	data, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return err
	}
	keys, err := keyring.ParseKeys(data, "jwks")
	if err != nil {
		return err
	}
	ring, err := keyring.NewRing(map[string]keyring.Source{tf.Issuer: staticSource(keys)})
	if err != nil {
		return err
	}
	// The template's settings: 60 s of clock skew, 24 h maximum lifetime.
	v, err := token.NewVerifier(ring, []token.Issuer{{Issuer: tf.Issuer, Audiences: []string{tf.Audience}}},
		token.WithClockSkew(time.Minute), token.WithMaxLifetime(24*time.Hour))
	if err != nil {
		return err
	}
	var key keyring.Key
	for _, k := range keys {
		if k.Alg == alg {
			key = k
		}
	}
	floor, err := floorCheck(alg, key.Material, toks)
	if err != nil {
		return err
	}

	ctx := context.Background()
	for i, t := range toks {
		if _, err := v.Verify(ctx, t); err != nil {
			return fmt.Errorf("%s token %d does not verify: %w", alg, i, err)
		}
		if !floor(i) {
			return fmt.Errorf("%s token %d fails the floor check", alg, i)
		}
	}
	if _, err := v.Verify(ctx, tamper(toks[0])); err == nil {
		return fmt.Errorf("a tampered %s token verified", alg)
	}

	out := line{Side: "go", Alg: alg, Runtime: runtime.Version()}
	if out.Verify, err = measure(d, func(i int) bool {
		_, err := v.Verify(ctx, toks[i%len(toks)])
		return err == nil
	}); err != nil {
		return err
	}
	fr, err := measure(d, func(i int) bool { return floor(i % len(toks)) })
	if err != nil {
		return err
	}
	out.Floor = &fr
	return json.NewEncoder(os.Stdout).Encode(out)
}

// tamper flips one claims character, keeping the token well formed.
func tamper(tok string) string {
	b := []byte(tok)
	i := strings.IndexByte(tok, '.') + 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// measure calls op in batches of 64 for about d, after one warm-up batch,
// and reports operations, wall and CPU time, and allocations.
func measure(d time.Duration, op func(i int) bool) (result, error) {
	const batch = 64
	for i := range batch {
		if !op(i) {
			return result{}, fmt.Errorf("warm-up operation %d failed", i)
		}
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, t0 := processCPU(), time.Now()
	n := 0
	for time.Since(t0) < d {
		for range batch {
			if !op(n) {
				return result{}, fmt.Errorf("operation %d failed", n)
			}
			n++
		}
	}
	wall, cpu := time.Since(t0), processCPU()-cpu0
	runtime.ReadMemStats(&m1)
	return result{
		Ops: n, WallNs: wall.Nanoseconds(), CPUNs: cpu.Nanoseconds(),
		Allocs: float64(m1.Mallocs-m0.Mallocs) / float64(n),
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
	}, nil
}

// floorCheck returns the bare signature check of token i: the hash and
// the primitive, with the signing input and the signature decoded (for
// ECDSA, already in DER) beforehand, as BenchmarkFloor in package token.
func floorCheck(alg string, material any, toks []string) (func(i int) bool, error) {
	inputs := make([][]byte, len(toks))
	sigs := make([][]byte, len(toks))
	for i, t := range toks {
		dot := strings.LastIndexByte(t, '.')
		sig, err := base64.RawURLEncoding.DecodeString(t[dot+1:])
		if err != nil {
			return nil, err
		}
		if alg[:2] == "ES" {
			half := len(sig) / 2
			type der struct{ R, S *big.Int }
			if sig, err = asn1.Marshal(der{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])}); err != nil {
				return nil, err
			}
		}
		inputs[i], sigs[i] = []byte(t[:dot]), sig
	}
	switch alg {
	case "RS256":
		pub, ok := material.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("no RSA key for %s", alg)
		}
		return func(i int) bool {
			d := sha256.Sum256(inputs[i])
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sigs[i]) == nil
		}, nil
	case "PS256":
		pub, ok := material.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("no RSA key for %s", alg)
		}
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		return func(i int) bool {
			d := sha256.Sum256(inputs[i])
			return rsa.VerifyPSS(pub, crypto.SHA256, d[:], sigs[i], opts) == nil
		}, nil
	case "ES256", "ES384":
		pub, ok := material.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("no ECDSA key for %s", alg)
		}
		if alg == "ES256" {
			return func(i int) bool { d := sha256.Sum256(inputs[i]); return ecdsa.VerifyASN1(pub, d[:], sigs[i]) }, nil
		}
		return func(i int) bool { d := sha512.Sum384(inputs[i]); return ecdsa.VerifyASN1(pub, d[:], sigs[i]) }, nil
	case "EdDSA":
		pub, ok := material.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("no Ed25519 key for %s", alg)
		}
		return func(i int) bool { return ed25519.Verify(pub, inputs[i], sigs[i]) }, nil
	case "HS256":
		secret, ok := material.([]byte)
		if !ok {
			return nil, fmt.Errorf("no HMAC key for %s", alg)
		}
		return func(i int) bool {
			mac := hmac.New(sha256.New, secret)
			mac.Write(inputs[i])
			return hmac.Equal(mac.Sum(nil), sigs[i])
		}, nil
	}
	return nil, fmt.Errorf("no floor for %s", alg)
}
