package replay_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/replay"
)

// BenchmarkMemorySeen records a new signature in a Memory holding 50k.
func BenchmarkMemorySeen(b *testing.B) {
	m := replay.NewMemory(0)
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	for i := range 50_000 {
		_, _ = m.Seen(ctx, "warm-"+strconv.Itoa(i), until)
	}
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = m.Seen(ctx, keys[i&(len(keys)-1)], until)
		i++
	}
}
