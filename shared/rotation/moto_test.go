package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/shared/rotation"
)

// TestMoto runs the guard clauses and retries against moto's Secrets
// Manager, which speaks the real wire protocol (and has the differences
// from AWS that DESIGN.md lists).
func TestMoto(t *testing.T) {
	if !moto.Available() {
		t.Skip("moto_server not installed (pip install \"moto[server]\")")
	}
	ctx := context.Background()
	srv, err := moto.Start(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	sm := demo.LocalSecrets(srv.Endpoint)

	// newSecret creates a secret with AWSPREVIOUS key-p and AWSCURRENT
	// key-0 and returns the two version IDs.
	newSecret := func(t *testing.T, name string) (prev, cur string) {
		t.Helper()
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("key-p")}); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("key-0")}); err != nil {
			t.Fatal(err)
		}
		stages := describe(t, sm, name)
		for id, s := range stages {
			if slices.Contains(s, "AWSPREVIOUS") {
				prev = id
			}
			if slices.Contains(s, "AWSCURRENT") {
				cur = id
			}
		}
		if prev == "" || cur == "" {
			t.Fatalf("setup: labels %v", stages)
		}
		return prev, cur
	}
	// begin stages a pending version the way the local driver does.
	begin := func(t *testing.T, name string) string {
		t.Helper()
		d := &rotatedriver.Driver{SM: sm}
		tok, _, resumed, err := d.Begin(ctx, name)
		if err != nil || resumed {
			t.Fatalf("Begin = %s, resumed %v, %v", tok, resumed, err)
		}
		return tok
	}

	t.Run("guards", func(t *testing.T) {
		name := "guards"
		prev, cur := newSecret(t, name)
		m := &material{}
		r := newRotator(t, sm, m)
		for _, step := range allSteps {
			_, err := r.Handle(ctx, event(step, name, cur))
			wantStepError(t, err, step, rotation.ErrRotationDisabled) // never configured
		}
		tok := begin(t, name)
		for _, step := range allSteps {
			_, err := r.Handle(ctx, event(step, name, "33333333-3333-4333-8333-333333333333"))
			wantStepError(t, err, step, rotation.ErrNotAVersion)
			if out, err := r.Handle(ctx, event(step, name, cur)); err != nil || out != rotation.AlreadyCurrent {
				t.Fatalf("%s on AWSCURRENT = %q, %v; want already_current", step, out, err)
			}
			_, err = r.Handle(ctx, event(step, name, prev))
			wantStepError(t, err, step, rotation.ErrNotPending)
		}
		if _, err := sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		_, err := r.Handle(ctx, event(rotation.StepCreate, name, tok))
		wantStepError(t, err, rotation.StepCreate, rotation.ErrRotationDisabled)
		if m.generated() != 0 {
			t.Fatalf("a refused step generated a value")
		}
		if v := getValue(t, sm, name, cur); v != "key-0" {
			t.Fatalf("AWSCURRENT = %q after refused steps, want key-0", v)
		}
	})

	t.Run("full rotation and retries", func(t *testing.T) {
		name := "retries"
		prev, cur := newSecret(t, name)
		tok := begin(t, name)
		m := &material{}
		r := newRotator(t, sm, m)
		for i, want := range []rotation.Outcome{rotation.Created, rotation.Reused, rotation.Reused} {
			if out, err := r.Handle(ctx, event(rotation.StepCreate, name, tok)); err != nil || out != want {
				t.Fatalf("createSecret #%d = %q, %v; want %q", i, out, err, want)
			}
		}
		if m.generated() != 1 || getValue(t, sm, name, tok) != "key-1" {
			t.Fatalf("createSecret retries: generated %d, value %q", m.generated(), getValue(t, sm, name, tok))
		}
		for _, s := range []rotation.Step{rotation.StepSet, rotation.StepSet, rotation.StepTest, rotation.StepTest} {
			if _, err := r.Handle(ctx, event(s, name, tok)); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		if out, err := r.Handle(ctx, event(rotation.StepFinish, name, tok)); err != nil || out != rotation.Finished {
			t.Fatalf("finishSecret = %q, %v", out, err)
		}
		// moto moved AWSPREVIOUS by itself, and no AWSPENDING is left.
		want := map[string][]string{tok: {"AWSCURRENT"}, cur: {"AWSPREVIOUS"}}
		if got := labelled(describe(t, sm, name)); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v (and %s unlabelled)", got, want, prev)
		}
		before := describe(t, sm, name)
		if out, err := r.Handle(ctx, event(rotation.StepFinish, name, tok)); err != nil || out != rotation.AlreadyCurrent {
			t.Fatalf("finishSecret retry = %q, %v", out, err)
		}
		if after := describe(t, sm, name); !equalStages(after, before) {
			t.Fatalf("retried finishSecret changed labels: %v -> %v", before, after)
		}
	})

	t.Run("copy of current in the pending version", func(t *testing.T) {
		name := "copy"
		_, cur := newSecret(t, name)
		tok := begin(t, name)
		// What DESIGN.md says moto's RotateSecret does: copy AWSCURRENT's
		// value into the pending version.
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), ClientRequestToken: aws.String(tok),
			SecretString: aws.String("key-0"), VersionStages: []string{"AWSPENDING"},
		}); err != nil {
			t.Fatal(err)
		}
		r := newRotator(t, sm, &material{})
		out, err := r.Handle(ctx, event(rotation.StepCreate, name, tok))
		if err != nil || out != rotation.CreatedOverCopy {
			t.Fatalf("createSecret = %q, %v; want created_over_copy (moto accepts the overwrite)", out, err)
		}
		if v := getValue(t, sm, name, tok); v != "key-1" {
			t.Fatalf("pending = %q, want key-1", v)
		}
		for _, s := range []rotation.Step{rotation.StepSet, rotation.StepTest, rotation.StepFinish} {
			if _, err := r.Handle(ctx, event(s, name, tok)); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		if got := getStage(t, sm, name, "AWSPREVIOUS"); got != "key-0" {
			t.Fatalf("AWSPREVIOUS = %q, want key-0 (%s)", got, cur)
		}
	})

	t.Run("stale AWSPENDING from a failed rotation", func(t *testing.T) {
		name := "stale"
		_, cur := newSecret(t, name)
		first := begin(t, name)
		m := &material{testErr: errors.New("probe refused")}
		r := newRotator(t, sm, m)
		for _, s := range []rotation.Step{rotation.StepCreate, rotation.StepSet} {
			if _, err := r.Handle(ctx, event(s, name, first)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := r.Handle(ctx, event(rotation.StepTest, name, first))
		wantStepError(t, err, rotation.StepTest, rotation.ErrTestFailed)
		// A new rotation with another token (moto's RotateSecret moves the
		// label), and then moto lets the failed version carry AWSPENDING
		// again (AWS would not).
		second := "44444444-4444-4444-8444-444444444444"
		_, err = sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
			SecretId: aws.String(name), ClientRequestToken: aws.String(second),
			RotationLambdaARN: aws.String(rotatedriver.DefaultFunctionARN),
		})
		if _, nf := errors.AsType[*types.ResourceNotFoundException](err); !nf {
			t.Fatalf("RotateSecret err = %v, want moto's ResourceNotFoundException for the function", err)
		}
		if _, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(name), VersionStage: aws.String("AWSPENDING"), MoveToVersionId: aws.String(first),
		}); err != nil {
			t.Fatal(err)
		}
		if n := len(pendingVersions(describe(t, sm, name))); n != 2 {
			t.Fatalf("setup: %d AWSPENDING versions, want 2", n)
		}
		m.testErr = nil
		rotate(t, r, name, second)
		want := map[string][]string{second: {"AWSCURRENT"}, cur: {"AWSPREVIOUS"}}
		if got := labelled(describe(t, sm, name)); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v", got, want)
		}
	})

	t.Run("failed rotation is resumed by the driver", func(t *testing.T) {
		name := "resume"
		_, cur := newSecret(t, name)
		m := &material{testErr: errors.New("probe refused")}
		r := newRotator(t, sm, m)
		d := &rotatedriver.Driver{SM: sm, Invoke: inProcess(r)}
		if _, err := d.Rotate(ctx, name); err == nil || !strings.Contains(err.Error(), "testSecret failed") {
			t.Fatalf("Rotate err = %v, want testSecret failed", err)
		}
		pend := pendingVersions(describe(t, sm, name))
		if len(pend) != 1 {
			t.Fatalf("AWSPENDING on %v, want one version", pend)
		}
		m.testErr = nil
		res, err := d.Rotate(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Resumed || res.Token != pend[0] || res.Previous != cur {
			t.Fatalf("Rotate = %+v, want the resumed %s with previous %s", res, pend[0], cur)
		}
		if m.generated() != 1 {
			t.Fatalf("generated %d values, want 1 (the resumed version keeps its key)", m.generated())
		}
	})

	t.Run("two rotations back to back", func(t *testing.T) {
		name := "twice"
		prev, cur := newSecret(t, name)
		m := &material{}
		d := &rotatedriver.Driver{SM: sm, Invoke: inProcess(newRotator(t, sm, m))}
		r1, err := d.Rotate(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := d.Rotate(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r1.Previous != cur || r2.Previous != r1.Token {
			t.Fatalf("results %+v %+v", r1, r2)
		}
		want := map[string][]string{r2.Token: {"AWSCURRENT"}, r1.Token: {"AWSPREVIOUS"}}
		if got := labelled(describe(t, sm, name)); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v (and %s, %s unlabelled)", got, want, prev, cur)
		}
		if a, b := getStage(t, sm, name, "AWSCURRENT"), getStage(t, sm, name, "AWSPREVIOUS"); a != "key-2" || b != "key-1" {
			t.Fatalf("AWSCURRENT %q AWSPREVIOUS %q, want key-2 key-1", a, b)
		}
	})
}

// inProcess invokes the Rotator directly, with the event the driver sends.
func inProcess(r *rotation.Rotator) rotatedriver.Invoker {
	return rotatedriver.InvokerFunc(func(ctx context.Context, payload []byte) error {
		var ev events.SecretsManagerSecretRotationEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return err
		}
		_, err := r.Handle(ctx, ev)
		return err
	})
}

func describe(t *testing.T, sm *secretsmanager.Client, name string) map[string][]string {
	t.Helper()
	out, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.VersionIdsToStages
}

// labelled drops versions without labels (moto lists them; AWS does not).
func labelled(m map[string][]string) map[string][]string {
	out := map[string][]string{}
	for id, s := range m {
		if len(s) > 0 {
			out[id] = s
		}
	}
	return out
}

func pendingVersions(m map[string][]string) []string {
	var out []string
	for id, s := range m {
		if slices.Contains(s, "AWSPENDING") {
			out = append(out, id)
		}
	}
	return out
}

func getValue(t *testing.T, sm *secretsmanager.Client, name, id string) string {
	t.Helper()
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}

func getStage(t *testing.T, sm *secretsmanager.Client, name, stage string) string {
	t.Helper()
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.SecretString)
}
