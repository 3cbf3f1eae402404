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
// Build one Reader per secret at init and share it; it is safe for
// concurrent use. A Reader never logs and never puts a secret value into an
// error.
package secretver
