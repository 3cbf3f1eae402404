package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/httpsig"
)

// secretKeys gives the signature verifier the credentials secret's HMAC
// keys: every key a keyid names in AWSCURRENT and AWSPREVIOUS, with the
// store's refresh (and its cool-down) for unknown keyids and mismatches.
type secretKeys struct{ store *credential.Store }

func (k secretKeys) Keys(ctx context.Context, keyID string) ([]httpsig.Key, error) {
	ks, err := k.store.HMACKeys(ctx, keyID)
	switch {
	case errors.Is(err, credential.ErrUnknownKey):
		return nil, fmt.Errorf("%w: %w", httpsig.ErrUnknownKey, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", httpsig.ErrKeysUnavailable, err)
	}
	out := make([]httpsig.Key, len(ks))
	for i, key := range ks {
		out[i] = httpsig.Key{Secret: key.Secret, Meta: key}
	}
	return out, nil
}

func (k secretKeys) Refresh(ctx context.Context) (bool, error) { return k.store.Refresh(ctx) }

// nopKeys lets loadConfig validate the signature options without a secret.
type nopKeys struct{}

func (nopKeys) Keys(context.Context, string) ([]httpsig.Key, error) {
	return nil, httpsig.ErrUnknownKey
}
func (nopKeys) Refresh(context.Context) (bool, error) { return false, nil }
