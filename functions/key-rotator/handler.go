package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/rotation"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
	"github.com/apigw-guard/guard/shared/trace"
)

// service is the Service dimension of the function's metrics.
const service = "key-rotator"

// handler runs one rotation step per invocation.
type handler struct {
	rotator *rotation.Rotator
	log     *slog.Logger
	metrics *observe.Metrics // nil: no metrics
	tracer  *trace.Tracer    // nil: no tracing
}

// newHandler wires the signing-key hooks into a Rotator.
func newHandler(sm rotation.SecretsManager, cfg config, log *slog.Logger) (*handler, error) {
	k := &keys{alg: cfg.keyType, rsaBits: cfg.rsaBits, issuer: cfg.issuer, audience: cfg.audience, now: time.Now}
	r, err := rotation.New(sm, k.generate, k.test,
		rotation.WithCheck(k.check), rotation.WithCopyCheck(k.isCopy))
	if err != nil {
		return nil, err
	}
	return &handler{rotator: r, log: log}, nil
}

// handle runs the event's step. A returned error fails the invocation, so
// Secrets Manager retries the rotation. The log line carries the step, the
// secret's id, the version and the outcome; never a value, and never the
// event's RotationToken. The step is traced (a subsegment named after it,
// with its Secrets Manager calls inside) and counted (see [handler.count]).
func (h *handler) handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	start := time.Now()
	step := stepName(ev.Step)
	ctx, end := h.tracer.Start(ctx, step)
	h.tracer.Annotate(ctx, "step", step)
	out, err := h.rotator.Handle(ctx, ev)
	end(err)
	elapsed := time.Since(start)
	attrs := []any{"step", ev.Step, "secretId", ev.SecretID, "version", ev.ClientRequestToken, "ms", elapsed.Milliseconds()}
	outcome := string(out)
	if err != nil {
		outcome = "error"
	}
	h.count(ctx, step, outcome, ev.SecretID, elapsed)
	if err != nil {
		h.log.ErrorContext(ctx, "rotation step failed", append(attrs, "err", err)...)
		return err
	}
	h.log.InfoContext(ctx, "rotation step", append(attrs, "outcome", outcome)...)
	return nil
}

// count writes the step's metrics: RotationSteps (1) and
// RotationStepLatency (ms) by Service, Step and Outcome (the rotation's
// outcome, such as created or finished, or error), rolled up by Step and by
// Outcome.
func (h *handler) count(ctx context.Context, step, outcome, secretID string, elapsed time.Duration) {
	if h.metrics == nil {
		return
	}
	err := h.metrics.Record(
		observe.Dimension{Name: "Service", Value: service},
		observe.Dimension{Name: "Step", Value: step},
		observe.Dimension{Name: "Outcome", Value: outcome},
	).Rollup("Service", "Step").Rollup("Service", "Outcome").
		Count("RotationSteps", 1).
		Duration("RotationStepLatency", elapsed).
		Property("requestId", observe.RequestID(ctx)).
		Property("secretId", secretID).
		Flush()
	if err != nil {
		h.log.WarnContext(ctx, "write metrics", "err", err)
	}
}

// stepName is the step for metrics and traces: one of the four, or
// "unknown", so that an odd event cannot mint a dimension value.
func stepName(s string) string {
	switch s {
	case string(rotation.StepCreate), "create_secret":
		return string(rotation.StepCreate)
	case string(rotation.StepSet), "set_secret":
		return string(rotation.StepSet)
	case string(rotation.StepTest), "test_secret":
		return string(rotation.StepTest)
	case string(rotation.StepFinish), "finish_secret":
		return string(rotation.StepFinish)
	}
	return "unknown"
}

// keys makes, checks and tests signing keys in the format the authorizers
// read (DESIGN.md, "Key material"): a JWK Set. Each version holds exactly
// one key, the one made for it: verifiers accept AWSCURRENT and
// AWSPREVIOUS, so a token signed just before a rotation keeps verifying for
// one more rotation, and a key two rotations old is read by no one. Had a
// version also carried the key before it, that key would live a rotation
// longer than promised.
type keys struct {
	alg      string
	rsaBits  int
	issuer   string
	audience string
	now      func() time.Time
}

func (k *keys) generate(context.Context) (string, error) {
	set, err := signer.Generate(k.alg, k.rsaBits)
	if err != nil {
		return "", err
	}
	return string(set), nil
}

// check accepts a value the authorizers can verify with (keyring's strict
// parse) and a signer can sign with (it holds a private or symmetric key).
func (k *keys) check(v string) error {
	if _, err := keyring.ParseKeys([]byte(v), rotation.StagePending); err != nil {
		return err
	}
	if _, err := signer.New([]byte(v)); err != nil {
		return err
	}
	return nil
}

// isCopy reports whether pending holds a key that current already holds:
// then no new key exists yet (an emulator copied AWSCURRENT's value, or
// re-serialised it). Both values have passed check.
func (k *keys) isCopy(pending, current string) bool {
	p, err := keyring.ParseKeys([]byte(pending), "")
	if err != nil {
		return false
	}
	c, err := keyring.ParseKeys([]byte(current), "")
	if err != nil {
		return false
	}
	for _, a := range p {
		for _, b := range c {
			if a.ID == b.ID {
				return true
			}
		}
	}
	return false
}

// probeSubject is the sub of the probe token.
const probeSubject = "key-rotator-probe"

// test signs a short-lived probe token with the pending key and verifies it
// the way the authorizers do: keyring.ParseKeys of the version, a
// keyring.Ring by issuer, and token.Verifier. For an asymmetric key it also
// verifies the probe with only the public part that the JWKS function
// publishes, so outside verifiers can use the key too.
func (k *keys) test(ctx context.Context, pending string) error {
	s, err := signer.New([]byte(pending))
	if err != nil {
		return err
	}
	now := k.now()
	var jti [12]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return err
	}
	probe, err := s.Sign(map[string]any{
		"iss": k.issuer, "aud": k.audience, "sub": probeSubject,
		"iat": now.Unix(), "exp": now.Add(probeLifetime).Unix(),
		"jti": hex.EncodeToString(jti[:]),
	})
	if err != nil {
		return fmt.Errorf("sign the probe token: %w", err)
	}
	if err := k.verify(ctx, []byte(pending), probe, s.KeyID()); err != nil {
		return fmt.Errorf("the authorizers' verifier refuses a token signed with key %s: %w", s.KeyID(), err)
	}
	if !strings.HasPrefix(s.Alg(), "HS") {
		pub, err := signer.PublicSet([]byte(pending))
		if err != nil {
			return fmt.Errorf("public part of key %s: %w", s.KeyID(), err)
		}
		if err := k.verify(ctx, pub, probe, s.KeyID()); err != nil {
			return fmt.Errorf("the published public key %s does not verify its token: %w", s.KeyID(), err)
		}
	}
	return nil
}

// verify checks probe with a verifier over the keys in set.
func (k *keys) verify(ctx context.Context, set []byte, probe, kid string) error {
	ks, err := keyring.ParseKeys(set, rotation.StagePending)
	if err != nil {
		return err
	}
	ring, err := keyring.NewRing(map[string]keyring.Source{k.issuer: staticKeys(ks)})
	if err != nil {
		return err
	}
	v, err := token.NewVerifier(ring, []token.Issuer{{Issuer: k.issuer, Audiences: []string{k.audience}}},
		token.WithClock(k.now), token.WithMaxLifetime(probeLifetime))
	if err != nil {
		return err
	}
	c, err := v.Verify(ctx, probe)
	if err != nil {
		return err
	}
	if c.KeyID != kid || c.Subject != probeSubject {
		return errors.New("the verified probe token is not the one signed")
	}
	return nil
}

// staticKeys is a keyring.Source over keys already parsed.
type staticKeys []keyring.Key

func (s staticKeys) Keys(context.Context) ([]keyring.Key, error) { return s, nil }
func (s staticKeys) Refresh(context.Context) (bool, error)       { return false, nil }
