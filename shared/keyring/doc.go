// Package keyring holds the keys that verify tokens: keys kept in a Secrets
// Manager secret's AWSCURRENT and AWSPREVIOUS versions, and keys that an
// OpenID Connect issuer publishes as a JWK Set.
//
// [ParseKeys] turns a JWK or JWK Set into [Key] values, each with the one
// alg it verifies and only its public part. A [Source] holds one issuer's
// keys: [FromSecret] over a [secretver.Reader], [FromJWKS] over an
// endpoint (found with [Discover] for OIDC issuers). A [Ring] answers
// "which key verifies this token" by issuer and kid; on an unknown kid it
// asks the Source to refresh once, under a cool-down, so a freshly rotated
// key is found within seconds while garbage kids cannot hammer Secrets
// Manager or the issuer.
//
// Build the Sources and the Ring once at init and share them; all are safe
// for concurrent use. Nothing refreshes in the background (Lambda freezes
// the environment between invocations): keys load on first use and refresh
// when read, by age or on an unknown kid. Once keys are held, a lookup of a
// known kid makes no network call, except the rare refresh by age (the
// caching client's TTL for a secret, the refresh age for a JWK Set). The
// package never logs and never puts key material into an error.
package keyring
