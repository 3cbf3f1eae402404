package httpsig

import "errors"

// ErrUnknownKey means a [KeySource] holds no key for the keyid, even after
// any refresh it chose to make. KeySource implementations wrap it.
var ErrUnknownKey = errors.New("unknown key id")

// ErrKeysUnavailable means a [KeySource] could not load its keys at all.
// KeySource implementations wrap it; any other KeySource error is treated
// the same way.
var ErrKeysUnavailable = errors.New("keys unavailable")

// Reason names why a signature was refused. The set is fixed; the values
// are stable strings meant for decision logs and metric dimensions.
type Reason string

// The reasons [Verifier.Verify] reports. All but the two ServerFault ones
// describe the request and are answered with 401.
const (
	// ReasonMissing: no Signature-Input or no Signature field.
	ReasonMissing Reason = "signature_missing"
	// ReasonMalformed: a field is not a valid structured-field dictionary
	// (strictly parsed), the label is absent or ambiguous, the member has
	// the wrong shape, a parameter has the wrong type or is unknown,
	// created or keyid is missing, alg is not hmac-sha256, a component
	// identifier is repeated, has parameters or is not supported, or a
	// covered value holds a line break.
	ReasonMalformed Reason = "signature_malformed"
	// ReasonComponents: a component the verifier requires is not covered,
	// or a covered component is absent from the request.
	ReasonComponents Reason = "signature_components"
	// ReasonExpired: created is older than the window, or expires has
	// passed (each with the clock skew).
	ReasonExpired Reason = "signature_expired"
	// ReasonFuture: created is later than now plus the clock skew.
	ReasonFuture Reason = "signature_future"
	// ReasonUnknownKey: no key for the keyid.
	ReasonUnknownKey Reason = "unknown_key"
	// ReasonBadSignature: the signature matches no key for the keyid, or
	// is not 32 bytes.
	ReasonBadSignature Reason = "bad_signature"
	// ReasonReplay: the same signature was already accepted within its
	// window.
	ReasonReplay Reason = "replay"
	// ReasonKeysUnavailable: the KeySource failed. Answer 500.
	ReasonKeysUnavailable Reason = "keys_unavailable"
	// ReasonReplayUnavailable: the replay guard failed. Answer 500.
	ReasonReplayUnavailable Reason = "replay_unavailable"
)

// ServerFault reports whether r means the verifier, not the request, is at
// fault, so that the caller answers 500 rather than 401.
func (r Reason) ServerFault() bool {
	return r == ReasonKeysUnavailable || r == ReasonReplayUnavailable
}

// Error is the error [Verifier.Verify] returns for every refused request.
// Its message names the reason and the cause; it never contains a
// signature, a key or a signature base.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "http signature: " + string(e.Reason)
	}
	return "http signature: " + string(e.Reason) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of an error returned by [Verifier.Verify], or
// ReasonMalformed for any other non-nil error.
func ReasonOf(err error) Reason {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Reason
	}
	if err == nil {
		return ""
	}
	return ReasonMalformed
}

func fail(r Reason, err error) error { return &Error{Reason: r, Err: err} }
