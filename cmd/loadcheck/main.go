// Command loadcheck is the load run of scripts/load (`make load`): it
// starts the local stack (as `make run` does), drives it with wrk through
// the local gateway with a mix of valid, invalid, revoked and unentitled
// tokens, rotates the signing key twice and revokes a subject during the
// run, and then judges every answer against the right one for its token
// class at that moment. It reports wrong decisions, 5xx answers, the
// revocation lag, when retired keys stopped verifying, latency percentiles
// and the resident memory of each function process at start and end, and
// exits 1 when a decision was wrong.
//
//	loadcheck [-duration 60s] [-clients 50] [-ttl 0] [-cooldown 0] [-out DIR]
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/rotatedriver"
)

//go:embed load.lua
var luaScript []byte

// mix is one cycle of requests: each thread walks it from its own offset.
// About 40% valid tokens, 20% invalid, 10% each of the others.
var mix = []string{
	classValid, classInvalid, classValid, classRevoked, classValid, classUnentitled, classOld, classValid, classInvalid, classRetiring,
}

type options struct {
	duration time.Duration
	clients  int
	ttl      int
	coolDown int
	out      string
	template string
	wrk      string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "length of the load run")
	flag.IntVar(&o.clients, "clients", 50, "concurrent clients (wrk connections, one per thread)")
	flag.IntVar(&o.ttl, "ttl", 0, "AuthorizerTtlSeconds: 0 sends every request to the authorizer")
	flag.IntVar(&o.coolDown, "cooldown", 0, "KEYS_REFRESH_COOLDOWN_SECONDS of the authorizer; 0 keeps the function's default (10)")
	flag.StringVar(&o.out, "out", "", "folder for the stack log, the tokens and report.json (default: a new temporary folder)")
	flag.StringVar(&o.template, "template", "template.yaml", "SAM template")
	flag.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcheck:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// report is what the run measured; it is written to report.json.
type report struct {
	Started   time.Time `json:"started"`
	Duration  string    `json:"duration"`
	Clients   int       `json:"clients"`
	TTL       int       `json:"authorizerTtlSeconds"`
	CoolDownS int       `json:"keysRefreshCoolDownSeconds"`
	Mix       []string  `json:"mix"`
	Events    []string  `json:"events"`
	Requests  int       `json:"requests"`
	RPS       float64   `json:"requestsPerSecond"`
	LatencyMS struct {
		P50, P90, P99, P999, Max, Mean float64
	} `json:"latencyMs"`
	SocketErrors map[string]int        `json:"socketErrors"`
	Tally        tally                 `json:"tally"`
	Rotations    []rotationKeys        `json:"rotations"`
	Decisions    decisionStats         `json:"authorizerDecisions"`
	RSS          map[string]rssSamples `json:"rssKiB"`
	Failures     []string              `json:"failures"`
}

func run(ctx context.Context, o options) (bool, error) {
	if o.clients < 1 || o.duration < 8*time.Second {
		return false, errors.New("want at least 1 client and a duration of at least 8 s")
	}
	wrkPath, err := exec.LookPath(o.wrk)
	if err != nil {
		return false, fmt.Errorf("wrk not found (scripts/load installs it): %w", err)
	}
	if o.out == "" {
		if o.out, err = os.MkdirTemp("", "guard-load-"); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(o.out, 0o700); err != nil {
		return false, err
	}
	logf, err := os.Create(filepath.Join(o.out, "stack.log"))
	if err != nil {
		return false, err
	}
	defer logf.Close()

	coolDown := 10
	env := map[string]string{}
	if o.coolDown > 0 {
		coolDown = o.coolDown
		env["KEYS_REFRESH_COOLDOWN_SECONDS"] = strconv.Itoa(o.coolDown)
	}
	ovr := filepath.Join(o.out, "overrides.json")
	b, _ := json.Marshal(map[string]map[string]string{"TokenAuthorizerFunction": env})
	if err := os.WriteFile(ovr, b, 0o600); err != nil {
		return false, err
	}
	port, err := procs.FreePort()
	if err != nil {
		return false, err
	}
	fmt.Printf("loadcheck: starting the local stack (log: %s)\n", logf.Name())
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	s, err := stack.Start(sctx, stack.Config{
		Template: o.template, Addr: procs.Addr(port), BuildDir: "build", DataDir: filepath.Join(o.out, "data"),
		Parameters: map[string]string{"AuthorizerTtlSeconds": strconv.Itoa(o.ttl)},
		Overrides:  ovr, Log: logf,
	})
	cancel()
	if err != nil {
		return false, fmt.Errorf("start the stack: %w", err)
	}
	defer s.Close()

	sm := demo.LocalSecrets(s.AWSEndpoint)
	keys, err := demo.Load(ctx, sm)
	if err != nil {
		return false, err
	}
	if keys.Previous == nil {
		return false, errors.New("the demo secret has no AWSPREVIOUS key")
	}
	dir := filepath.Join(o.out, "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	fixed := map[string][]string{}
	if fixed[classOld], err = oneToken(mint(keys.Previous, "load-olga", "orders:read")); err != nil {
		return false, err
	}
	if fixed[classRetiring], err = oneToken(mint(keys.Current, "load-rita", "orders:read")); err != nil {
		return false, err
	}
	if fixed[classInvalid], err = invalidTokens(keys.Current); err != nil {
		return false, err
	}
	cur, err := currentTokens(keys.Current)
	if err != nil {
		return false, err
	}
	for _, m := range []map[string][]string{fixed, cur} {
		for class, toks := range m {
			if err := writeTokens(dir, class, toks); err != nil {
				return false, err
			}
		}
	}
	if err := warmUp(s.URL, fixed, cur); err != nil {
		return false, err
	}
	script := filepath.Join(o.out, "load.lua")
	if err := os.WriteFile(script, luaScript, 0o600); err != nil {
		return false, err
	}

	rep := report{Started: time.Now().UTC(), Duration: o.duration.String(), Clients: o.clients, TTL: o.ttl, CoolDownS: coolDown, Mix: mix}
	mem := newRSSWatch(s, time.Now().Add(o.duration/4))
	mem.sample()
	args := []string{"-t", strconv.Itoa(o.clients), "-c", strconv.Itoa(o.clients), "-d", strconv.Itoa(int(o.duration/time.Second)) + "s",
		"--timeout", "15s", "--latency", "-s", script, s.URL, "--", dir, strings.Join(mix, ",")}
	cmd := exec.CommandContext(ctx, wrkPath, args...)
	var wrkOut bytes.Buffer
	cmd.Stdout = &wrkOut // printed when it ends, without the result line
	cmd.Stderr = os.Stderr
	fmt.Printf("loadcheck: wrk %s\n", strings.Join(args, " "))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return false, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	tl := timeline{grace: int64(coolDown+1) * 1000, revokeWithin: 5000}
	rotator := &rotatedriver.Driver{SM: sm, Invoke: rotatedriver.URL(s.Function("KeyRotatorFunction").URL(), nil)}
	event := func(format string, a ...any) {
		line := fmt.Sprintf("+%5.1fs ", time.Since(start).Seconds()) + fmt.Sprintf(format, a...)
		rep.Events = append(rep.Events, line)
		fmt.Println("loadcheck:", line)
	}
	var failures []string
	at := func(frac float64) <-chan time.Time {
		return time.After(time.Until(start.Add(time.Duration(frac * float64(o.duration)))))
	}
	sampler := time.NewTicker(2 * time.Second)
	defer sampler.Stop()
	steps := []struct {
		when <-chan time.Time
		do   func() error
	}{
		{at(0.25), func() error { return rotate(ctx, rotator, sm, dir, &tl, &rep.Rotations, event) }},
		{at(0.50), func() error { return rotate(ctx, rotator, sm, dir, &tl, &rep.Rotations, event) }},
		{at(0.75), func() error { return revoke(ctx, s, &tl, event) }},
	}
	var wrkErr error
	done := false
	for i := 0; !done; {
		var next <-chan time.Time
		if i < len(steps) {
			next = steps[i].when
		}
		select {
		case <-next:
			if err := steps[i].do(); err != nil {
				failures = append(failures, err.Error())
				event("FAILED: %v", err)
			}
			i++
		case <-sampler.C:
			mem.sample()
		case wrkErr = <-waited:
			done = true
		}
	}
	mem.sample()
	elapsed := time.Since(start)
	for _, line := range strings.SplitAfter(wrkOut.String(), "\n") {
		if !strings.HasPrefix(line, resultMarker) {
			fmt.Print(line)
		}
	}
	if wrkErr != nil {
		return false, fmt.Errorf("wrk: %w", wrkErr)
	}

	var res wrkResult
	_, raw, found := strings.Cut(wrkOut.String(), resultMarker)
	if !found {
		return false, errors.New("wrk printed no result line (is it built with LuaJIT?)")
	}
	raw, _, _ = strings.Cut(raw, "\n")
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return false, fmt.Errorf("wrk result: %w", err)
	}
	cells, err := res.cells()
	if err != nil {
		return false, err
	}
	rep.Tally = tl.judgeAll(cells)
	rep.Requests = res.Requests
	rep.RPS = float64(res.Requests) / elapsed.Seconds()
	us := func(v float64) float64 { return float64(int64(v)) / 1000 }
	rep.LatencyMS.P50, rep.LatencyMS.P90, rep.LatencyMS.P99 = us(res.Latency.P50), us(res.Latency.P90), us(res.Latency.P99)
	rep.LatencyMS.P999, rep.LatencyMS.Max, rep.LatencyMS.Mean = us(res.Latency.P999), us(res.Latency.Max), us(res.Latency.Mean)
	rep.SocketErrors = res.Errors
	rep.RSS = mem.samples
	if err := logf.Sync(); err != nil {
		return false, err
	}
	lf, err := os.Open(logf.Name())
	if err != nil {
		return false, err
	}
	rep.Decisions, err = readDecisions(lf, tl, rep.Rotations, subjectRevoked)
	lf.Close()
	if err != nil {
		return false, fmt.Errorf("read the decision log: %w", err)
	}
	rep.Failures = append(failures, verdicts(rep, tl)...)
	if err := writeJSON(filepath.Join(o.out, "report.json"), rep); err != nil {
		return false, err
	}
	printReport(os.Stdout, rep, o.out)
	return len(rep.Failures) == 0, nil
}

func oneToken(tok string, err error) ([]string, error) { return []string{tok}, err }

// warmUp checks each class once per API before the load starts, so that a
// broken stack fails fast rather than as thousands of wrong decisions.
func warmUp(base string, maps ...map[string][]string) error {
	want := map[string]int{classValid: 200, classOld: 200, classRetiring: 200, classInvalid: 401, classRevoked: 200, classUnentitled: 403}
	for _, m := range maps {
		for class, toks := range m {
			for _, tok := range toks {
				for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
					req, _ := http.NewRequest(http.MethodGet, base+path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return err
					}
					resp.Body.Close()
					if resp.StatusCode != want[class] {
						return fmt.Errorf("warm-up: a %s token on %s answered %d, want %d", class, path, resp.StatusCode, want[class])
					}
				}
			}
		}
	}
	return nil
}

// rotate runs one full rotation through the real key-rotator binary and
// switches the classes that follow AWSCURRENT to the new key.
func rotate(ctx context.Context, d *rotatedriver.Driver, sm demoSecrets, dir string, tl *timeline, rk *[]rotationKeys, event func(string, ...any)) error {
	before, err := demo.Load(ctx, sm)
	if err != nil {
		return err
	}
	startedAt := time.Now()
	if _, err := d.Rotate(ctx, demo.SecretName); err != nil {
		return fmt.Errorf("rotation %d: %w", len(tl.rotations)+1, err)
	}
	w := window{start: startedAt.UnixMilli(), end: time.Now().UnixMilli()}
	tl.rotations = append(tl.rotations, w)
	keys, err := demo.Load(ctx, sm)
	if err != nil {
		return err
	}
	*rk = append(*rk, rotationKeys{New: keys.Current.KeyID(), Retired: before.Previous.KeyID()})
	cur, err := currentTokens(keys.Current)
	if err != nil {
		return err
	}
	for class, toks := range cur {
		if err := writeTokens(dir, class, toks); err != nil {
			return err
		}
	}
	event("rotation %d done in %dms: AWSCURRENT %s, AWSPREVIOUS %s; %v tokens now signed with the new key",
		len(tl.rotations), w.end-w.start, keys.Current.KeyID()[:8], keys.Previous.KeyID()[:8], []string{classValid, classRevoked, classUnentitled})
	return nil
}

// demoSecrets is what rotate needs of the Secrets Manager client.
type demoSecrets interface {
	demo.SecretsAPI
	rotatedriver.SecretsManager
}

// revoke revokes the revoked class's subject through the cache-invalidator
// function, as an operator would.
func revoke(ctx context.Context, s *stack.Stack, tl *timeline, event func(string, ...any)) error {
	f := s.Function("CacheInvalidatorFunction")
	if f == nil {
		return errors.New("no CacheInvalidatorFunction")
	}
	payload, _ := json.Marshal(map[string]string{"subject": subjectRevoked, "reason": "load run"})
	tl.revokeAt = time.Now().UnixMilli()
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := f.Invoke(ictx, payload)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("revoke %s: %w", subjectRevoked, err)
	}
	event("revoked %s (cache-invalidator answered in %dms)", subjectRevoked, time.Now().UnixMilli()-tl.revokeAt)
	return nil
}

// resultMarker starts the line of load.lua's result.
const resultMarker = "LOADCHECK_RESULT "

// wrkResult is what load.lua prints.
type wrkResult struct {
	Requests int            `json:"requests"`
	Errors   map[string]int `json:"errors"`
	Latency  struct {
		P50  float64 `json:"p50"`
		P90  float64 `json:"p90"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p999"`
		Max  float64 `json:"max"`
		Mean float64 `json:"mean"`
	} `json:"latencyUs"`
	Counts map[string]int `json:"counts"`
}

func (r wrkResult) cells() ([]cell, error) {
	out := make([]cell, 0, len(r.Counts))
	for k, n := range r.Counts {
		f := strings.Split(k, "|")
		if len(f) != 3 {
			return nil, fmt.Errorf("result.json: bad key %q", k)
		}
		b, err1 := strconv.ParseInt(f[0], 10, 64)
		st, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("result.json: bad key %q", k)
		}
		out = append(out, cell{bucket: b, class: f[1], status: st, n: n})
	}
	return out, nil
}

// verdicts lists what failed the run.
func verdicts(r report, tl timeline) []string {
	var out []string
	t := r.Tally
	if t.Wrong > 0 {
		out = append(out, fmt.Sprintf("%d wrong decisions (%d false allows, %d false denies, %d 5xx): %v", t.Wrong, t.FalseAllows, t.FalseDenies, t.ServerErrs, t.Samples))
	}
	for k, v := range r.SocketErrors {
		if v > 0 {
			out = append(out, fmt.Sprintf("%d socket %s errors", v, k))
		}
	}
	if len(tl.rotations) != 2 || tl.revokeAt == 0 {
		out = append(out, "the run did not do two rotations and a revocation")
	}
	d := r.Decisions
	if tl.revokeAt != 0 && (t.RevokedLastOKMS > tl.revokeWithin || d.RevokedLastAllowMS > tl.revokeWithin) {
		out = append(out, fmt.Sprintf("revoked subject allowed %d ms (client) / %d ms (authorizer log) after the revocation", t.RevokedLastOKMS, d.RevokedLastAllowMS))
	}
	if tl.revokeAt != 0 && (d.RevokedFirstDenyMS < 0 || d.RevokedFirstDenyMS > tl.revokeWithin) {
		out = append(out, fmt.Sprintf("revoked subject first refused as revoked %d ms after the revocation", d.RevokedFirstDenyMS))
	}
	for i, ms := range d.RetiredKeyLastAllowMS {
		if ms > tl.grace {
			out = append(out, fmt.Sprintf("key retired by rotation %d still allowed %d ms after it", i+1, ms))
		}
	}
	for k, n := range d.ByDecision {
		if strings.HasPrefix(k, "error/") {
			out = append(out, fmt.Sprintf("%d fail-closed decisions (%s)", n, k))
		}
	}
	for _, c := range classes {
		if t.ByClass[c] == nil {
			out = append(out, "no answers for class "+c)
		}
	}
	return out
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func printReport(w io.Writer, r report, out string) {
	t := r.Tally
	fmt.Fprintf(w, "\nloadcheck: %d requests in %s from %d clients (%.0f/s), authorizer cache TTL %d s, key refresh cool-down %d s\n",
		r.Requests, r.Duration, r.Clients, r.RPS, r.TTL, r.CoolDownS)
	for _, e := range r.Events {
		fmt.Fprintln(w, "  event", e)
	}
	fmt.Fprintf(w, "  latency through the gateway: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
		r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.LatencyMS.P999, r.LatencyMS.Max)
	for _, c := range classes {
		var parts []string
		codes := make([]int, 0, len(t.ByClass[c]))
		for code := range t.ByClass[c] {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			parts = append(parts, fmt.Sprintf("%d x%d", code, t.ByClass[c][code]))
		}
		fmt.Fprintf(w, "  %-10s %s\n", c, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  wrong decisions %d (false allows %d, false denies %d), 5xx %d; answers inside event windows %d; new-key tokens refused inside the cool-down %d\n",
		t.Wrong, t.FalseAllows, t.FalseDenies, t.ServerErrs, t.Transitions, t.GraceRefusals)
	fmt.Fprintf(w, "  new-key tokens refused until %v ms after each rotation; retired keys last allowed %v ms after their rotation; revoked subject last allowed %d ms after the revocation\n",
		t.NewKeyAcceptedMS, t.RetiredKeyLastOKMS, t.RevokedLastOKMS)
	d := r.Decisions
	fmt.Fprintf(w, "  authorizer log: %v\n", d.ByDecision)
	fmt.Fprintf(w, "  authorizer log: handler latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", d.LatencyMS.P50, d.LatencyMS.P99, d.LatencyMS.Max)
	fmt.Fprintf(w, "  authorizer log: new key first allowed %v ms after each rotation; retired key last allowed %v ms after; revoked subject first refused %d ms, last allowed %d ms after the revocation\n",
		d.NewKeyFirstAllowMS, d.RetiredKeyLastAllowMS, d.RevokedFirstDenyMS, d.RevokedLastAllowMS)
	names := make([]string, 0, len(r.RSS))
	for n := range r.RSS {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.RSS[n]
		fmt.Fprintf(w, "  RSS %-38s start %6d KiB, after a quarter %6d KiB, end %6d KiB, max %6d KiB%s\n", n, s.Start, s.Warm, s.End, s.Max, s.note())
	}
	if len(r.Failures) == 0 {
		fmt.Fprintf(w, "loadcheck: PASS (report: %s)\n", filepath.Join(out, "report.json"))
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintln(w, "  FAIL", f)
	}
	fmt.Fprintf(w, "loadcheck: FAIL (report: %s)\n", filepath.Join(out, "report.json"))
}
