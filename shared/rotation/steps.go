package rotation

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// verdict is createSecret's judgement of a value found in the pending
// version.
type verdict int

const (
	reuse   verdict = iota // a new, well-formed value: keep it
	copied                 // a copy of AWSCURRENT's value: no new value yet
	invalid                // fails the check: it can be neither kept nor replaced
)

// errEmptySecret explains ErrNoCurrent in createSecret.
const errEmptySecret = "a secret without a value cannot be rotated: give it a placeholder value (such as a generated password), which the first rotation replaces"

func (r *Rotator) createSecret(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, st state) (Outcome, error) {
	if st.current == "" {
		return "", fmt.Errorf("%w: %s", ErrNoCurrent, errEmptySecret)
	}
	// Make sure the current value exists, as AWS's templates do; it is also
	// what a pending value must not be a copy of.
	current, ok, err := r.value(ctx, ev.SecretID, "", StageCurrent)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", StageCurrent, err)
	}
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoCurrent, errEmptySecret)
	}

	pending, ok, err := r.pendingValue(ctx, ev)
	if err != nil {
		return "", err
	}
	overCopy := false
	if ok {
		switch v, err := r.judge(pending, current); v {
		case reuse:
			return Reused, nil
		case invalid:
			return "", fmt.Errorf("the pending version already holds a value that %w; a version's value cannot be changed: cancel this rotation (remove its %s label) and rotate again", err, StagePending)
		case copied:
			overCopy = true
		}
	}

	fresh, err := r.generate(ctx)
	if err != nil {
		return "", fmt.Errorf("generate a new value: %w", err)
	}
	if err := r.check(fresh); err != nil {
		return "", fmt.Errorf("generated value: %w: %w", ErrInvalidValue, err)
	}
	if r.copyOf(fresh, current) {
		return "", fmt.Errorf("generated value: %w: it is a copy of the current value", ErrInvalidValue)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(ev.SecretID),
		ClientRequestToken: aws.String(ev.ClientRequestToken),
		SecretString:       aws.String(fresh),
		VersionStages:      []string{StagePending},
	}
	if ev.RotationToken != "" {
		in.RotationToken = aws.String(ev.RotationToken)
	}
	_, err = r.sm.PutSecretValue(ctx, in)
	if _, exists := errors.AsType[*types.ResourceExistsException](err); exists {
		// Another invocation stored a value under this token first, or the
		// version holds a copy that Secrets Manager will not let us replace.
		again, ok, rerr := r.pendingValue(ctx, ev)
		if rerr != nil {
			return "", rerr
		}
		if ok {
			if v, _ := r.judge(again, current); v == reuse {
				return Reused, nil
			}
		}
		if overCopy {
			return "", fmt.Errorf("%w: %w", ErrCopyNotReplaced, err)
		}
		return "", fmt.Errorf("put the new value: %w", err)
	}
	if err != nil {
		return "", fmt.Errorf("put the new value: %w", err)
	}
	if overCopy {
		return CreatedOverCopy, nil
	}
	return Created, nil
}

// judge decides what createSecret does with a value found in the pending
// version. The error says why a value is invalid.
func (r *Rotator) judge(pending, current string) (verdict, error) {
	if pending == current {
		return copied, nil
	}
	if err := r.check(pending); err != nil {
		return invalid, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	if r.copyOf(pending, current) {
		return copied, nil
	}
	return reuse, nil
}

// copyOf reports whether pending (which passed the check) holds nothing new
// compared with current.
func (r *Rotator) copyOf(pending, current string) bool {
	if pending == current {
		return true
	}
	// A current value that fails the check (a placeholder from before the
	// first rotation) has nothing a well-formed value could copy.
	if r.check(current) != nil {
		return false
	}
	return r.isCopy(pending, current)
}

func (r *Rotator) setSecret(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (Outcome, error) {
	pending, err := r.checkedPending(ctx, ev)
	if err != nil {
		return "", err
	}
	if r.set != nil {
		if err := r.set(ctx, pending); err != nil {
			return "", fmt.Errorf("install the pending value: %w", err)
		}
	}
	return Set, nil
}

func (r *Rotator) testSecret(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (Outcome, error) {
	pending, err := r.checkedPending(ctx, ev)
	if err != nil {
		return "", err
	}
	if err := r.test(ctx, pending); err != nil {
		return "", fmt.Errorf("%w: %w", ErrTestFailed, err)
	}
	return Tested, nil
}

func (r *Rotator) finishSecret(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, st state) (Outcome, error) {
	if st.current == "" {
		return "", ErrNoCurrent
	}
	if _, err := r.checkedPending(ctx, ev); err != nil {
		return "", err
	}
	// Judge the value leaving AWSCURRENT before it moves: a value that is
	// not well formed must not stay behind as AWSPREVIOUS.
	dropPrevious := false
	if r.customCheck {
		old, ok, err := r.value(ctx, ev.SecretID, st.current, "")
		if err != nil {
			return "", fmt.Errorf("read %s version %s: %w", StageCurrent, st.current, err)
		}
		dropPrevious = !ok || r.check(old) != nil
	}

	// One call moves AWSCURRENT; Secrets Manager moves AWSPREVIOUS to the
	// version it leaves.
	if err := r.stage(ctx, ev.SecretID, StageCurrent, ev.ClientRequestToken, st.current); err != nil {
		return "", fmt.Errorf("move %s from %s: %w", StageCurrent, st.current, err)
	}
	// From here on, a retried finishSecret meets the AWSCURRENT guard and
	// succeeds without doing anything: the rotation itself is done.
	var errs []error
	for _, id := range st.pending {
		if err := r.stage(ctx, ev.SecretID, StagePending, "", id); err != nil {
			errs = append(errs, fmt.Errorf("remove %s from version %s: %w", StagePending, id, err))
		}
	}
	if dropPrevious {
		if err := r.stage(ctx, ev.SecretID, StagePrevious, "", st.current); err != nil {
			errs = append(errs, fmt.Errorf("remove %s from version %s, which holds no valid value: %w", StagePrevious, st.current, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("%s moved, but clean-up failed: %w", StageCurrent, err)
	}
	return Finished, nil
}

// checkedPending reads the pending version's value and checks it.
func (r *Rotator) checkedPending(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (string, error) {
	pending, ok, err := r.pendingValue(ctx, ev)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrNoPendingValue
	}
	if err := r.check(pending); err != nil {
		return "", fmt.Errorf("pending version: %w: %w", ErrInvalidValue, err)
	}
	return pending, nil
}

// pendingValue reads the event's version, which must carry AWSPENDING.
func (r *Rotator) pendingValue(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (string, bool, error) {
	v, ok, err := r.value(ctx, ev.SecretID, ev.ClientRequestToken, StagePending)
	if err != nil {
		return "", false, fmt.Errorf("read the %s version: %w", StagePending, err)
	}
	return v, ok, nil
}

// value reads one version's SecretString by ID, stage or both. ok is false
// when the version holds no value (ResourceNotFoundException, as for the
// version RotateSecret creates). A version holding only SecretBinary reads
// as the empty string.
func (r *Rotator) value(ctx context.Context, secretID, versionID, stage string) (string, bool, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := r.sm.GetSecretValue(ctx, in)
	if _, nf := errors.AsType[*types.ResourceNotFoundException](err); nf {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return aws.ToString(out.SecretString), true, nil
}

// stage moves (moveTo set) or removes (moveTo empty) a staging label.
func (r *Rotator) stage(ctx context.Context, secretID, label, moveTo, removeFrom string) error {
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:     aws.String(secretID),
		VersionStage: aws.String(label),
	}
	if moveTo != "" {
		in.MoveToVersionId = aws.String(moveTo)
	}
	if removeFrom != "" {
		in.RemoveFromVersionId = aws.String(removeFrom)
	}
	_, err := r.sm.UpdateSecretVersionStage(ctx, in)
	return err
}
