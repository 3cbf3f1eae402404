package keyring

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrUnknownKey means no key matches the token's issuer and kid, even after
// one refresh of the issuer's keys. A token that meets it is unauthorized.
// Compare with errors.Is.
var ErrUnknownKey = errors.New("unknown verification key")

// ErrKeysUnavailable means the issuer's keys cannot be loaded at all (the
// first load failed), or the last keys loaded are older than the source
// allows. It is the verifier's failure, not the token's. Compare with
// errors.Is.
var ErrKeysUnavailable = errors.New("verification keys unavailable")

// Source holds the verification keys of one issuer.
//
// Keys returns the keys, loading or refreshing them by age as the source
// sees fit; it returns an error when it holds no usable keys. It should
// return the same slice (not a copy) while its keys are unchanged: a [Ring]
// rebuilds its index only when the slice changes. Callers must not modify
// the slice.
//
// Refresh reloads the keys now because a caller met a kid it does not know;
// sources bound how often that reaches the network (a cool-down) and report
// refreshed false when they did not reload.
type Source interface {
	Keys(ctx context.Context) ([]Key, error)
	Refresh(ctx context.Context) (refreshed bool, err error)
}

// Ring finds the key that verifies a token, by issuer and kid. Build one at
// init with [NewRing]; it is safe for concurrent use. A lookup of a known
// kid makes no network call and does not allocate once the issuer's keys
// are held (beyond what the issuer's Source does).
type Ring struct {
	issuers map[string]*issuerKeys
}

type issuerKeys struct {
	src   Source
	index atomic.Pointer[keyIndex]
}

// keyIndex is an immutable index of one slice of keys.
type keyIndex struct {
	keys  []Key
	byKid map[string]Key
}

// NewRing returns a Ring that answers for each issuer (the exact iss claim)
// from its Source. It fails on an empty issuer or a nil Source.
func NewRing(sources map[string]Source) (*Ring, error) {
	r := &Ring{issuers: make(map[string]*issuerKeys, len(sources))}
	for iss, src := range sources {
		if iss == "" {
			return nil, errors.New("keyring: empty issuer")
		}
		if src == nil {
			return nil, fmt.Errorf("keyring: issuer %q has no key source", iss)
		}
		r.issuers[iss] = &issuerKeys{src: src}
	}
	return r, nil
}

// Key returns the key of issuer whose ID is kid. An empty kid selects the
// issuer's only key, and fails when it has several.
//
// When the kid is not among the keys held, Key asks the issuer's Source to
// refresh once (its cool-down applies) and looks again. Errors wrap
// [ErrUnknownKey] for an unknown issuer or kid, and [ErrKeysUnavailable]
// when the Source holds no usable keys.
func (r *Ring) Key(ctx context.Context, issuer, kid string) (Key, error) {
	ik, ok := r.issuers[issuer]
	if !ok {
		return Key{}, fmt.Errorf("issuer %s: %w", clip(issuer), ErrUnknownKey)
	}
	idx, err := ik.load(ctx)
	if err != nil {
		return Key{}, unavailable(issuer, err)
	}
	if k, ok := idx.find(kid); ok {
		return k, nil
	}
	if kid == "" && len(idx.keys) > 1 {
		return Key{}, fmt.Errorf("issuer %s: token has no kid and the issuer has %d keys: %w", clip(issuer), len(idx.keys), ErrUnknownKey)
	}
	_, rerr := ik.src.Refresh(ctx)
	idx, err = ik.load(ctx)
	if err != nil {
		return Key{}, unavailable(issuer, err)
	}
	if k, ok := idx.find(kid); ok {
		return k, nil
	}
	if rerr != nil {
		return Key{}, fmt.Errorf("issuer %s: kid %s (refresh failed: %v): %w", clip(issuer), clip(kid), rerr, ErrUnknownKey)
	}
	return Key{}, fmt.Errorf("issuer %s: kid %s: %w", clip(issuer), clip(kid), ErrUnknownKey)
}

func unavailable(issuer string, err error) error {
	if errors.Is(err, ErrKeysUnavailable) {
		return fmt.Errorf("issuer %s: %w", clip(issuer), err)
	}
	return fmt.Errorf("issuer %s: %w: %w", clip(issuer), ErrKeysUnavailable, err)
}

// load returns the index of the Source's current keys, rebuilding it only
// when the Source returns a different slice.
func (ik *issuerKeys) load(ctx context.Context) (*keyIndex, error) {
	keys, err := ik.src.Keys(ctx)
	if err != nil {
		return nil, err
	}
	if idx := ik.index.Load(); idx != nil && sameSlice(idx.keys, keys) {
		return idx, nil
	}
	idx := &keyIndex{keys: keys, byKid: make(map[string]Key, len(keys))}
	for _, k := range keys {
		if _, dup := idx.byKid[k.ID]; !dup { // the first of a kid wins
			idx.byKid[k.ID] = k
		}
	}
	ik.index.Store(idx)
	return idx, nil
}

func (idx *keyIndex) find(kid string) (Key, bool) {
	if kid == "" {
		if len(idx.keys) == 1 {
			return idx.keys[0], true
		}
		return Key{}, false
	}
	k, ok := idx.byKid[kid]
	return k, ok
}

// sameSlice reports whether a and b are the same slice (not merely equal).
func sameSlice(a, b []Key) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// clip quotes s for an error message, cut to a length that keeps a hostile
// token's header from flooding logs.
func clip(s string) string {
	const limit = 64
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
