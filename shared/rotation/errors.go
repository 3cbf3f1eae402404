package rotation

import (
	"errors"
	"fmt"
)

// Errors a step fails with, wrapped in a [*StepError]. Compare with errors.Is.
var (
	// ErrBadEvent means the event lacks SecretId, ClientRequestToken or a
	// known Step.
	ErrBadEvent = errors.New("not a Secrets Manager rotation event")
	// ErrRotationDisabled means DescribeSecret says rotation is not enabled
	// for the secret.
	ErrRotationDisabled = errors.New("rotation is not enabled for the secret")
	// ErrNotAVersion means the ClientRequestToken is not a version of the
	// secret.
	ErrNotAVersion = errors.New("the token is not a version of the secret")
	// ErrNotPending means the token's version is neither AWSCURRENT nor
	// AWSPENDING.
	ErrNotPending = errors.New("the version is not labelled AWSPENDING")
	// ErrNoCurrent means no version of the secret is labelled AWSCURRENT, or
	// it holds no value.
	ErrNoCurrent = errors.New("the secret has no AWSCURRENT value")
	// ErrNoPendingValue means setSecret, testSecret or finishSecret found no
	// value in the pending version: createSecret has not run or failed.
	ErrNoPendingValue = errors.New("the pending version holds no value")
	// ErrInvalidValue means a value failed the check hook.
	ErrInvalidValue = errors.New("invalid secret value")
	// ErrCopyNotReplaced means the pending version holds a copy of the
	// current value and Secrets Manager refused to store a new value under
	// the same token, as AWS does for a version that already has a value.
	ErrCopyNotReplaced = errors.New("the pending version holds a copy of AWSCURRENT and cannot be replaced")
	// ErrTestFailed means the test hook refused the pending value.
	ErrTestFailed = errors.New("the pending value failed its test")
)

// StepError is the error of a failed step. Lambda reports its type name,
// "StepError", as the invocation's errorType. Its message names the step,
// the secret and the version; it never holds a secret value.
type StepError struct {
	Step     Step
	SecretID string
	// VersionID is the event's ClientRequestToken.
	VersionID string
	Err       error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s of secret %q version %s: %v", e.Step, e.SecretID, e.VersionID, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }
