// Package signer makes signing keys and signs tokens with them: the issuing
// side of the suite's keys. The key rotator uses it to generate each new
// version's key and to sign its test token, and the local tools use it to
// mint demo tokens.
//
// Key material is a JWK Set as the authorizers read it (package keyring): each
// key carries kid (its RFC 7638 thumbprint) and alg. A [Signer] is immutable
// and safe for concurrent use; build one per key version and reuse it.
//
// Verification never lives here: the authorizers verify with package token.
package signer
