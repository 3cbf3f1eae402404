package rotatedriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/internal/fakesm"
	"github.com/apigw-guard/guard/shared/rotation"
)

const name = "signing-keys"

// rotator returns an in-process rotation function over sm whose values are
// "key-N", and the events it received.
func rotator(t *testing.T, sm rotation.SecretsManager) (Invoker, *[]Event) {
	t.Helper()
	n := 0
	r, err := rotation.New(sm,
		func(context.Context) (string, error) { n++; return fmt.Sprintf("key-%d", n), nil },
		func(context.Context, string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var seen []Event
	return InvokerFunc(func(ctx context.Context, payload []byte) error {
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		var ev Event
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		seen = append(seen, ev)
		_, err := r.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: ev.Step, SecretID: ev.SecretID, ClientRequestToken: ev.ClientRequestToken})
		return err
	}), &seen
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	sm := fakesm.New(name, "key-0")
	invoke, seen := rotator(t, sm)
	var log bytes.Buffer
	d := &Driver{SM: sm, Invoke: invoke, Log: &log}
	r1, err := d.Rotate(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Previous != "v0" || r1.Resumed {
		t.Fatalf("first rotation %+v, want previous v0", r1)
	}
	if len(*seen) != 4 {
		t.Fatalf("%d invocations, want 4", len(*seen))
	}
	for i, ev := range *seen {
		if ev.Step != Steps[i] || ev.SecretID != sm.ARN() || ev.ClientRequestToken != r1.Token {
			t.Fatalf("event %d = %+v, want %s for %s with the secret's ARN", i, ev, Steps[i], r1.Token)
		}
	}
	r2, err := d.Rotate(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Previous != r1.Token || r2.Token == r1.Token {
		t.Fatalf("second rotation %+v after %+v", r2, r1)
	}
	want := map[string][]string{r2.Token: {"AWSCURRENT"}, r1.Token: {"AWSPREVIOUS"}, "v0": {}}
	for id, st := range sm.Stages() {
		if !slices.Equal(st, want[id]) {
			t.Fatalf("version %s labels %v, want %v", id, st, want[id])
		}
	}
	// RotateSecret was called with the function ARN, rules and the token.
	if !strings.Contains(log.String(), "started the rotation of "+name+": version "+r2.Token) {
		t.Fatalf("log %q", log.String())
	}
	if v, _ := sm.Value(r2.Token); v != "key-2" {
		t.Fatalf("AWSCURRENT holds %q, want key-2", v)
	}
}

// motoLike answers RotateSecret as moto does when it cannot invoke the
// function: it stages the version, then fails.
type motoLike struct {
	*fakesm.SM
	in *secretsmanager.RotateSecretInput
}

func (m *motoLike) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	m.in = in
	if _, err := m.SM.RotateSecret(ctx, in, o...); err != nil {
		return nil, err
	}
	return nil, &types.ResourceNotFoundException{Message: aws.String("Resource not found for ARN '" + aws.ToString(in.RotationLambdaARN) + "'.")}
}

// noStage answers RotateSecret with err and stages nothing.
type noStage struct {
	*fakesm.SM
	err error
}

func (n *noStage) RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	return &secretsmanager.RotateSecretOutput{}, n.err
}

func TestBegin(t *testing.T) {
	ctx := context.Background()
	t.Run("accepts moto's answer once the version is staged", func(t *testing.T) {
		sm := &motoLike{SM: fakesm.New(name, "key-0")}
		d := &Driver{SM: sm, RotationDays: 7}
		tok, arn, resumed, err := d.Begin(ctx, name)
		if err != nil || resumed || arn != sm.ARN() {
			t.Fatalf("Begin = %s, %s, %v, %v", tok, arn, resumed, err)
		}
		if got := sm.Stages()[tok]; !slices.Equal(got, []string{"AWSPENDING"}) {
			t.Fatalf("token labels %v", got)
		}
		if aws.ToString(sm.in.ClientRequestToken) != tok || aws.ToString(sm.in.RotationLambdaARN) != DefaultFunctionARN ||
			aws.ToInt64(sm.in.RotationRules.AutomaticallyAfterDays) != 7 || !aws.ToBool(sm.in.RotateImmediately) {
			t.Fatalf("RotateSecret input %+v", sm.in)
		}
	})
	t.Run("refuses when nothing was staged", func(t *testing.T) {
		for _, err := range []error{nil, &types.ResourceNotFoundException{Message: aws.String("no such function")}} {
			d := &Driver{SM: &noStage{SM: fakesm.New(name, "key-0"), err: err}}
			if _, _, _, got := d.Begin(ctx, name); got == nil || !strings.Contains(got.Error(), "did not stage") {
				t.Fatalf("Begin err = %v, want 'did not stage'", got)
			}
		}
	})
	t.Run("other RotateSecret errors stop it", func(t *testing.T) {
		d := &Driver{SM: &noStage{SM: fakesm.New(name, "key-0"), err: &types.InvalidRequestException{Message: aws.String("nope")}}}
		if _, _, _, err := d.Begin(ctx, name); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("Begin err = %v", err)
		}
	})
	t.Run("resumes an unfinished rotation", func(t *testing.T) {
		sm := fakesm.New(name, "key-0")
		sm.SetRotation(aws.Bool(true))
		sm.Put("unfinished", aws.String("key-9"), "AWSPENDING")
		tok, _, resumed, err := (&Driver{SM: sm}).Begin(ctx, name)
		if err != nil || !resumed || tok != "unfinished" {
			t.Fatalf("Begin = %s, %v, %v; want the unfinished version resumed", tok, resumed, err)
		}
		if w := sm.Writes(); len(w) != 0 {
			t.Fatalf("resuming wrote %v", w)
		}
	})
	t.Run("clears AWSPENDING left on AWSCURRENT", func(t *testing.T) {
		sm := fakesm.New(name, "key-0")
		sm.Put("v0", aws.String("key-0"), "AWSCURRENT", "AWSPENDING")
		tok, _, resumed, err := (&Driver{SM: sm}).Begin(ctx, name)
		if err != nil || resumed {
			t.Fatalf("Begin = %s, %v, %v", tok, resumed, err)
		}
		if got := sm.Stages()["v0"]; !slices.Equal(got, []string{"AWSCURRENT"}) {
			t.Fatalf("v0 labels %v, want only AWSCURRENT", got)
		}
	})
	t.Run("unknown secret", func(t *testing.T) {
		if _, _, _, err := (&Driver{SM: fakesm.New(name, "key-0")}).Begin(ctx, "other"); err == nil {
			t.Fatal("Begin of an unknown secret succeeded")
		}
	})
}

func TestRotateStopsAtAFailedStep(t *testing.T) {
	sm := fakesm.New(name, "key-0")
	var steps []string
	d := &Driver{SM: sm, Invoke: InvokerFunc(func(_ context.Context, payload []byte) error {
		var ev Event
		_ = json.Unmarshal(payload, &ev)
		steps = append(steps, ev.Step)
		if ev.Step == "setSecret" {
			return &FunctionError{Type: "StepError", Message: "setSecret of secret: boom"}
		}
		return nil
	})}
	_, err := d.Rotate(context.Background(), name)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "StepError" || !strings.Contains(err.Error(), "setSecret failed") {
		t.Fatalf("err = %v, want setSecret's FunctionError", err)
	}
	if !slices.Equal(steps, []string{"createSecret", "setSecret"}) {
		t.Fatalf("steps %v, want to stop after setSecret", steps)
	}
}

func TestRotateChecksTheEnd(t *testing.T) {
	sm := fakesm.New(name, "key-0")
	d := &Driver{SM: sm, Invoke: InvokerFunc(func(context.Context, []byte) error { return nil })}
	if _, err := d.Rotate(context.Background(), name); err == nil || !strings.Contains(err.Error(), "still AWSPENDING") {
		t.Fatalf("err = %v, want the unfinished state reported", err)
	}
}

func TestURLInvoker(t *testing.T) {
	for name, tc := range map[string]struct {
		status  int
		body    string
		wantErr string
	}{
		"success":        {200, "null", ""},
		"function error": {200, `{"errorMessage":"createSecret of secret \"s\": boom","errorType":"StepError"}`, `StepError: createSecret of secret "s": boom`},
		"crash":          {502, `{"errorMessage":"exit status 2","errorType":"Runtime.ExitError"}`, "Runtime.ExitError"},
		"timeout text":   {200, "Task timed out after 30.00 seconds", "Runtime.Error"},
		"bad gateway":    {502, "", "HTTP 502"},
	} {
		t.Run(name, func(t *testing.T) {
			var got []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = readBody(r)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			err := URL(srv.URL, nil).Invoke(context.Background(), []byte(`{"Step":"createSecret"}`))
			if string(got) != `{"Step":"createSecret"}` {
				t.Fatalf("server got %q", got)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

func TestNewToken(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(tok) || seen[tok] {
			t.Fatalf("token %q: not a fresh v4 UUID", tok)
		}
		seen[tok] = true
	}
}
