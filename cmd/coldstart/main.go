// Command coldstart measures cold starts under the Lambda Runtime Interface
// Emulator, for `make cold-start` (scripts/cold-start). It is developer
// tooling: never deployed.
//
// It brings up the local stack (moto with the demo signing-key secret and
// the template's tables, every template function under its own emulator,
// the local gateway for the management calls), then for each function
// built under -build, n times: restarts its emulator (a new process, so the
// next invocation initialises it afresh), invokes it with a sample event,
// and invokes it once more warm. For each cold start it records:
//
//   - init: the emulator's INIT REPORT(durationMs: …), the time from the
//     runtime process's start until it asks for its first invocation (the
//     REPORT line's Init Duration is wrong);
//   - first invoke: the emulator's INVOKE RTDONE duration of that first
//     invocation, the handler's own time, which for the authorizers
//     includes fetching the keys from moto's Secrets Manager (and, with the
//     template's configuration, the revocation table's first load);
//   - first response: the round trip of that first invocation as the
//     caller sees it: process start, init, first invoke and the emulator;
//   - warm invoke: the second invocation's INVOKE RTDONE duration.
//
// Beside them it runs the token authorizer with only the signing-key
// secret configured (no revocation table), and a Node authorizer doing that
// same job with aws-jwt-verify (scripts/peer/authorizer.cjs: read the
// secret's AWSCURRENT and AWSPREVIOUS versions, verify the bearer token,
// answer a policy) under the same emulator, and prints the ratios.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/rie"
)

func main() {
	n := flag.Int("n", 5, "cold starts per function")
	build := flag.String("build", "build", "the folder holding {function}/bootstrap")
	template := flag.String("template", "template.yaml", "the SAM template")
	nodeBoot := flag.String("node", "scripts/peer/bootstrap", "the Node peer authorizer's bootstrap; empty skips it")
	peerDir := flag.String("peer-dir", ".tools/peer", "where aws-jwt-verify and @aws-sdk/client-secrets-manager are installed")
	verbose := flag.Bool("v", false, "copy the emulators' output to stderr")
	flag.Parse()
	if err := run(context.Background(), options{n: *n, build: *build, template: *template, nodeBoot: *nodeBoot, peerDir: *peerDir, verbose: *verbose}); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type options struct {
	n                                  int
	build, template, nodeBoot, peerDir string
	verbose                            bool
}

// sample is one cold start.
type sample struct {
	init, firstInvoke, firstResponse, warmInvoke time.Duration
	outcome                                      string // "ok" or the function error's type
}

// subject is one function measured.
type subject struct {
	name    string // as printed
	binary  string
	samples []sample
}

func run(ctx context.Context, o options) error {
	if o.n < 1 {
		return fmt.Errorf("-n %d: want at least 1", o.n)
	}
	data, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	var echo io.Writer = io.Discard
	if o.verbose {
		echo = os.Stderr
	}
	logs := newCapture(echo)
	s, err := stack.Start(ctx, stack.Config{
		Template: o.template, Addr: "127.0.0.1:0", DataDir: data, BuildDir: o.build,
		Log: logs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	defer s.Close()
	tok, err := s.Keys.Mint(demo.Claims("alice", "orders:read orders:write admin", time.Hour), time.Hour)
	if err != nil {
		return err
	}

	var subjects []*subject
	for _, id := range s.Template.FunctionIDs() {
		fn := s.Function(id)
		if fn == nil {
			fmt.Fprintf(os.Stderr, "coldstart: %s is not built; skipped\n", id)
			continue
		}
		folder := stack.Folder(id)
		event, err := sampleEvent(folder, tok)
		if err != nil {
			return err
		}
		sub := &subject{name: folder, binary: filepath.Join(o.build, folder, "bootstrap")}
		fmt.Fprintf(os.Stderr, "coldstart: %s ×%d\n", folder, o.n)
		for range o.n {
			smp, err := coldStart(ctx, logs, id, fn.Restart, fn.Invoke, event)
			if err != nil {
				return fmt.Errorf("%s: %w", folder, err)
			}
			sub.samples = append(sub.samples, smp)
		}
		fn.Stop()
		subjects = append(subjects, sub)
	}

	// The token authorizer with the signing-key secret only, the job the
	// Node peer does too.
	ta := s.Template.Functions["TokenAuthorizerFunction"]
	var keysOnly, node *subject
	if ta != nil && s.Function("TokenAuthorizerFunction") != nil {
		env := map[string]string{}
		for k, v := range ta.Env {
			env[k] = v
		}
		delete(env, "REVOCATION_TABLE")
		delete(env, "REVOCATION_REFRESH_SECONDS")
		env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = s.AWSEndpoint
		event, err := sampleEvent("token-authorizer", tok)
		if err != nil {
			return err
		}
		bin := filepath.Join(o.build, "token-authorizer", "bootstrap")
		if keysOnly, err = standalone(ctx, logs, o.n, "token-authorizer (keys only)", "TokenAuthorizerKeysOnly", bin, env, event); err != nil {
			return err
		}
		if o.nodeBoot != "" {
			peer, err := filepath.Abs(o.peerDir)
			if err != nil {
				return err
			}
			nodeEnv := map[string]string{
				"PEER_DIR":       peer,
				"KEYS_SECRET_ID": env["KEYS_SECRET_ID"], "KEYS_ISSUER": env["KEYS_ISSUER"], "AUDIENCES": env["AUDIENCES"],
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.AWSEndpoint,
			}
			boot, err := filepath.Abs(o.nodeBoot)
			if err != nil {
				return err
			}
			if node, err = standalone(ctx, logs, o.n, "node aws-jwt-verify (keys only)", "NodePeerAuthorizer", boot, nodeEnv, event); err != nil {
				return err
			}
		}
	}

	printTable(os.Stdout, o.n, append(subjects, nonNil(keysOnly, node)...))
	printTargets(os.Stdout, subjects, keysOnly, node)
	return nil
}

// standalone measures a binary under an emulator of its own.
func standalone(ctx context.Context, logs *capture, n int, name, id, bin string, env map[string]string, event []byte) (*subject, error) {
	fmt.Fprintf(os.Stderr, "coldstart: %s ×%d\n", name, n)
	fn, err := rie.Start(ctx, rie.Config{Name: id, Binary: bin, Env: env, Log: logs})
	if err != nil {
		return nil, err
	}
	defer fn.Stop()
	sub := &subject{name: name, binary: bin}
	for range n {
		smp, err := coldStart(ctx, logs, id, fn.Restart, fn.Invoke, event)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sub.samples = append(sub.samples, smp)
	}
	return sub, nil
}

// coldStart restarts one emulator and times its first two invocations.
func coldStart(ctx context.Context, logs *capture, id string, restart func(context.Context) error,
	invoke func(context.Context, []byte) (rie.Result, error), event []byte) (sample, error) {
	if err := restart(ctx); err != nil {
		return sample{}, err
	}
	mark := logs.mark(id)
	start := time.Now()
	res, err := invoke(ctx, event)
	if err != nil {
		return sample{}, err
	}
	first := time.Since(start)
	if _, err := invoke(ctx, event); err != nil {
		return sample{}, err
	}
	rep, err := logs.wait(id, mark, 5*time.Second)
	if err != nil {
		return sample{}, err
	}
	smp := sample{init: rep.init, firstInvoke: rep.invokes[0], firstResponse: first, warmInvoke: rep.invokes[1], outcome: "ok"}
	if res.Err != nil {
		smp.outcome = res.Err.Type
	}
	return smp, nil
}

// sampleEvent is the event a function's cold start is measured with: a
// fixed choice under events/ where it exists (else the first file of
// events/<folder>/, else {}), with {{token}} replaced by a demo token.
func sampleEvent(folder, tok string) ([]byte, error) {
	preferred := map[string]string{
		"token-authorizer":   "token-authorizer/rest-token.json",
		"request-authorizer": "request-authorizer/rest-credentials.json",
		"jwks":               "jwks/http-get.json",
		"cache-invalidator":  "cache-invalidator/direct-jti.json",
		"key-rotator":        "key-rotator/test-secret.json",
		"validator":          "validator/rest-get-order.json",
		"echo-backend":       "validator/rest-get-order.json", // a REST proxy event
	}
	path := filepath.Join("events", preferred[folder])
	if _, err := os.Stat(path); preferred[folder] == "" || err != nil {
		files, _ := filepath.Glob(filepath.Join("events", folder, "*.json"))
		if len(files) == 0 {
			return []byte("{}"), nil
		}
		sort.Strings(files)
		path = files[0]
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bytes.ReplaceAll(b, []byte("{{token}}"), []byte(tok)), nil
}

// capture reads the emulators' output ("[id] line"), keeping each
// emulator's INIT REPORT and INVOKE RTDONE durations in order.
type capture struct {
	echo io.Writer

	mu     sync.Mutex
	events map[string][]logEvent
	cond   *sync.Cond
}

type logEvent struct {
	init bool // INIT REPORT; otherwise INVOKE RTDONE
	d    time.Duration
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: [a-z]+.*duration: ([0-9.]+)ms\)`)
	linePrefix = regexp.MustCompile(`^\[([A-Za-z0-9]+)\] `)
)

func newCapture(echo io.Writer) *capture {
	c := &capture{echo: echo, events: map[string][]logEvent{}}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *capture) Write(p []byte) (int, error) {
	_, _ = c.echo.Write(p)
	for l := range strings.SplitSeq(string(p), "\n") {
		m := linePrefix.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var ev logEvent
		if r := initReport.FindStringSubmatch(l); r != nil {
			ev.init, ev.d = true, ms(r[1])
		} else if r := invokeDone.FindStringSubmatch(l); r != nil {
			ev.d = ms(r[1])
		} else {
			continue
		}
		c.mu.Lock()
		c.events[m[1]] = append(c.events[m[1]], ev)
		c.cond.Broadcast()
		c.mu.Unlock()
	}
	return len(p), nil
}

func ms(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// mark returns where id's next events will start.
func (c *capture) mark(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events[id])
}

type coldReport struct {
	init    time.Duration
	invokes []time.Duration
}

// wait returns the INIT REPORT and the first two invocations id logged
// after mark, waiting up to timeout for the emulator's output.
func (c *capture) wait(id string, mark int, timeout time.Duration) (coldReport, error) {
	deadline := time.Now().Add(timeout)
	go func() { time.Sleep(timeout); c.cond.Broadcast() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		var r coldReport
		seenInit := false
		for _, ev := range c.events[id][mark:] {
			if ev.init && !seenInit {
				r.init, seenInit = ev.d, true
			} else if !ev.init {
				r.invokes = append(r.invokes, ev.d)
			}
		}
		if seenInit && len(r.invokes) >= 2 {
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("emulator output for %s: init seen %v, %d invocations, want an INIT REPORT and 2", id, seenInit, len(r.invokes))
		}
		c.cond.Wait()
	}
}

func nonNil(s ...*subject) []*subject {
	return slices.DeleteFunc(s, func(x *subject) bool { return x == nil })
}

// stat is the median, minimum and maximum of one figure over the samples.
func stat(smp []sample, f func(sample) time.Duration) (med, lo, hi float64) {
	v := make([]float64, len(smp))
	for i, s := range smp {
		v[i] = float64(f(s)) / float64(time.Millisecond)
	}
	sort.Float64s(v)
	med = v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return med, v[0], v[len(v)-1]
}

func cell(smp []sample, f func(sample) time.Duration) string {
	med, lo, hi := stat(smp, f)
	return fmt.Sprintf("%.1f (%.1f–%.1f)", med, lo, hi)
}

func printTable(w io.Writer, n int, subjects []*subject) {
	fmt.Fprintf(w, "Cold starts under the Lambda Runtime Interface Emulator, %d per function: median (min–max), milliseconds.\n\n", n)
	fmt.Fprintln(w, "| function | init (INIT REPORT) | first invoke (handler, incl. key fetch) | first response (round trip) | warm invoke | outcome |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	for _, s := range subjects {
		outcomes := map[string]int{}
		for _, smp := range s.samples {
			outcomes[smp.outcome]++
		}
		var parts []string
		for k, v := range outcomes {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", s.name,
			cell(s.samples, func(x sample) time.Duration { return x.init }),
			cell(s.samples, func(x sample) time.Duration { return x.firstInvoke }),
			cell(s.samples, func(x sample) time.Duration { return x.firstResponse }),
			cell(s.samples, func(x sample) time.Duration { return x.warmInvoke }),
			strings.Join(parts, ", "))
	}
}

func printTargets(w io.Writer, subjects []*subject, keysOnly, node *subject) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (issue 10), on medians:")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	median := func(s *subject, f func(sample) time.Duration) float64 { m, _, _ := stat(s.samples, f); return m }
	initOf := func(x sample) time.Duration { return x.init }
	firstOf := func(x sample) time.Duration { return x.firstInvoke }
	for _, s := range append(subjects, keysOnly) {
		if s == nil || !strings.Contains(s.name, "authorizer") {
			continue
		}
		i := median(s, initOf)
		fmt.Fprintf(w, "  %-30s init %5.1f ms (target <= 10 ms) %s", s.name, i, verdict(i <= 10))
		// Only the token authorizer's sample event is sure to need its
		// keys: the request authorizer's may be refused before any lookup.
		if strings.HasPrefix(s.name, "token-authorizer") {
			f := median(s, firstOf)
			fmt.Fprintf(w, "; first invoke with key fetch %.1f ms (target <= 50 ms) %s", f, verdict(f <= 50))
		}
		fmt.Fprintln(w)
	}
	if keysOnly != nil && node != nil {
		r := median(keysOnly, initOf) / median(node, initOf)
		fmt.Fprintf(w, "  init, Go keys-only / Node peer:  %.2fx (target <= 0.25x) %s\n", r, verdict(r <= 0.25))
		fr := median(keysOnly, func(x sample) time.Duration { return x.firstResponse }) / median(node, func(x sample) time.Duration { return x.firstResponse })
		fmt.Fprintf(w, "  first response, Go / Node:       %.2fx\n", fr)
	}
}
