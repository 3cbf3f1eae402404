// Package httpsig verifies HTTP Message Signatures (RFC 9421) made with
// hmac-sha256, for a Lambda authorizer that sees the request but not its
// body.
//
// How to hold it: build one [Verifier] at init with [NewVerifier], giving it
// a [KeySource] (the keys a keyid names: every version of a rotated secret
// that is still accepted) and, to refuse replays, a [ReplayGuard]. It is
// immutable and safe for concurrent use. Per request, fill a [Request] from
// the event and call [Verifier.Verify]; a refused request yields an *[Error]
// whose [Reason] is one of a fixed set, and [Reason.ServerFault] says
// whether to answer 500 (the keys or the replay guard failed) rather than
// 401.
//
// What is checked, in order: the Signature-Input and Signature fields are
// parsed as structured-field dictionaries (RFC 8941), strictly: repeated
// keys, non-canonical base64 and unknown signature parameters are refused.
// Exactly one signature is checked (the one labelled by [WithLabel], else
// the only one). It must carry created and keyid; alg, when present, must
// be hmac-sha256; expires, nonce and tag are understood. The covered
// components must include the required ones ([DefaultComponents]:
// @method, @authority, @path (or @target-uri, @request-target) and
// content-digest), and the query whenever the request has one. created may
// be at most the clock skew ahead and at most the window old. Then the
// signature base is rebuilt (RFC 9421 Section 2.5) and its HMAC compared
// with hmac.Equal against every key of the keyid; an unknown keyid or a
// mismatch refreshes the keys once (the source's cool-down applies), so a
// rotated secret works within seconds. Last, the replay guard records the
// signature until its window ends and refuses it if it was seen before.
//
// Supported components: @method, @authority, @scheme (always https: API
// Gateway serves only HTTPS), @target-uri, @request-target, @path, @query,
// and header fields without parameters. A covered Content-Digest must be a
// dictionary with a sha-256 or sha-512 byte sequence; the signature proves
// the client sent that digest, and the validation layer, which sees the
// body, proves the body matches it.
//
// [Sign] produces the two fields for clients and tests.
package httpsig
