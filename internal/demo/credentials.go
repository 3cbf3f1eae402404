package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/apigw-guard/guard/shared/credential"
)

// The demo request credentials: one partner that signs webhooks (RFC 9421)
// and one operator client with HTTP Basic credentials.
const (
	PartnerKeyID = "partner-a"
	OpsClientID  = "ops"
)

// The data-folder files of the two versions of the request credentials
// secret.
const (
	previousCredentialsFile = "previous.credentials.json"
	currentCredentialsFile  = "current.credentials.json"
)

// ErrOtherCredentials means the request credentials secret already holds a
// document that is not the demo one (a test or a person put it there):
// SeedCredentials leaves it alone, and the demo credentials would not work.
var ErrOtherCredentials = errors.New("the request credentials secret holds other credentials than the demo ones")

// CredentialVersion is the demo material of one version of the request
// credentials secret.
type CredentialVersion struct {
	// Key is PartnerKeyID's HMAC key.
	Key []byte
	// UsageKey is PartnerKeyID's usage_key: the API key value the request
	// authorizer returns as usageIdentifierKey, which the partner usage
	// plan's API key must have (the local gateway is given it).
	UsageKey string
	// ClientSecret is OpsClientID's secret, in clear: the secret itself
	// holds only its salted hash.
	ClientSecret string
}

// Credentials are the demo request credentials of the local stack.
type Credentials struct {
	// SecretID is the secret they are in (the request authorizer's
	// CREDENTIALS_SECRET_ID).
	SecretID string
	KeyID    string // PartnerKeyID
	ClientID string // OpsClientID
	// Current is the AWSCURRENT version, Previous the AWSPREVIOUS one; both
	// verify.
	Current, Previous CredentialVersion
}

// credentialFile is what the data folder keeps of one version: the exact
// SecretString and the client secret that SecretString holds only a hash of.
type credentialFile struct {
	SecretString string `json:"secretString"`
	ClientSecret string `json:"clientSecret"`
}

// SeedCredentials makes sure the request credentials secret secretID exists
// with an AWSPREVIOUS and an AWSCURRENT version of a demo document (an HMAC
// key and a usage key for PartnerKeyID, a client OpsClientID), and returns the demo
// material. As with [Seed], both versions are kept in dataDir (mode 0600) so
// that a restarted local Secrets Manager gets the same keys and secrets. An
// existing secret is left as it is; when its AWSCURRENT version is not the
// demo one, the error is [ErrOtherCredentials].
func SeedCredentials(ctx context.Context, sm SecretsAPI, secretID, dataDir string) (*Credentials, error) {
	prev, err := credentialsFile(dataDir, previousCredentialsFile)
	if err != nil {
		return nil, err
	}
	cur, err := credentialsFile(dataDir, currentCredentialsFile)
	if err != nil {
		return nil, err
	}
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(secretID),
		Description:  aws.String("guard local request credentials (demo)"),
		SecretString: aws.String(prev.file.SecretString),
	})
	var exists *smtypes.ResourceExistsException
	switch {
	case errors.As(err, &exists):
	case err != nil:
		return nil, fmt.Errorf("create secret %s: %w", secretID, err)
	default:
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(secretID), SecretString: aws.String(cur.file.SecretString),
		}); err != nil {
			return nil, fmt.Errorf("put current version of %s: %w", secretID, err)
		}
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(secretID), VersionStage: aws.String("AWSCURRENT"),
	})
	if err != nil {
		return nil, fmt.Errorf("read AWSCURRENT of %s: %w", secretID, err)
	}
	switch got := aws.ToString(out.SecretString); {
	case got == cur.file.SecretString:
	case cur.upgradedFrom != "" && got == cur.upgradedFrom:
		// A Secrets Manager that outlived the data folder's upgrade
		// (a moto kept running) still holds the versions without usage
		// keys: put the upgraded ones, previous then current.
		for _, v := range []string{prev.file.SecretString, cur.file.SecretString} {
			if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId: aws.String(secretID), SecretString: aws.String(v),
			}); err != nil {
				return nil, fmt.Errorf("put the upgraded demo credentials into %s: %w", secretID, err)
			}
		}
	default:
		return nil, fmt.Errorf("%s: %w", secretID, ErrOtherCredentials)
	}
	// Save upgraded files only now that the secret holds what they say.
	for _, f := range []struct {
		name string
		s    storedCredentials
	}{{previousCredentialsFile, prev}, {currentCredentialsFile, cur}} {
		if f.s.upgradedFrom != "" {
			if err := saveCredentialsFile(dataDir, f.name, f.s); err != nil {
				return nil, err
			}
		}
	}
	return &Credentials{
		SecretID: secretID, KeyID: PartnerKeyID, ClientID: OpsClientID,
		Current: cur.version, Previous: prev.version,
	}, nil
}

// HMACKey returns the HMAC key keyID names in the AWSCURRENT version of the
// request credentials secret secretID, for signing clients.
func HMACKey(ctx context.Context, sm SecretsAPI, secretID, keyID string) ([]byte, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(secretID), VersionStage: aws.String("AWSCURRENT"),
	})
	if err != nil {
		return nil, fmt.Errorf("read AWSCURRENT of %s: %w", secretID, err)
	}
	doc, err := credential.Parse([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return nil, fmt.Errorf("AWSCURRENT of %s: %w", secretID, err)
	}
	e, ok := doc.HMAC[keyID]
	if !ok {
		return nil, fmt.Errorf("AWSCURRENT of %s has no HMAC key %q", secretID, keyID)
	}
	return e.Key, nil
}

type storedCredentials struct {
	file    credentialFile
	version CredentialVersion
	// upgradedFrom is the SecretString the file held before a usage key
	// was added to it ("" if it was not); the file is not saved yet.
	upgradedFrom string
}

// credentialsFile reads one version's file from dir, or generates and saves
// a new one. A file saved before demo partners had a usage key gets one
// (the HMAC key and the client secret stay); SeedCredentials saves it once
// the secret holds it.
func credentialsFile(dir, name string) (storedCredentials, error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		s, err := parseCredentialsFile(b)
		if err != nil {
			return storedCredentials{}, fmt.Errorf("%s: %w (delete it to get new demo credentials)", p, err)
		}
		if s.version.UsageKey != "" {
			return s, nil
		}
		if s, err = withUsageKey(s); err != nil {
			return storedCredentials{}, fmt.Errorf("%s: %w", p, err)
		}
		return s, nil
	case !errors.Is(err, os.ErrNotExist):
		return storedCredentials{}, fmt.Errorf("read demo credentials: %w", err)
	}
	s, err := generateCredentials()
	if err != nil {
		return storedCredentials{}, err
	}
	return s, saveCredentialsFile(dir, name, s)
}

// saveCredentialsFile writes one version's file (mode 0600).
func saveCredentialsFile(dir, name string, s storedCredentials) error {
	b, err := json.MarshalIndent(s.file, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save demo credentials: %w", err)
	}
	return nil
}

// newUsageKey makes a demo API key value: API Gateway wants 20 to 128
// characters; this is 37.
func newUsageKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "demo-" + hex.EncodeToString(b), nil
}

// withUsageKey gives the partner of a stored version a new usage key.
func withUsageKey(s storedCredentials) (storedCredentials, error) {
	doc, err := credential.Parse([]byte(s.file.SecretString))
	if err != nil {
		return storedCredentials{}, err
	}
	if s.version.UsageKey, err = newUsageKey(); err != nil {
		return storedCredentials{}, err
	}
	e := doc.HMAC[PartnerKeyID]
	e.UsageKey = s.version.UsageKey
	doc.HMAC[PartnerKeyID] = e
	b, err := json.Marshal(doc)
	if err != nil {
		return storedCredentials{}, err
	}
	s.upgradedFrom, s.file.SecretString = s.file.SecretString, string(b)
	return s, nil
}

// generateCredentials makes a new demo document: 32 random bytes of HMAC
// key with a usage key, a generated client secret and its hash.
func generateCredentials() (storedCredentials, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return storedCredentials{}, err
	}
	secret, err := credential.GenerateSecret()
	if err != nil {
		return storedCredentials{}, err
	}
	entry, err := credential.NewClientEntry(secret, 0)
	if err != nil {
		return storedCredentials{}, err
	}
	usage, err := newUsageKey()
	if err != nil {
		return storedCredentials{}, err
	}
	doc, err := json.Marshal(credential.Document{
		HMAC:    map[string]credential.HMACEntry{PartnerKeyID: {Key: key, UsageKey: usage}},
		Clients: map[string]credential.ClientEntry{OpsClientID: entry},
	})
	if err != nil {
		return storedCredentials{}, err
	}
	return storedCredentials{
		file:    credentialFile{SecretString: string(doc), ClientSecret: secret},
		version: CredentialVersion{Key: key, UsageKey: usage, ClientSecret: secret},
	}, nil
}

// parseCredentialsFile checks a stored version: its document must be a
// valid credentials secret with the demo key and client.
func parseCredentialsFile(b []byte) (storedCredentials, error) {
	var f credentialFile
	if err := json.Unmarshal(b, &f); err != nil {
		return storedCredentials{}, err
	}
	doc, err := credential.Parse([]byte(f.SecretString))
	if err != nil {
		return storedCredentials{}, err
	}
	k, ok := doc.HMAC[PartnerKeyID]
	if _, client := doc.Clients[OpsClientID]; !ok || !client || f.ClientSecret == "" {
		return storedCredentials{}, fmt.Errorf("want an HMAC key %q, a client %q and its clientSecret", PartnerKeyID, OpsClientID)
	}
	return storedCredentials{file: f, version: CredentialVersion{Key: k.Key, UsageKey: k.UsageKey, ClientSecret: f.ClientSecret}}, nil
}
