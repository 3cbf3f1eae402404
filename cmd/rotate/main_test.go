package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/stackfile"
	"github.com/apigw-guard/guard/shared/signer"
)

// TestRotateKeepsKeysForTheNextStart: `make rotate` rotates the local
// stack's signing-key secret through the real key-rotator under the
// emulator, and the data folder then holds the rotated versions, so that a
// restarted stack (a new moto seeded from it) serves the rotated keys.
func TestRotateKeepsKeysForTheNextStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs moto and the key rotator under the emulator")
	}
	if !moto.Available() {
		t.Skip(`moto_server not found (pip install "moto[server]")`)
	}
	if _, err := procs.Tool("RIE", "aws-lambda-rie"); err != nil {
		t.Skip("aws-lambda-rie not found (make tools)")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../../functions/key-rotator")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the key rotator: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := moto.Start(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	dir := t.TempDir()
	sm := demo.LocalSecrets(m.Endpoint)
	seeded, err := demo.Seed(ctx, sm, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := stackfile.Write(dir, stackfile.Stack{Moto: m.Endpoint}); err != nil {
		t.Fatal(err)
	}

	stdout := os.Stdout
	devnull, _ := os.Open(os.DevNull)
	os.Stdout = devnull // run prints the result
	err = run(ctx, options{data: dir, secret: demo.SecretName, binary: bin, keyType: demo.Alg, functionARN: "arn:aws:lambda:us-east-1:123456789012:function:key-rotator"})
	os.Stdout = stdout
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}

	rotated, err := demo.Load(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Current.KeyID() == seeded.Current.KeyID() || rotated.Previous.KeyID() != seeded.Current.KeyID() {
		t.Fatalf("after the rotation: AWSCURRENT %s, AWSPREVIOUS %s; want a new key and the seeded current %s",
			rotated.Current.KeyID(), rotated.Previous.KeyID(), seeded.Current.KeyID())
	}
	b, err := os.ReadFile(filepath.Join(dir, "current.jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := signer.New(b)
	if err != nil {
		t.Fatalf("current.jwks.json: %v", err)
	}
	if kept.KeyID() != rotated.Current.KeyID() {
		t.Errorf("current.jwks.json holds key %s, want the rotated key %s", kept.KeyID(), rotated.Current.KeyID())
	}
}
