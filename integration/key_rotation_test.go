//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/rotatedriver"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
)

// TestKeyRotationUnderEmulator runs the real key-rotator binary under the
// Lambda emulator against moto for two full rotations, driven by the same
// code as `make rotate` (internal/rotatedriver), then checks the labels,
// what the authorizers' verification path accepts, retried steps through
// the binary, and the JWKS the real jwks binary publishes.
func TestKeyRotationUnderEmulator(t *testing.T) {
	needTools(t)
	m := startMoto(t)
	ctx := context.Background()
	sm := demo.LocalSecrets(m.Endpoint)
	seeded, err := demo.Seed(ctx, sm, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rotator := startFunction(t, "key-rotator", build(t, "functions/key-rotator"), map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": m.Endpoint,
		"KEY_TYPE":                         demo.Alg,
		"KEYS_ISSUER":                      demo.Issuer,
		"AUDIENCES":                        demo.Audience,
	})
	d := &rotatedriver.Driver{SM: sm, Invoke: rotatedriver.RIE(rotator), Log: testLog{t}}

	r1, err := d.Rotate(ctx, demo.SecretName)
	if err != nil {
		t.Fatal(err)
	}
	afterFirst, err := demo.Load(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	if afterFirst.Previous.KeyID() != seeded.Current.KeyID() || afterFirst.Current.KeyID() == seeded.Current.KeyID() {
		t.Fatalf("after one rotation: current %s previous %s; seeded current %s", afterFirst.Current.KeyID(), afterFirst.Previous.KeyID(), seeded.Current.KeyID())
	}
	r2, err := d.Rotate(ctx, demo.SecretName)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Previous != r1.Token {
		t.Fatalf("AWSPREVIOUS is %s after the second rotation, want %s", r2.Previous, r1.Token)
	}
	afterSecond, err := demo.Load(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	if afterSecond.Previous.KeyID() != afterFirst.Current.KeyID() {
		t.Fatalf("AWSPREVIOUS key %s, want the first rotation's %s", afterSecond.Previous.KeyID(), afterFirst.Current.KeyID())
	}

	// Exactly AWSCURRENT and AWSPREVIOUS are labelled, each version holds
	// exactly one key.
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(demo.SecretName)})
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range desc.VersionIdsToStages {
		want := map[string][]string{r2.Token: {"AWSCURRENT"}, r1.Token: {"AWSPREVIOUS"}}[id]
		if !slices.Equal(st, want) {
			t.Fatalf("version %s labels %v, want %v", id, st, want)
		}
	}
	for _, id := range []string{r1.Token, r2.Token} {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(demo.SecretName), VersionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if keys, err := keyring.ParseKeys([]byte(aws.ToString(out.SecretString)), ""); err != nil || len(keys) != 1 || keys[0].Alg != demo.Alg {
			t.Fatalf("version %s holds %v (%v), want one %s key", id, keys, err, demo.Alg)
		}
	}

	// The authorizers' path accepts the keys of AWSCURRENT and AWSPREVIOUS
	// and refuses the seeded keys, two and three rotations old.
	cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = sm })
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.NewRing(map[string]keyring.Source{demo.Issuer: keyring.FromSecret(secretver.New(demo.SecretName, cache, sm))})
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(ring, []token.Issuer{{Issuer: demo.Issuer, Audiences: []string{demo.Audience}}})
	if err != nil {
		t.Fatal(err)
	}
	for label, tc := range map[string]struct {
		s  *signer.Signer
		ok bool
	}{
		"current (second rotation)": {afterSecond.Current, true},
		"previous (first rotation)": {afterSecond.Previous, true},
		"seeded current":            {seeded.Current, false},
		"seeded previous":           {seeded.Previous, false},
	} {
		tok, err := tc.s.Sign(demo.Claims("alice", "orders:read", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); (err == nil) != tc.ok {
			t.Fatalf("token signed by the %s key: err = %v, want accepted %v", label, err, tc.ok)
		}
	}

	// Steps retried through the binary: a finished version is a no-op, an
	// old one is refused with the rotation package's error type.
	for _, tc := range []struct {
		step, version, wantErr string
	}{
		{"finishSecret", r2.Token, ""},
		{"createSecret", r2.Token, ""},
		{"testSecret", r1.Token, "not labelled AWSPENDING"},
		{"createSecret", "55555555-5555-4555-8555-555555555555", "not a version of the secret"},
	} {
		res := invoke(t, rotator, mustJSON(t, rotatedriver.Event{Step: tc.step, SecretID: demo.SecretName, ClientRequestToken: tc.version}))
		switch {
		case tc.wantErr == "" && res.Err != nil:
			t.Fatalf("%s of %s: %v, want success", tc.step, tc.version, res.Err)
		case tc.wantErr != "" && (res.Err == nil || res.Err.Type != "StepError" || !strings.Contains(res.Err.Message, tc.wantErr)):
			t.Fatalf("%s of %s: %+v, want a StepError saying %q", tc.step, tc.version, res.Err, tc.wantErr)
		}
	}

	// The JWKS function publishes both public keys, and nothing private.
	jwks := startFunction(t, "jwks", build(t, "functions/jwks"), map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": m.Endpoint,
		"KEYS_SECRET_ID":                   demo.SecretName,
	})
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := os.ReadFile(filepath.Join(root, "events", "jwks", "http-get.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := invoke(t, jwks, ev)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Headers["Cache-Control"] != "public, max-age=300" {
		t.Fatalf("JWKS answer %d %v", resp.StatusCode, resp.Headers)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k["kid"].(string))
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Fatalf("the JWKS publishes %q of key %v", private, k["kid"])
			}
		}
	}
	if want := []string{afterSecond.Current.KeyID(), afterSecond.Previous.KeyID()}; !slices.Equal(kids, want) {
		t.Fatalf("JWKS kids %v, want %v", kids, want)
	}
}
