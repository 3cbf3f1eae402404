package revocation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var t0 = time.Unix(1_700_000_000, 0)

// newTestView returns a view over db with a settable clock starting at t0.
func newTestView(db *fakeTable, opts ...Option) (*View, *clock) {
	c := &clock{t: t0}
	return NewView(db, "revocations", append([]Option{withClock(c.now)}, opts...)...), c
}

func TestCheckDecisions(t *testing.T) {
	const iss = "https://idp.example.com"
	r := t0.Unix() - 100 // revoked 100 s before "now"
	exp := t0.Unix() + 3600
	db := newFakeTable()
	db.put(item("sub#*#alice", r, exp, 1))
	db.put(item("sub#"+iss+"#bob", r, exp, 2))
	db.put(item("jti#tok-1", r, exp, 3))
	db.put(item("sub#*#old", r, t0.Unix()-1, 4))  // expired, still returned by the table
	db.put(item("sub#https://a#b#c", r, exp, 5))  // issuer "https://a", sub "b#c"
	db.put(item("sub#*#edge", r, t0.Unix()+1, 6)) // expires in one second
	v, _ := newTestView(db)

	before := time.Unix(r-1, 0)
	same := time.Unix(r, 0)
	after := time.Unix(r+1, 0)
	tests := []struct {
		name          string
		iss, sub, jti string
		iat           time.Time
		want          bool
	}{
		{"subject any issuer, issued before", iss, "alice", "", before, true},
		{"subject any issuer, other issuer", "https://other", "alice", "", before, true},
		{"subject any issuer, issued same second", iss, "alice", "", same, false},
		{"subject any issuer, issued after (new login)", iss, "alice", "", after, false},
		{"subject, no iat", iss, "alice", "", time.Time{}, true},
		{"subject, sub-second iat before", iss, "alice", "", same.Add(-time.Millisecond), true},
		{"scoped subject, same issuer", iss, "bob", "", before, true},
		{"scoped subject, other issuer", "https://other", "bob", "", before, false},
		{"scoped subject, no issuer given", "", "bob", "", before, false},
		{"other subject unaffected", iss, "carol", "", before, false},
		{"jti revoked whatever its iat", iss, "carol", "tok-1", after, true},
		{"jti only", "", "", "tok-1", time.Time{}, true},
		{"other jti", iss, "carol", "tok-2", before, false},
		{"expired entry ignored", iss, "old", "", before, false},
		{"entry live until its expiry", iss, "edge", "", before, true},
		{"issuer with # cannot match a crafted key", "https://a#b", "c", "", before, false},
		{"issuer and sub as stored", "https://a", "b#c", "", before, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Check(context.Background(), tt.iss, tt.sub, tt.jti, tt.iat)
			if err != nil || got != tt.want {
				t.Fatalf("Check(%q, %q, %q, %v) = %v, %v; want %v, nil", tt.iss, tt.sub, tt.jti, tt.iat.Unix(), got, err, tt.want)
			}
		})
	}
	if _, err := v.Check(context.Background(), iss, "", "", before); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Check without sub and jti: err = %v, want ErrNoIdentity", err)
	}
	if n := db.queryCount(); n != 1 {
		t.Errorf("queries = %d, want 1 (no table call per request)", n)
	}
}

func TestViewRefreshesIncrementally(t *testing.T) {
	db := newFakeTable()
	exp := t0.Unix() + 3600
	db.put(item("sub#*#alice", t0.Unix(), exp, t0.UnixMilli()-5000))
	var changes []uint64
	v, c := newTestView(db, WithOnChange(func(g uint64) { changes = append(changes, g) }))
	ctx := context.Background()
	iat := t0.Add(-time.Hour)

	if got, _ := v.Check(ctx, "", "alice", "", iat); !got {
		t.Fatal("alice not revoked after first load")
	}
	if g := v.Generation(); g != 1 {
		t.Fatalf("Generation() = %d, want 1", g)
	}
	first := db.lastQuery()
	if kc := aws.ToString(first.KeyConditionExpression); kc != "#g = :g" {
		t.Errorf("first load key condition = %q, want a full read", kc)
	}

	// Within the interval: no call however many checks.
	for range 100 {
		c.advance(10 * time.Millisecond)
		if _, err := v.Check(ctx, "", "bob", "", iat); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.queryCount(); n != 1 {
		t.Fatalf("queries within the interval = %d, want 1", n)
	}

	// A new revocation, then the interval passes: one incremental read.
	db.put(item("sub#*#bob", t0.Unix(), exp, t0.UnixMilli()+1500))
	c.advance(time.Second) // now t0+2s
	if got, _ := v.Check(ctx, "", "bob", "", iat); !got {
		t.Fatal("bob not revoked after the refresh")
	}
	if n := db.queryCount(); n != 2 {
		t.Fatalf("queries = %d, want 2", n)
	}
	q := db.lastQuery()
	if kc := aws.ToString(q.KeyConditionExpression); kc != "#g = :g AND #u >= :since" {
		t.Fatalf("key condition = %q, want an incremental read", kc)
	}
	since, _ := nval(q.ExpressionAttributeValues[":since"])
	if want := t0.Add(-DefaultOverlap).UnixMilli(); since != want {
		t.Errorf(":since = %d, want %d (previous refresh start minus overlap)", since, want)
	}
	if g := v.Generation(); g != 2 {
		t.Errorf("Generation() = %d, want 2", g)
	}

	// A refresh that finds nothing new keeps the generation.
	c.advance(2 * time.Second)
	if _, err := v.Check(ctx, "", "carol", "", iat); err != nil {
		t.Fatal(err)
	}
	if g := v.Generation(); g != 2 {
		t.Errorf("Generation() after an empty refresh = %d, want 2", g)
	}
	if got, want := changes, []uint64{1, 2}; !equalU64(got, want) {
		t.Errorf("onChange calls = %v, want %v", got, want)
	}

	st := v.Stats()
	if st.Entries != 2 || st.Refreshes != 3 || st.FullLoads != 1 || st.RefreshErrors != 0 {
		t.Errorf("Stats = %+v, want 2 entries, 3 refreshes, 1 full load, 0 errors", st)
	}
	if !st.LastRefresh.Equal(t0.Add(4*time.Second)) || st.Lag != 0 {
		t.Errorf("LastRefresh, Lag = %v, %v; want t0+4s, 0", st.LastRefresh, st.Lag)
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestViewCatchesLateIndexEntriesWithinOverlap(t *testing.T) {
	db := newFakeTable()
	exp := t0.Unix() + 3600
	// Written just before the first load but not yet in the index.
	db.put(item("sub#*#late", t0.Unix(), exp, t0.UnixMilli()-300))
	db.hidden["sub#*#late"] = true
	v, c := newTestView(db)
	ctx := context.Background()
	iat := t0.Add(-time.Minute)
	if got, _ := v.Check(ctx, "", "late", "", iat); got {
		t.Fatal("invisible entry was seen")
	}
	db.mu.Lock()
	delete(db.hidden, "sub#*#late")
	db.mu.Unlock()
	c.advance(3 * time.Second)
	if got, _ := v.Check(ctx, "", "late", "", iat); !got {
		t.Fatal("entry that reached the index late was missed by the incremental read")
	}
}

func TestViewMergeIsMonotonic(t *testing.T) {
	db := newFakeTable()
	exp := t0.Unix() + 3600
	db.put(item("sub#*#u", t0.Unix(), exp, t0.UnixMilli()))
	v, c := newTestView(db)
	ctx := context.Background()
	if _, err := v.Check(ctx, "", "u", "", t0); err != nil {
		t.Fatal(err)
	}
	// An older copy of the item (lower revokedAt) shows up later.
	db.put(item("sub#*#u", t0.Unix()-600, exp-600, t0.UnixMilli()+1000))
	c.advance(3 * time.Second)
	if got, _ := v.Check(ctx, "", "u", "", t0.Add(-time.Second)); !got {
		t.Fatal("an older copy lowered revokedAt")
	}
}

func TestViewFullReload(t *testing.T) {
	db := newFakeTable()
	exp := t0.Unix() + 3600
	db.put(item("sub#*#gone", t0.Unix(), exp, t0.UnixMilli()))
	v, c := newTestView(db, WithFullReload(time.Minute))
	ctx := context.Background()
	if got, _ := v.Check(ctx, "", "gone", "", t0.Add(-time.Second)); !got {
		t.Fatal("not revoked after first load")
	}
	db.mu.Lock()
	delete(db.items, "sub#*#gone") // deleted by hand
	db.mu.Unlock()
	c.advance(30 * time.Second)
	if got, _ := v.Check(ctx, "", "gone", "", t0.Add(-time.Second)); !got {
		t.Fatal("an incremental read dropped an entry it did not see")
	}
	c.advance(31 * time.Second)
	if got, _ := v.Check(ctx, "", "gone", "", t0.Add(-time.Second)); got {
		t.Fatal("full reload kept a deleted entry")
	}
	if kc := aws.ToString(db.lastQuery().KeyConditionExpression); kc != "#g = :g" {
		t.Errorf("key condition = %q, want a full read", kc)
	}
	if st := v.Stats(); st.FullLoads != 2 || st.Generation != 2 {
		t.Errorf("FullLoads, Generation = %d, %d; want 2, 2", st.FullLoads, st.Generation)
	}
}

func TestViewPagination(t *testing.T) {
	db := newFakeTable()
	db.pageSize = 2
	exp := t0.Unix() + 3600
	for i, s := range []string{"a", "b", "c", "d", "e"} {
		db.put(item("sub#*#"+s, t0.Unix(), exp, int64(i)))
	}
	v, _ := newTestView(db)
	for _, s := range []string{"a", "c", "e"} {
		if got, err := v.Check(context.Background(), "", s, "", t0.Add(-time.Second)); err != nil || !got {
			t.Fatalf("Check(%s) = %v, %v; want true, nil", s, got, err)
		}
	}
	if n := db.queryCount(); n != 3 {
		t.Errorf("queries = %d, want 3 pages", n)
	}

	endless := newFakeTable()
	endless.endless = true
	v2, _ := newTestView(endless)
	_, err := v2.Check(context.Background(), "", "a", "", t0)
	if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), "pages") {
		t.Fatalf("endless pages: err = %v, want ErrStale about pages", err)
	}
}

func TestViewDecodesItemsFailingClosed(t *testing.T) {
	db := newFakeTable()
	exp := t0.Unix() + 3600
	bad := item("sub#*#badrev", 0, exp, 1)
	bad[attrRevokedAt] = &types.AttributeValueMemberS{Value: "yesterday"}
	db.put(bad)
	noExp := item("sub#*#noexp", t0.Unix(), 0, 2)
	delete(noExp, attrExpiresAt)
	db.put(noExp)
	db.put(item("garbage", t0.Unix(), exp, 3))
	db.put(item("sub#*#", t0.Unix(), exp, 4))
	v, c := newTestView(db)
	ctx := context.Background()
	if got, _ := v.Check(ctx, "", "badrev", "", t0.Add(time.Hour)); !got {
		t.Error("unreadable revokedAt did not revoke every token of the subject")
	}
	c.advance(1000 * time.Hour)
	if got, _ := v.Check(ctx, "", "noexp", "", t0.Add(-time.Second)); !got {
		t.Error("entry without expiresAt expired")
	}
	if st := v.Stats(); st.SkippedItems != 2 {
		t.Errorf("SkippedItems = %d, want 2", st.SkippedItems)
	}
}

func TestViewStaleness(t *testing.T) {
	boom := errors.New("dynamodb down")
	exp := t0.Unix() + 3600
	setup := func(mode FailMode) (*View, *clock, *fakeTable) {
		db := newFakeTable()
		db.put(item("sub#*#alice", t0.Unix(), exp, 1))
		v, c := newTestView(db, WithFailMode(mode))
		if _, err := v.Check(context.Background(), "", "x", "", t0); err != nil {
			t.Fatal(err)
		}
		db.queryErr = boom
		return v, c, db
	}
	iat := t0.Add(-time.Minute)

	t.Run("fail closed", func(t *testing.T) {
		v, c, db := setup(FailClosed)
		c.advance(5 * time.Second)
		if got, err := v.Check(context.Background(), "", "alice", "", iat); err != nil || !got {
			t.Fatalf("within max staleness: Check = %v, %v; want true, nil", got, err)
		}
		// A failed attempt is not repeated within the interval.
		c.advance(time.Second)
		_, _ = v.Check(context.Background(), "", "alice", "", iat)
		if n := db.queryCount(); n != 2 {
			t.Errorf("queries = %d, want 2", n)
		}
		c.advance(6 * time.Second) // 12 s since the last good read
		_, err := v.Check(context.Background(), "", "bob", "", iat)
		if !errors.Is(err, ErrStale) || !errors.Is(err, boom) {
			t.Fatalf("err = %v, want ErrStale wrapping the table error", err)
		}
		st := v.Stats()
		if st.StaleDenied != 1 || st.RefreshErrors != 2 || !errors.Is(st.LastError, boom) || st.Lag != 12*time.Second {
			t.Errorf("Stats = %+v; want 1 stale denial, 2 errors, last error, lag 12s", st)
		}
		// Recovery.
		db.mu.Lock()
		db.queryErr = nil
		db.mu.Unlock()
		c.advance(2 * time.Second)
		if got, err := v.Check(context.Background(), "", "alice", "", iat); err != nil || !got {
			t.Fatalf("after recovery: Check = %v, %v; want true, nil", got, err)
		}
	})

	t.Run("fail open", func(t *testing.T) {
		v, c, _ := setup(FailOpen)
		c.advance(30 * time.Second)
		if got, err := v.Check(context.Background(), "", "alice", "", iat); err != nil || !got {
			t.Fatalf("Check = %v, %v; want the last view's true, nil", got, err)
		}
		if got, err := v.Check(context.Background(), "", "bob", "", iat); err != nil || got {
			t.Fatalf("Check = %v, %v; want false, nil", got, err)
		}
		if st := v.Stats(); st.StaleAllowed != 2 || st.StaleDenied != 0 {
			t.Errorf("StaleAllowed, StaleDenied = %d, %d; want 2, 0", st.StaleAllowed, st.StaleDenied)
		}
	})

	t.Run("never loaded", func(t *testing.T) {
		db := newFakeTable()
		db.queryErr = boom
		closed, _ := newTestView(db)
		if _, err := closed.Check(context.Background(), "", "a", "", iat); !errors.Is(err, ErrStale) || !errors.Is(err, boom) {
			t.Errorf("fail closed: err = %v, want ErrStale wrapping the table error", err)
		}
		// With no view, every call retries (coalesced) instead of waiting an interval.
		if _, err := closed.Check(context.Background(), "", "a", "", iat); err == nil {
			t.Error("second call: err = nil, want an error")
		}
		if n := db.queryCount(); n != 2 {
			t.Errorf("queries = %d, want 2", n)
		}
		open, _ := newTestView(db, WithFailMode(FailOpen))
		if got, err := open.Check(context.Background(), "", "a", "", iat); err != nil || got {
			t.Errorf("fail open: Check = %v, %v; want false, nil", got, err)
		}
		if st := open.Stats(); st.StaleAllowed != 1 {
			t.Errorf("StaleAllowed = %d, want 1", st.StaleAllowed)
		}
	})
}

func TestViewCoalescesRefreshes(t *testing.T) {
	exp := t0.Unix() + 3600
	iat := t0.Add(-time.Minute)

	t.Run("warm: others answer from the current view", func(t *testing.T) {
		db := newFakeTable()
		db.put(item("sub#*#alice", t0.Unix(), exp, 1))
		v, c := newTestView(db)
		ctx := context.Background()
		if _, err := v.Check(ctx, "", "x", "", iat); err != nil {
			t.Fatal(err)
		}
		db.block, db.entered = make(chan struct{}), make(chan struct{}, 1)
		c.advance(3 * time.Second)
		done := make(chan error)
		go func() {
			_, err := v.Check(ctx, "", "alice", "", iat)
			done <- err
		}()
		<-db.entered // the refresh is in flight
		for range 50 {
			if got, err := v.Check(ctx, "", "alice", "", iat); err != nil || !got {
				t.Fatalf("concurrent Check = %v, %v; want true, nil", got, err)
			}
		}
		close(db.block)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := db.queryCount(); n != 2 {
			t.Errorf("queries = %d, want 2", n)
		}
	})

	t.Run("cold: others wait for the first load", func(t *testing.T) {
		db := newFakeTable()
		db.put(item("sub#*#alice", t0.Unix(), exp, 1))
		db.block, db.entered = make(chan struct{}), make(chan struct{}, 1)
		v, _ := newTestView(db)
		ctx := context.Background()
		var wg sync.WaitGroup
		results := make(chan bool, 8)
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _ := v.Check(ctx, "", "alice", "", iat)
			results <- got
		}()
		<-db.entered
		for range 7 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, _ := v.Check(ctx, "", "alice", "", iat)
				results <- got
			}()
		}
		time.Sleep(10 * time.Millisecond) // let the waiters block
		close(db.block)
		wg.Wait()
		close(results)
		for got := range results {
			if !got {
				t.Error("a waiter answered false")
			}
		}
		if n := db.queryCount(); n != 1 {
			t.Errorf("queries = %d, want 1", n)
		}
	})

	t.Run("cold waiter gives up with its context", func(t *testing.T) {
		db := newFakeTable()
		db.block, db.entered = make(chan struct{}), make(chan struct{}, 1)
		v, _ := newTestView(db)
		go func() { _, _ = v.Check(context.Background(), "", "a", "", iat) }()
		<-db.entered
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := v.Check(ctx, "", "a", "", iat); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		close(db.block)
	})
}

func TestViewRefreshTimeout(t *testing.T) {
	db := newFakeTable()
	db.block = make(chan struct{}) // never closed: the query hangs
	v := NewView(db, "t", WithRefreshTimeout(20*time.Millisecond))
	start := time.Now()
	_, err := v.Check(context.Background(), "", "a", "", t0)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrStale) {
		t.Fatalf("err = %v, want ErrStale wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Check took %v, want about 20ms", d)
	}
}

func TestOptionsKeepDefaultsOnBadValues(t *testing.T) {
	v := NewView(newFakeTable(), "t", WithRefreshInterval(0), WithMaxStaleness(-1), WithOverlap(-1), WithFullReload(0), WithRefreshTimeout(0))
	if v.interval != DefaultRefreshInterval || v.maxStale != DefaultMaxStaleness || v.overlap != DefaultOverlap ||
		v.fullEvery != DefaultFullReload || v.timeout != DefaultRefreshTimeout {
		t.Errorf("bad option values changed the defaults: %+v", v)
	}
	v = NewView(newFakeTable(), "t", WithRefreshInterval(time.Second), WithMaxStaleness(time.Minute), WithOverlap(0), WithIndex("other"))
	if v.interval != time.Second || v.maxStale != time.Minute || v.overlap != 0 || v.index != "other" {
		t.Errorf("options not applied: %+v", v)
	}
}

func TestViewReportsStaleAnswers(t *testing.T) {
	db := newFakeTable()
	db.put(item("sub#*#alice", t0.Unix(), t0.Unix()+3600, 1))
	var ages []time.Duration
	v, c := newTestView(db, WithFailMode(FailOpen), WithOnStaleAnswer(func(age time.Duration) { ages = append(ages, age) }))
	if _, err := v.Check(context.Background(), "", "x", "", t0); err != nil {
		t.Fatal(err)
	}
	db.mu.Lock()
	db.queryErr = errors.New("table unreachable")
	db.mu.Unlock()
	c.advance(5 * time.Second) // within the maximum staleness: not reported
	_, _ = v.Check(context.Background(), "", "x", "", t0)
	if len(ages) != 0 {
		t.Fatalf("stale answers reported within the staleness limit: %v", ages)
	}
	c.advance(25 * time.Second)
	if got, err := v.Check(context.Background(), "", "alice", "", t0.Add(-time.Minute)); err != nil || !got {
		t.Fatalf("Check = %v, %v; want the last view's true", got, err)
	}
	if len(ages) != 1 || ages[0] != 30*time.Second {
		t.Errorf("reported ages %v, want [30s]", ages)
	}
}

func TestStaleLoggerIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	hook := StaleLogger(slog.New(slog.NewJSONHandler(&buf, nil)), time.Hour)
	for range 5 {
		hook(40 * time.Second)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines for 5 stale answers within the interval, want 1:\n%s", len(lines), buf.String())
	}
	var rec struct {
		Level        string
		StaleAnswers int
		ViewAgeMs    int64
		FailMode     string
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Level != "WARN" || rec.StaleAnswers != 1 || rec.ViewAgeMs != 40000 || rec.FailMode != "open" {
		t.Errorf("log line %s", lines[0])
	}
}
