// Package token verifies JSON Web Tokens (compact JWS, RFC 7515/7519) on
// the authorizers' hot path.
//
// Build one [Verifier] at init with [NewVerifier], from a [KeySource]
// (package keyring) and the trusted [Issuer] configurations, and call
// [Verifier.Verify] per request; a Verifier is immutable and safe for
// concurrent use. Verify returns the token's [Claims] or an [*Error] whose
// [Reason] names why the token was refused, for decision logs and metrics.
// Every reason is a 401 except [ReasonKeysUnavailable], which is a 500
// (see [Reason.ServerFault]).
//
// The path is written on the standard library rather than a generic JOSE
// library because it runs on every uncached request: a cached-key
// verification costs little more than the signature check itself. It is
// also narrow by design:
//
//   - Only compact JWS with three segments of strict, unpadded base64url
//     is accepted; the token's size is capped before anything is parsed.
//   - Header and claims must be JSON objects with valid UTF-8 and no
//     duplicate member names at any depth.
//   - The algorithm comes from the key: the token's alg must equal the
//     key's alg (and be in the issuer's allow-list, if any). "none" is
//     refused in any letter case. jku, x5u, jwk and x5c are never used,
//     and any crit parameter is refused.
//   - iss is read before the signature is checked, only to pick the issuer
//     and its keys; every other claim is checked after the signature.
//   - RSA keys under 2048 bits and HMAC keys shorter than their hash are
//     refused; ECDSA signatures must be raw r||s of the curve's size.
//
// Beyond the signature check, a verification costs a few microseconds and
// two allocations: the [Claims] and one copy of the claims set's JSON,
// which the claim strings alias. Scratch space comes from a pool and is
// wiped after use, and the parsed form of the few distinct headers of
// verified tokens is remembered rather than parsed again. BenchmarkRatio
// in the tests reports floor/verify; run the benchmarks with -cpu 1 for
// per-core figures (garbage collection included).
//
// Errors never contain the token, its signature or claim values, so they
// may be logged. They do include the KeySource's error text, so a KeySource
// should not echo long attacker-chosen values such as the kid.
package token
