package secretver

import (
	"context"
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
	DefaultCoolDown  = 10 * time.Second
	DefaultForcedTTL = time.Duration(secretcache.DefaultCacheItemTTL)
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
	secretID  string
	cache     Cache
	api       API
	coolDown  time.Duration
	forcedTTL time.Duration
	now       func() time.Time

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
		secretID:  secretID,
		cache:     cache,
		api:       api,
		coolDown:  DefaultCoolDown,
		forcedTTL: DefaultForcedTTL,
		now:       time.Now,
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
// again (the caching client itself serves stale values the same way).
// Otherwise the error wraps [ErrNotFound] when the secret does not exist.
func (r *Reader) Get(ctx context.Context) (Snapshot, error) {
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
	r.view = &cacheView{current: cur, previous: prev, hasPrevious: hasPrev, snap: s}
	r.served = s
	return *s, nil
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
	sum := sha256.Sum256([]byte(value))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

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
// cool-down.
//
// When the read succeeds and its versions differ from those served, Get
// returns them until the forced TTL has passed. When it fails, Refresh
// returns the last snapshot served (the zero Snapshot if none), refreshed
// false and the error, and Get keeps serving as before.
func (r *Reader) Refresh(ctx context.Context) (Snapshot, bool, error) {
	r.mu.Lock()
	if f := r.flight; f != nil {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.snap, f.err == nil, f.err
		case <-ctx.Done():
			return r.last(), false, r.wrap("wait for refresh", ctx.Err())
		}
	}
	now := r.now()
	if r.attempted && now.Sub(r.lastAttempt) < r.coolDown {
		r.mu.Unlock()
		s, err := r.Get(ctx)
		return s, false, err
	}
	f := &flight{done: make(chan struct{})}
	r.flight = f
	r.attempted = true
	r.lastAttempt = now
	r.mu.Unlock()

	versions, err := r.readDirect(ctx)

	r.mu.Lock()
	if err != nil {
		f.err = err
		if r.served != nil {
			f.snap = *r.served
		}
	} else {
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
	return f.snap, f.err == nil, f.err
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
