package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/rotation"
)

const (
	secretName = "test-signing-keys"
	token1     = "11111111-1111-4111-8111-111111111111"
	token2     = "22222222-2222-4222-8222-222222222222"
)

// material is the test's kind of secret: values "key-N". It records what
// the hooks saw.
type material struct {
	mu      sync.Mutex
	n       int
	gens    int
	tested  []string
	set     []string
	testErr error
	genErr  error
	genVal  string // when set, Generate returns it
}

func (m *material) generate(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens++
	if m.genErr != nil {
		return "", m.genErr
	}
	if m.genVal != "" {
		return m.genVal, nil
	}
	m.n++
	return fmt.Sprintf("key-%d", m.n), nil
}

func (m *material) test(_ context.Context, pending string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tested = append(m.tested, pending)
	return m.testErr
}

func (m *material) install(_ context.Context, pending string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set = append(m.set, pending)
	return nil
}

func (m *material) generated() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gens
}

// check accepts "key-..." values.
func check(v string) error {
	if !strings.HasPrefix(v, "key-") {
		return errors.New("not a key")
	}
	return nil
}

func newRotator(t *testing.T, sm rotation.SecretsManager, m *material, opts ...rotation.Option) *rotation.Rotator {
	t.Helper()
	opts = append([]rotation.Option{rotation.WithCheck(check), rotation.WithSet(m.install)}, opts...)
	r, err := rotation.New(sm, m.generate, m.test, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func event(step rotation.Step, secret, token string) events.SecretsManagerSecretRotationEvent {
	return events.SecretsManagerSecretRotationEvent{Step: string(step), SecretID: secret, ClientRequestToken: token}
}

var allSteps = []rotation.Step{rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish}

// rotate runs the four steps and fails the test on any error.
func rotate(t *testing.T, r *rotation.Rotator, secret, token string) []rotation.Outcome {
	t.Helper()
	var outs []rotation.Outcome
	for _, s := range allSteps {
		out, err := r.Handle(context.Background(), event(s, secret, token))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		outs = append(outs, out)
	}
	return outs
}

// wantStepError checks that err is a *StepError for step wrapping want.
func wantStepError(t *testing.T, err error, step rotation.Step, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err = nil, want %v", step, want)
	}
	var se *rotation.StepError
	if !errors.As(err, &se) {
		t.Fatalf("%s: err = %T %v, want *rotation.StepError", step, err, err)
	}
	if se.Step != step {
		t.Fatalf("StepError.Step = %q, want %q", se.Step, step)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want errors.Is %v", step, err, want)
	}
}
