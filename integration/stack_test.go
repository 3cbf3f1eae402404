//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/rie"
)

// build compiles a function folder into dir and returns the binary's path.
func build(t *testing.T, pkg string) string {
	t.Helper()
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "./"+pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func needTools(t *testing.T) {
	t.Helper()
	if !moto.Available() {
		t.Skip("moto_server not installed (pip install \"moto[server]\")")
	}
	if _, err := procs.Tool("RIE", "aws-lambda-rie"); err != nil {
		t.Skip("aws-lambda-rie not installed (make tools)")
	}
}

func startMoto(t *testing.T) *moto.Server {
	t.Helper()
	m, err := moto.Start(context.Background(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

func startFunction(t *testing.T, name, binary string, env map[string]string) *rie.Function {
	t.Helper()
	f, err := rie.Start(context.Background(), rie.Config{Name: name, Binary: binary, Env: env, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// testLog sends the emulator's output to the test log (shown on failure or -v).
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }

// invoke sends payload and returns the function's answer.
func invoke(t *testing.T, f *rie.Function, payload []byte) rie.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
