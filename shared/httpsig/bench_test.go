package httpsig_test

import (
	"context"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/httpsig"
)

// BenchmarkVerify is one signature check with the keys held and no replay
// guard: parse both fields, rebuild the base, one HMAC-SHA256.
func BenchmarkVerify(b *testing.B) {
	v, err := httpsig.NewVerifier(keys(), httpsig.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	r := sign(b, request(), components, httpsig.Params{Alg: true}, keyA)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
