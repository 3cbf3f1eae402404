//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
)

// handlerBenchAlgs are the algorithms the whole-handler benchmark signs
// with; the verification alone is measured in package token.
var handlerBenchAlgs = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"}

// handlerBenchTokens distinct tokens per algorithm; the "distinct" runs use
// a smaller decision cache, so every request misses it.
const (
	handlerBenchTokens = 64
	handlerBenchCache  = 1
)

// staticSource is a keyring.Source holding fixed keys, so that the
// benchmark goes through a real keyring.Ring lookup.
type staticSource []keyring.Key

func (s staticSource) Keys(context.Context) ([]keyring.Key, error) { return s, nil }
func (s staticSource) Refresh(context.Context) (bool, error)       { return false, nil }

// benchHandler returns a handler configured like the template's (REST
// policies, the demo routes, context and usage claims), with keys for alg
// in a keyring.Ring, a decision cache of cacheSize entries, and a JSON
// decision log written to io.Discard; plus handlerBenchTokens REST TOKEN
// events, each with a distinct Cognito-sized token.
func benchHandler(b *testing.B, alg string, cacheSize int) (*handler, [][]byte) {
	b.Helper()
	set, err := signer.Generate(alg, 0)
	if err != nil {
		b.Fatal(err)
	}
	s, err := signer.New(set)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := keyring.ParseKeys(set, "AWSCURRENT")
	if err != nil {
		b.Fatal(err)
	}
	ring, err := keyring.NewRing(map[string]keyring.Source{testIssuer: staticSource(keys)})
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{
		"KEYS_SECRET_ID": "keys", "KEYS_ISSUER": testIssuer, "AUDIENCES": testAudience,
		"ROUTES": testRoutes, "CONTEXT_CLAIMS": "email,tenant", "USAGE_IDENTIFIER_CLAIM": "api_key",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	v, err := token.NewVerifier(ring, cfg.issuers(), token.WithClockSkew(cfg.skew), token.WithMaxLifetime(cfg.maxLifetime))
	if err != nil {
		b.Fatal(err)
	}
	h := &handler{
		verify: v, cache: token.NewDecisionCache[verdict](v, cacheSize), rules: cfg.rules, simple: cfg.simple,
		contextClaims: cfg.contextClaims, usageClaim: cfg.usageClaim,
		log: slog.New(slog.NewJSONHandler(io.Discard, nil)), now: time.Now,
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "token-authorizer", "rest-token.json"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	payloads := make([][]byte, handlerBenchTokens)
	for i := range payloads {
		tok, err := s.Sign(map[string]any{
			"iss": testIssuer, "aud": testAudience, "sub": fmt.Sprintf("user-%d", i),
			"scope": "orders:read profile", "cognito:groups": []string{"analysts"},
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti":       fmt.Sprintf("0f1e2d3c-4b5a-6978-%04d-abcdefabcdef", i),
			"client_id": "6a7b8c9d0e1f2g3h4i5j6k7l8m", "token_use": "access", "auth_time": now.Add(-time.Hour).Unix(),
			"username": fmt.Sprintf("user-%d@example.com", i), "email": fmt.Sprintf("user-%d@example.com", i),
			"tenant": "acme", "api_key": "usage-key-1",
		})
		if err != nil {
			b.Fatal(err)
		}
		payloads[i] = bytes.ReplaceAll(sample, []byte("{{token}}"), []byte(tok))
	}
	return h, payloads
}

// BenchmarkHandler is one warm decision of the whole handler, called as the
// Lambda runtime calls it (apigw.Handler's Invoke): a REST TOKEN event's
// JSON in, the policy response's JSON out, the decision logged as JSON. "distinct" gives every
// request a token of its own (each misses the decision cache and is
// verified, then put in it); "repeated" sends one token again and again,
// served from the decision cache (the revocation check, route match, policy
// and log still run per request). Run with -cpu 1 for per-core figures.
func BenchmarkHandler(b *testing.B) {
	ctx := context.Background()
	for _, alg := range handlerBenchAlgs {
		b.Run(alg+"/distinct", func(b *testing.B) {
			h, payloads := benchHandler(b, alg, handlerBenchCache)
			cv := &countingVerifier{v: h.verify.(*token.Verifier)}
			h.verify = cv
			n := benchLoop(b, func(i int) { handleOnce(b, ctx, h, payloads[i%len(payloads)]) })
			if cv.calls != n {
				b.Fatalf("%d verifications for %d distinct-token requests, want one each", cv.calls, n)
			}
		})
		b.Run(alg+"/repeated", func(b *testing.B) {
			h, payloads := benchHandler(b, alg, handlerBenchCache)
			cv := &countingVerifier{v: h.verify.(*token.Verifier)}
			h.verify = cv
			handleOnce(b, ctx, h, payloads[0])
			benchLoop(b, func(int) { handleOnce(b, ctx, h, payloads[0]) })
			if cv.calls != 1 {
				b.Fatalf("%d verifications for one repeated token, want 1 (the rest from the decision cache)", cv.calls)
			}
		})
	}
}

// BenchmarkRuntimePath compares the two ways the Lambda runtime can call
// the handler with the same warm, cached decision: "reflect" is what
// lambda.Start(h.handle) would do (aws-lambda-go's reflection path:
// json.RawMessage decode, reflect.Call, response encode), "invoke" is what
// main.go does (apigw.Handler's Invoke). The difference is the runtime's
// own cost per invocation, which BenchmarkHandler no longer pays.
func BenchmarkRuntimePath(b *testing.B) {
	ctx := context.Background()
	paths := []struct {
		name string
		wrap func(*handler) lambda.Handler
	}{
		{"reflect", func(h *handler) lambda.Handler { return lambda.NewHandler(h.handle) }},
		{"invoke", func(h *handler) lambda.Handler { return apigw.Handler(h.handle) }},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			h, payloads := benchHandler(b, "HS256", handlerBenchCache)
			lh := p.wrap(h)
			benchLoop(b, func(int) {
				if _, err := lh.Invoke(ctx, payloads[0]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// handleOnce gives payload, which must be allowed, to the handler as the
// Lambda runtime does (main.go starts the runtime with apigw.Handler).
func handleOnce(b *testing.B, ctx context.Context, h *handler, payload []byte) {
	if _, err := apigw.Handler(h.handle).Invoke(ctx, payload); err != nil {
		b.Fatal(err)
	}
}

// benchLoop runs fn for b.Loop and reports allocations and the process's
// CPU time per operation (cpu-ns/op), which a loaded machine disturbs less
// than wall time. It returns the number of calls.
func benchLoop(b *testing.B, fn func(i int)) int {
	b.ReportAllocs()
	start := benchCPU()
	i := 0
	for b.Loop() {
		fn(i)
		i++
	}
	if d := benchCPU() - start; d > 0 && i > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(i), "cpu-ns/op")
	}
	return i
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
