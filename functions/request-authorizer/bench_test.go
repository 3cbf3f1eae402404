package main

import (
	"context"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/apigw"
)

// noReplay accepts every signature again, so one signed event can be
// decided b.N times; the replay guard's own cost is measured in package
// replay (BenchmarkMemorySeen).
type noReplay struct{}

func (noReplay) Seen(context.Context, string, time.Time) (bool, error) { return false, nil }

// BenchmarkSignedDecision is one warm signed-request decision: decode the
// REST event, verify the RFC 9421 signature (keys held), build the
// cache-safe policy, log the decision, encode the response: the call the
// Lambda runtime makes (apigw.Handler's Invoke).
func BenchmarkSignedDecision(b *testing.B) {
	f := newFixture(b, nil, noReplay{})
	p := signed(b, "rest-signed.json", signOpts{})
	if got := f.run(b, p); got.outcome != "allow" {
		b.Fatalf("warm-up: %s", got.outcome)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.logs.Reset()
		if _, err := apigw.Handler(f.h.handle).Invoke(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCredentialsDecision is one warm credentials decision: the client
// secret's verification comes from the cache, so no key derivation runs.
func BenchmarkCredentialsDecision(b *testing.B) {
	f := newFixture(b, nil, nil)
	p := edit(b, withBasic(b, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
	if got := f.run(b, p); got.outcome != "allow" {
		b.Fatalf("warm-up: %s", got.outcome)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.logs.Reset()
		if _, err := apigw.Handler(f.h.handle).Invoke(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
