// Command localgw runs the suite locally, Docker-free: moto for Secrets
// Manager and DynamoDB, the demo signing-key secret, every template function
// under the Lambda Runtime Interface Emulator, and a local API Gateway with
// API Gateway's authorizer semantics on 127.0.0.1:3000. It prints
// ready-to-paste curl commands with freshly minted tokens, then serves until
// Ctrl-C or SIGTERM, or until the process that started it exits, and leaves
// no process behind.
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
	ppid := os.Getppid() // first, so that a parent dying during start-up is noticed
	if err := run(os.Args[1:], ppid); err != nil {
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

// list is a repeatable flag.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(s string) error {
	if s == "" {
		return errors.New("want a value")
	}
	*l = append(*l, s)
	return nil
}

// config reads the command line into a stack configuration. TestConfig
// checks it directly; the end-to-end tests (e2e_test.go) run the built
// binary with a real command line.
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
	fs.Var((*list)(&cfg.APIKeys), "api-key", "an API key value that ApiKeyRequired methods accept, beside the demo partner's usage keys (repeatable)")
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

// parentPoll is how often localgw checks that its parent is still there.
const parentPoll = 250 * time.Millisecond

// run starts the stack and serves until SIGINT, SIGTERM or the exit of the
// parent process ppid; then it stops every child process before returning.
func run(args []string, ppid int) error {
	cfg, err := config(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// With the terminal or the pipe gone, a write to stdout or stderr must
	// not kill localgw (Go's default for SIGPIPE on fd 1 and 2) before it
	// has stopped its children.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if err := signalOnParentDeath(); err != nil {
		fmt.Fprintln(os.Stderr, "localgw: PR_SET_PDEATHSIG:", err, "(polling for the parent instead)")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watchParent(ctx, ppid, parentPoll, func() { cancel(errParentExited) })
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
	// The kernel's SIGTERM (PR_SET_PDEATHSIG) may come before the poll.
	if errors.Is(context.Cause(ctx), errParentExited) || os.Getppid() != ppid {
		fmt.Fprintln(os.Stderr, "localgw: the parent process exited; shutting down")
	} else {
		fmt.Fprintln(os.Stderr, "localgw: shutting down")
	}
	return nil
}

var errParentExited = errors.New("the parent process exited")
