package revocation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestViewHangingTableLeavesNoGoroutine drives the real DynamoDB client
// against an endpoint that never answers: every refresh gives up at its
// timeout, the view fails closed, and once the connections are closed no
// goroutine is left behind, however many refreshes failed.
func TestViewHangingTableLeavesNoGoroutine(t *testing.T) {
	// The handler reads the body first: only then does net/http watch the
	// connection, so a client that gives up is seen and the handler ends.
	// release ends it anyway, so a failing test cannot hang srv.Close.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	hc := &http.Client{}
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: hc, RetryMaxAttempts: 3,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	c := &clock{t: t0}
	v := NewView(db, "revocations", withClock(c.now), WithRefreshTimeout(20*time.Millisecond))
	before := runtime.NumGoroutine()
	for i := range 20 {
		c.advance(3 * time.Second)
		start := time.Now()
		_, err := v.Check(context.Background(), "", "alice", "", t0)
		if !errors.Is(err, ErrStale) {
			t.Fatalf("check %d: err = %v, want ErrStale", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("check %d took %v with a 20 ms refresh timeout", i, d)
		}
	}
	if st := v.Stats(); st.RefreshErrors != 20 || st.StaleDenied != 20 {
		t.Errorf("stats: %d refresh errors, %d stale denials; want 20 and 20", st.RefreshErrors, st.StaleDenied)
	}
	hc.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after 20 failed refreshes, want at most %d:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
