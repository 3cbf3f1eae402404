// Package demo seeds the local stack's signing-key secret and mints demo
// tokens with it, and seeds the request authorizer's credentials secret
// with a demo partner key and client (see [SeedCredentials]). It is
// developer tooling: never deployed.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/shared/signer"
)

// The local stack's names; they match template.yaml resolved with the stack
// name "guard-local" and the parameters' defaults.
const (
	SecretName = "guard-local-signing-keys"
	Issuer     = "https://auth.example.com"
	Audience   = "api://guard-demo"
	// Alg is the demo keys' algorithm.
	Alg = "ES256"
)

// SecretsAPI is the part of the Secrets Manager client Seed uses.
type SecretsAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Keys holds the signers of the secret's AWSCURRENT and AWSPREVIOUS versions.
type Keys struct {
	Current  *signer.Signer
	Previous *signer.Signer // nil when the secret has no AWSPREVIOUS version
}

// Seed makes sure the signing-key secret exists with an AWSPREVIOUS and an
// AWSCURRENT version, and returns their signers. The two key sets are kept
// in dataDir so that a restarted local Secrets Manager gets the same keys and
// tokens minted before the restart still verify. An existing secret is left
// as it is (it may have been rotated).
func Seed(ctx context.Context, sm SecretsAPI, dataDir string) (*Keys, error) {
	prev, err := keyFile(dataDir, "previous.jwks.json")
	if err != nil {
		return nil, err
	}
	cur, err := keyFile(dataDir, "current.jwks.json")
	if err != nil {
		return nil, err
	}
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(SecretName),
		Description:  aws.String("guard local signing keys (demo)"),
		SecretString: aws.String(string(prev)),
	})
	var exists *smtypes.ResourceExistsException
	switch {
	case errors.As(err, &exists):
	case err != nil:
		return nil, fmt.Errorf("create secret %s: %w", SecretName, err)
	default:
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(SecretName), SecretString: aws.String(string(cur)),
		}); err != nil {
			return nil, fmt.Errorf("put current version of %s: %w", SecretName, err)
		}
	}
	return Load(ctx, sm)
}

// SaveKeys writes the signing-key secret's AWSCURRENT and AWSPREVIOUS
// versions to dataDir, where [Seed] reads them: after a rotation, so that a
// restarted local Secrets Manager gets the rotated keys (and tokens minted
// with them still verify) instead of the ones seeded first. Each file is
// replaced whole (written aside, then renamed), mode 0600. It changes
// nothing unless both versions are signing keys.
func SaveKeys(ctx context.Context, sm SecretsAPI, dataDir string) error {
	values := map[string]string{}
	for _, stage := range []string{"AWSCURRENT", "AWSPREVIOUS"} {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(SecretName), VersionStage: aws.String(stage),
		})
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", stage, SecretName, err)
		}
		if _, err := signer.New([]byte(aws.ToString(out.SecretString))); err != nil {
			return fmt.Errorf("%s of %s: %w", stage, SecretName, err)
		}
		values[stage] = aws.ToString(out.SecretString)
	}
	// Both files are written aside first, then renamed current first: an
	// interruption leaves at worst the rotated current with the old
	// previous, which still verifies the newest tokens.
	files := []struct{ name, stage string }{{"current.jwks.json", "AWSCURRENT"}, {"previous.jwks.json", "AWSPREVIOUS"}}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dataDir, f.name+".tmp"), []byte(values[f.stage]), 0o600); err != nil {
			return fmt.Errorf("save demo key: %w", err)
		}
	}
	for _, f := range files {
		p := filepath.Join(dataDir, f.name)
		if err := os.Rename(p+".tmp", p); err != nil {
			return fmt.Errorf("save demo key: %w", err)
		}
	}
	return nil
}

// Load returns the signers of the secret's current and previous versions.
func Load(ctx context.Context, sm SecretsAPI) (*Keys, error) {
	var k Keys
	for _, stage := range []string{"AWSCURRENT", "AWSPREVIOUS"} {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(SecretName), VersionStage: aws.String(stage),
		})
		var nf *smtypes.ResourceNotFoundException
		if stage == "AWSPREVIOUS" && errors.As(err, &nf) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s of %s: %w", stage, SecretName, err)
		}
		s, err := signer.New([]byte(aws.ToString(out.SecretString)))
		if err != nil {
			return nil, fmt.Errorf("%s of %s: %w", stage, SecretName, err)
		}
		if stage == "AWSCURRENT" {
			k.Current = s
		} else {
			k.Previous = s
		}
	}
	return &k, nil
}

func keyFile(dir, name string) ([]byte, error) {
	p := filepath.Join(dir, name)
	if b, err := os.ReadFile(p); err == nil {
		return b, nil
	}
	b, err := signer.Generate(Alg, 0)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, fmt.Errorf("save demo key: %w", err)
	}
	return b, nil
}

// Claims returns the standard claims of a demo token for sub with the given
// scopes and lifetime; callers may add or override claims.
func Claims(sub string, scope string, ttl time.Duration) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": Issuer, "aud": Audience, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
		"jti": fmt.Sprintf("%s-%d", sub, now.UnixNano()),
	}
	if scope != "" {
		c["scope"] = scope
	}
	return c
}

// Mint signs claims with the current key.
func (k *Keys) Mint(claims map[string]any, ttl time.Duration) (string, error) {
	c := make(map[string]any, len(claims)+2)
	now := time.Now()
	c["iat"], c["exp"] = now.Unix(), now.Add(ttl).Unix()
	for key, v := range claims {
		c[key] = v
	}
	return k.Current.Sign(c)
}

// LocalSecrets returns a Secrets Manager client for a local endpoint (moto),
// with dummy credentials.
func LocalSecrets(endpoint string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}
