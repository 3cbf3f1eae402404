package revocation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
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

// TestViewRefusesEmptyReplies drives the real DynamoDB client against an
// endpoint that answers 200 with an empty body (or "{}"): the SDK decodes
// that as a Query without items, which must fail the refresh, not empty
// the view. The revoked subject stays revoked until the view is too old,
// then the view fails closed.
func TestViewRefusesEmptyReplies(t *testing.T) {
	for _, reply := range []string{"", "{}"} {
		t.Run(fmt.Sprintf("%q", reply), func(t *testing.T) {
			var broken atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if broken.Load() {
					_, _ = io.WriteString(w, reply)
					return
				}
				_, _ = io.WriteString(w, `{"Count":1,"ScannedCount":1,"Items":[{"pk":{"S":"sub#*#alice"},"revokedAt":{"N":"`+
					strconv.FormatInt(t0.Unix(), 10)+`"},"expiresAt":{"N":"`+strconv.FormatInt(t0.Unix()+86400, 10)+`"}}]}`)
			}))
			defer srv.Close()
			db := dynamodb.New(dynamodb.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
			})
			c := &clock{t: t0}
			v := NewView(db, "revocations", withClock(c.now), WithFullReload(time.Second))
			iat := t0.Add(-time.Minute)
			if revoked, err := v.Check(context.Background(), "", "alice", "", iat); err != nil || !revoked {
				t.Fatalf("first load: Check = %v, %v; want true", revoked, err)
			}
			broken.Store(true)
			c.advance(3 * time.Second) // a full reload is due
			if revoked, err := v.Check(context.Background(), "", "alice", "", iat); err != nil || !revoked {
				t.Fatalf("after an empty reply: Check = %v, %v; want the last view's true", revoked, err)
			}
			if st := v.Stats(); st.RefreshErrors != 1 || !errors.Is(st.LastError, ErrMalformedResponse) {
				t.Errorf("stats: %d refresh errors, last %v; want 1 and ErrMalformedResponse", st.RefreshErrors, st.LastError)
			}
			c.advance(DefaultMaxStaleness)
			if _, err := v.Check(context.Background(), "", "alice", "", iat); !errors.Is(err, ErrStale) {
				t.Errorf("past the staleness: err = %v, want ErrStale", err)
			}
		})
	}
}
