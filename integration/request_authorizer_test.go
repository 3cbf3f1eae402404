//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/policy"
)

const raSecret = "guard-local-request-credentials"

const raRoutes = `[{"route":"POST /webhooks/orders","accept":["signature"],"principals":["partner-a"]},
 {"route":"POST /admin/users","accept":["credentials"],"sourceIp":{"allow":["10.0.0.0/8"]}}]`

// raEvent reads a request-authorizer sample event and fills its
// placeholders.
func raEvent(t *testing.T, name string, values map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", "request-authorizer", name))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		j, _ := json.Marshal(v)
		b = bytes.ReplaceAll(b, []byte("{{"+k+"}}"), j[1:len(j)-1])
	}
	return b
}

// signedEvent is rest-signed.json signed now with key as partner-a.
func signedEvent(t *testing.T, key []byte, created time.Time) []byte {
	t.Helper()
	r := &httpsig.Request{Method: "POST", Authority: "abcdef1234.execute-api.us-east-1.amazonaws.com", Path: "/dev/webhooks/orders",
		Header: map[string]string{"content-digest": "sha-256=:KknMayu1UJ5bUZUHVXWRTpnjB37LSd6dQBljFF9EKa4=:", "content-type": "application/json"}}
	f, err := httpsig.Sign(r, "sig1", []string{"@method", "@authority", "@path", "content-digest", "content-type"},
		httpsig.Params{Created: created, KeyID: "partner-a", Alg: true}, key)
	if err != nil {
		t.Fatal(err)
	}
	return raEvent(t, "rest-signed.json", map[string]string{"signature-input": f.SignatureInput, "signature": f.Signature})
}

// credentialsEvent is rest-credentials.json from sourceIP.
func credentialsEvent(t *testing.T, id, secret, sourceIP string) []byte {
	t.Helper()
	b := raEvent(t, "rest-credentials.json", map[string]string{"basic": base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))})
	return bytes.Replace(b, []byte(`"sourceIp": "198.51.100.77"`), []byte(`"sourceIp": "`+sourceIP+`"`), 1)
}

// raDecide returns "allow", "deny", "unauthorized" or "error:<type>",
// evaluating the policy against the event's methodArn as API Gateway does.
func raDecide(t *testing.T, f *rie.Function, payload []byte) string {
	t.Helper()
	res := invoke(t, f, payload)
	if res.Err != nil {
		if res.Err.Message == "Unauthorized" {
			return "unauthorized"
		}
		return "error:" + res.Err.Type
	}
	var out struct {
		PrincipalID    string          `json:"principalId"`
		PolicyDocument json.RawMessage `json:"policyDocument"`
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("answer %s: %v", res.Payload, err)
	}
	doc, err := policy.ParseDocument(out.PolicyDocument)
	if err != nil {
		t.Fatalf("policy %s: %v", out.PolicyDocument, err)
	}
	var ev struct {
		MethodArn string `json:"methodArn"`
	}
	_ = json.Unmarshal(payload, &ev)
	if out.PrincipalID == "" {
		t.Fatalf("answer without principalId: %s", res.Payload)
	}
	if policy.Evaluate(doc, ev.MethodArn) == policy.Allow {
		return "allow"
	}
	return "deny"
}

func credentialsDoc(t *testing.T, key []byte, opsSecret string) string {
	t.Helper()
	e, err := credential.NewClientEntry(opsSecret, credential.MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(credential.Document{
		HMAC:    map[string]credential.HMACEntry{"partner-a": {Key: key}},
		Clients: map[string]credential.ClientEntry{"ops": e},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestAuthorizerUnderEmulator(t *testing.T) {
	needTools(t)
	m := startMoto(t)
	ctx := context.Background()
	sm := demo.LocalSecrets(m.Endpoint)
	key1, key2, key3 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	const secret1, secret2, secret3 = "ops-secret-one-0123456789", "ops-secret-two-0123456789", "ops-secret-three-012345678"
	// AWSPREVIOUS holds key1/secret1, AWSCURRENT key2/secret2.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(raSecret), SecretString: aws.String(credentialsDoc(t, key1, secret1))}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(raSecret), SecretString: aws.String(credentialsDoc(t, key2, secret2))}); err != nil {
		t.Fatal(err)
	}
	f := startFunction(t, "request-authorizer", build(t, "functions/request-authorizer"), map[string]string{
		"CREDENTIALS_SECRET_ID": raSecret, "ROUTES": raRoutes, "AWS_ENDPOINT_URL_SECRETS_MANAGER": m.Endpoint,
		"CREDENTIALS_REFRESH_COOLDOWN_SECONDS": "2",
	})
	check := func(name string, payload []byte, want string) {
		t.Helper()
		if got := raDecide(t, f, payload); got != want {
			t.Errorf("%s: decision = %s, want %s", name, got, want)
		}
	}
	now := time.Now()
	first := signedEvent(t, key2, now)
	check("signed with the AWSCURRENT key", first, "allow")
	check("signed with the AWSPREVIOUS key", signedEvent(t, key1, now.Add(-time.Second)), "allow")
	check("replayed signature", first, "unauthorized")
	check("signed with an unknown key", signedEvent(t, bytes.Repeat([]byte{9}, 32), now), "unauthorized")
	check("stale signature", signedEvent(t, key2, now.Add(-10*time.Minute)), "unauthorized")
	check("credentials (AWSCURRENT) from the admin network", credentialsEvent(t, "ops", secret2, "10.1.2.3"), "allow")
	check("credentials (AWSPREVIOUS) from the admin network", credentialsEvent(t, "ops", secret1, "10.1.2.3"), "allow")
	check("bad credentials", credentialsEvent(t, "ops", "not-the-secret-0123456789", "10.1.2.3"), "unauthorized")
	check("good credentials from outside the IP allow-list", credentialsEvent(t, "ops", secret2, "198.51.100.77"), "deny")

	t.Run("a new version put while running is accepted within the cool-down", func(t *testing.T) {
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(raSecret), SecretString: aws.String(credentialsDoc(t, key3, secret3))}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(6 * time.Second)
		for {
			got := raDecide(t, f, signedEvent(t, key3, time.Now()))
			if got == "allow" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the new AWSCURRENT key is still refused after 6 s (cool-down 2 s): %s", got)
			}
			time.Sleep(250 * time.Millisecond)
		}
		check("new client secret", credentialsEvent(t, "ops", secret3, "10.1.2.3"), "allow")
		// key2 is AWSPREVIOUS now; key1 (old-old) is gone.
		check("the former AWSCURRENT key", signedEvent(t, key2, time.Now().Add(-time.Second)), "allow")
		check("the old-old key", signedEvent(t, key1, time.Now().Add(-2*time.Second)), "unauthorized")
		check("the old-old client secret", credentialsEvent(t, "ops", secret1, "10.1.2.3"), "unauthorized")
	})

	t.Run("the decision log names no secret", func(t *testing.T) {
		// The emulator's output went to the test log; the function's own
		// log lines are checked in the unit tests. Here: the answer's
		// context carries no secret.
		res := invoke(t, f, credentialsEvent(t, "ops", secret3, "10.1.2.3"))
		if res.Err != nil || strings.Contains(string(res.Payload), secret3) || !strings.Contains(string(res.Payload), `"clientId":"ops"`) {
			t.Fatalf("answer %s, %+v", res.Payload, res.Err)
		}
	})
}
