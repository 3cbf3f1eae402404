//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/procs"
)

// lockedLog collects the stack's output and shows it when a test fails.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// startStack runs the whole local stack from the repository's template with
// the binaries `make build` wrote, as `make run` does.
// overrides maps a function's logical id to environment overrides, like
// `sam local invoke --env-vars`.
func startStack(t *testing.T, params map[string]string, overrides map[string]map[string]string) *stack.Stack {
	t.Helper()
	needTools(t)
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "build", "token-authorizer", "bootstrap")); err != nil {
		t.Fatal("function binaries missing: run `make build` (make test-integration does)")
	}
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ovr := filepath.Join(t.TempDir(), "overrides.json")
	b, _ := json.Marshal(overrides)
	if err := os.WriteFile(ovr, b, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedLog{}
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			out := logs.b.String()
			logs.mu.Unlock()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("stack output (tail):\n%s", out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Config{
		Template: filepath.Join(root, "template.yaml"), Addr: "127.0.0.1:" + strconv.Itoa(port),
		BuildDir: filepath.Join(root, "build"), DataDir: t.TempDir(), Parameters: params,
		Overrides: ovr, Log: logs,
	})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// get calls the local gateway and returns the status and body.
func get(t *testing.T, s *stack.Stack, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
