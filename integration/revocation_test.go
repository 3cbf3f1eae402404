//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
)

// TestRevocationThroughGateway revokes a subject while API Gateway's
// authorizer cache (TTL 300 s) holds an Allow for it, and measures how long
// until the gateway denies it.
func TestRevocationThroughGateway(t *testing.T) {
	s := startStack(t, map[string]string{"AuthorizerTtlSeconds": "300"}, nil)
	mint := func(sub string) string {
		tok, err := s.Keys.Current.Sign(demo.Claims(sub, "orders:read", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice, bob := mint("alice"), mint("bob")
	for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
		for _, tok := range []string{alice, bob} {
			if code, body := get(t, s, path, tok); code != 200 {
				t.Fatalf("before revocation GET %s = %d %s, want 200", path, code, body)
			}
		}
	}

	inv := s.Function("CacheInvalidatorFunction")
	if inv == nil {
		t.Fatal("CacheInvalidatorFunction is not running")
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		payload, _ := json.Marshal(map[string]string{"subject": "alice", "reason": "offboarded"})
		res, err := inv.Invoke(ctx, payload)
		if err == nil && res.Err != nil {
			err = fmt.Errorf("invalidator: %v", res.Err)
		}
		done <- err
	}()

	lag := map[string]time.Duration{}
	for len(lag) < 2 {
		for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
			if _, ok := lag[path]; ok {
				continue
			}
			if code, _ := get(t, s, path, alice); code == 401 {
				lag[path] = time.Since(start)
			}
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("alice still allowed 15 s after the revocation (denied so far: %v)", lag)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for path, d := range lag {
		t.Logf("revocation lag %s: %v", path, d.Round(10*time.Millisecond))
		if d > 5*time.Second {
			t.Errorf("revocation took %v on %s, want at most 5 s", d, path)
		}
	}
	for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
		if code, body := get(t, s, path, bob); code != 200 {
			t.Errorf("bob after alice's revocation: GET %s = %d %s, want 200", path, code, body)
		}
	}
	// A new login after the revocation (iat at or after revokedAt) is allowed.
	time.Sleep(1100 * time.Millisecond)
	fresh := mint("alice")
	for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
		if code, body := get(t, s, path, fresh); code != 200 {
			t.Errorf("alice's token issued after the revocation: GET %s = %d %s, want 200", path, code, body)
		}
		if code, _ := get(t, s, path, alice); code != 401 {
			t.Errorf("alice's old token: GET %s = %d, want 401", path, code)
		}
	}
}
