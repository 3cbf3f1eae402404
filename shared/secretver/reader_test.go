package secretver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/shared/secretver"
)

const secretID = "guard/jwt-keys"

// fakeCache serves stage -> value like secretcache.Cache, including its
// VersionNotFoundError for a stage the secret lacks.
type fakeCache struct {
	mu     sync.Mutex
	stages map[string]string
	err    error
	calls  int
}

func (c *fakeCache) set(stages map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stages = stages
}

func (c *fakeCache) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

func (c *fakeCache) GetSecretStringWithStageWithContext(_ context.Context, id, stage string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if id != secretID {
		return "", fmt.Errorf("fake cache: unexpected secret %q", id)
	}
	if c.err != nil {
		return "", c.err
	}
	v, ok := c.stages[stage]
	if !ok {
		return "", &secretcache.VersionNotFoundError{}
	}
	return v, nil
}

// fakeAPI is a secret's version map, read with the SDK's own types.
type fakeAPI struct {
	mu        sync.Mutex
	values    map[string]string   // version id -> SecretString
	stages    map[string][]string // version id -> labels
	err       error
	gate      chan struct{} // when set, DescribeSecret waits for it
	describes atomic.Int32
	gets      atomic.Int32
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{values: map[string]string{}, stages: map[string][]string{}}
}

// put adds a version as AWSCURRENT and moves the old current to AWSPREVIOUS,
// as PutSecretValue does.
func (a *fakeAPI) put(id, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for vid, labels := range a.stages {
		var keep []string
		for _, l := range labels {
			switch l {
			case secretver.StagePrevious:
			case secretver.StageCurrent:
				keep = append(keep, secretver.StagePrevious)
			default:
				keep = append(keep, l)
			}
		}
		a.stages[vid] = keep
	}
	a.values[id] = value
	a.stages[id] = []string{secretver.StageCurrent}
}

func (a *fakeAPI) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *fakeAPI) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	a.describes.Add(1)
	if a.gate != nil {
		select {
		case <-a.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if aws.ToString(in.SecretId) != secretID {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	}
	if a.err != nil {
		return nil, a.err
	}
	m := map[string][]string{}
	for id, labels := range a.stages {
		m[id] = append([]string(nil), labels...)
	}
	return &secretsmanager.DescribeSecretOutput{Name: in.SecretId, VersionIdsToStages: m}, nil
}

func (a *fakeAPI) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	a.gets.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	id := aws.ToString(in.VersionId)
	v, ok := a.values[id]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no such version")}
	}
	return &secretsmanager.GetSecretValueOutput{VersionId: aws.String(id), SecretString: aws.String(v), VersionStages: a.stages[id]}, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func stagesOf(s secretver.Snapshot) string {
	var b strings.Builder
	for i, v := range s.Versions {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(v.Stage + "=" + v.Value)
	}
	return b.String()
}

func TestGet(t *testing.T) {
	tests := []struct {
		name   string
		stages map[string]string
		want   string
	}{
		{"current and previous", map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1", "AWSPENDING": "v3"}, "AWSCURRENT=v2 AWSPREVIOUS=v1"},
		{"never rotated", map[string]string{"AWSCURRENT": "v1"}, "AWSCURRENT=v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeCache{stages: tt.stages}
			api := newFakeAPI()
			r := secretver.New(secretID, c, api)
			s, err := r.Get(context.Background())
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got := stagesOf(s); got != tt.want {
				t.Errorf("versions = %q, want %q", got, tt.want)
			}
			if s.Generation == 0 {
				t.Errorf("Generation = 0, want non-zero")
			}
			for _, v := range s.Versions {
				if !strings.HasPrefix(v.ID, "sha256:") || len(v.ID) != len("sha256:")+32 {
					t.Errorf("%s ID = %q, want a sha256: fingerprint", v.Stage, v.ID)
				}
				// Keyed: not the plain hash, which would let a logged ID
				// be checked against guesses of the value.
				if plain := sha256.Sum256([]byte(v.Value)); v.ID == "sha256:"+hex.EncodeToString(plain[:16]) {
					t.Errorf("%s ID %q is the unkeyed SHA-256 of the value", v.Stage, v.ID)
				}
			}
			again, err := r.Get(context.Background())
			if err != nil {
				t.Fatalf("second Get: %v", err)
			}
			if again.Generation != s.Generation {
				t.Errorf("second Get Generation = %d, want %d", again.Generation, s.Generation)
			}
			if api.describes.Load() != 0 || api.gets.Load() != 0 {
				t.Errorf("Get called the API (%d describes, %d gets), want only the cache", api.describes.Load(), api.gets.Load())
			}
		})
	}
}

func TestGetNewGenerationWhenCacheChanges(t *testing.T) {
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, newFakeAPI())
	first, _ := r.Get(context.Background())
	c.set(map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"})
	second, err := r.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Generation == first.Generation {
		t.Errorf("Generation = %d after the cache changed, want a new one", second.Generation)
	}
	if got, want := stagesOf(second), "AWSCURRENT=v2 AWSPREVIOUS=v1"; got != want {
		t.Errorf("versions = %q, want %q", got, want)
	}
	if first.Versions[0].ID != second.Versions[1].ID {
		t.Errorf("v1's ID changed from %q to %q when it became AWSPREVIOUS", first.Versions[0].ID, second.Versions[1].ID)
	}
}

func TestGetErrors(t *testing.T) {
	const value = "super-secret-value"
	t.Run("not found", func(t *testing.T) {
		c := &fakeCache{}
		c.fail(fmt.Errorf("operation error Secrets Manager: DescribeSecret: %w", &types.ResourceNotFoundException{Message: aws.String("can't find")}))
		_, err := secretver.New(secretID, c, newFakeAPI()).Get(context.Background())
		if !errors.Is(err, secretver.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if !strings.Contains(err.Error(), secretID) {
			t.Errorf("err = %q, want it to name %q", err, secretID)
		}
	})
	t.Run("no current", func(t *testing.T) {
		c := &fakeCache{stages: map[string]string{"AWSPREVIOUS": value}}
		_, err := secretver.New(secretID, c, newFakeAPI()).Get(context.Background())
		if err == nil {
			t.Fatal("err = nil, want an error for a secret without AWSCURRENT")
		}
		if strings.Contains(err.Error(), value) {
			t.Errorf("err = %q reveals the value", err)
		}
	})
	t.Run("previous unreadable", func(t *testing.T) {
		c := &fakeCache{stages: map[string]string{"AWSCURRENT": value}}
		c2 := &stageFailCache{fakeCache: c, stage: "AWSPREVIOUS", err: errors.New("AccessDeniedException")}
		_, err := secretver.New(secretID, c2, newFakeAPI()).Get(context.Background())
		if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Fatalf("err = %v, want the AWSPREVIOUS read error", err)
		}
	})
	t.Run("cache fails after a success", func(t *testing.T) {
		c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
		r := secretver.New(secretID, c, newFakeAPI())
		first, err := r.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.fail(errors.New("throttled"))
		got, err := r.Get(context.Background())
		if err != nil {
			t.Fatalf("Get after cache failure: %v, want the last snapshot", err)
		}
		if got.Generation != first.Generation || stagesOf(got) != "AWSCURRENT=v1" {
			t.Errorf("Get = %q gen %d, want %q gen %d", stagesOf(got), got.Generation, "AWSCURRENT=v1", first.Generation)
		}
	})
}

type stageFailCache struct {
	*fakeCache
	stage string
	err   error
}

func (c *stageFailCache) GetSecretStringWithStageWithContext(ctx context.Context, id, stage string) (string, error) {
	if stage == c.stage {
		return "", c.err
	}
	return c.fakeCache.GetSecretStringWithStageWithContext(ctx, id, stage)
}

// TestRefreshBeatsStaleCache is the rotation story: the cache still serves
// v1/v0 for up to its TTL, a refresh sees v2/v1, and from then on v0 (two
// rotations old) is no longer served.
func TestRefreshBeatsStaleCache(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-0", "v0")
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1", "AWSPREVIOUS": "v0"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now), secretver.WithForcedTTL(time.Hour))
	ctx := context.Background()

	stale, err := r.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api.put("id-2", "v2") // rotation; the cache does not know yet

	forced, refreshed, err := r.Refresh(ctx)
	if err != nil || !refreshed {
		t.Fatalf("Refresh = refreshed %v, err %v; want true, nil", refreshed, err)
	}
	if got, want := stagesOf(forced), "AWSCURRENT=v2 AWSPREVIOUS=v1"; got != want {
		t.Errorf("Refresh versions = %q, want %q", got, want)
	}
	if forced.Versions[0].ID != "id-2" || forced.Versions[1].ID != "id-1" {
		t.Errorf("Refresh IDs = %q, %q; want id-2, id-1", forced.Versions[0].ID, forced.Versions[1].ID)
	}
	if forced.Generation == stale.Generation {
		t.Errorf("Refresh Generation = %d, same as the stale snapshot's", forced.Generation)
	}

	clk.advance(59 * time.Minute)
	got, err := r.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stagesOf(got) != "AWSCURRENT=v2 AWSPREVIOUS=v1" || got.Generation != forced.Generation {
		t.Errorf("Get within forced TTL = %q gen %d, want the forced snapshot gen %d", stagesOf(got), got.Generation, forced.Generation)
	}

	// By the cache's TTL the cache has refreshed on its own.
	c.set(map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"})
	clk.advance(time.Minute)
	calls := c.calls
	got, err = r.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.calls == calls {
		t.Errorf("Get after forced TTL did not read the cache")
	}
	if stagesOf(got) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
		t.Errorf("Get after forced TTL = %q, want v2/v1", stagesOf(got))
	}
	if got.Generation != forced.Generation {
		t.Errorf("Generation = %d after the cache caught up, want %d (same content)", got.Generation, forced.Generation)
	}
	if got.Versions[0].ID != "id-2" {
		t.Errorf("cached AWSCURRENT ID = %q, want id-2 learned from the direct read", got.Versions[0].ID)
	}
}

func TestRefreshSameContentDoesNotPin(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now))
	ctx := context.Background()
	before, _ := r.Get(ctx)
	s, refreshed, err := r.Refresh(ctx)
	if err != nil || !refreshed {
		t.Fatalf("Refresh = %v, %v", refreshed, err)
	}
	if s.Generation != before.Generation {
		t.Errorf("Refresh Generation = %d, want %d for unchanged content", s.Generation, before.Generation)
	}
	// The cache moves on by itself: Get follows it at once.
	c.set(map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"})
	got, _ := r.Get(ctx)
	if stagesOf(got) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
		t.Errorf("Get = %q, want the cache's newer v2/v1", stagesOf(got))
	}
}

func TestRefreshCoolDown(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now))
	ctx := context.Background()

	steps := []struct {
		advance       time.Duration
		wantRefreshed bool
		wantDescribes int32
	}{
		{0, true, 1},
		{0, false, 1},
		{9 * time.Second, false, 1},
		{time.Second, true, 2},
		{5 * time.Second, false, 2},
	}
	for i, st := range steps {
		clk.advance(st.advance)
		s, refreshed, err := r.Refresh(ctx)
		if err != nil {
			t.Fatalf("step %d: Refresh: %v", i, err)
		}
		if refreshed != st.wantRefreshed {
			t.Errorf("step %d: refreshed = %v, want %v", i, refreshed, st.wantRefreshed)
		}
		if got := api.describes.Load(); got != st.wantDescribes {
			t.Errorf("step %d: DescribeSecret calls = %d, want %d", i, got, st.wantDescribes)
		}
		if stagesOf(s) != "AWSCURRENT=v1" {
			t.Errorf("step %d: snapshot = %q, want AWSCURRENT=v1", i, stagesOf(s))
		}
	}
}

func TestRefreshCoalesces(t *testing.T) {
	api := newFakeAPI()
	api.put("id-1", "v1")
	api.put("id-2", "v2")
	api.gate = make(chan struct{})
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api)

	const n = 16
	var wg sync.WaitGroup
	results := make([]secretver.Snapshot, n)
	refreshed := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], refreshed[i], errs[i] = r.Refresh(context.Background()) })
	}
	// Let the leader reach DescribeSecret, then give the others time to
	// queue behind it before releasing it.
	for api.describes.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(api.gate)
	wg.Wait()

	if got := api.describes.Load(); got != 1 {
		t.Errorf("DescribeSecret calls = %d, want 1", got)
	}
	if got := api.gets.Load(); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2", got)
	}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("caller %d: %v", i, errs[i])
			continue
		}
		if stagesOf(results[i]) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
			t.Errorf("caller %d: %q, want v2/v1", i, stagesOf(results[i]))
		}
		if results[i].Generation != results[0].Generation {
			t.Errorf("caller %d: Generation %d, want %d", i, results[i].Generation, results[0].Generation)
		}
	}
	var waited int
	for i := range n {
		if refreshed[i] {
			waited++
		}
	}
	// Every caller either shared the read or arrived within the cool-down.
	if waited == 0 {
		t.Errorf("no caller reported refreshed")
	}
}

func TestRefreshFailureKeepsLastGood(t *testing.T) {
	clk := newClock()
	api := newFakeAPI()
	api.put("id-1", "v1")
	api.put("id-2", "v2")
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v1"}}
	r := secretver.New(secretID, c, api, secretver.WithClock(clk.Now))
	ctx := context.Background()

	good, _, err := r.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api.put("id-3", "v3")
	api.fail(errors.New("ThrottlingException"))
	clk.advance(10 * time.Second)
	s, refreshed, err := r.Refresh(ctx)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), secretID) {
		t.Errorf("Refresh err = %v, want the throttling error naming the secret", err)
	}
	if refreshed {
		t.Errorf("refreshed = true on failure")
	}
	if s.Generation != good.Generation || stagesOf(s) != "AWSCURRENT=v2 AWSPREVIOUS=v1" {
		t.Errorf("Refresh on failure = %q gen %d, want last good v2/v1 gen %d", stagesOf(s), s.Generation, good.Generation)
	}
	got, err := r.Get(ctx)
	if err != nil || got.Generation != good.Generation {
		t.Errorf("Get after failed refresh = gen %d, %v; want gen %d", got.Generation, err, good.Generation)
	}
	// The failure started a cool-down too.
	_, _, _ = r.Refresh(ctx)
	if got := api.describes.Load(); got != 2 {
		t.Errorf("DescribeSecret calls = %d, want 2 (failed read cools down)", got)
	}
}

func TestRefreshErrors(t *testing.T) {
	t.Run("not found", func(t *testing.T) {
		r := secretver.New("other", &fakeCache{}, newFakeAPI())
		_, _, err := r.Refresh(context.Background())
		if !errors.Is(err, secretver.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("no current", func(t *testing.T) {
		api := newFakeAPI()
		api.values["id-1"] = "v1"
		api.stages["id-1"] = []string{"AWSPENDING"}
		_, _, err := secretver.New(secretID, &fakeCache{}, api).Refresh(context.Background())
		if !errors.Is(err, secretver.ErrNoCurrent) {
			t.Errorf("err = %v, want ErrNoCurrent", err)
		}
	})
	t.Run("waiter context cancelled", func(t *testing.T) {
		api := newFakeAPI()
		api.put("id-1", "v1")
		api.gate = make(chan struct{})
		r := secretver.New(secretID, &fakeCache{}, api)
		done := make(chan error)
		go func() { _, _, err := r.Refresh(context.Background()); done <- err }()
		for api.describes.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, refreshed, err := r.Refresh(ctx)
		if !errors.Is(err, context.Canceled) || refreshed {
			t.Errorf("waiter = %v, %v; want false, context.Canceled", refreshed, err)
		}
		close(api.gate)
		if err := <-done; err != nil {
			t.Errorf("leader: %v", err)
		}
	})
}

func TestVersionNeverPrintsValue(t *testing.T) {
	const value = `{"k":"hunter2-secret"}`
	s := secretver.Snapshot{Versions: []secretver.Version{{ID: "id-1", Stage: "AWSCURRENT", Value: value}}, Generation: 1}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("snap", "version", s.Versions[0])
	outs := []string{
		fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s),
		fmt.Sprintf("%v", s.Versions[0]), fmt.Sprintf("%#v", s.Versions[0]), buf.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("output %q reveals the value", out)
		}
	}
	if !strings.Contains(buf.String(), `"id":"id-1"`) {
		t.Errorf("log = %q, want the version id", buf.String())
	}
}

func TestSnapshotStages(t *testing.T) {
	s := secretver.Snapshot{Versions: []secretver.Version{{ID: "a", Stage: "AWSCURRENT"}, {ID: "b", Stage: "AWSPREVIOUS"}}}
	if v, ok := s.Current(); !ok || v.ID != "a" {
		t.Errorf("Current = %v, %v; want a", v, ok)
	}
	if v, ok := s.Previous(); !ok || v.ID != "b" {
		t.Errorf("Previous = %v, %v; want b", v, ok)
	}
	if _, ok := (secretver.Snapshot{}).Previous(); ok {
		t.Errorf("Previous of empty snapshot = ok, want not ok")
	}
}

func BenchmarkGetWarm(b *testing.B) {
	c := &fakeCache{stages: map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"}}
	r := secretver.New(secretID, c, newFakeAPI())
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// cacheClient adapts fakeAPI to secretcache's client interface; the calls
// the cache does not make fail.
type cacheClient struct{ api *fakeAPI }

func (c cacheClient) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return c.api.GetSecretValue(ctx, in, o...)
}

func (c cacheClient) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	return c.api.DescribeSecret(ctx, in, o...)
}

func (cacheClient) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return nil, errors.New("unused")
}

func (cacheClient) DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	return nil, errors.New("unused")
}

func (cacheClient) ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	return nil, errors.New("unused")
}

func (cacheClient) UpdateSecret(context.Context, *secretsmanager.UpdateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretOutput, error) {
	return nil, errors.New("unused")
}

// TestGetWithRealCache runs Get over the real caching client: both stages,
// then a secret with no AWSPREVIOUS (the cache's VersionNotFoundError).
func TestGetWithRealCache(t *testing.T) {
	for _, tt := range []struct {
		name string
		puts []string
		want string
	}{
		{"two versions", []string{"v1", "v2"}, "AWSCURRENT=v2 AWSPREVIOUS=v1"},
		{"one version", []string{"v1"}, "AWSCURRENT=v1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI()
			for i, v := range tt.puts {
				api.put(fmt.Sprintf("id-%d", i), v)
			}
			cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = cacheClient{api} })
			if err != nil {
				t.Fatal(err)
			}
			s, err := secretver.New(secretID, cache, api).Get(context.Background())
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got := stagesOf(s); got != tt.want {
				t.Errorf("Get = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkGetRealCache(b *testing.B) {
	api := newFakeAPI()
	api.put("id-1", "v1")
	api.put("id-2", "v2")
	cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = cacheClient{api} })
	if err != nil {
		b.Fatal(err)
	}
	r := secretver.New(secretID, cache, api)
	ctx := context.Background()
	if _, err := r.Get(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
