package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The staging labels of rotation.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// Step is one of the four rotation steps.
type Step string

// The steps, as Secrets Manager names them in the event's Step.
const (
	StepCreate Step = "createSecret"
	StepSet    Step = "setSecret"
	StepTest   Step = "testSecret"
	StepFinish Step = "finishSecret"
)

// parseStep accepts the names Secrets Manager sends and the snake_case
// spelling its user guide lists beside them.
func parseStep(s string) (Step, bool) {
	switch s {
	case "createSecret", "create_secret":
		return StepCreate, true
	case "setSecret", "set_secret":
		return StepSet, true
	case "testSecret", "test_secret":
		return StepTest, true
	case "finishSecret", "finish_secret":
		return StepFinish, true
	}
	return "", false
}

// Outcome says what a successful step did, for the caller's log.
type Outcome string

// The outcomes of [Rotator.Handle].
const (
	// AlreadyCurrent: the version is AWSCURRENT already; nothing was done.
	AlreadyCurrent Outcome = "already_current"
	// Created: createSecret stored a new value in the pending version.
	Created Outcome = "created"
	// CreatedOverCopy: the pending version held a copy of AWSCURRENT's value
	// (an emulator's RotateSecret) and createSecret stored a new value in
	// it.
	CreatedOverCopy Outcome = "created_over_copy"
	// Reused: the pending version already held a new value (a retry).
	Reused Outcome = "reused"
	// Set: setSecret checked (and installed) the pending value.
	Set Outcome = "set"
	// Tested: testSecret proved the pending value works.
	Tested Outcome = "tested"
	// Finished: finishSecret moved AWSCURRENT to the version.
	Finished Outcome = "finished"
)

// SecretsManager is the part of the Secrets Manager client a [Rotator] uses.
// *secretsmanager.Client implements it.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// GenerateFunc returns the value of a new version. It runs in createSecret
// only when the pending version holds no new value yet.
type GenerateFunc func(ctx context.Context) (string, error)

// TestFunc proves that the pending value works as its consumers will use it
// (testSecret). An error fails the step.
type TestFunc func(ctx context.Context, pending string) error

// A Rotator runs the rotation steps for secrets whose values its hooks make
// and test. Build one with [New]; it is immutable and safe for concurrent
// use.
type Rotator struct {
	sm       SecretsManager
	generate GenerateFunc
	test     TestFunc
	check    func(value string) error
	// customCheck is set by WithCheck: only then does finishSecret judge
	// the value leaving AWSCURRENT (the default check knows nothing of
	// what a secret should hold).
	customCheck bool
	isCopy      func(pending, current string) bool
	set         func(ctx context.Context, pending string) error
}

// An Option changes one of a Rotator's defaults.
type Option func(*Rotator)

// WithCheck sets the check of a value's form. createSecret runs it on every
// value it generates and before it reuses a pending value; setSecret,
// testSecret and finishSecret run it on the pending value; finishSecret
// also runs it on the value leaving AWSCURRENT and removes AWSPREVIOUS from
// that version when it fails (see the package comment). The default accepts
// any non-empty value.
func WithCheck(check func(value string) error) Option {
	return func(r *Rotator) { r.check, r.customCheck = check, check != nil }
}

// WithCopyCheck sets how createSecret recognises a pending value that is
// only a copy of the current one (so that no new value exists yet). It is
// called only when both values passed the check. The default compares the
// bytes.
func WithCopyCheck(isCopy func(pending, current string) bool) Option {
	return func(r *Rotator) { r.isCopy = isCopy }
}

// WithSet sets what setSecret does after checking the pending value: install
// it wherever it must be before it can be tested. The default does nothing
// more.
func WithSet(set func(ctx context.Context, pending string) error) Option {
	return func(r *Rotator) { r.set = set }
}

// New returns a Rotator that reads and writes secrets through sm, makes new
// values with generate and proves them with test. All three are required.
func New(sm SecretsManager, generate GenerateFunc, test TestFunc, opts ...Option) (*Rotator, error) {
	r := &Rotator{sm: sm, generate: generate, test: test}
	for _, o := range opts {
		o(r)
	}
	var errs []error
	if sm == nil {
		errs = append(errs, errors.New("rotation: nil SecretsManager"))
	}
	if generate == nil {
		errs = append(errs, errors.New("rotation: nil GenerateFunc"))
	}
	if test == nil {
		errs = append(errs, errors.New("rotation: nil TestFunc"))
	}
	if r.check == nil {
		r.check = nonEmpty
	}
	if r.isCopy == nil {
		r.isCopy = func(pending, current string) bool { return pending == current }
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	return nil
}

// Handle runs the step the event names, after the guard clauses (see the
// package comment). It returns what it did, or a [*StepError] wrapping one
// of the package's errors or the Secrets Manager client's.
func (r *Rotator) Handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (Outcome, error) {
	step, ok := parseStep(ev.Step)
	fail := func(err error) (Outcome, error) {
		s := step
		if !ok {
			s = Step(ev.Step)
		}
		return "", &StepError{Step: s, SecretID: ev.SecretID, VersionID: ev.ClientRequestToken, Err: err}
	}
	switch {
	case !ok:
		return fail(fmt.Errorf("%w: unknown step %q", ErrBadEvent, ev.Step))
	case ev.SecretID == "":
		return fail(fmt.Errorf("%w: no SecretId", ErrBadEvent))
	case ev.ClientRequestToken == "":
		return fail(fmt.Errorf("%w: no ClientRequestToken", ErrBadEvent))
	}

	st, err := r.guard(ctx, ev.SecretID, ev.ClientRequestToken)
	if err != nil {
		return fail(err)
	}
	if st.alreadyCurrent {
		return AlreadyCurrent, nil
	}
	var out Outcome
	switch step {
	case StepCreate:
		out, err = r.createSecret(ctx, ev, st)
	case StepSet:
		out, err = r.setSecret(ctx, ev)
	case StepTest:
		out, err = r.testSecret(ctx, ev)
	case StepFinish:
		out, err = r.finishSecret(ctx, ev, st)
	}
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// state is what the guard learned from DescribeSecret.
type state struct {
	alreadyCurrent bool
	// current is the version labelled AWSCURRENT ("" when none).
	current string
	// pending lists every version labelled AWSPENDING.
	pending []string
}

// guard applies the guard clauses shared by all steps.
func (r *Rotator) guard(ctx context.Context, secretID, token string) (state, error) {
	desc, err := r.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &secretID})
	if err != nil {
		return state{}, fmt.Errorf("describe secret: %w", err)
	}
	if desc.RotationEnabled == nil || !*desc.RotationEnabled {
		return state{}, ErrRotationDisabled
	}
	stages, ok := desc.VersionIdsToStages[token]
	if !ok {
		return state{}, ErrNotAVersion
	}
	var st state
	for id, labels := range desc.VersionIdsToStages {
		if slices.Contains(labels, StageCurrent) {
			st.current = id
		}
		if slices.Contains(labels, StagePending) {
			st.pending = append(st.pending, id)
		}
	}
	slices.Sort(st.pending) // deterministic clean-up order
	if slices.Contains(stages, StageCurrent) {
		st.alreadyCurrent = true
		return st, nil
	}
	if !slices.Contains(stages, StagePending) {
		return state{}, fmt.Errorf("%w (its labels: %v)", ErrNotPending, stages)
	}
	return st, nil
}
