package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/token"
)

// hangingKeys is a key source whose dependency never answers: it returns
// only when the context ends, as the SDK and net/http do.
type hangingKeys struct{}

func (hangingKeys) Key(ctx context.Context, _, _ string) (keyring.Key, error) {
	<-ctx.Done()
	return keyring.Key{}, fmt.Errorf("load keys: %w: %w", keyring.ErrKeysUnavailable, ctx.Err())
}

// hangingRevocations is a revocation view whose table never answers.
type hangingRevocations struct{}

func (hangingRevocations) Check(ctx context.Context, _, _, _ string, _ time.Time) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

// TestAnswersBeforeTheDeadline: when a dependency hangs, the handler fails
// closed a margin before the invocation's deadline instead of letting Lambda
// time the invocation out, and leaves no goroutine behind.
func TestAnswersBeforeTheDeadline(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *fixture)
		reason string
	}{
		{"keys hang", func(f *fixture) {
			v, err := token.NewVerifier(hangingKeys{}, []token.Issuer{{Issuer: testIssuer, Audiences: []string{testAudience}}})
			if err != nil {
				t.Fatal(err)
			}
			f.h.verify = v
		}, "keys_unavailable"},
		{"revocation table hangs", func(f *fixture) { f.h.revoked = hangingRevocations{} }, "revocations_unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tok := f.token(t, nil)
			tc.setup(f)
			before := runtime.NumGoroutine()
			const timeout = 800 * time.Millisecond // margin: a quarter, 200 ms
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			_, err := f.h.handle(ctx, event(t, "rest-token.json", tok))
			elapsed := time.Since(start)
			checkErr(t, err, &apigw.FailClosed{})
			if elapsed >= timeout-100*time.Millisecond || elapsed < timeout/2 {
				t.Errorf("answered after %v, want about %v (the deadline minus the margin)", elapsed, timeout-timeout/4)
			}
			if !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Errorf("log %s lacks reason %q", f.logs.String(), tc.reason)
			}
			deadline := time.Now().Add(time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > before {
				t.Errorf("%d goroutines after the invocation, want at most %d", n, before)
			}
		})
	}
}

func TestBeforeDeadline(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		deadline time.Duration // from now; 0 = none
		want     time.Duration // the bounded deadline, from now
	}{
		{"function timeout 10 s", 10 * time.Second, 9 * time.Second},
		{"function timeout 4 s", 4 * time.Second, 3 * time.Second},
		{"function timeout 2 s: a quarter", 2 * time.Second, 1500 * time.Millisecond},
		{"deadline passed", -time.Second, -time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), now.Add(tc.deadline))
			defer cancel()
			bounded, stop := beforeDeadline(ctx, now)
			defer stop()
			got, ok := bounded.Deadline()
			if !ok || got.Sub(now) != tc.want {
				t.Errorf("deadline = now%+v (%v), want now%+v", got.Sub(now), ok, tc.want)
			}
		})
	}
	t.Run("no deadline", func(t *testing.T) {
		bounded, stop := beforeDeadline(context.Background(), now)
		defer stop()
		if _, ok := bounded.Deadline(); ok {
			t.Error("a context without a deadline got one")
		}
	})
}

func TestKeysMaxStaleness(t *testing.T) {
	base := map[string]string{"KEYS_SECRET_ID": "keys", "KEYS_ISSUER": testIssuer, "AUDIENCES": testAudience, "ROUTES": testRoutes}
	cases := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 24 * time.Hour, false},
		{"5", 5 * time.Second, false},
		{"604800", 7 * 24 * time.Hour, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"604801", 0, true},
		{"1h", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			env := map[string]string{"KEYS_MAX_STALENESS_SECONDS": tc.value}
			for k, v := range base {
				env[k] = v
			}
			c, err := loadConfig(func(k string) string { return env[k] })
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "KEYS_MAX_STALENESS_SECONDS") {
					t.Errorf("err = %v, want one naming KEYS_MAX_STALENESS_SECONDS", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.keysMaxStale != tc.want {
				t.Errorf("max staleness = %v, want %v", c.keysMaxStale, tc.want)
			}
		})
	}
}
