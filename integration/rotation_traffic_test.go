//go:build integration

package integration

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/shared/signer"
)

// keyState is what the test knows of one key: since when it is two rotations
// old (zero while it still verifies).
type keyState struct {
	token   string
	retired atomic.Int64 // unix nanos when the key left AWSPREVIOUS
	born    atomic.Int64 // unix nanos when the key became AWSCURRENT
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
				} else {
					refused.Add(1)
				}
				mustAllow := born != 0 && sent.UnixNano() > born+int64(coolDown+time.Second) && (retired == 0 || time.Now().UnixNano() < retired)
				mustRefuse := retired != 0 && sent.UnixNano() > retired+int64(coolDown+time.Second)
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
		add(after.Current).born.Store(now)
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
	if allowed.Load() < 100 {
		t.Errorf("only %d allowed requests: the traffic was not steady", allowed.Load())
	}
}
