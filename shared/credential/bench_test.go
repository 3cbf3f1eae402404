package credential_test

import (
	"context"
	"testing"

	"github.com/apigw-guard/guard/shared/credential"
)

// BenchmarkDerive is the cost of one cold verification at the default
// iteration count: what the first request of a client pays per secret
// version.
func BenchmarkDerive(b *testing.B) {
	for b.Loop() {
		if _, err := credential.NewClientEntry("bench-secret-0123456789", credential.DefaultIterations); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateCached is a warm verification (cache hit).
func BenchmarkAuthenticateCached(b *testing.B) {
	v := doc(b, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(b, "bench-secret-0123456789")}})
	s := credential.NewStore(newReader(cur("v1", v)))
	ctx := context.Background()
	if _, err := s.Authenticate(ctx, "ops", "bench-secret-0123456789"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if c, err := s.Authenticate(ctx, "ops", "bench-secret-0123456789"); err != nil || !c.Cached {
			b.Fatal(c, err)
		}
	}
}
