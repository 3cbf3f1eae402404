package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/signer"
)

// fakeSecrets is Secrets Manager for the three calls the seeding makes:
// CreateSecret makes the AWSCURRENT version, PutSecretValue a new
// AWSCURRENT one (the old one becomes AWSPREVIOUS).
type fakeSecrets struct {
	mu      sync.Mutex
	secrets map[string][]string // name → values, oldest first
	creates int
}

func newFakeSecrets() *fakeSecrets { return &fakeSecrets{secrets: map[string][]string{}} }

func (f *fakeSecrets) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates++
	name := aws.ToString(in.Name)
	if _, ok := f.secrets[name]; ok {
		return nil, &smtypes.ResourceExistsException{Message: aws.String("exists")}
	}
	f.secrets[name] = []string{aws.ToString(in.SecretString)}
	return &secretsmanager.CreateSecretOutput{Name: in.Name}, nil
}

func (f *fakeSecrets) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.SecretId)
	if _, ok := f.secrets[name]; !ok {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no such secret")}
	}
	f.secrets[name] = append(f.secrets[name], aws.ToString(in.SecretString))
	return &secretsmanager.PutSecretValueOutput{}, nil
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.secrets[aws.ToString(in.SecretId)]
	i := len(vs) - 1
	if aws.ToString(in.VersionStage) == "AWSPREVIOUS" {
		i--
	}
	if i < 0 {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no such version")}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(vs[i])}, nil
}

// snapshot is a credential.Reader over the fake's two versions.
type snapshot struct{ s secretver.Snapshot }

func (r snapshot) Get(context.Context) (secretver.Snapshot, error) { return r.s, nil }
func (r snapshot) Refresh(context.Context) (secretver.Snapshot, bool, error) {
	return r.s, false, nil
}
func (r snapshot) SecretID() string { return "demo" }

func TestSeedCredentials(t *testing.T) {
	ctx := context.Background()
	sm := newFakeSecrets()
	dir := filepath.Join(t.TempDir(), "data") // created by the seeding
	const id = "guard-local-request-credentials"
	c, err := demo.SeedCredentials(ctx, sm, id, dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretID != id || c.KeyID != "partner-a" || c.ClientID != "ops" {
		t.Errorf("SecretID, KeyID, ClientID = %q, %q, %q; want %q, partner-a, ops", c.SecretID, c.KeyID, c.ClientID, id)
	}
	if len(c.Current.Key) != 32 || len(c.Previous.Key) != 32 || bytes.Equal(c.Current.Key, c.Previous.Key) {
		t.Errorf("keys of %d and %d bytes (equal: %v), want two different 32-byte keys", len(c.Current.Key), len(c.Previous.Key), bytes.Equal(c.Current.Key, c.Previous.Key))
	}
	if len(c.Current.ClientSecret) != 43 || c.Current.ClientSecret == c.Previous.ClientSecret {
		t.Errorf("client secrets %q, %q: want two different generated secrets", c.Current.ClientSecret, c.Previous.ClientSecret)
	}

	// The secret: AWSPREVIOUS, then AWSCURRENT, each a valid document whose
	// keys and client hashes are the returned material.
	vs := sm.secrets[id]
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
	store := credential.NewStore(snapshot{secretver.Snapshot{Generation: 1, Fetched: time.Now(), Versions: []secretver.Version{
		{ID: "v2", Stage: secretver.StageCurrent, Value: vs[1]},
		{ID: "v1", Stage: secretver.StagePrevious, Value: vs[0]},
	}}})
	keys, err := store.HMACKeys(ctx, "partner-a")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0].Secret, c.Current.Key) || !bytes.Equal(keys[1].Secret, c.Previous.Key) {
		t.Fatalf("HMACKeys(partner-a) = %d keys, %v; want the current then the previous key", len(keys), err)
	}
	// Each version's partner has a usage key (an API key value: 20 to 128
	// characters), the one returned.
	if keys[0].UsageKey != c.Current.UsageKey || keys[1].UsageKey != c.Previous.UsageKey ||
		len(c.Current.UsageKey) < 20 || len(c.Current.UsageKey) > 128 || c.Current.UsageKey == c.Previous.UsageKey {
		t.Errorf("usage keys %q, %q in the secret, %q, %q returned; want two different API key values",
			keys[0].UsageKey, keys[1].UsageKey, c.Current.UsageKey, c.Previous.UsageKey)
	}
	for _, tc := range []struct {
		secret, stage string
	}{{c.Current.ClientSecret, secretver.StageCurrent}, {c.Previous.ClientSecret, secretver.StagePrevious}} {
		if got, err := store.Authenticate(ctx, "ops", tc.secret); err != nil || got.Stage != tc.stage {
			t.Errorf("Authenticate(ops) = %+v, %v; want the %s version", got, err, tc.stage)
		}
	}
	if _, err := store.Authenticate(ctx, "ops", "not-the-ops-secret-0123456789"); !errors.Is(err, credential.ErrBadCredentials) {
		t.Errorf("Authenticate(ops, wrong) = %v, want ErrBadCredentials", err)
	}
	for _, name := range []string{"previous.credentials.json", "current.credentials.json"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	key, err := demo.HMACKey(ctx, sm, id, "partner-a")
	if err != nil || !bytes.Equal(key, c.Current.Key) {
		t.Errorf("HMACKey(partner-a) = %x, %v; want the current key", key, err)
	}
	if _, err := demo.HMACKey(ctx, sm, id, "partner-b"); err == nil || !strings.Contains(err.Error(), `"partner-b"`) {
		t.Errorf("HMACKey(partner-b) = %v, want an error naming the keyid", err)
	}

	// Seeding again leaves the secret as it is; a new Secrets Manager (a
	// restarted moto) gets the same versions from the data folder.
	again, err := demo.SeedCredentials(ctx, sm, id, dir)
	if err != nil || len(sm.secrets[id]) != 2 || again.Current.ClientSecret != c.Current.ClientSecret {
		t.Errorf("second seed: %v, %d versions; want the same credentials, 2 versions", err, len(sm.secrets[id]))
	}
	fresh := newFakeSecrets()
	restarted, err := demo.SeedCredentials(ctx, fresh, id, dir)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.secrets[id][0] != vs[0] || fresh.secrets[id][1] != vs[1] || !bytes.Equal(restarted.Current.Key, c.Current.Key) {
		t.Error("after a restart the secret's versions differ from the first ones")
	}
}

func TestSeedCredentialsLeavesOtherSecrets(t *testing.T) {
	ctx := context.Background()
	sm := newFakeSecrets()
	const other = `{"hmac":{},"clients":{}}`
	sm.secrets["creds"] = []string{other}
	if _, err := demo.SeedCredentials(ctx, sm, "creds", t.TempDir()); !errors.Is(err, demo.ErrOtherCredentials) {
		t.Errorf("seed over another document: %v, want ErrOtherCredentials", err)
	}
	if len(sm.secrets["creds"]) != 1 || sm.secrets["creds"][0] != other {
		t.Errorf("the existing secret changed: %q", sm.secrets["creds"])
	}
}

func TestSeedCredentialsRefusesABrokenFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "previous.credentials.json"), []byte(`{"secretString":"{}","clientSecret":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sm := newFakeSecrets()
	_, err := demo.SeedCredentials(context.Background(), sm, "creds", dir)
	if err == nil || !strings.Contains(err.Error(), "previous.credentials.json") || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("seed with a broken file: %v, want an error naming the file", err)
	}
	if sm.creates != 0 {
		t.Errorf("%d CreateSecret calls, want none", sm.creates)
	}
}

// TestSeedCredentialsAddsAUsageKey: a data folder saved before demo
// partners had a usage key gets one; the HMAC key and the client secret
// stay, and the file is saved with it.
func TestSeedCredentialsAddsAUsageKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := demo.SeedCredentials(ctx, newFakeSecrets(), "creds", dir)
	if err != nil {
		t.Fatal(err)
	}
	// Take the usage key out of the saved current version, as older files are.
	p := filepath.Join(dir, "current.credentials.json")
	var f map[string]string
	b, err := os.ReadFile(p)
	if err != nil || json.Unmarshal(b, &f) != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	doc, err := credential.Parse([]byte(f["secretString"]))
	if err != nil {
		t.Fatal(err)
	}
	e := doc.HMAC["partner-a"]
	e.UsageKey = ""
	doc.HMAC["partner-a"] = e
	old, _ := json.Marshal(doc)
	f["secretString"] = string(old)
	b, _ = json.Marshal(f)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}

	// A local Secrets Manager that kept running holds the old current
	// version: it gets the upgraded versions put into it.
	kept := newFakeSecrets()
	kept.secrets["creds"] = []string{"previous-version-placeholder", string(old)}
	again, err := demo.SeedCredentials(ctx, kept, "creds", dir)
	if err != nil {
		t.Fatal(err)
	}
	if vs := kept.secrets["creds"]; len(vs) != 4 || vs[3] == string(old) || !strings.Contains(vs[3], again.Current.UsageKey) {
		t.Errorf("the kept secret's versions after the upgrade: %d, current has the new usage key %v; want the upgraded pair put",
			len(vs), len(vs) == 4 && strings.Contains(vs[3], again.Current.UsageKey))
	}
	if again.Current.UsageKey == "" || again.Current.UsageKey == c.Current.UsageKey ||
		!bytes.Equal(again.Current.Key, c.Current.Key) || again.Current.ClientSecret != c.Current.ClientSecret {
		t.Errorf("upgraded current version: usage key %q (was %q), same HMAC key %v, same client secret %v; want a new usage key and the rest kept",
			again.Current.UsageKey, c.Current.UsageKey, bytes.Equal(again.Current.Key, c.Current.Key), again.Current.ClientSecret == c.Current.ClientSecret)
	}
	if again.Previous.UsageKey != c.Previous.UsageKey {
		t.Errorf("previous version's usage key changed: %q, was %q", again.Previous.UsageKey, c.Previous.UsageKey)
	}
	third, err := demo.SeedCredentials(ctx, newFakeSecrets(), "creds", dir)
	if err != nil || third.Current.UsageKey != again.Current.UsageKey {
		t.Errorf("third seed: usage key %q, %v; want the saved %q", third.Current.UsageKey, err, again.Current.UsageKey)
	}
}

// TestSaveKeysAfterARotation: the rotated versions replace the seeded key
// files, so that a new Secrets Manager seeded from the data folder (a
// restarted local stack) serves the rotated keys.
func TestSaveKeysAfterARotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sm := newFakeSecrets()
	first, err := demo.Seed(ctx, sm, dir)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := signer.Generate(demo.Alg, 0)
	if err != nil {
		t.Fatal(err)
	}
	sm.secrets[demo.SecretName] = append(sm.secrets[demo.SecretName], string(rotated)) // what a rotation leaves
	if err := demo.SaveKeys(ctx, sm, dir); err != nil {
		t.Fatal(err)
	}
	restarted, err := demo.Seed(ctx, newFakeSecrets(), dir)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := signer.New(rotated)
	if restarted.Current.KeyID() != want.KeyID() || restarted.Previous.KeyID() != first.Current.KeyID() {
		t.Errorf("after a restart: AWSCURRENT %s, AWSPREVIOUS %s; want the rotated %s and the former current %s",
			restarted.Current.KeyID(), restarted.Previous.KeyID(), want.KeyID(), first.Current.KeyID())
	}
	for _, name := range []string{"current.jwks.json", "previous.jwks.json"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", name, err, st.Mode().Perm())
		}
	}

	// A version that is not a signing key changes nothing.
	sm.secrets[demo.SecretName] = append(sm.secrets[demo.SecretName], `{"note":"not a key"}`)
	if err := demo.SaveKeys(ctx, sm, dir); err == nil {
		t.Error("SaveKeys saved a version that is not a signing key")
	}
	again, err := demo.Seed(ctx, newFakeSecrets(), dir)
	if err != nil || again.Current.KeyID() != want.KeyID() {
		t.Errorf("after a refused save: %v, current %v; want the rotated key kept", err, again)
	}
}
