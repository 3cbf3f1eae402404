package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// knownFolders are functions whose source folder is not their kebab-case
// logical id.
var knownFolders = map[string]string{}

// lockedBuffer collects the access log while the gateway writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// entries returns the access-log lines so far, waiting until there are n.
func (l *lockedBuffer) entries(t *testing.T, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		text := strings.TrimSpace(l.b.String())
		l.mu.Unlock()
		var out []map[string]any
		for _, line := range strings.Split(text, "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["requestId"] != nil && e["authorizerCache"] != nil {
				out = append(out, e)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			if len(out) < n {
				t.Fatalf("%d access-log entries, want %d", len(out), n)
			}
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEndToEnd builds the functions, starts the stack in process as
// cmd/localgw does, and drives it with real HTTP requests and real SDK
// clients. cmd/localgw's e2e_test.go runs the built binary itself.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if !moto.Available() {
		t.Skip("moto_server not found (pip install \"moto[server]\")")
	}
	if _, err := procs.Tool("RIE", "aws-lambda-rie"); err != nil {
		t.Skip("aws-lambda-rie not found (make tools)")
	}
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmplPath := filepath.Join(root, "template.yaml")
	tmpl, err := samtemplate.Load(tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	build := t.TempDir()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := stack.Config{Template: tmplPath, Addr: "127.0.0.1:" + strconv.Itoa(port), BuildDir: build, DataDir: t.TempDir(),
		Folders: map[string]string{}}
	for _, id := range tmpl.FunctionIDs() {
		folder := stack.Folder(id)
		src := sourceDir(root, folder)
		if src == "" && knownFolders[id] != "" {
			folder = knownFolders[id]
			src = sourceDir(root, folder)
			cfg.Folders[id] = folder
		}
		if src == "" {
			t.Logf("%s: no source folder %q; not built", id, folder)
			continue
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(build, folder, "bootstrap"), src)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", id, err, out)
		}
	}

	access := &lockedBuffer{}
	cfg.AccessLog = access
	logs := &lockedBuffer{}
	cfg.Log = logs
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("stack output:\n%s", logs.b.String())
			logs.mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	var pids []int
	for _, id := range tmpl.FunctionIDs() {
		if fn := s.Function(id); fn != nil {
			pids = append(pids, fn.PID())
		}
	}
	defer func() {
		s.Close()
		for _, pid := range pids {
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("emulator %d still running after Close", pid)
			}
		}
	}()
	tok, err := s.MintTokens(time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	call := func(method, path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	check := func(name, method, path, token string, status int, bodyHas string) {
		t.Helper()
		got, body := call(method, path, token)
		if got != status || !strings.Contains(body, bodyHas) {
			t.Errorf("%s: %s %s = %d %s, want %d with %q", name, method, path, got, body, status, bodyHas)
		}
	}

	check("REST allow", "GET", "/restapi/dev/orders", tok.Allow, 200, `"principalId": "alice"`)
	check("REST no token", "GET", "/restapi/dev/orders", "", 401, `{"message":"Unauthorized"}`)
	check("REST bad token", "GET", "/restapi/dev/orders", "not.a.token", 401, `{"message":"Unauthorized"}`)
	check("REST token without the scope", "GET", "/restapi/dev/orders", tok.NoScope, 403, `User is not authorized to access this resource`)
	check("REST cached policy reused on another route", "GET", "/restapi/dev/orders/7", tok.Allow, 200, `"id": "7"`)
	e := access.entries(t, 5)
	if e[0]["authorizerCache"] != "miss" || e[4]["authorizerCache"] != "hit" {
		t.Errorf("authorizer cache: first %v, fifth %v; want miss then hit (the policy covers every route)", e[0]["authorizerCache"], e[4]["authorizerCache"])
	}

	cfgAWS := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	rest := apigateway.NewFromConfig(cfgAWS, func(o *apigateway.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
		RestApiId: aws.String("restapi"), StageName: aws.String("dev")}); err != nil {
		t.Fatalf("FlushStageAuthorizersCache: %v", err)
	}
	check("REST after flush", "GET", "/restapi/dev/orders/7", tok.Allow, 200, `"principalId": "alice"`)
	if e := access.entries(t, 6); e[5]["authorizerCache"] != "miss" {
		t.Errorf("after FlushStageAuthorizersCache the cache said %v, want miss", e[5]["authorizerCache"])
	}

	// The demo request credentials: the client secret of either version of
	// the seeded secret passes the request authorizer.
	if s.Credentials == nil || s.Credentials.SecretID != "guard-local-request-credentials" {
		t.Fatalf("request credentials seeded: %v, want them in guard-local-request-credentials", s.Credentials != nil)
	}
	for stage, secret := range map[string]string{"AWSCURRENT": s.Credentials.Current.ClientSecret, "AWSPREVIOUS": s.Credentials.Previous.ClientSecret} {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/restapi/dev/admin/audit", nil)
		req.SetBasicAuth(s.Credentials.ClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"secretStage": "`+stage+`"`) {
			t.Errorf("admin audit with the %s client secret = %d %s, want 200 from that version", stage, resp.StatusCode, b)
		}
	}

	check("HTTP allow", "GET", "/httpapi/dev/orders", tok.Allow, 200, `"api": "HTTP"`)
	check("HTTP no token", "GET", "/httpapi/dev/orders", "", 401, `{"message":"Unauthorized"}`)
	check("HTTP token without the scope", "GET", "/httpapi/dev/orders", tok.NoScope, 403, `{"message":"Forbidden"}`)
	v2 := apigatewayv2.NewFromConfig(cfgAWS, func(o *apigatewayv2.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := v2.ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{
		ApiId: aws.String("httpapi"), StageName: aws.String("dev")}); err != nil {
		t.Fatalf("ResetAuthorizersCache: %v", err)
	}

	// A crashed function answers 502 once, then is back.
	backend := s.Function("EchoBackendFunction")
	if backend == nil {
		t.Fatal("EchoBackendFunction is not running")
	}
	if err := syscall.Kill(-backend.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, backend.Running)
	check("crashed backend", "GET", "/restapi/dev/orders", tok.Allow, 502, `{"message":"Internal server error"}`)
	check("restarted backend", "GET", "/restapi/dev/orders", tok.Allow, 200, `"principalId": "alice"`)
	pids = append(pids, backend.PID())
}

func waitExit(t *testing.T, running func() bool) {
	t.Helper()
	for i := 0; i < 200 && running(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if running() {
		t.Fatal("the killed emulator still runs")
	}
}

func sourceDir(root, folder string) string {
	for _, parent := range []string{"functions", "examples"} {
		if st, err := os.Stat(filepath.Join(root, parent, folder)); err == nil && st.IsDir() {
			return "./" + parent + "/" + folder
		}
	}
	return ""
}
