package credential

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apigw-guard/guard/shared/secretver"
)

// The errors a [Store] returns. Compare with errors.Is.
var (
	// ErrUnavailable: the secret could not be read, or a version of it does
	// not parse. Nothing can be verified: answer 500 (fail closed).
	ErrUnavailable = errors.New("credentials unavailable")
	// ErrUnknownKey: no version holds the keyid.
	ErrUnknownKey = errors.New("unknown key id")
	// ErrBadCredentials: no version holds the client id, or the secret
	// matches none of its hashes.
	ErrBadCredentials = errors.New("bad client credentials")
)

// Reader is what a [Store] needs of a *[secretver.Reader].
type Reader interface {
	Get(ctx context.Context) (secretver.Snapshot, error)
	Refresh(ctx context.Context) (secretver.Snapshot, bool, error)
	SecretID() string
}

// HMACKey is one signing key, with the version that holds it.
type HMACKey struct {
	KeyID     string
	Secret    []byte
	UsageKey  string
	Stage     string // secretver.StageCurrent or StagePrevious
	VersionID string
}

// Client is an authenticated API client.
type Client struct {
	ID        string
	UsageKey  string
	Stage     string // the stage of the version whose hash matched
	VersionID string
	Cached    bool // the verification came from the cache
}

// Defaults of a [Store]'s verification cache.
const (
	DefaultCacheTTL  = 15 * time.Minute
	DefaultCacheSize = 10_000
)

// An Option changes one of a [Store]'s defaults.
type Option func(*Store)

// WithCache sets how long a successful client verification is reused and
// how many are kept (when full, the cache starts over). ttl <= 0 disables
// the cache; size <= 0 keeps the default size.
func WithCache(ttl time.Duration, size int) Option {
	return func(s *Store) {
		s.cacheTTL = ttl
		if size > 0 {
			s.cacheSize = size
		}
	}
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Store reads the credentials secret through a [Reader]. Build it with
// [NewStore]; it is safe for concurrent use.
type Store struct {
	reader    Reader
	now       func() time.Time
	cacheTTL  time.Duration
	cacheSize int
	cacheKey  [32]byte // random per process: cache keys are MACs, not plain hashes

	mu         sync.Mutex
	generation uint64 // of the snapshot versions (or err) came from; 0 = none
	versions   []version
	err        error
	parsed     map[string]*Document // version ID -> document

	cmu      sync.Mutex
	verified map[[32]byte]time.Time
}

type version struct {
	id, stage string
	doc       *Document
}

// NewStore returns a Store over r.
func NewStore(r Reader, opts ...Option) *Store {
	s := &Store{reader: r, now: time.Now, cacheTTL: DefaultCacheTTL, cacheSize: DefaultCacheSize,
		verified: map[[32]byte]time.Time{}}
	if _, err := rand.Read(s.cacheKey[:]); err != nil {
		panic("credential: no randomness: " + err.Error())
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// load returns the parsed versions of the reader's snapshot (AWSCURRENT
// first), parsing each version once.
func (s *Store) load(ctx context.Context) ([]version, uint64, error) {
	snap, err := s.reader.Get(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.generation != 0 && snap.Generation == s.generation {
		return s.versions, s.generation, s.err
	}
	parsed := make(map[string]*Document, len(snap.Versions))
	versions := make([]version, 0, len(snap.Versions))
	s.err = nil
	for _, v := range snap.Versions {
		doc, ok := s.parsed[v.ID]
		if !ok {
			if doc, err = Parse([]byte(v.Value)); err != nil {
				s.err = fmt.Errorf("%w: secret %q version %s: %w", ErrUnavailable, s.reader.SecretID(), v, err)
				break
			}
		}
		parsed[v.ID] = doc
		versions = append(versions, version{id: v.ID, stage: v.Stage, doc: doc})
	}
	if s.err != nil {
		versions = nil
	}
	s.parsed, s.versions, s.generation = parsed, versions, snap.Generation
	return s.versions, s.generation, s.err
}

// Refresh re-reads the secret directly (at most once per the reader's
// cool-down) and reports whether the versions changed.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	_, before, _ := s.load(ctx)
	snap, _, err := s.reader.Refresh(ctx)
	if snap.Generation != 0 && snap.Generation != before {
		return true, nil
	}
	return false, err
}

// HMACKeys returns the keys keyID names, AWSCURRENT's first; a key that is
// the same in both versions is returned once. It does not refresh: callers
// decide when an unknown keyid is worth a [Store.Refresh]. Errors wrap
// [ErrUnknownKey] or [ErrUnavailable].
func (s *Store) HMACKeys(ctx context.Context, keyID string) ([]HMACKey, error) {
	vs, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	var out []HMACKey
	for _, v := range vs {
		e, ok := v.doc.HMAC[keyID]
		if !ok {
			continue
		}
		dup := false
		for _, k := range out {
			dup = dup || hmac.Equal(k.Secret, e.Key)
		}
		if !dup {
			out = append(out, HMACKey{KeyID: keyID, Secret: e.Key, UsageKey: e.UsageKey, Stage: v.stage, VersionID: v.id})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, keyID)
	}
	return out, nil
}

// Authenticate verifies a client id and secret against every version that
// holds the client (AWSCURRENT first), comparing hashes in constant time.
// When the client is unknown or no hash matches, it refreshes once and
// tries again. Errors wrap [ErrBadCredentials] or [ErrUnavailable].
//
// Client ids are not secret: an unknown id is refused without deriving a
// key, so timing reveals whether an id exists, never anything about a
// secret.
func (s *Store) Authenticate(ctx context.Context, clientID, secret string) (Client, error) {
	if !validClientID(clientID) || len(secret) < MinSecretLength || len(secret) > MaxSecretLength {
		return Client{}, ErrBadCredentials
	}
	vs, _, err := s.load(ctx)
	if err != nil {
		return Client{}, err
	}
	if c, ok, err := s.check(vs, clientID, secret); ok || err != nil {
		return c, err
	}
	changed, _ := s.Refresh(ctx)
	if changed {
		if vs, _, err = s.load(ctx); err != nil {
			return Client{}, err
		}
		if c, ok, err := s.check(vs, clientID, secret); ok || err != nil {
			return c, err
		}
	}
	return Client{}, ErrBadCredentials
}

func (s *Store) check(vs []version, id, secret string) (Client, bool, error) {
	// A cached verification for any version skips the derivation, so a
	// rotation that keeps the client's hash costs no derivation either.
	for _, v := range vs {
		if e, ok := v.doc.Clients[id]; ok && s.cached(s.cacheKeyOf(id, secret, v.id)) {
			return Client{ID: id, UsageKey: e.UsageKey, Stage: v.stage, VersionID: v.id, Cached: true}, true, nil
		}
	}
	type kdfInput struct {
		salt string
		iter int
	}
	derived := map[kdfInput][]byte{}
	for _, v := range vs {
		e, ok := v.doc.Clients[id]
		if !ok {
			continue
		}
		in := kdfInput{string(e.Salt), e.Iterations}
		d, ok := derived[in]
		if !ok {
			var err error
			if d, err = derive(secret, e.Salt, e.Iterations); err != nil {
				return Client{}, false, fmt.Errorf("%w: derive: %w", ErrUnavailable, err)
			}
			derived[in] = d
		}
		if e.matches(d) {
			s.remember(s.cacheKeyOf(id, secret, v.id))
			return Client{ID: id, UsageKey: e.UsageKey, Stage: v.stage, VersionID: v.id}, true, nil
		}
	}
	return Client{}, false, nil
}

// cacheKeyOf is HMAC(process key, id, secret, version id) with length
// prefixes, so no two inputs share a key.
func (s *Store) cacheKeyOf(id, secret, versionID string) [32]byte {
	m := hmac.New(sha256.New, s.cacheKey[:])
	var n [8]byte
	for _, part := range []string{id, secret, versionID} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (s *Store) cached(key [32]byte) bool {
	if s.cacheTTL <= 0 {
		return false
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	until, ok := s.verified[key]
	if ok && s.now().Before(until) {
		return true
	}
	if ok {
		delete(s.verified, key)
	}
	return false
}

func (s *Store) remember(key [32]byte) {
	if s.cacheTTL <= 0 {
		return
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if len(s.verified) >= s.cacheSize {
		clear(s.verified)
	}
	s.verified[key] = s.now().Add(s.cacheTTL)
}
