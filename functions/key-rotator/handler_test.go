package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/apigw-guard/guard/internal/fakesm"
	"github.com/apigw-guard/guard/shared/rotation"
	"github.com/apigw-guard/guard/shared/signer"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		env     map[string]string
		want    config
		wantErr []string
	}{
		"ES256 with defaults": {
			env:  map[string]string{"KEY_TYPE": "ES256"},
			want: config{keyType: "ES256", issuer: defaultProbeIssuer, audience: defaultProbeAudience},
		},
		"RS256 defaults to 2048 bits": {
			env:  map[string]string{"KEY_TYPE": "RS256"},
			want: config{keyType: "RS256", rsaBits: 2048, issuer: defaultProbeIssuer, audience: defaultProbeAudience},
		},
		"PS256 3072 with issuer and audiences": {
			env:  map[string]string{"KEY_TYPE": "PS256", "RSA_BITS": "3072", "KEYS_ISSUER": "https://auth.example.com", "AUDIENCES": " , api://a, api://b"},
			want: config{keyType: "PS256", rsaBits: 3072, issuer: "https://auth.example.com", audience: "api://a"},
		},
		"missing KEY_TYPE":      {env: map[string]string{}, wantErr: []string{"KEY_TYPE is not set"}},
		"unknown KEY_TYPE":      {env: map[string]string{"KEY_TYPE": "none"}, wantErr: []string{`KEY_TYPE="none"`}},
		"unlisted KEY_TYPE":     {env: map[string]string{"KEY_TYPE": "RS384"}, wantErr: []string{`KEY_TYPE="RS384"`}},
		"RSA_BITS 1024":         {env: map[string]string{"KEY_TYPE": "RS256", "RSA_BITS": "1024"}, wantErr: []string{`RSA_BITS="1024"`}},
		"RSA_BITS 4096":         {env: map[string]string{"KEY_TYPE": "RS256", "RSA_BITS": "4096"}, wantErr: []string{`RSA_BITS="4096"`}},
		"RSA_BITS not a number": {env: map[string]string{"KEY_TYPE": "PS256", "RSA_BITS": "lots"}, wantErr: []string{`RSA_BITS="lots"`}},
		"RSA_BITS with ES256":   {env: map[string]string{"KEY_TYPE": "ES256", "RSA_BITS": "2048"}, wantErr: []string{"not RS256 or PS256"}},
		"every problem at once": {
			env:     map[string]string{"KEY_TYPE": "XX", "RSA_BITS": "2048"},
			wantErr: []string{`KEY_TYPE="XX"`, "RSA_BITS"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := loadConfig(env(tc.env))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("config = %+v, want %+v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("loadConfig succeeded, want errors %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestSetupReportsBadConfig(t *testing.T) {
	_, err := setup(context.Background(), env(map[string]string{}), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "KEY_TYPE") {
		t.Fatalf("setup err = %v, want the missing KEY_TYPE", err)
	}
	ce := &configError{err: err}
	if !errors.Is(ce, err) || !strings.HasPrefix(ce.Error(), "key-rotator is misconfigured: ") {
		t.Fatalf("configError = %q", ce)
	}
}

func readEvent(t *testing.T, name string) events.SecretsManagerSecretRotationEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "key-rotator", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev events.SecretsManagerSecretRotationEvent
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s is not a rotation event: %v", name, err)
	}
	return ev
}

var eventFiles = []struct{ file, step string }{
	{"create-secret.json", "createSecret"},
	{"set-secret.json", "setSecret"},
	{"test-secret.json", "testSecret"},
	{"finish-secret.json", "finishSecret"},
}

func TestEventFixtures(t *testing.T) {
	first := readEvent(t, eventFiles[0].file)
	for _, f := range eventFiles {
		ev := readEvent(t, f.file)
		if ev.Step != f.step {
			t.Fatalf("%s: Step = %q, want %q", f.file, ev.Step, f.step)
		}
		if ev.SecretID != first.SecretID || ev.ClientRequestToken != first.ClientRequestToken || ev.RotationToken == "" {
			t.Fatalf("%s: %+v does not belong to the same rotation as %+v", f.file, ev, first)
		}
		if !strings.HasPrefix(ev.SecretID, "arn:aws:secretsmanager:") {
			t.Fatalf("%s: SecretId %q, want the ARN the service sends", f.file, ev.SecretID)
		}
	}
}

func newKeys(alg string, bits int) *keys {
	return &keys{alg: alg, rsaBits: bits, issuer: defaultProbeIssuer, audience: defaultProbeAudience, now: time.Now}
}

// TestKeyTypes generates a key of every configured type and runs the same
// checks and probe the rotation runs.
func TestKeyTypes(t *testing.T) {
	cases := []struct {
		alg  string
		bits int
	}{
		{"HS256", 0}, {"HS384", 0}, {"HS512", 0},
		{"RS256", 2048}, {"RS256", 3072}, {"PS256", 2048}, {"PS256", 3072},
		{"ES256", 0}, {"ES384", 0}, {"EdDSA", 0},
	}
	for _, tc := range cases {
		name := tc.alg
		if tc.bits != 0 {
			name = fmt.Sprintf("%s-%d", tc.alg, tc.bits)
		}
		t.Run(name, func(t *testing.T) {
			k := newKeys(tc.alg, tc.bits)
			v, err := k.generate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := k.check(v); err != nil {
				t.Fatalf("check of a generated key: %v", err)
			}
			if err := k.test(context.Background(), v); err != nil {
				t.Fatalf("probe of a generated key: %v", err)
			}
			set, err := jwk.Parse([]byte(v))
			if err != nil {
				t.Fatal(err)
			}
			if set.Len() != 1 {
				t.Fatalf("the version holds %d keys, want 1", set.Len())
			}
			key, _ := set.Key(0)
			alg, _ := key.Algorithm()
			kid, _ := key.KeyID()
			if alg.String() != tc.alg {
				t.Fatalf("alg = %q, want %q", alg, tc.alg)
			}
			tp, err := key.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(tp); kid != want {
				t.Fatalf("kid = %q, want the RFC 7638 thumbprint %q", kid, want)
			}
			var raw any
			if err := jwk.Export(key, &raw); err != nil {
				t.Fatal(err)
			}
			switch r := raw.(type) {
			case []byte:
				if min := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[tc.alg]; len(r) < min {
					t.Fatalf("%s key of %d bytes, want at least %d", tc.alg, len(r), min)
				}
			case *rsa.PrivateKey:
				if r.N.BitLen() != tc.bits {
					t.Fatalf("RSA key of %d bits, want %d", r.N.BitLen(), tc.bits)
				}
			case *ecdsa.PrivateKey:
				if want := map[string]string{"ES256": "P-256", "ES384": "P-384"}[tc.alg]; r.Curve.Params().Name != want {
					t.Fatalf("curve %s, want %s", r.Curve.Params().Name, want)
				}
			}
			// A second key is new; the same key re-serialised is a copy.
			other, _ := k.generate(context.Background())
			if k.isCopy(other, v) {
				t.Fatalf("two generated keys count as copies")
			}
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, []byte(v), "", "  ")
			if !k.isCopy(pretty.String(), v) {
				t.Fatalf("the same key re-serialised is not a copy")
			}
		})
	}
}

// TestCheckAndProbeRefuse shows the check and the probe failing on key
// material the authorizers could not use.
func TestCheckAndProbeRefuse(t *testing.T) {
	k := newKeys("ES256", 0)
	es, _ := signer.Generate("ES256", 0)
	es2, _ := signer.Generate("ES256", 0)
	s, _ := signer.New(es)
	pub, _ := s.Public()

	t.Run("check", func(t *testing.T) {
		for name, v := range map[string]string{
			"empty":                 "",
			"a password":            "Zx8!generated-by-cloudformation",
			"public key only":       string(pub),
			"no keys":               `{"keys":[]}`,
			"short HMAC key":        `{"keys":[{"kty":"oct","alg":"HS256","k":"c2hvcnQ"}]}`,
			"EC key labelled ES384": strings.Replace(string(es), `"ES256"`, `"ES384"`, 1),
			"key without alg":       strings.Replace(string(es), `"alg":"ES256",`, ``, 1),
		} {
			t.Run(name, func(t *testing.T) {
				if err := k.check(v); err == nil {
					t.Fatalf("check accepted %s", name)
				}
			})
		}
	})
	t.Run("probe of a key whose private part is not its public part", func(t *testing.T) {
		// d of one key with x, y of another: parses, signs, never verifies.
		var a, b map[string][]map[string]any
		_ = json.Unmarshal(es, &a)
		_ = json.Unmarshal(es2, &b)
		a["keys"][0]["d"] = b["keys"][0]["d"]
		spliced, _ := json.Marshal(a)
		if err := k.check(string(spliced)); err != nil {
			t.Skipf("check already refuses the spliced key: %v", err)
		}
		err := k.test(context.Background(), string(spliced))
		if err == nil || !strings.Contains(err.Error(), "refuses a token signed with key") {
			t.Fatalf("probe err = %v, want the verifier's refusal", err)
		}
		if strings.Contains(err.Error(), b["keys"][0]["d"].(string)) {
			t.Fatalf("error %q reveals key material", err)
		}
	})
	t.Run("probe with a clock the token is not valid for", func(t *testing.T) {
		// The verifier is the authorizers' own: it checks the claims too.
		k := newKeys("ES256", 0)
		calls := 0
		k.now = func() time.Time {
			calls++
			if calls == 1 {
				return time.Now() // signing
			}
			return time.Now().Add(time.Hour) // verifying
		}
		if err := k.test(context.Background(), string(es)); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("probe err = %v, want expired", err)
		}
	})
}

// TestHandlerRotation runs the fixtures' four steps through the handler
// against the fake Secrets Manager and checks the log lines.
func TestHandlerRotation(t *testing.T) {
	ctx := context.Background()
	current, _ := signer.Generate("ES256", 0)
	sm := fakesm.New("guard-local-signing-keys", string(current))
	token := readEvent(t, "create-secret.json").ClientRequestToken
	if _, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(sm.ARN()), ClientRequestToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h, err := newHandler(sm, config{keyType: "ES256", issuer: defaultProbeIssuer, audience: defaultProbeAudience}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var rotationToken string
	for _, f := range eventFiles {
		ev := readEvent(t, f.file)
		ev.SecretID = sm.ARN()
		rotationToken = ev.RotationToken
		if err := h.handle(ctx, ev); err != nil {
			t.Fatalf("%s: %v", f.step, err)
		}
	}
	if got := sm.Labelled("AWSCURRENT"); got != token {
		t.Fatalf("AWSCURRENT = %s, want %s", got, token)
	}
	if got := sm.Labelled("AWSPREVIOUS"); got != "v0" {
		t.Fatalf("AWSPREVIOUS = %s, want v0", got)
	}
	newValue, _ := sm.Value(token)
	s, err := signer.New([]byte(newValue))
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		outcomes = append(outcomes, rec["outcome"].(string))
		if rec["version"] != token || rec["secretId"] != sm.ARN() {
			t.Fatalf("log line %v lacks the version or secret", rec)
		}
	}
	if want := []string{"created", "set", "tested", "finished"}; strings.Join(outcomes, ",") != strings.Join(want, ",") {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	var set map[string][]map[string]any
	_ = json.Unmarshal([]byte(newValue), &set)
	for _, secret := range []string{set["keys"][0]["d"].(string), rotationToken, newValue} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log reveals a secret: %s", logs.String())
		}
	}
	if s.KeyID() == "" || !strings.Contains(logs.String(), `"step":"finishSecret"`) {
		t.Fatalf("log %s", logs.String())
	}

	// A retried step after the rotation is a logged no-op; a step for a
	// stale token fails with a StepError and is logged as an error.
	if err := h.handle(ctx, events.SecretsManagerSecretRotationEvent{Step: "finishSecret", SecretID: sm.ARN(), ClientRequestToken: token}); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	err = h.handle(ctx, events.SecretsManagerSecretRotationEvent{Step: "testSecret", SecretID: sm.ARN(), ClientRequestToken: "v0"})
	var se *rotation.StepError
	if !errors.As(err, &se) || !errors.Is(err, rotation.ErrNotPending) {
		t.Fatalf("err = %v, want a StepError wrapping ErrNotPending", err)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "rotation step failed") {
		t.Fatalf("failure not logged as an error: %s", logs.String())
	}
}

// BenchmarkProbe measures testSecret's probe (sign, then verify through
// the authorizers' path and through the public part) for ES256.
func BenchmarkProbe(b *testing.B) {
	k := newKeys("ES256", 0)
	v, err := k.generate(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := k.test(context.Background(), v); err != nil {
			b.Fatal(err)
		}
	}
}
