package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
)

// TestMotoTwoRotations rotates a seeded secret twice through the handler
// against moto, then checks what the authorizers' code path (secretver,
// keyring.FromSecret, token.Verifier) accepts: the keys of AWSCURRENT and
// AWSPREVIOUS, and not the key two rotations old.
func TestMotoTwoRotations(t *testing.T) {
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
	const iss, aud = "https://auth.example.com", "api://guard-demo"

	for _, alg := range []string{"ES256", "HS256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			name := "keys-" + alg
			seedPrev, _ := signer.Generate(alg, 0)
			seedCur, _ := signer.Generate(alg, 0)
			if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(seedPrev))}); err != nil {
				t.Fatal(err)
			}
			if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(seedCur))}); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(env(map[string]string{"KEY_TYPE": alg, "KEYS_ISSUER": iss, "AUDIENCES": aud}))
			if err != nil {
				t.Fatal(err)
			}
			h, err := newHandler(sm, cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			d := &rotatedriver.Driver{SM: sm, Invoke: rotatedriver.InvokerFunc(func(ctx context.Context, payload []byte) error {
				var ev events.SecretsManagerSecretRotationEvent
				if err := json.Unmarshal(payload, &ev); err != nil {
					return err
				}
				return h.handle(ctx, ev)
			})}
			r1, err := d.Rotate(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := d.Rotate(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if r2.Previous != r1.Token {
				t.Fatalf("AWSPREVIOUS = %s after the second rotation, want %s", r2.Previous, r1.Token)
			}
			desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			for id, st := range desc.VersionIdsToStages {
				want := map[string][]string{r2.Token: {"AWSCURRENT"}, r1.Token: {"AWSPREVIOUS"}}[id]
				if !slices.Equal(st, want) {
					t.Fatalf("version %s labels %v, want %v", id, st, want)
				}
			}

			signers := map[string]*signer.Signer{}
			for label, v := range map[string][]byte{"seedPrev": seedPrev, "seedCur": seedCur} {
				signers[label], _ = signer.New(v)
			}
			for label, id := range map[string]string{"first": r1.Token, "second": r2.Token} {
				out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionId: aws.String(id)})
				if err != nil {
					t.Fatal(err)
				}
				keys, err := keyring.ParseKeys([]byte(aws.ToString(out.SecretString)), "")
				if err != nil || len(keys) != 1 || keys[0].Alg != alg {
					t.Fatalf("%s version holds %v (%v), want one %s key", label, keys, err, alg)
				}
				if signers[label], err = signer.New([]byte(aws.ToString(out.SecretString))); err != nil {
					t.Fatal(err)
				}
			}

			cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = sm })
			if err != nil {
				t.Fatal(err)
			}
			ring, err := keyring.NewRing(map[string]keyring.Source{iss: keyring.FromSecret(secretver.New(name, cache, sm))})
			if err != nil {
				t.Fatal(err)
			}
			v, err := token.NewVerifier(ring, []token.Issuer{{Issuer: iss, Audiences: []string{aud}}})
			if err != nil {
				t.Fatal(err)
			}
			for label, wantOK := range map[string]bool{"second": true, "first": true, "seedCur": false, "seedPrev": false} {
				tok, err := signers[label].Sign(map[string]any{"iss": iss, "aud": aud, "sub": "alice", "exp": time.Now().Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				_, err = v.Verify(ctx, tok)
				if (err == nil) != wantOK {
					t.Fatalf("token signed by the %s key: err = %v, want accepted %v", label, err, wantOK)
				}
				if err != nil {
					t.Logf("%s key refused: reason %s", label, token.ReasonOf(err))
				}
			}
		})
	}
}
