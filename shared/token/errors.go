package token

import (
	"errors"

	"github.com/apigw-guard/guard/shared/keyring"
)

// ErrUnknownKey means a [KeySource] holds no key for the issuer and kid,
// even after any refresh it chose to make. KeySource implementations wrap
// it (compare with errors.Is); [Verifier.Verify] reports it as
// [ReasonUnknownKey], which callers answer with 401. It is
// [keyring.ErrUnknownKey], so keyring's sources satisfy the contract.
var ErrUnknownKey = keyring.ErrUnknownKey

// ErrKeysUnavailable means a [KeySource] could not load the issuer's keys
// (Secrets Manager or the JWKS endpoint failed and nothing usable is
// cached). KeySource implementations wrap it (compare with errors.Is);
// [Verifier.Verify] reports it as [ReasonKeysUnavailable], which callers
// answer with 500: the token may be good, so the client must not be told
// it is not, and nothing is allowed (fail closed). It is
// [keyring.ErrKeysUnavailable].
var ErrKeysUnavailable = keyring.ErrKeysUnavailable

// Reason names why a token was refused. The set is fixed; the values are
// stable strings meant for decision logs and metric dimensions.
type Reason string

// The reasons [Verifier.Verify] reports. All but [ReasonKeysUnavailable]
// describe the token and are answered with 401.
const (
	// ReasonMalformed: not a three-segment compact JWS with strict
	// base64url segments, a header or claims set that is not a JSON object
	// (or has duplicate member names, invalid UTF-8, lone surrogates), a
	// header or registered claim of the wrong JSON type, or "b64": false.
	ReasonMalformed Reason = "malformed"
	// ReasonTooLarge: longer than the size cap; nothing was parsed.
	ReasonTooLarge Reason = "too_large"
	// ReasonUnsupportedAlg: alg is "none" (any case), not implemented,
	// not allowed for the issuer, or not the key's alg; or the key found
	// cannot serve the alg (wrong type or curve, RSA under 2048 bits, HMAC
	// key shorter than the hash).
	ReasonUnsupportedAlg Reason = "unsupported_alg"
	// ReasonUnknownKey: the KeySource knows no key for (iss, kid).
	ReasonUnknownKey Reason = "unknown_key"
	// ReasonBadSignature: the signature does not verify, or has the wrong
	// length for the alg or key (truncated, empty, DER-encoded ECDSA).
	ReasonBadSignature Reason = "bad_signature"
	// ReasonExpired: exp <= now - skew.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: nbf > now + skew.
	ReasonNotYetValid Reason = "not_yet_valid"
	// ReasonIssuedInFuture: iat > now + skew.
	ReasonIssuedInFuture Reason = "issued_in_future"
	// ReasonLifetimeTooLong: longer-lived than [WithMaxLifetime] allows.
	ReasonLifetimeTooLong Reason = "lifetime_too_long"
	// ReasonBadIssuer: iss is not one of the configured issuers.
	ReasonBadIssuer Reason = "bad_issuer"
	// ReasonBadAudience: aud is absent or holds none of the issuer's
	// audiences.
	ReasonBadAudience Reason = "bad_audience"
	// ReasonBadClient: client_id is absent where it is needed, or is not
	// one of the issuer's client IDs.
	ReasonBadClient Reason = "bad_client"
	// ReasonBadTokenUse: token_use differs from the issuer's TokenUse.
	ReasonBadTokenUse Reason = "bad_token_use"
	// ReasonMissingClaim: iss, sub or exp is absent (or sub is empty).
	ReasonMissingClaim Reason = "missing_claim"
	// ReasonUnknownCrit: the header has a crit parameter; this package
	// understands no extension.
	ReasonUnknownCrit Reason = "unknown_crit"
	// ReasonKeysUnavailable: the KeySource failed for any reason other
	// than an unknown key. Answer 500, not 401.
	ReasonKeysUnavailable Reason = "keys_unavailable"
)

// ServerFault reports whether r means the verifier, not the token, is at
// fault, so that the caller answers 500 rather than 401. Only
// [ReasonKeysUnavailable] is.
func (r Reason) ServerFault() bool { return r == ReasonKeysUnavailable }

// Error is the error [Verifier.Verify] returns for every refused token.
// Its message names the reason and the cause; it never contains the token,
// its signature or its claim values.
type Error struct {
	Reason Reason
	Err    error // the cause; may wrap ErrUnknownKey or ErrKeysUnavailable
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "token: " + string(e.Reason)
	}
	return "token: " + string(e.Reason) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of the first [*Error] in err's chain, or ""
// when err is nil or comes from elsewhere.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(r Reason, err error) *Error { return &Error{Reason: r, Err: err} }
