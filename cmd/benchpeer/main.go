// Command benchpeer is the Go side of `make bench-peer` (scripts/bench-peer),
// which compares our JWT verification with the aws-jwt-verify library under
// Node on the same tokens and keys. It is developer tooling: never deployed.
//
//	benchpeer gen -dir DIR
//	    make one key per algorithm and 64 distinct Cognito-sized tokens for
//	    each; write DIR/jwks.json (the public keys, which both sides load),
//	    DIR/secret.jwks.json (the HS256 key, for Go only: aws-jwt-verify
//	    has no HMAC) and DIR/tokens.json.
//	benchpeer run -dir DIR -alg RS256 -time 2s
//	    verify DIR's tokens for alg for the given time on one core
//	    (GOMAXPROCS=1), then the signature check alone (the floor) over the
//	    same signing inputs, and print both as one JSON line.
//	benchpeer report -results FILE
//	    read the JSON lines of both sides and print the comparison.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
)

// The issuer and audience of the generated tokens.
const (
	benchIssuer   = "https://issuer.example.com"
	benchAudience = "api://guard-bench"
)

// algs are the algorithms compared; aws-jwt-verify lacks PS256 and HS256,
// which are measured for Go only.
var algs = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"}

// tokenFile is DIR/tokens.json.
type tokenFile struct {
	Issuer   string              `json:"issuer"`
	Audience string              `json:"audience"`
	Tokens   map[string][]string `json:"tokens"` // by alg
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "gen":
		fs := flag.NewFlagSet("gen", flag.ExitOnError)
		dir := fs.String("dir", "", "output folder")
		n := fs.Int("tokens", 64, "distinct tokens per algorithm")
		_ = fs.Parse(args)
		err = gen(*dir, *n)
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		dir := fs.String("dir", "", "the folder gen wrote")
		alg := fs.String("alg", "RS256", "algorithm")
		d := fs.Duration("time", 2e9, "how long to run each of verify and floor")
		_ = fs.Parse(args)
		err = run(*dir, *alg, *d)
	case "report":
		fs := flag.NewFlagSet("report", flag.ExitOnError)
		results := fs.String("results", "", "JSON lines from run and the Node harness")
		_ = fs.Parse(args)
		err = report(*results, os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpeer:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchpeer gen -dir DIR | run -dir DIR -alg ALG [-time 2s] | report -results FILE")
	os.Exit(2)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

var errNoDir = errors.New("-dir is required")
