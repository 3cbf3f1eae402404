package rotation_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/internal/fakesm"
	"github.com/apigw-guard/guard/shared/rotation"
)

// newFake returns a secret with "v0" AWSCURRENT (key-0), rotation on, and
// the empty AWSPENDING version token1 that RotateSecret creates.
func newFake(t *testing.T) *fakesm.SM {
	t.Helper()
	sm := fakesm.New(secretName, "key-0")
	if _, err := sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{
		SecretId: aws.String(secretName), ClientRequestToken: aws.String(token1),
	}); err != nil {
		t.Fatal(err)
	}
	return sm
}

func TestNewRequiresHooks(t *testing.T) {
	m := &material{}
	sm := fakesm.New(secretName, "key-0")
	for name, tc := range map[string]struct {
		sm  rotation.SecretsManager
		gen rotation.GenerateFunc
		tf  rotation.TestFunc
	}{
		"nil SecretsManager": {nil, m.generate, m.test},
		"nil GenerateFunc":   {sm, nil, m.test},
		"nil TestFunc":       {sm, m.generate, nil},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := rotation.New(tc.sm, tc.gen, tc.tf); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("New err = %v, want one naming %q", err, name)
			}
		})
	}
}

func TestBadEvent(t *testing.T) {
	sm := newFake(t)
	r := newRotator(t, sm, &material{})
	for name, ev := range map[string]struct{ step, secret, token string }{
		"unknown step":   {"rotateSecret", secretName, token1},
		"empty step":     {"", secretName, token1},
		"no SecretId":    {"createSecret", "", token1},
		"no token":       {"createSecret", secretName, ""},
		"step lowercase": {"createsecret", secretName, token1},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(sm.Calls())
			_, err := r.Handle(context.Background(), event(rotation.Step(ev.step), ev.secret, ev.token))
			if !errors.Is(err, rotation.ErrBadEvent) {
				t.Fatalf("err = %v, want ErrBadEvent", err)
			}
			if n := len(sm.Calls()) - before; n != 0 {
				t.Fatalf("%d Secrets Manager calls for a bad event, want 0", n)
			}
		})
	}
}

// TestGuards runs every guard clause for every step: no step may write
// when a guard refuses, and the already-current guard succeeds silently.
func TestGuards(t *testing.T) {
	for _, step := range allSteps {
		t.Run(string(step), func(t *testing.T) {
			t.Run("rotation never configured", func(t *testing.T) {
				sm := newFake(t)
				sm.SetRotation(nil)
				_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(step, secretName, token1))
				wantStepError(t, err, step, rotation.ErrRotationDisabled)
				if w := sm.Writes(); len(w) != 1 { // RotateSecret of the setup
					t.Fatalf("writes %v, want none", w[1:])
				}
			})
			t.Run("rotation disabled", func(t *testing.T) {
				sm := newFake(t)
				sm.SetRotation(aws.Bool(false))
				_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(step, secretName, token1))
				wantStepError(t, err, step, rotation.ErrRotationDisabled)
			})
			t.Run("token is not a version", func(t *testing.T) {
				sm := newFake(t)
				_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(step, secretName, token2))
				wantStepError(t, err, step, rotation.ErrNotAVersion)
				if w := sm.Writes(); len(w) != 1 {
					t.Fatalf("writes %v, want none", w[1:])
				}
			})
			t.Run("already current", func(t *testing.T) {
				sm := newFake(t)
				m := &material{}
				out, err := newRotator(t, sm, m).Handle(context.Background(), event(step, secretName, "v0"))
				if err != nil || out != rotation.AlreadyCurrent {
					t.Fatalf("Handle = %q, %v; want %q, nil", out, err, rotation.AlreadyCurrent)
				}
				if calls := sm.Calls(); !slices.Equal(calls[1:], []string{"DescribeSecret"}) {
					t.Fatalf("calls %v, want only DescribeSecret", calls[1:])
				}
				if m.generated() != 0 || len(m.tested) != 0 || len(m.set) != 0 {
					t.Fatalf("hooks ran for a current version")
				}
			})
			t.Run("not pending", func(t *testing.T) {
				sm := newFake(t)
				sm.Put("old", aws.String("key-old"), "AWSPREVIOUS")
				_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(step, secretName, "old"))
				wantStepError(t, err, step, rotation.ErrNotPending)
				if w := sm.Writes(); len(w) != 1 {
					t.Fatalf("writes %v, want none", w[1:])
				}
			})
			t.Run("secret not found", func(t *testing.T) {
				sm := newFake(t)
				_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(step, "other-secret", token1))
				var nf *types.ResourceNotFoundException
				if wantStepError(t, err, step, nil); !errors.As(err, &nf) {
					t.Fatalf("err = %v, want ResourceNotFoundException", err)
				}
			})
		})
	}
}

func TestSnakeCaseSteps(t *testing.T) {
	sm := newFake(t)
	m := &material{}
	r := newRotator(t, sm, m)
	for _, s := range []string{"create_secret", "set_secret", "test_secret", "finish_secret"} {
		if _, err := r.Handle(context.Background(), event(rotation.Step(s), secretName, token1)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if got := sm.Labelled("AWSCURRENT"); got != token1 {
		t.Fatalf("AWSCURRENT = %s, want %s", got, token1)
	}
}

func TestCreateSecret(t *testing.T) {
	ctx := context.Background()
	t.Run("puts a new value with the token", func(t *testing.T) {
		sm := newFake(t)
		m := &material{}
		ev := event(rotation.StepCreate, sm.ARN(), token1)
		ev.RotationToken = "rotation-token"
		rec := &recordingSM{SecretsManager: sm}
		out, err := newRotator(t, rec, m).Handle(ctx, ev)
		if err != nil || out != rotation.Created {
			t.Fatalf("Handle = %q, %v; want created", out, err)
		}
		if v, _ := sm.Value(token1); v != "key-1" {
			t.Fatalf("pending value = %q, want key-1", v)
		}
		if len(rec.puts) != 1 {
			t.Fatalf("%d PutSecretValue calls, want 1", len(rec.puts))
		}
		p := rec.puts[0]
		if aws.ToString(p.ClientRequestToken) != token1 || !slices.Equal(p.VersionStages, []string{"AWSPENDING"}) || aws.ToString(p.RotationToken) != "rotation-token" {
			t.Fatalf("PutSecretValue token %q stages %v rotation token %q", aws.ToString(p.ClientRequestToken), p.VersionStages, aws.ToString(p.RotationToken))
		}
		st := sm.Stages()
		if !slices.Equal(st[token1], []string{"AWSPENDING"}) || !slices.Equal(st["v0"], []string{"AWSCURRENT"}) {
			t.Fatalf("labels %v after createSecret", st)
		}
	})
	t.Run("without RotationToken sends none", func(t *testing.T) {
		sm := newFake(t)
		rec := &recordingSM{SecretsManager: sm}
		if _, err := newRotator(t, rec, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		if rec.puts[0].RotationToken != nil {
			t.Fatalf("RotationToken = %q, want none", *rec.puts[0].RotationToken)
		}
	})
	t.Run("retry reuses the version", func(t *testing.T) {
		sm := newFake(t)
		m := &material{}
		r := newRotator(t, sm, m)
		if _, err := r.Handle(ctx, event(rotation.StepCreate, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			out, err := r.Handle(ctx, event(rotation.StepCreate, secretName, token1))
			if err != nil || out != rotation.Reused {
				t.Fatalf("retry %d = %q, %v; want reused", i, out, err)
			}
		}
		if v, _ := sm.Value(token1); v != "key-1" {
			t.Fatalf("pending value = %q, want key-1 (unchanged)", v)
		}
		if m.generated() != 1 {
			t.Fatalf("generated %d values, want 1", m.generated())
		}
		puts := 0
		for _, c := range sm.Writes() {
			if strings.HasPrefix(c, "PutSecretValue") {
				puts++
			}
		}
		if puts != 1 {
			t.Fatalf("%d PutSecretValue calls, want 1", puts)
		}
	})
	t.Run("retry after a failed put", func(t *testing.T) {
		sm := newFake(t)
		r := newRotator(t, sm, &material{})
		sm.FailNext("PutSecretValue", &types.InternalServiceError{Message: aws.String("boom")})
		_, err := r.Handle(ctx, event(rotation.StepCreate, secretName, token1))
		wantStepError(t, err, rotation.StepCreate, nil)
		out, err := r.Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil || out != rotation.Created {
			t.Fatalf("retry = %q, %v; want created", out, err)
		}
	})
	t.Run("concurrent invocation won the race", func(t *testing.T) {
		sm := newFake(t)
		racer := &racingSM{SM: sm, value: "key-racer"}
		out, err := newRotator(t, racer, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil || out != rotation.Reused {
			t.Fatalf("Handle = %q, %v; want reused", out, err)
		}
		if v, _ := sm.Value(token1); v != "key-racer" {
			t.Fatalf("pending value = %q, want the winner's key-racer", v)
		}
	})
	t.Run("copy of current is refused by AWS", func(t *testing.T) {
		sm := newFake(t)
		sm.Put(token1, aws.String("key-0"), "AWSPENDING")
		m := &material{}
		_, err := newRotator(t, sm, m).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		wantStepError(t, err, rotation.StepCreate, rotation.ErrCopyNotReplaced)
		var exists *types.ResourceExistsException
		if !errors.As(err, &exists) {
			t.Fatalf("err = %v, want it to wrap ResourceExistsException", err)
		}
		if v, _ := sm.Value(token1); v != "key-0" {
			t.Fatalf("pending value = %q, want the untouched copy", v)
		}
		// A copy is never promoted: the later steps refuse nothing here
		// (the copy is well formed) but finishSecret is never reached on
		// AWS because createSecret fails. The guard still holds.
	})
	t.Run("copy of current is replaced where the emulator allows", func(t *testing.T) {
		sm := newFake(t)
		sm.Put(token1, aws.String("key-0"), "AWSPENDING")
		moto := &overwritingSM{SM: sm}
		out, err := newRotator(t, moto, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil || out != rotation.CreatedOverCopy {
			t.Fatalf("Handle = %q, %v; want created_over_copy", out, err)
		}
		if v, _ := sm.Value(token1); v != "key-1" {
			t.Fatalf("pending value = %q, want key-1", v)
		}
	})
	t.Run("copy check hook", func(t *testing.T) {
		sm := newFake(t)
		sm.Put(token1, aws.String("key-0 "), "AWSPENDING") // same key, other bytes
		same := func(p, c string) bool { return strings.TrimSpace(p) == strings.TrimSpace(c) }
		_, err := newRotator(t, &overwritingSM{SM: sm}, &material{}, rotation.WithCopyCheck(same)).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := sm.Value(token1); v != "key-1" {
			t.Fatalf("pending value = %q, want key-1: a copy by the hook's rule must be replaced", v)
		}
		// Without the hook the same value counts as new and is reused.
		sm2 := newFake(t)
		sm2.Put(token1, aws.String("key-0 "), "AWSPENDING")
		out, err := newRotator(t, sm2, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil || out != rotation.Reused {
			t.Fatalf("without the hook: %q, %v; want reused", out, err)
		}
	})
	t.Run("invalid pending value", func(t *testing.T) {
		sm := newFake(t)
		sm.Put(token1, aws.String("garbage"), "AWSPENDING")
		m := &material{}
		_, err := newRotator(t, sm, m).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		wantStepError(t, err, rotation.StepCreate, rotation.ErrInvalidValue)
		if m.generated() != 0 || len(sm.Writes()) != 1 {
			t.Fatalf("createSecret wrote over an invalid pending value: %v", sm.Writes())
		}
		if strings.Contains(err.Error(), "garbage") {
			t.Fatalf("error %q reveals the value", err)
		}
	})
	t.Run("current placeholder is not a key", func(t *testing.T) {
		sm := fakesm.New(secretName, "generated-password")
		if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(secretName), ClientRequestToken: aws.String(token1)}); err != nil {
			t.Fatal(err)
		}
		out, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		if err != nil || out != rotation.Created {
			t.Fatalf("Handle = %q, %v; want created", out, err)
		}
	})
	t.Run("no current value", func(t *testing.T) {
		sm := newFake(t)
		sm.Put("v0", nil, "AWSCURRENT")
		_, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		wantStepError(t, err, rotation.StepCreate, rotation.ErrNoCurrent)
	})
	t.Run("empty secret", func(t *testing.T) {
		sm := newFake(t)
		sm.Put("v0", nil) // CloudFormation's secret without SecretString has no version
		m := &material{}
		_, err := newRotator(t, sm, m).Handle(ctx, event(rotation.StepCreate, secretName, token1))
		wantStepError(t, err, rotation.StepCreate, rotation.ErrNoCurrent)
		if !strings.Contains(err.Error(), "placeholder") || m.generated() != 0 {
			t.Fatalf("err = %v (generated %d), want the placeholder hint and nothing generated", err, m.generated())
		}
		_, err = newRotator(t, sm, m).Handle(ctx, event(rotation.StepFinish, secretName, token1))
		wantStepError(t, err, rotation.StepFinish, rotation.ErrNoCurrent)
	})
	for name, m := range map[string]*material{
		"generator fails":           {genErr: errors.New("no entropy")},
		"generator makes garbage":   {genVal: "garbage"},
		"generator repeats current": {genVal: "key-0"},
	} {
		t.Run(name, func(t *testing.T) {
			sm := newFake(t)
			_, err := newRotator(t, sm, m).Handle(ctx, event(rotation.StepCreate, secretName, token1))
			wantStepError(t, err, rotation.StepCreate, nil)
			if len(sm.Writes()) != 1 {
				t.Fatalf("writes %v after a generator failure", sm.Writes()[1:])
			}
		})
	}
}

func TestSetAndTestSecret(t *testing.T) {
	ctx := context.Background()
	for _, step := range []rotation.Step{rotation.StepSet, rotation.StepTest} {
		t.Run(string(step), func(t *testing.T) {
			t.Run("no pending value", func(t *testing.T) {
				sm := newFake(t)
				_, err := newRotator(t, sm, &material{}).Handle(ctx, event(step, secretName, token1))
				wantStepError(t, err, step, rotation.ErrNoPendingValue)
			})
			t.Run("invalid pending value", func(t *testing.T) {
				sm := newFake(t)
				sm.Put(token1, aws.String("garbage"), "AWSPENDING")
				m := &material{}
				_, err := newRotator(t, sm, m).Handle(ctx, event(step, secretName, token1))
				wantStepError(t, err, step, rotation.ErrInvalidValue)
				if len(m.tested)+len(m.set) != 0 {
					t.Fatalf("hooks ran on an invalid value")
				}
			})
			t.Run("runs its hook with the pending value", func(t *testing.T) {
				sm := newFake(t)
				sm.Put(token1, aws.String("key-7"), "AWSPENDING")
				m := &material{}
				r := newRotator(t, sm, m)
				for range 2 { // retried: same answer, no writes
					out, err := r.Handle(ctx, event(step, secretName, token1))
					want := map[rotation.Step]rotation.Outcome{rotation.StepSet: rotation.Set, rotation.StepTest: rotation.Tested}[step]
					if err != nil || out != want {
						t.Fatalf("Handle = %q, %v; want %q", out, err, want)
					}
				}
				got := map[rotation.Step][]string{rotation.StepSet: m.set, rotation.StepTest: m.tested}[step]
				if !slices.Equal(got, []string{"key-7", "key-7"}) {
					t.Fatalf("hook saw %v, want [key-7 key-7]", got)
				}
				if len(sm.Writes()) != 1 {
					t.Fatalf("%s wrote %v", step, sm.Writes()[1:])
				}
			})
		})
	}
	t.Run("test hook failure fails the step", func(t *testing.T) {
		sm := newFake(t)
		sm.Put(token1, aws.String("key-7"), "AWSPENDING")
		m := &material{testErr: errors.New("probe token refused")}
		_, err := newRotator(t, sm, m).Handle(ctx, event(rotation.StepTest, secretName, token1))
		wantStepError(t, err, rotation.StepTest, rotation.ErrTestFailed)
		if !strings.Contains(err.Error(), "probe token refused") {
			t.Fatalf("err = %v, want the hook's reason", err)
		}
	})
}

func TestFinishSecret(t *testing.T) {
	ctx := context.Background()
	ready := func(t *testing.T) *fakesm.SM {
		sm := newFake(t)
		sm.Put("prev", aws.String("key-prev"), "AWSPREVIOUS")
		sm.Put(token1, aws.String("key-1"), "AWSPENDING")
		return sm
	}
	t.Run("moves AWSCURRENT in one call and clears AWSPENDING", func(t *testing.T) {
		sm := ready(t)
		out, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepFinish, secretName, token1))
		if err != nil || out != rotation.Finished {
			t.Fatalf("Handle = %q, %v; want finished", out, err)
		}
		want := map[string][]string{token1: {"AWSCURRENT"}, "v0": {"AWSPREVIOUS"}, "prev": {}}
		if got := sm.Stages(); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v", got, want)
		}
		wantWrites := []string{
			"UpdateSecretVersionStage:AWSCURRENT:" + token1 + "<-v0",
			"UpdateSecretVersionStage:AWSPENDING:<-" + token1,
		}
		if got := sm.Writes()[1:]; !slices.Equal(got, wantWrites) {
			t.Fatalf("writes %v, want %v", got, wantWrites)
		}
	})
	t.Run("retry changes nothing", func(t *testing.T) {
		sm := ready(t)
		r := newRotator(t, sm, &material{})
		if _, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		before, writes := sm.Stages(), len(sm.Writes())
		out, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1))
		if err != nil || out != rotation.AlreadyCurrent {
			t.Fatalf("retry = %q, %v; want already_current", out, err)
		}
		if !equalStages(sm.Stages(), before) || len(sm.Writes()) != writes {
			t.Fatalf("retried finishSecret changed something: %v", sm.Writes()[writes:])
		}
	})
	t.Run("stale AWSPENDING on another version is removed", func(t *testing.T) {
		sm := ready(t)
		sm.Put("stale", aws.String("key-stale"), "AWSPENDING") // not reachable on AWS; some emulators allow it
		if _, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		if p := sm.Labelled("AWSPENDING"); p != "" {
			t.Fatalf("AWSPENDING still on %s", p)
		}
		want := map[string][]string{token1: {"AWSCURRENT"}, "v0": {"AWSPREVIOUS"}, "prev": {}, "stale": {}}
		if got := sm.Stages(); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v", got, want)
		}
	})
	t.Run("a placeholder leaving AWSCURRENT does not stay AWSPREVIOUS", func(t *testing.T) {
		sm := fakesm.New(secretName, "generated-password")
		sm.SetRotation(aws.Bool(true))
		sm.Put(token1, aws.String("key-1"), "AWSPENDING")
		if _, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{token1: {"AWSCURRENT"}, "v0": {}}
		if got := sm.Stages(); !equalStages(got, want) {
			t.Fatalf("labels %v, want %v", got, want)
		}
	})
	t.Run("without a check hook the old current stays AWSPREVIOUS", func(t *testing.T) {
		sm := fakesm.New(secretName, "anything")
		sm.SetRotation(aws.Bool(true))
		sm.Put(token1, aws.String("new"), "AWSPENDING")
		m := &material{}
		r, err := rotation.New(sm, m.generate, m.test)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil {
			t.Fatal(err)
		}
		if got := sm.Labelled("AWSPREVIOUS"); got != "v0" {
			t.Fatalf("AWSPREVIOUS = %q, want v0", got)
		}
	})
	t.Run("never promotes an invalid value", func(t *testing.T) {
		sm := ready(t)
		sm.Put(token1, aws.String("garbage"), "AWSPENDING")
		_, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepFinish, secretName, token1))
		wantStepError(t, err, rotation.StepFinish, rotation.ErrInvalidValue)
		if got := sm.Labelled("AWSCURRENT"); got != "v0" {
			t.Fatalf("AWSCURRENT = %s, want v0", got)
		}
	})
	t.Run("never promotes an empty version", func(t *testing.T) {
		sm := newFake(t)
		_, err := newRotator(t, sm, &material{}).Handle(ctx, event(rotation.StepFinish, secretName, token1))
		wantStepError(t, err, rotation.StepFinish, rotation.ErrNoPendingValue)
		if got := sm.Labelled("AWSCURRENT"); got != "v0" {
			t.Fatalf("AWSCURRENT = %s, want v0", got)
		}
	})
	t.Run("failed move is retried", func(t *testing.T) {
		sm := ready(t)
		r := newRotator(t, sm, &material{})
		sm.FailNext("UpdateSecretVersionStage", &types.InternalServiceError{Message: aws.String("boom")})
		_, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1))
		wantStepError(t, err, rotation.StepFinish, nil)
		if got := sm.Labelled("AWSCURRENT"); got != "v0" {
			t.Fatalf("AWSCURRENT = %s after a failed move, want v0", got)
		}
		if out, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil || out != rotation.Finished {
			t.Fatalf("retry = %q, %v; want finished", out, err)
		}
	})
	t.Run("failed clean-up fails the step; the retry is a no-op", func(t *testing.T) {
		sm := ready(t)
		r := newRotator(t, sm, &material{})
		spy := &failSecondUpdate{SM: sm}
		r2 := newRotator(t, spy, &material{})
		_, err := r2.Handle(ctx, event(rotation.StepFinish, secretName, token1))
		wantStepError(t, err, rotation.StepFinish, nil)
		if !strings.Contains(err.Error(), "clean-up") {
			t.Fatalf("err = %v, want it to say the clean-up failed", err)
		}
		if got := sm.Labelled("AWSCURRENT"); got != token1 {
			t.Fatalf("AWSCURRENT = %s, want %s", got, token1)
		}
		if out, err := r.Handle(ctx, event(rotation.StepFinish, secretName, token1)); err != nil || out != rotation.AlreadyCurrent {
			t.Fatalf("retry = %q, %v; want already_current", out, err)
		}
	})
}

// TestRotationsBackToBack runs two rotations and checks that exactly
// AWSCURRENT and AWSPREVIOUS remain, on the right values.
func TestRotationsBackToBack(t *testing.T) {
	sm := newFake(t)
	m := &material{}
	r := newRotator(t, sm, m)
	if got := rotate(t, r, secretName, token1); !slices.Equal(got, []rotation.Outcome{rotation.Created, rotation.Set, rotation.Tested, rotation.Finished}) {
		t.Fatalf("outcomes %v", got)
	}
	if _, err := sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(secretName), ClientRequestToken: aws.String(token2)}); err != nil {
		t.Fatal(err)
	}
	rotate(t, r, secretName, token2)
	want := map[string][]string{token2: {"AWSCURRENT"}, token1: {"AWSPREVIOUS"}, "v0": {}}
	if got := sm.Stages(); !equalStages(got, want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	for id, v := range map[string]string{token2: "key-2", token1: "key-1", "v0": "key-0"} {
		if got, _ := sm.Value(id); got != v {
			t.Fatalf("version %s = %q, want %q", id, got, v)
		}
	}
	if !slices.Equal(m.tested, []string{"key-1", "key-2"}) {
		t.Fatalf("tested %v, want [key-1 key-2]", m.tested)
	}
	// A third run of any step for either token is a no-op or refused.
	for _, s := range allSteps {
		out, err := r.Handle(context.Background(), event(s, secretName, token2))
		if err != nil || out != rotation.AlreadyCurrent {
			t.Fatalf("%s on the current token = %q, %v", s, out, err)
		}
		_, err = r.Handle(context.Background(), event(s, secretName, token1))
		wantStepError(t, err, s, rotation.ErrNotPending)
	}
}

func TestStepErrorMessage(t *testing.T) {
	sm := newFake(t)
	sm.SetRotation(aws.Bool(false))
	_, err := newRotator(t, sm, &material{}).Handle(context.Background(), event(rotation.StepTest, secretName, token1))
	want := `testSecret of secret "` + secretName + `" version ` + token1 + `: rotation is not enabled for the secret`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || len(v) != len(w) {
			return false
		}
		v, w = slices.Clone(v), slices.Clone(w)
		slices.Sort(v)
		slices.Sort(w)
		if !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// recordingSM records PutSecretValue inputs.
type recordingSM struct {
	rotation.SecretsManager
	puts []*secretsmanager.PutSecretValueInput
}

func (r *recordingSM) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	r.puts = append(r.puts, in)
	return r.SecretsManager.PutSecretValue(ctx, in, o...)
}

// racingSM lets another writer store value under the same token just
// before the Rotator's PutSecretValue.
type racingSM struct {
	*fakesm.SM
	value string
}

func (r *racingSM) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	other := *in
	other.SecretString = aws.String(r.value)
	if _, err := r.SM.PutSecretValue(ctx, &other, o...); err != nil {
		return nil, err
	}
	return r.SM.PutSecretValue(ctx, in, o...)
}

// overwritingSM accepts a new value for a version labelled AWSPENDING, as
// moto does (AWS refuses).
type overwritingSM struct{ *fakesm.SM }

func (o *overwritingSM) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	id := aws.ToString(in.ClientRequestToken)
	if slices.Contains(o.Stages()[id], "AWSPENDING") {
		o.Put(id, nil, "AWSPENDING")
	}
	return o.SM.PutSecretValue(ctx, in, opts...)
}

// failSecondUpdate fails the second UpdateSecretVersionStage call (the
// first clean-up after the move).
type failSecondUpdate struct {
	*fakesm.SM
	n int
}

func (f *failSecondUpdate) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, o ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	f.n++
	if f.n == 2 {
		return nil, &types.InternalServiceError{Message: aws.String("boom")}
	}
	return f.SM.UpdateSecretVersionStage(ctx, in, o...)
}
