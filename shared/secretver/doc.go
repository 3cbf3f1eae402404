// Package secretver reads the AWSCURRENT and AWSPREVIOUS versions of one
// AWS Secrets Manager secret, for verifiers that must accept both across a
// rotation.
//
// It is generic: a [Reader] yields each version's raw SecretString and the
// caller parses it (package keyring turns versions into keys; a request
// authorizer may turn them into client credentials). Callers should memoise
// what they parse by [Version.ID], or skip work entirely while
// [Snapshot.Generation] is unchanged.
//
// In the steady state [Reader.Get] reads through the caching client
// (aws-secretsmanager-caching-go), so a warm call makes no network request.
// When a caller meets something the versions do not explain (a token whose
// kid no version holds), [Reader.Refresh] reads the secret directly, at most
// once per cool-down; until the caching client's TTL has passed since that
// read, Get prefers the directly read versions over the possibly stale cache.
//
// The caching client serves stale values forever when Secrets Manager fails,
// so the Reader bounds staleness itself ([WithMaxStaleness], default 24 h):
// once its last successful read is half that old, Get confirms the versions
// with one direct read (at most once per cool-down, bounded by
// [WithReadTimeout] while versions are held); past the maximum staleness Get
// fails with [ErrStale] until a read succeeds again.
//
// Build one Reader per secret at init and share it; it is safe for
// concurrent use. A Reader never logs and never puts a secret value into an
// error.
package secretver
