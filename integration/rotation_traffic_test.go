//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/shared/signer"
)

// keyState is what the test knows of one key: since when it is two rotations
// old (zero while it still verifies).
type keyState struct {
	token   string
	retired atomic.Int64 // unix nanos when the key left AWSPREVIOUS
	born    atomic.Int64 // unix nanos when the key became AWSCURRENT
	// rotatedIn marks the keys the test's rotations made, firstAllow the
	// send time of the first request with the key that was allowed.
	rotatedIn  atomic.Bool
	firstAllow atomic.Int64
}

// TestRotationUnderTraffic sends a steady stream of requests through the
// local gateway (authorizer cache off, so every request is decided by the
// authorizer) while two rotations run back to back through the real
// key-rotator binary. Tokens of AWSCURRENT and AWSPREVIOUS must always be
// allowed (a fresh key once the cool-down has passed since it became
// current); tokens of a key two rotations old must be refused (401) once the
// cool-down has passed since it retired.
func TestRotationUnderTraffic(t *testing.T) {
	const coolDown = 3 * time.Second
	s := startStack(t, map[string]string{"AuthorizerTtlSeconds": "0"}, map[string]map[string]string{
		"TokenAuthorizerFunction": {"KEYS_REFRESH_COOLDOWN_SECONDS": fmt.Sprint(int(coolDown / time.Second))},
	})
	ctx := context.Background()
	sm := demo.LocalSecrets(s.AWSEndpoint)
	mint := func(sg *signer.Signer) string {
		tok, err := sg.Sign(demo.Claims("alice", "orders:read", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var (
		mu   sync.Mutex
		keys = map[string]*keyState{} // by kid
	)
	add := func(sg *signer.Signer) *keyState {
		mu.Lock()
		defer mu.Unlock()
		k, ok := keys[sg.KeyID()]
		if !ok {
			k = &keyState{token: mint(sg)}
			keys[sg.KeyID()] = k
		}
		return k
	}
	add(s.Keys.Previous)
	add(s.Keys.Current).born.Store(time.Now().Add(-time.Hour).UnixNano())
	keys[s.Keys.Previous.KeyID()].born.Store(time.Now().Add(-time.Hour).UnixNano())

	var (
		allowed, refused, falseDeny, falseAllow, grace atomic.Int64
		newKeyChecked, retiredChecked                  atomic.Int64 // requests that tested the two rules
		failures                                       []string
		failMu                                         sync.Mutex
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			snapshot := make([]*keyState, 0, len(keys))
			for _, k := range keys {
				snapshot = append(snapshot, k)
			}
			mu.Unlock()
			for _, k := range snapshot {
				sent := time.Now()
				code, _ := get(t, s, "/restapi/dev/orders", k.token)
				born, retired := k.born.Load(), k.retired.Load()
				ok := code == 200
				if ok {
					allowed.Add(1)
					k.firstAllow.CompareAndSwap(0, sent.UnixNano())
				} else {
					refused.Add(1)
				}
				mustAllow := born != 0 && sent.UnixNano() > born+int64(coolDown+time.Second) && (retired == 0 || time.Now().UnixNano() < retired)
				mustRefuse := retired != 0 && sent.UnixNano() > retired+int64(coolDown+time.Second)
				if mustAllow && k.rotatedIn.Load() {
					newKeyChecked.Add(1)
				}
				if mustRefuse {
					retiredChecked.Add(1)
				}
				switch {
				case mustAllow && !ok:
					falseDeny.Add(1)
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("false deny %d at %s", code, sent.Format("15:04:05.000")))
					failMu.Unlock()
				case mustRefuse && ok:
					falseAllow.Add(1)
					failMu.Lock()
					failures = append(failures, fmt.Sprintf("false allow at %s", sent.Format("15:04:05.000")))
					failMu.Unlock()
				case mustRefuse && code != 401:
					t.Errorf("retired key answered %d, want 401", code)
				case !mustAllow && !mustRefuse:
					grace.Add(1)
				}
			}
		}
	}
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go client()
	}

	var rotated []*keyState // the keys the two rotations made current
	d := &rotatedriver.Driver{SM: sm, Invoke: rotatedriver.URL(s.Function("KeyRotatorFunction").URL(), nil)}
	time.Sleep(2 * time.Second)
	for i := 1; i <= 2; i++ {
		before, err := demo.Load(ctx, sm)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Rotate(ctx, demo.SecretName); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		after, err := demo.Load(ctx, sm)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixNano()
		fresh := add(after.Current)
		fresh.rotatedIn.Store(true)
		fresh.born.Store(now)
		rotated = append(rotated, fresh)
		mu.Lock()
		keys[before.Previous.KeyID()].retired.Store(now)
		mu.Unlock()
		t.Logf("rotation %d: current %s, previous %s, retired %s", i, after.Current.KeyID()[:8], after.Previous.KeyID()[:8], before.Previous.KeyID()[:8])
		time.Sleep(coolDown + 3*time.Second)
	}
	close(stop)
	wg.Wait()
	t.Logf("requests: %d allowed, %d refused, %d in grace windows; false denies %d, false allows %d",
		allowed.Load(), refused.Load(), grace.Load(), falseDeny.Load(), falseAllow.Load())
	if falseDeny.Load() != 0 || falseAllow.Load() != 0 {
		t.Errorf("false denies %d, false allows %d: %v", falseDeny.Load(), falseAllow.Load(), failures[:min(len(failures), 10)])
	}
	// Both rules must have been tested, or the zero counts above prove nothing.
	if newKeyChecked.Load() == 0 || retiredChecked.Load() == 0 {
		t.Errorf("%d requests with rotated-in keys past the cool-down, %d with retired keys: want both > 0",
			newKeyChecked.Load(), retiredChecked.Load())
	}
	// A new key is accepted within the unknown-kid cool-down (plus the time
	// of one Secrets Manager read), not only eventually.
	for i, k := range rotated {
		first := k.firstAllow.Load()
		if first == 0 {
			t.Errorf("rotation %d: the new key was never allowed", i+1)
			continue
		}
		if lag := time.Duration(first - k.born.Load()); lag > coolDown+time.Second {
			t.Errorf("rotation %d: the new key was first allowed %v after it became current, want within the %v cool-down", i+1, lag, coolDown)
		} else {
			t.Logf("rotation %d: the new key was first allowed %v after it became current", i+1, lag.Round(time.Millisecond))
		}
	}
	checkJWKSThroughGateway(t, s, ctx, sm)
	if allowed.Load() < 100 {
		t.Errorf("only %d allowed requests: the traffic was not steady", allowed.Load())
	}
}

// checkJWKSThroughGateway fetches the public keys through both APIs' public
// JWKS routes (Authorizer: NONE in the template), after the rotations: the
// set is exactly AWSCURRENT's and AWSPREVIOUS's keys, public parts only,
// with a Cache-Control max-age.
func checkJWKSThroughGateway(t *testing.T, s *stack.Stack, ctx context.Context, sm *secretsmanager.Client) {
	t.Helper()
	held, err := demo.Load(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{held.Current.KeyID(), held.Previous.KeyID()}
	slices.Sort(want)
	for _, path := range []string{"/restapi/dev/.well-known/jwks.json", "/httpapi/dev/.well-known/jwks.json"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d %s, want 200 without a token", path, resp.StatusCode, body)
			continue
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Errorf("GET %s: Cache-Control %q, want a max-age", path, cc)
		}
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
		var got []string
		for _, k := range set.Keys {
			got = append(got, fmt.Sprint(k["kid"]))
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("GET %s: key %v publishes private member %q", path, k["kid"], private)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("GET %s: kids %v, want AWSCURRENT and AWSPREVIOUS %v", path, got, want)
		}
	}
}
