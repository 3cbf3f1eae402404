package secretver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"
)

// ErrNotFound means Secrets Manager has no secret with the Reader's ID
// (ResourceNotFoundException). Compare with errors.Is.
var ErrNotFound = errors.New("secret not found")

// ErrNoCurrent means the secret has no version labelled AWSCURRENT, or that
// version holds no SecretString.
var ErrNoCurrent = errors.New("secret has no AWSCURRENT string value")

// ErrStale means no read of the secret from Secrets Manager has succeeded for
// longer than the Reader's maximum staleness (see [WithMaxStaleness]), so the
// versions it holds are no longer served. Compare with errors.Is.
var ErrStale = errors.New("secret versions are stale")

// Cache is the part of secretcache.Cache
// (github.com/aws/aws-secretsmanager-caching-go/v2) that a [Reader] uses.
// A version the cached secret does not have must yield an error of type
// *secretcache.VersionNotFoundError, as secretcache.Cache's does.
type Cache interface {
	GetSecretStringWithStageWithContext(ctx context.Context, secretID, stage string) (string, error)
}

// API is the part of the Secrets Manager client that [Reader.Refresh] uses
// to read the secret directly, bypassing the cache.
type API interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Defaults of a [Reader].
const (
	DefaultCoolDown     = 10 * time.Second
	DefaultForcedTTL    = time.Duration(secretcache.DefaultCacheItemTTL)
	DefaultMaxStaleness = 24 * time.Hour
	DefaultReadTimeout  = 3 * time.Second
)

// An Option changes one of a [Reader]'s defaults.
type Option func(*Reader)

// WithCoolDown sets the least time between two direct reads by
// [Reader.Refresh]. The default is 10 s; d <= 0 keeps the default.
func WithCoolDown(d time.Duration) Option {
	return func(r *Reader) {
		if d > 0 {
			r.coolDown = d
		}
	}
}

// WithForcedTTL sets how long after a direct read [Reader.Get] prefers its
// result to the caching client. Set it to the cache's CacheItemTTL (the
// default is secretcache's default, 1 h): by then the cache has refreshed
// on its own. d <= 0 keeps the default.
func WithForcedTTL(d time.Duration) Option {
	return func(r *Reader) {
		if d > 0 {
			r.forcedTTL = d
		}
	}
}

// WithMaxStaleness sets how long the Reader serves the versions it holds
// without a successful read of the secret from Secrets Manager. The caching
// client hides its failures (it serves stale values forever), so the Reader
// counts only what it can see: its first load, a cache read whose content
// changed, and its own direct reads. Once the last of those is half the
// maximum staleness old, [Reader.Get] confirms the versions with a direct
// read (at most once per cool-down); once it is the maximum staleness old,
// Get fails with [ErrStale] until a read succeeds. The default is
// [DefaultMaxStaleness] (24 h); d <= 0 keeps it.
func WithMaxStaleness(d time.Duration) Option {
	return func(r *Reader) {
		if d > 0 {
			r.maxStale = d
		}
	}
}

// WithReadTimeout bounds one direct read (DescribeSecret and the
// GetSecretValue calls, retries included) made while the Reader holds
// versions, so that a slow Secrets Manager costs a request at most this
// long before the held versions are served. The first load is bounded only
// by the caller's context. The default is [DefaultReadTimeout] (3 s); d <= 0
// keeps it.
func WithReadTimeout(d time.Duration) Option {
	return func(r *Reader) {
		if d > 0 {
			r.readTimeout = d
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(r *Reader) {
		if now != nil {
			r.now = now
		}
	}
}

// Reader reads the AWSCURRENT and AWSPREVIOUS versions of one secret. Build
// one with [New]; it is safe for concurrent use.
type Reader struct {
	secretID    string
	cache       Cache
	api         API
	coolDown    time.Duration
	forcedTTL   time.Duration
	maxStale    time.Duration
	readTimeout time.Duration
	now         func() time.Time

	mu sync.Mutex
	// served is the snapshot last returned; nil before the first success.
	served *Snapshot
	// view is the last raw read through the cache and what it became.
	view *cacheView
	// forced is the last direct read whose content differed from what was
	// served, preferred by Get until forcedAt+forcedTTL.
	forced   *Snapshot
	forcedAt time.Time
	// direct holds the versions of the last successful direct read, whose
	// IDs name cache reads of the same values.
	direct      []Version
	generation  uint64
	attempted   bool
	lastAttempt time.Time
	flight      *flight
	// confirmed is when the last read known to have reached Secrets
	// Manager started; lastErr is the last direct read's error.
	confirmed time.Time
	lastErr   error
}

type cacheView struct {
	current, previous string
	hasPrevious       bool
	snap              *Snapshot
}

// flight is one direct read that concurrent Refresh callers share.
type flight struct {
	done chan struct{}
	snap Snapshot
	err  error
}

// New returns a Reader of the secret secretID (a name or ARN). cache serves
// [Reader.Get]; api serves [Reader.Refresh]. Both are required.
func New(secretID string, cache Cache, api API, opts ...Option) *Reader {
	r := &Reader{
		secretID:    secretID,
		cache:       cache,
		api:         api,
		coolDown:    DefaultCoolDown,
		forcedTTL:   DefaultForcedTTL,
		maxStale:    DefaultMaxStaleness,
		readTimeout: DefaultReadTimeout,
		now:         time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// SecretID returns the secret the Reader reads.
func (r *Reader) SecretID() string { return r.secretID }

// Get returns the secret's AWSCURRENT and AWSPREVIOUS versions. It reads
// through the caching client, except while a recent [Reader.Refresh] has
// read newer versions than the cache served: then it returns those. It
// never sleeps and never forces the cache to refresh, so once the cache is
// warm it makes no network call until the cache's own TTL expires.
//
// A secret without AWSPREVIOUS yields only AWSCURRENT. If the caching client
// fails after this Reader has served a snapshot, Get returns that snapshot
// again (the caching client itself serves stale values the same way), but
// only up to the maximum staleness (see [WithMaxStaleness]): the one case in
// which Get makes a direct read is to confirm versions that have not been
// read for half that long, and past it Get returns an error wrapping
// [ErrStale]. Otherwise the error wraps [ErrNotFound] when the secret does
// not exist.
func (r *Reader) Get(ctx context.Context) (Snapshot, error) {
	s, err := r.get(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	return r.fresh(ctx, s)
}

// get is Get without the staleness rule.
func (r *Reader) get(ctx context.Context) (Snapshot, error) {
	now := r.now()
	r.mu.Lock()
	if r.forced != nil {
		if now.Sub(r.forcedAt) < r.forcedTTL {
			s := *r.forced
			r.mu.Unlock()
			return s, nil
		}
		r.forced = nil
	}
	r.mu.Unlock()

	cur, prev, hasPrev, err := r.readCache(ctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.served != nil {
			return *r.served, nil
		}
		return Snapshot{}, err
	}
	if v := r.view; v != nil && v.current == cur && v.hasPrevious == hasPrev && v.previous == prev {
		r.served = v.snap
		return *v.snap, nil
	}
	versions := make([]Version, 0, 2)
	versions = append(versions, Version{ID: r.idOf(cur), Stage: StageCurrent, Value: cur})
	if hasPrev {
		versions = append(versions, Version{ID: r.idOf(prev), Stage: StagePrevious, Value: prev})
	}
	s := r.adopt(versions, now)
	// A first read, or content that changed, reached Secrets Manager.
	r.confirmed = now
	r.view = &cacheView{current: cur, previous: prev, hasPrevious: hasPrev, snap: s}
	r.served = s
	return *s, nil
}

// fresh applies the staleness rule to s, a snapshot get returned.
func (r *Reader) fresh(ctx context.Context, s Snapshot) (Snapshot, error) {
	r.mu.Lock()
	age := r.now().Sub(r.confirmed)
	r.mu.Unlock()
	if age < r.maxStale/2 {
		return s, nil
	}
	// Confirm the versions with a direct read. A caller whose versions are
	// not stale yet does not wait for a read another caller started.
	snap, done, err := r.readNow(ctx, age >= r.maxStale)
	if done && err == nil {
		return snap, nil
	}
	r.mu.Lock()
	age = r.now().Sub(r.confirmed)
	last := r.lastErr
	if r.served != nil {
		s = *r.served
	}
	r.mu.Unlock()
	if age < r.maxStale {
		return s, nil
	}
	msg := fmt.Sprintf("secret %q: no successful read for %s (max staleness %s)", r.secretID, age.Round(time.Millisecond), r.maxStale)
	if last != nil {
		return Snapshot{}, fmt.Errorf("%s: %w: %w", msg, ErrStale, last)
	}
	return Snapshot{}, fmt.Errorf("%s: %w", msg, ErrStale)
}

// readCache reads both stages through the cache. A missing AWSPREVIOUS is
// not an error.
func (r *Reader) readCache(ctx context.Context) (cur, prev string, hasPrev bool, err error) {
	cur, err = r.cache.GetSecretStringWithStageWithContext(ctx, r.secretID, StageCurrent)
	if err != nil {
		return "", "", false, r.wrap("read cached "+StageCurrent, err)
	}
	prev, err = r.cache.GetSecretStringWithStageWithContext(ctx, r.secretID, StagePrevious)
	if err != nil {
		if _, ok := errors.AsType[*secretcache.VersionNotFoundError](err); ok {
			return cur, "", false, nil
		}
		return "", "", false, r.wrap("read cached "+StagePrevious, err)
	}
	return cur, prev, true, nil
}

// idOf names a value read through the cache: the VersionId of the same
// value from a direct read or from what was served, else a fingerprint.
// r.mu is held.
func (r *Reader) idOf(value string) string {
	for _, v := range r.direct {
		if v.Value == value {
			return v.ID
		}
	}
	if r.served != nil {
		for _, v := range r.served.Versions {
			if v.Value == value {
				return v.ID
			}
		}
	}
	mac := hmac.New(sha256.New, fingerprintKey[:])
	mac.Write([]byte(value))
	return "sha256:" + hex.EncodeToString(mac.Sum(nil)[:16])
}

// fingerprintKey keys the "sha256:" version IDs: equal values get equal IDs
// within the process, and a logged ID cannot be checked against guesses of
// a weak value offline.
var fingerprintKey = func() (k [32]byte) {
	_, _ = rand.Read(k[:]) // crypto/rand.Read does not fail (Go 1.24+)
	return k
}()

// adopt returns the snapshot to serve for versions: the one served before
// when the content is the same, else a new generation. r.mu is held.
func (r *Reader) adopt(versions []Version, now time.Time) *Snapshot {
	if r.served != nil && sameContent(r.served.Versions, versions) {
		return r.served
	}
	if r.forced != nil && sameContent(r.forced.Versions, versions) {
		return r.forced
	}
	if v := r.view; v != nil && sameContent(v.snap.Versions, versions) {
		return v.snap
	}
	r.generation++
	return &Snapshot{Versions: versions, Fetched: now, Generation: r.generation}
}

// Refresh reads the secret directly: DescribeSecret for the version map,
// then GetSecretValue by VersionId for AWSCURRENT and AWSPREVIOUS. It does
// so at most once per cool-down: callers that arrive while a read is in
// flight wait for it and share its result (refreshed is true when it
// succeeded), and callers within the cool-down after it get what
// [Reader.Get] returns with refreshed false. A failed read also starts a
// cool-down. While the Reader holds versions, the read is bounded by the
// read timeout (see [WithReadTimeout]).
//
// When the read succeeds and its versions differ from those served, Get
// returns them until the forced TTL has passed. When it fails, Refresh
// returns the last snapshot served (the zero Snapshot if none), refreshed
// false and the error, and Get keeps serving as before.
func (r *Reader) Refresh(ctx context.Context) (Snapshot, bool, error) {
	s, done, err := r.readNow(ctx, true)
	if !done {
		s, err := r.Get(ctx)
		return s, false, err
	}
	return s, err == nil, err
}

// readNow makes a direct read unless one was attempted within the cool-down
// (then done is false). If a read is in flight, it waits for it when wait is
// set and returns its outcome, else returns done false at once.
func (r *Reader) readNow(ctx context.Context, wait bool) (_ Snapshot, done bool, _ error) {
	r.mu.Lock()
	if f := r.flight; f != nil {
		r.mu.Unlock()
		if !wait {
			return Snapshot{}, false, nil
		}
		select {
		case <-f.done:
			return f.snap, true, f.err
		case <-ctx.Done():
			return r.last(), true, r.wrap("wait for refresh", ctx.Err())
		}
	}
	now := r.now()
	if r.attempted && now.Sub(r.lastAttempt) < r.coolDown {
		r.mu.Unlock()
		return Snapshot{}, false, nil
	}
	f := &flight{done: make(chan struct{})}
	r.flight = f
	r.attempted = true
	r.lastAttempt = now
	holding := r.served != nil
	r.mu.Unlock()

	rctx := ctx
	if holding {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.readTimeout)
		defer cancel()
	}
	versions, err := r.readDirect(rctx)

	r.mu.Lock()
	r.lastErr = err
	if err != nil {
		f.err = err
		if r.served != nil {
			f.snap = *r.served
		}
	} else {
		r.confirmed = now
		r.direct = versions
		s := r.adopt(versions, now)
		if r.served != s {
			r.forced = s
			r.forcedAt = now
			r.served = s
		}
		f.snap = *s
	}
	r.flight = nil
	r.mu.Unlock()
	close(f.done)
	return f.snap, true, f.err
}

func (r *Reader) last() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.served != nil {
		return *r.served
	}
	return Snapshot{}
}

// readDirect reads the version map and the two staged values.
func (r *Reader) readDirect(ctx context.Context) ([]Version, error) {
	desc, err := r.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &r.secretID})
	if err != nil {
		return nil, r.wrap("describe", err)
	}
	if desc == nil {
		return nil, r.wrap("describe", errors.New("empty response"))
	}
	var curID, prevID string
	for id, stages := range desc.VersionIdsToStages {
		for _, st := range stages {
			switch st {
			case StageCurrent:
				curID = id
			case StagePrevious:
				prevID = id
			}
		}
	}
	if curID == "" {
		return nil, r.wrap("describe", ErrNoCurrent)
	}
	versions := make([]Version, 0, 2)
	cur, err := r.value(ctx, curID)
	if err != nil {
		return nil, r.wrap("read "+StageCurrent, err)
	}
	versions = append(versions, Version{ID: curID, Stage: StageCurrent, Value: cur})
	if prevID != "" && prevID != curID {
		prev, err := r.value(ctx, prevID)
		if err != nil {
			return nil, r.wrap("read "+StagePrevious, err)
		}
		versions = append(versions, Version{ID: prevID, Stage: StagePrevious, Value: prev})
	}
	return versions, nil
}

func (r *Reader) value(ctx context.Context, versionID string) (string, error) {
	out, err := r.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &r.secretID, VersionId: &versionID})
	if err != nil {
		return "", fmt.Errorf("version %s: %w", versionID, err)
	}
	if out == nil || out.SecretString == nil {
		return "", fmt.Errorf("version %s holds no SecretString", versionID)
	}
	return *out.SecretString, nil
}

// wrap adds the secret ID, and ErrNotFound for ResourceNotFoundException.
func (r *Reader) wrap(what string, err error) error {
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("secret %q: %s: %w: %w", r.secretID, what, ErrNotFound, err)
	}
	return fmt.Errorf("secret %q: %s: %w", r.secretID, what, err)
}
