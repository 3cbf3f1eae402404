// Package rotatedriver plays Secrets Manager's part in a rotation for a
// local stack, where the emulator (moto) cannot invoke a Lambda function:
// it starts the rotation the way the service does and then invokes the
// rotation function four times, once per step, with the events the service
// sends. It is developer tooling (make rotate, the integration tests):
// never deployed, and never to be pointed at AWS, where the service runs
// the steps itself.
//
// # How a rotation starts, and moto's differences
//
// On AWS, RotateSecret (or the rotation schedule) creates the new version
// with the ClientRequestToken as its VersionId, labelled AWSPENDING and
// without a value, and then invokes the function. The driver calls
// RotateSecret the same way, with a fresh ClientRequestToken (a UUID, as
// the SDKs make), the function's ARN and the rotation rules, so that the
// emulator also records rotation as enabled (DescribeSecret's
// RotationEnabled, which the function's guard checks). moto then answers
// ResourceNotFoundException for the function ARN, because it hosts no such
// function, but only after it has created the AWSPENDING version and turned
// rotation on. The driver accepts that one answer and then checks, with
// DescribeSecret, that the token's version really is AWSPENDING; if it is
// not, it stops with an error rather than guess.
//
// The driver never calls RotateSecret without a function ARN: moto then
// moves AWSCURRENT to the new, empty version at once. With
// RotateImmediately=false moto copies a value into the pending version
// (the secret's first value, not even AWSCURRENT's); the driver does not
// use that either. The rotation function copes with such a copy anyway (it
// treats a copy of AWSCURRENT as "no new key yet").
//
// Two more emulator gaps are bridged, both as the service would behave:
// when an earlier rotation stopped part-way (a version other than
// AWSCURRENT still labelled AWSPENDING), the driver resumes it with that
// version's ID as the ClientRequestToken, as Secrets Manager retries an
// unfinished rotation instead of starting another; and when the AWSPENDING
// label sits on the AWSCURRENT version (a finished rotation that did not
// remove it, an end state AWS accepts), the driver removes it first, since
// moto's RotateSecret wrongly refuses that state.
package rotatedriver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The staging labels.
const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"
)

// Steps lists the rotation steps in the order Secrets Manager runs them.
var Steps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

// DefaultFunctionARN is the ARN the driver gives RotateSecret when none is
// set: the local stack's key rotator, which the emulator cannot invoke.
const DefaultFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:guard-local-key-rotator"

// SecretsManager is the part of the Secrets Manager client the driver uses.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// Event is the event Secrets Manager sends the rotation function.
type Event struct {
	Step               string `json:"Step"`
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
}

// Driver runs rotations against an emulator. Set SM and Invoke; the other
// fields have defaults.
type Driver struct {
	SM SecretsManager
	// Invoke runs the rotation function once with a JSON event and returns
	// an error when the function failed.
	Invoke Invoker
	// FunctionARN is the rotation function's ARN given to RotateSecret;
	// default DefaultFunctionARN.
	FunctionARN string
	// RotationDays is the rotation rule's AutomaticallyAfterDays; default 30.
	RotationDays int64
	// Log receives one line per step; nil discards them. Lines hold version
	// IDs and step names, never values.
	Log io.Writer
}

// Result describes a finished rotation.
type Result struct {
	// Token is the ClientRequestToken: the version now AWSCURRENT.
	Token string
	// Previous is the version now AWSPREVIOUS (the AWSCURRENT before).
	Previous string
	// Resumed is true when an unfinished rotation was completed instead of
	// a new one started.
	Resumed bool
}

// Rotate runs one full rotation of secretID: [Driver.Begin], then the four
// steps in order, then a check that the token's version is AWSCURRENT and
// no version is left AWSPENDING. A failed step stops the rotation; calling
// Rotate again resumes it with the same token, as the service retries.
func (d *Driver) Rotate(ctx context.Context, secretID string) (Result, error) {
	if d.Invoke == nil {
		return Result{}, errors.New("rotatedriver: no Invoke")
	}
	token, arn, resumed, err := d.Begin(ctx, secretID)
	if err != nil {
		return Result{}, err
	}
	for _, step := range Steps {
		ev, err := json.Marshal(Event{Step: step, SecretID: arn, ClientRequestToken: token})
		if err != nil {
			return Result{}, err
		}
		start := time.Now()
		if err := d.Invoke.Invoke(ctx, ev); err != nil {
			return Result{}, fmt.Errorf("rotation of %s, version %s: %s failed: %w", secretID, token, step, err)
		}
		d.logf("%s: ok (%s)", step, time.Since(start).Round(time.Millisecond))
	}
	desc, err := d.describe(ctx, secretID)
	if err != nil {
		return Result{}, err
	}
	res := Result{Token: token, Resumed: resumed}
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, stagePending) {
			return Result{}, fmt.Errorf("rotation of %s: version %s is still %s after finishSecret", secretID, id, stagePending)
		}
		if slices.Contains(stages, stagePrevious) {
			res.Previous = id
		}
	}
	if !slices.Contains(desc.VersionIdsToStages[token], stageCurrent) {
		return Result{}, fmt.Errorf("rotation of %s: version %s is not %s after finishSecret (labels %v)", secretID, token, stageCurrent, desc.VersionIdsToStages[token])
	}
	return res, nil
}

// Begin makes the AWSPENDING version a rotation works on and returns its
// ID (the ClientRequestToken of the steps) and the secret's ARN (the
// SecretId of the steps). See the package comment for how it copes with
// the emulator.
func (d *Driver) Begin(ctx context.Context, secretID string) (token, arn string, resumed bool, err error) {
	desc, err := d.describe(ctx, secretID)
	if err != nil {
		return "", "", false, err
	}
	arn = aws.ToString(desc.ARN)
	if arn == "" {
		arn = secretID
	}
	current, pending := labels(desc)
	for _, p := range pending {
		if p != current {
			d.logf("resuming the unfinished rotation of version %s", p)
			return p, arn, true, nil
		}
	}
	if slices.Contains(pending, current) {
		d.logf("removing %s from the %s version %s left by a finished rotation", stagePending, stageCurrent, current)
		if _, err := d.SM.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(secretID), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(current),
		}); err != nil {
			return "", "", false, fmt.Errorf("remove %s from version %s: %w", stagePending, current, err)
		}
	}

	token, err = NewToken()
	if err != nil {
		return "", "", false, err
	}
	fn := d.FunctionARN
	if fn == "" {
		fn = DefaultFunctionARN
	}
	days := d.RotationDays
	if days == 0 {
		days = 30
	}
	_, err = d.SM.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		RotationLambdaARN:  aws.String(fn),
		RotationRules:      &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(days)},
		RotateImmediately:  aws.Bool(true),
	})
	if _, nf := errors.AsType[*types.ResourceNotFoundException](err); nf {
		// moto cannot invoke the function; the check below decides.
		d.logf("RotateSecret answered ResourceNotFoundException for %s: the emulator cannot invoke functions (expected)", fn)
	} else if err != nil {
		return "", "", false, fmt.Errorf("start the rotation of %s: %w", secretID, err)
	}
	desc, err = d.describe(ctx, secretID)
	if err != nil {
		return "", "", false, err
	}
	stages := desc.VersionIdsToStages[token]
	if !slices.Contains(stages, stagePending) || slices.Contains(stages, stageCurrent) {
		return "", "", false, fmt.Errorf("start the rotation of %s: RotateSecret did not stage version %s as %s alone (labels %v)", secretID, token, stagePending, stages)
	}
	if desc.RotationEnabled == nil || !*desc.RotationEnabled {
		return "", "", false, fmt.Errorf("start the rotation of %s: rotation is still disabled after RotateSecret", secretID)
	}
	d.logf("started the rotation of %s: version %s is %s", secretID, token, stagePending)
	return token, arn, false, nil
}

func (d *Driver) describe(ctx context.Context, secretID string) (*secretsmanager.DescribeSecretOutput, error) {
	if d.SM == nil {
		return nil, errors.New("rotatedriver: no SM")
	}
	desc, err := d.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", secretID, err)
	}
	return desc, nil
}

// labels returns the AWSCURRENT version and the versions labelled
// AWSPENDING, sorted.
func labels(desc *secretsmanager.DescribeSecretOutput) (current string, pending []string) {
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, stageCurrent) {
			current = id
		}
		if slices.Contains(stages, stagePending) {
			pending = append(pending, id)
		}
	}
	sort.Strings(pending)
	return current, pending
}

func (d *Driver) logf(format string, a ...any) {
	if d.Log != nil {
		fmt.Fprintf(d.Log, format+"\n", a...)
	}
}

// NewToken returns a random (version 4) UUID, the form of
// ClientRequestToken the SDKs generate.
func NewToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
