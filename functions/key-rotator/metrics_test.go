package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/emf"
	"github.com/apigw-guard/guard/internal/fakesm"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/trace"
)

// TestRotationStepMetrics runs a rotation and a failing step and reads the
// EMF lines back: one per step, by Service, Step and Outcome.
func TestRotationStepMetrics(t *testing.T) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-rot-1"})
	current, _ := signer.Generate("ES256", 0)
	sm := fakesm.New("guard-local-signing-keys", string(current))
	token := readEvent(t, "create-secret.json").ClientRequestToken
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(sm.ARN()), ClientRequestToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(sm, config{keyType: "ES256", issuer: defaultProbeIssuer, audience: defaultProbeAudience}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if h.metrics, err = observe.NewMetrics(&out, "guard/test"); err != nil {
		t.Fatal(err)
	}
	for _, f := range eventFiles {
		ev := readEvent(t, f.file)
		ev.SecretID = sm.ARN()
		if err := h.handle(ctx, ev); err != nil {
			t.Fatalf("%s: %v", f.step, err)
		}
	}
	if err := h.handle(ctx, events.SecretsManagerSecretRotationEvent{Step: "testSecret", SecretID: sm.ARN(), ClientRequestToken: "v0"}); err == nil {
		t.Fatal("a step for a stale version succeeded")
	}
	if err := h.handle(ctx, events.SecretsManagerSecretRotationEvent{Step: "dropTables", SecretID: sm.ARN(), ClientRequestToken: token}); err == nil {
		t.Fatal("an unknown step succeeded")
	}

	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ step, outcome string }{
		{"createSecret", "created"}, {"setSecret", "set"}, {"testSecret", "tested"}, {"finishSecret", "finished"},
		{"testSecret", "error"}, {"unknown", "error"},
	}
	if len(docs) != len(want) {
		t.Fatalf("%d EMF lines, want %d: %s", len(docs), len(want), out.String())
	}
	for i, d := range docs {
		n, ok := d.Value("RotationSteps")
		lat, latOK := d.Value("RotationStepLatency")
		if !ok || n != 1 || !latOK || lat < 0 || d.Units["RotationStepLatency"] != "Milliseconds" {
			t.Errorf("line %d: RotationSteps %v, latency %v: want 1 and a duration", i, n, lat)
		}
		if d.Namespace != "guard/test" || d.Dim("Service") != "key-rotator" || d.Dim("Step") != want[i].step || d.Dim("Outcome") != want[i].outcome {
			t.Errorf("line %d = %v, want step %s outcome %s", i, d, want[i].step, want[i].outcome)
		}
		if !d.HasDimensionSet("Service", "Step", "Outcome") || !d.HasDimensionSet("Service", "Step") || !d.HasDimensionSet("Service", "Outcome") || len(d.Dimensions) != 3 {
			t.Errorf("line %d dimension sets %v", i, d.Dimensions)
		}
		if d.Fields["requestId"] != "req-rot-1" || d.Fields["secretId"] != sm.ARN() {
			t.Errorf("line %d properties %v", i, d.Fields)
		}
	}
	newValue, _ := sm.Value(token)
	if strings.Contains(out.String(), newValue) {
		t.Fatal("metrics reveal the key")
	}
}

func TestSetupReadsObservability(t *testing.T) {
	// The AWS configuration comes from Lambda's environment (shared/awsconfig).
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	base := map[string]string{"KEY_TYPE": "ES256"}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return env(m)
	}
	log := slog.New(slog.DiscardHandler)
	h, err := setup(context.Background(), with(), log)
	if err != nil {
		t.Fatal(err)
	}
	if h.tracer.Enabled() != trace.Linked || h.metrics == nil {
		t.Errorf("default: tracing %v, metrics %v; want X-Ray on (unless built with notrace) and metrics", h.tracer.Enabled(), h.metrics)
	}
	if h, err = setup(context.Background(), with("TRACING", "off"), log); err != nil || h.tracer.Enabled() {
		t.Errorf("TRACING=off: %v, tracing %v; want off", err, h.tracer.Enabled())
	}
	_, err = setup(context.Background(), with("TRACING", "sometimes", "METRICS_NAMESPACE", ":x", "KEY_TYPE", "XX"), log)
	for _, w := range []string{"TRACING", "METRICS_NAMESPACE", "KEY_TYPE"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v, want it to name %s (every problem at once)", err, w)
		}
	}
	if !errors.Is(err, trace.ErrBadMode) {
		t.Errorf("err = %v, want ErrBadMode among them", err)
	}
}
