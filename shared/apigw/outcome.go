package apigw

import "errors"

// ErrUnauthorized is the one error API Gateway turns into 401: its message
// must be exactly "Unauthorized". Return it from a handler for a missing,
// invalid or expired credential.
var ErrUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // API Gateway matches this exact text

// FailClosed is returned for anything that is not the caller's fault: bad
// configuration, no keys loadable, a malformed event. API Gateway answers 500
// and Lambda reports the errorType "FailClosed". The message is fixed and
// never carries the cause (log the cause instead).
type FailClosed struct{ cause error }

// NewFailClosed wraps cause.
func NewFailClosed(cause error) *FailClosed { return &FailClosed{cause: cause} }

func (e *FailClosed) Error() string { return "authorizer unavailable" }

// Unwrap returns the cause.
func (e *FailClosed) Unwrap() error { return e.cause }
