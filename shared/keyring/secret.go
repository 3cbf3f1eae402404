package keyring

import (
	"context"
	"fmt"
	"sync"

	"github.com/apigw-guard/guard/shared/secretver"
)

// FromSecret returns a [Source] of the keys held in a Secrets Manager
// secret's AWSCURRENT and AWSPREVIOUS versions, each a JWK or JWK Set as
// [ParseKeys] reads it. A key's Origin is its version's stage; when both
// versions hold a kid, AWSCURRENT's key wins.
//
// Each version is parsed once (memoised by version ID), and while r's
// snapshot is unchanged Keys returns the same slice without parsing. Keys
// fails when a version does not parse: key material the project writes
// must be well formed, and the failure is remembered until the secret
// changes, so a bad version costs one parse, not one per request.
// Refresh is r's [secretver.Reader.Refresh], with its cool-down.
//
// A bad AWSPREVIOUS is the exception: it is left out (its tokens get 401,
// unknown kid) so that it cannot take the current keys down with it, and
// reported to the [WithSkippedVersion] hook. The returned Source also has a
// method SkippedVersions() int: how many versions the keys it serves now
// left out (0 or 1), for a metric that stays up while the problem does.
func FromSecret(r *secretver.Reader, opts ...SecretOption) Source {
	s := &secretSource{reader: r}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SecretOption configures [FromSecret].
type SecretOption func(*secretSource)

// SkippedVersion is told of a secret version whose keys were left out:
// the secret's ID, the version's stage and ID, and why (an error that
// never contains key material). It is called once per version each time
// the secret's content changes, with the source's lock held, so it must
// be quick and must not call the source.
type SkippedVersion func(ctx context.Context, secretID, stage, versionID string, err error)

// WithSkippedVersion sets the hook told of left-out versions; without it
// they are left out silently.
func WithSkippedVersion(f SkippedVersion) SecretOption {
	return func(s *secretSource) { s.onSkip = f }
}

type secretSource struct {
	reader *secretver.Reader
	onSkip SkippedVersion // nil: none

	mu         sync.Mutex
	generation uint64 // of the snapshot keys (or err) came from; 0 = none
	keys       []Key
	err        error
	skipped    int              // versions left out of keys
	parsed     map[string][]Key // version ID -> keys, Origin unset
}

func (s *secretSource) Keys(ctx context.Context) ([]Key, error) {
	snap, err := s.reader.Get(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.generation != 0 && snap.Generation == s.generation {
		return s.keys, s.err
	}
	s.keys, s.err = s.build(ctx, snap)
	s.generation = snap.Generation
	return s.keys, s.err
}

// build assembles the keys of snap's versions. s.mu is held.
func (s *secretSource) build(ctx context.Context, snap secretver.Snapshot) ([]Key, error) {
	s.skipped = 0
	parsed := make(map[string][]Key, len(snap.Versions))
	var keys []Key
	seen := map[string]bool{}
	for _, v := range snap.Versions {
		vk, ok := s.parsed[v.ID]
		if !ok {
			var err error
			vk, err = ParseKeys([]byte(v.Value), "")
			switch {
			case err != nil && v.Stage == secretver.StageCurrent:
				return nil, fmt.Errorf("secret %q version %s: %w", s.reader.SecretID(), v, err)
			case err != nil:
				// A bad AWSPREVIOUS (say, written by hand) must not take the
				// current keys down with it: its tokens get 401 (unknown
				// kid), the current ones keep verifying. A bad AWSCURRENT
				// fails closed: signers use it, so the rotation is broken.
				s.skipped++
				if s.onSkip != nil {
					s.onSkip(ctx, s.reader.SecretID(), v.Stage, v.ID, err)
				}
				continue
			}
		}
		parsed[v.ID] = vk
		for _, k := range vk {
			if seen[k.ID] {
				continue // Versions lists AWSCURRENT first: it wins
			}
			seen[k.ID] = true
			k.Origin = v.Stage
			keys = append(keys, k)
		}
	}
	s.parsed = parsed
	return keys, nil
}

// SkippedVersions is how many versions the keys served now left out.
func (s *secretSource) SkippedVersions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

func (s *secretSource) Refresh(ctx context.Context) (bool, error) {
	_, refreshed, err := s.reader.Refresh(ctx)
	return refreshed, err
}
