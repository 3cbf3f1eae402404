package secretver_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/shared/secretver"
)

// TestMaxStaleness is the outage story: the caching client keeps serving
// the old value (it hides its failures), Secrets Manager fails, and the
// Reader serves what it holds until the maximum staleness, then fails
// closed, and recovers on the first successful read.
func TestMaxStaleness(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now),
		secretver.WithMaxStaleness(time.Hour), secretver.WithCoolDown(10*time.Second))
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		t.Fatal(err)
	}
	api.fail(errors.New("ThrottlingException: Rate exceeded"))

	steps := []struct {
		name          string
		advance       time.Duration
		wantErr       bool
		wantDescribes int32
	}{
		{"young: no direct read", 29 * time.Minute, false, 0},
		{"half the max staleness: one confirming read (fails)", time.Minute, false, 1},
		{"within the cool-down: no read", 5 * time.Second, false, 1},
		{"after the cool-down: another read", 5 * time.Second, false, 2},
		{"just before the max staleness", 30*time.Minute - 10*time.Second - time.Millisecond, false, 3},
		{"at the max staleness: fail closed", time.Millisecond, true, 3},
		{"still stale within the cool-down", time.Second, true, 3},
	}
	for _, st := range steps {
		clk.advance(st.advance)
		s, err := r.Get(ctx)
		if gotErr := err != nil; gotErr != st.wantErr {
			t.Fatalf("%s: Get = %q, %v; want error %v", st.name, stagesOf(s), err, st.wantErr)
		}
		if err != nil {
			if !errors.Is(err, secretver.ErrStale) {
				t.Errorf("%s: err = %v, want ErrStale", st.name, err)
			}
			if !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), secretID) {
				t.Errorf("%s: err = %q, want the secret and the last read error", st.name, err)
			}
			if strings.Contains(err.Error(), "v1") {
				t.Errorf("%s: err = %q reveals the value", st.name, err)
			}
		} else if stagesOf(s) != "AWSCURRENT=v1" {
			t.Errorf("%s: Get = %q, want the held AWSCURRENT=v1", st.name, stagesOf(s))
		}
		if got := api.describes.Load(); got != st.wantDescribes {
			t.Errorf("%s: DescribeSecret calls = %d, want %d", st.name, got, st.wantDescribes)
		}
	}

	// Secrets Manager is back: the next read after the cool-down is used
	// without a restart, and the versions are fresh again.
	api.fail(nil)
	api.put("id-2", "v2")
	clk.advance(9 * time.Second)
	s, err := r.Get(ctx)
	if err != nil {
		t.Fatalf("Get after recovery: %v", err)
	}
	if stagesOf(s) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
		t.Errorf("Get after recovery = %q, want the directly read v2/v1", stagesOf(s))
	}
	describes := api.describes.Load()
	clk.advance(29 * time.Minute)
	if _, err := r.Get(ctx); err != nil {
		t.Fatalf("Get 29 min after recovery: %v", err)
	}
	if got := api.describes.Load(); got != describes {
		t.Errorf("DescribeSecret calls = %d within half the max staleness of a good read, want %d", got, describes)
	}
}

// TestMaxStalenessHealthy: with Secrets Manager up, the confirming read
// every half max staleness keeps the versions served forever.
func TestMaxStalenessHealthy(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now), secretver.WithMaxStaleness(10*time.Minute))
	ctx := context.Background()
	for i := range 30 {
		if _, err := r.Get(ctx); err != nil {
			t.Fatalf("Get at minute %d: %v", i, err)
		}
		clk.advance(time.Minute)
	}
	// One confirming read per 5 minutes.
	if got := api.describes.Load(); got != 5 {
		t.Errorf("DescribeSecret calls in 30 min = %d, want 5", got)
	}
}

// TestMaxStalenessCacheChangeConfirms: a cache read whose content changed
// proves that the cache reached Secrets Manager.
func TestMaxStalenessCacheChangeConfirms(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.fail(errors.New("unreachable"))
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now), secretver.WithMaxStaleness(time.Hour))
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(29 * time.Minute)
	c.set(map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"})
	if _, err := r.Get(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(59 * time.Minute)
	s, err := r.Get(ctx)
	if err != nil {
		t.Fatalf("Get 59 min after the cache changed: %v, want the held versions", err)
	}
	if stagesOf(s) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
		t.Errorf("Get = %q, want v2/v1", stagesOf(s))
	}
	clk.advance(time.Minute)
	if _, err := r.Get(ctx); !errors.Is(err, secretver.ErrStale) {
		t.Errorf("Get an hour after the last change = %v, want ErrStale", err)
	}
}

// TestReadTimeoutWhileHolding: a Secrets Manager that hangs costs a request
// at most the read timeout while versions are held, and leaves no goroutine
// behind.
func TestReadTimeoutWhileHolding(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now),
		secretver.WithMaxStaleness(time.Hour), secretver.WithReadTimeout(50*time.Millisecond))
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	api.gate = make(chan struct{}) // DescribeSecret hangs until its context ends
	defer close(api.gate)

	clk.advance(40 * time.Minute)
	start := time.Now()
	s, err := r.Get(ctx)
	if err != nil || stagesOf(s) != "AWSCURRENT=v1" {
		t.Fatalf("Get with Secrets Manager hanging = %q, %v; want the held v1", stagesOf(s), err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Get took %v with a 50 ms read timeout", d)
	}
	clk.advance(10 * time.Second)
	start = time.Now()
	_, _, err = r.Refresh(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Refresh with Secrets Manager hanging: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Refresh took %v with a 50 ms read timeout", d)
	}
	waitGoroutines(t, before)
}

// TestStaleCallerDoesNotWaitForOthersRead: while one caller's confirming read
// hangs, callers whose versions are not yet stale are served at once.
func TestStaleCallerDoesNotWaitForOthersRead(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now), secretver.WithMaxStaleness(time.Hour))
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		t.Fatal(err)
	}
	api.gate = make(chan struct{})
	clk.advance(31 * time.Minute)
	leader := make(chan error, 1)
	go func() { _, err := r.Get(ctx); leader <- err }()
	for api.describes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { _, err := r.Get(ctx); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("second caller: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("second caller waited for the first caller's read")
	}
	close(api.gate)
	if err := <-leader; err != nil {
		t.Errorf("leader: %v", err)
	}
}

// waitGoroutines fails the test if the goroutine count does not come back to
// at most want within a second.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBoundedClientWithRealCache: the caching client over a hanging Secrets
// Manager gives up after the bound and serves the value it holds.
func TestBoundedClientWithRealCache(t *testing.T) {
	api := newFakeAPI()
	api.put("id-1", "v1")
	cache, err := secretcache.New(func(c *secretcache.Cache) {
		c.Client = secretver.BoundedClient(cacheClient{api}, 50*time.Millisecond)
		c.CacheItemTTL = int64(time.Millisecond) // every read is due for a refresh
	})
	if err != nil {
		t.Fatal(err)
	}
	r := secretver.New(secretID, cache, api)
	ctx := context.Background()
	if s, err := r.Get(ctx); err != nil || stagesOf(s) != "AWSCURRENT=v1" {
		t.Fatalf("Get = %q, %v", stagesOf(s), err)
	}
	before := runtime.NumGoroutine()
	api.gate = make(chan struct{})
	defer close(api.gate)
	time.Sleep(5 * time.Millisecond)
	start := time.Now()
	s, err := r.Get(ctx)
	if err != nil || stagesOf(s) != "AWSCURRENT=v1" {
		t.Fatalf("Get with Secrets Manager hanging = %q, %v; want the held v1", stagesOf(s), err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > time.Second {
		t.Errorf("Get took %v, want about the 50 ms bound (the cache refresh was due)", d)
	}
	waitGoroutines(t, before)
}
