//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/procs"
)

// partnerClient is the partner's signing client, written here from RFC
// 9421 and RFC 9530 alone (not with package httpsig), so the test checks
// the authorizer against an independent implementation.
type partnerClient struct {
	gateway string // http://127.0.0.1:PORT
	keyID   string
	key     atomic.Pointer[[]byte]
}

// post sends body to POST {api}/dev{path}, signed over @method, @authority,
// @path, content-digest and content-type. @path is the path as API Gateway
// reports it (/dev/...): on AWS that is the path the client sends to the
// execute-api host; the local gateway adds the API id in front.
func (s *partnerClient) post(t *testing.T, api, path string, body []byte) (int, string, http.Header) {
	t.Helper()
	u, _ := url.Parse(s.gateway)
	sum := sha256.Sum256(body)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	params := `("@method" "@authority" "@path" "content-digest" "content-type");created=` +
		strconv.FormatInt(time.Now().Unix(), 10) + `;keyid="` + s.keyID + `";alg="hmac-sha256";nonce="` + hex.EncodeToString(nonce) + `"`
	base := strings.Join([]string{
		`"@method": POST`,
		`"@authority": ` + u.Host,
		`"@path": /dev` + path,
		`"content-digest": ` + digest,
		`"content-type": application/json`,
		`"@signature-params": ` + params,
	}, "\n")
	m := hmac.New(sha256.New, *s.key.Load())
	m.Write([]byte(base))
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Digest", digest)
	h.Set("Signature-Input", "sig1="+params)
	h.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(m.Sum(nil))+":")
	code, resp := send(t, http.MethodPost, s.gateway+"/"+api+"/dev"+path, h, body)
	return code, resp, h
}

func send(t *testing.T, method, target string, h http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, target, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func basicHeader(id, secret string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	h.Set("Content-Type", "application/json")
	return h
}

// TestRequestAuthorizerThroughGateway starts the local gateway on a small
// template (integration/testdata/request-authorizer.yaml) and calls the
// protected routes with a signing client before, during and after two
// rotations of the credentials secret: every request signed with a key
// that is AWSCURRENT or AWSPREVIOUS when it is sent must pass.
func TestRequestAuthorizerThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	needTools(t)
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	m := startMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sm := demo.LocalSecrets(m.Endpoint)
	keys := [][]byte{bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32), bytes.Repeat([]byte{0x33}, 32), bytes.Repeat([]byte{0x44}, 32)}
	secrets := []string{"ops-secret-0-0123456789", "ops-secret-1-0123456789", "ops-secret-2-0123456789", "ops-secret-3-0123456789"}
	put := func(i int) {
		t.Helper()
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(raSecret), SecretString: aws.String(credentialsDoc(t, keys[i], secrets[i]))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(raSecret),
		SecretString: aws.String(credentialsDoc(t, keys[0], secrets[0]))}); err != nil {
		t.Fatal(err)
	}
	put(1) // AWSPREVIOUS: version 0, AWSCURRENT: version 1

	buildDir := t.TempDir()
	for folder, src := range map[string]string{"request-authorizer": "./functions/request-authorizer", "echo-backend": "./examples/echo-backend"} {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(buildDir, folder, "bootstrap"), src)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", folder, err, out)
		}
	}
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedLog{}
	s, err := stack.Start(ctx, stack.Config{
		Template: filepath.Join(root, "integration", "testdata", "request-authorizer.yaml"),
		Addr:     "127.0.0.1:" + strconv.Itoa(port), BuildDir: buildDir, DataDir: t.TempDir(),
		AWSEndpoint: m.Endpoint, Log: logs,
	})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	defer s.Close()
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("stack output:\n%s", logs.b.String())
			logs.mu.Unlock()
		}
	})

	client := &partnerClient{gateway: s.URL, keyID: "partner-a"}
	client.key.Store(&keys[1])
	var opsSecret atomic.Pointer[string]
	opsSecret.Store(&secrets[1])

	// The partner's traffic: signed webhooks on the REST and HTTP APIs and
	// admin calls with client credentials, until stop is closed.
	type call struct {
		what   string
		status int
		body   string
	}
	var (
		mu    sync.Mutex
		calls []call
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		body := []byte(`{"order":42,"items":[{"sku":"A-1","qty":2}]}`)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var c call
			switch i % 3 {
			case 0:
				c.status, c.body, _ = client.post(t, "restapi", "/webhooks/orders", body)
				c.what = "REST signed webhook"
			case 1:
				c.status, c.body, _ = client.post(t, "httpapi", "/webhooks/orders", body)
				c.what = "HTTP signed webhook"
			case 2:
				c.status, c.body = send(t, http.MethodPost, s.URL+"/restapi/dev/admin/users", basicHeader("ops", *opsSecret.Load()), body)
				c.what = "REST admin with credentials"
			}
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	time.Sleep(time.Second) // before
	for _, next := range []int{2, 3} {
		put(next) // during: the client still uses the key that just became AWSPREVIOUS
		time.Sleep(700 * time.Millisecond)
		client.key.Store(&keys[next]) // then switches to the new AWSCURRENT
		opsSecret.Store(&secrets[next])
		time.Sleep(1500 * time.Millisecond) // after
	}
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 30 {
		t.Fatalf("only %d calls made", len(calls))
	}
	falseDenies := 0
	for i, c := range calls {
		if c.status != http.StatusOK {
			falseDenies++
			t.Errorf("call %d (%s): %d %s", i, c.what, c.status, c.body)
		}
	}
	t.Logf("%d calls across two rotations, %d false denies", len(calls), falseDenies)
	if !strings.Contains(calls[0].body, "partner-a") {
		t.Errorf("the backend did not get the principal: %s", calls[0].body)
	}

	// Controls: the refusals the rotations must bring.
	old := &partnerClient{gateway: s.URL, keyID: "partner-a"}
	old.key.Store(&keys[1]) // two rotations ago
	if code, body, _ := old.post(t, "restapi", "/webhooks/orders", []byte(`{}`)); code != http.StatusUnauthorized {
		t.Errorf("key of version 1 after two rotations: %d %s, want 401", code, body)
	}
	code, _, h := client.post(t, "restapi", "/webhooks/orders", []byte(`{}`))
	if code != http.StatusOK {
		t.Fatalf("fresh signature: %d", code)
	}
	if code, body := send(t, http.MethodPost, s.URL+"/restapi/dev/webhooks/orders", h, []byte(`{}`)); code != http.StatusUnauthorized {
		t.Errorf("replayed signature: %d %s, want 401", code, body)
	}
	if code, body := send(t, http.MethodPost, s.URL+"/restapi/dev/webhooks/orders", http.Header{"Content-Type": {"application/json"}}, []byte(`{}`)); code != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %d %s, want 401 (identity sources missing)", code, body)
	}
	if code, body := send(t, http.MethodGet, s.URL+"/restapi/dev/admin/audit", basicHeader("ops", secrets[3]), nil); code != http.StatusForbidden {
		t.Errorf("admin route outside its IP allow-list: %d %s, want 403", code, body)
	}
	if code, body := send(t, http.MethodPost, s.URL+"/restapi/dev/admin/users", basicHeader("ops", "not-the-secret-0123456789"), nil); code != http.StatusUnauthorized {
		t.Errorf("bad credentials: %d %s, want 401", code, body)
	}
}
