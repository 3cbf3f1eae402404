// Command localgw runs the suite locally, Docker-free: moto for Secrets
// Manager and DynamoDB, the demo signing-key secret, every template function
// under the Lambda Runtime Interface Emulator, and a local API Gateway with
// API Gateway's authorizer semantics on 127.0.0.1:3000. It prints
// ready-to-paste curl commands with freshly minted tokens, then serves until
// Ctrl-C or SIGTERM, and leaves no process behind.
//
//	localgw [-template template.yaml] [-port 3000] [-data .local] [-build build]
//	        [-overrides local/overrides.json] [-folder Logical=folder]... [-param Name=value]...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apigw-guard/guard/internal/gateway/stack"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "localgw:", err)
		os.Exit(1)
	}
}

// pairs is a repeatable Key=Value flag.
type pairs map[string]string

func (p pairs) String() string { return fmt.Sprint(map[string]string(p)) }

func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want Key=Value")
	}
	p[k] = v
	return nil
}

// config reads the command line into a stack configuration; the end-to-end
// test uses it too.
func config(args []string) (stack.Config, error) {
	fs := flag.NewFlagSet("localgw", flag.ContinueOnError)
	cfg := stack.Config{Folders: pairs{}, Parameters: pairs{}}
	port := fs.Int("port", envInt("LOCALGW_PORT", 3000), "gateway port on 127.0.0.1 (env LOCALGW_PORT)")
	fs.StringVar(&cfg.Template, "template", "template.yaml", "SAM template")
	fs.StringVar(&cfg.DataDir, "data", ".local", "local data folder (keys, stack file)")
	fs.StringVar(&cfg.BuildDir, "build", "build", "folder of the built {function}/bootstrap binaries")
	fs.StringVar(&cfg.Overrides, "overrides", "", "function environment overrides, sam --env-vars format (default local/overrides.json if present)")
	fs.Var(pairs(cfg.Folders), "folder", "LogicalId=folder when a function's build folder is not its kebab-case name (repeatable)")
	fs.Var(pairs(cfg.Parameters), "param", "template parameter override Name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *port < 1 || *port > 65535 {
		return cfg, fmt.Errorf("-port %d is not a port", *port)
	}
	cfg.Addr = "127.0.0.1:" + strconv.Itoa(*port)
	return cfg, nil
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func run(args []string) error {
	cfg, err := config(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	tok, err := s.MintTokens(time.Hour)
	if err != nil {
		return fmt.Errorf("mint demo tokens: %w", err)
	}
	s.PrintWalkthrough(os.Stdout, tok)
	fmt.Fprintln(os.Stdout, "Serving; Ctrl-C stops everything.")
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "localgw: shutting down")
	return nil
}
