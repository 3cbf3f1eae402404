package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/internal/stackfile"
)

// These tests run what `make run` runs: the localgw binary, built here,
// against the project's template.yaml, as a separate process.

var (
	buildOnce sync.Once
	buildRoot string // removed by TestMain
	builtBin  string // the localgw binary
	buildErr  error
	// builtFunctions counts the template functions built; buildSkipped
	// holds the build errors of the others.
	builtFunctions int
	buildSkipped   []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildRoot != "" {
		os.RemoveAll(buildRoot)
	}
	os.Exit(code)
}

// e2e is what the binary tests need: the module root, the built localgw
// and cmd/webhook, and the folder of built functions.
type e2e struct {
	root, bin, webhook, functions string
	env                           []string
}

// setupE2E builds localgw and every template function (once per test
// binary) or skips the test when the local tools are missing.
func setupE2E(t *testing.T) e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if !moto.Available() {
		t.Skip("moto_server not found (pip install \"moto[server]\")")
	}
	rieBin, err := procs.Tool("RIE", "aws-lambda-rie")
	if err != nil {
		t.Skip("aws-lambda-rie not found (make tools)")
	}
	motoBin, _ := procs.Tool("MOTO_SERVER", "moto_server")
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	buildOnce.Do(func() {
		started := time.Now()
		buildErr = buildAll(root)
		t.Logf("built localgw and the functions in %v", time.Since(started).Round(time.Millisecond))
	})
	for _, skipped := range buildSkipped {
		t.Logf("left out (does not build): %s", skipped)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	// A clean environment: no AWS_ENDPOINT_URL (localgw must start its own
	// moto), the tools found explicitly (localgw runs outside the module).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "LOCALGW_") {
			env = append(env, kv)
		}
	}
	env = append(env, "RIE="+rieBin, "MOTO_SERVER="+motoBin)
	return e2e{root: root, bin: builtBin, webhook: filepath.Join(filepath.Dir(builtBin), "webhook"),
		functions: filepath.Join(buildRoot, "functions"), env: env}
}

// buildAll builds localgw, cmd/webhook and each template function's bootstrap with one
// go build (parallel, cached) into buildRoot. When that fails, it builds them
// one by one: a function that does not build (someone is editing it) is left
// out, as `make run` leaves out a function that is not built, unless a
// route or an authorizer needs it.
func buildAll(root string) error {
	dir, err := os.MkdirTemp("", "localgw-e2e-")
	if err != nil {
		return err
	}
	buildRoot = dir
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	pkgs := []string{"./cmd/localgw", "./cmd/webhook"}
	var folders []string
	for _, id := range tmpl.FunctionIDs() {
		folder := stack.Folder(id)
		for _, parent := range []string{"functions", "examples"} {
			if st, err := os.Stat(filepath.Join(root, parent, folder)); err == nil && st.IsDir() {
				pkgs = append(pkgs, "./"+parent+"/"+folder)
				folders = append(folders, folder)
				break
			}
		}
	}
	bins := filepath.Join(dir, "bin") + string(filepath.Separator)
	build := func(pkgs ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", bins}, pkgs...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %v: %v\n%s", pkgs, err, out)
		}
		return nil
	}
	if err := build(pkgs...); err != nil {
		for _, p := range pkgs {
			if err := build(p); err != nil {
				if p == "./cmd/localgw" || p == "./cmd/webhook" {
					return err
				}
				buildSkipped = append(buildSkipped, err.Error())
			}
		}
	}
	for _, folder := range folders {
		if _, err := os.Stat(filepath.Join(bins, folder)); err != nil {
			continue
		}
		to := filepath.Join(dir, "functions", folder)
		if err := os.MkdirAll(to, 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(bins, folder), filepath.Join(to, "bootstrap")); err != nil {
			return err
		}
		builtFunctions++
	}
	builtBin = filepath.Join(bins, "localgw")
	return nil
}

// localgw is one running localgw, with its output.
type localgw struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	data   string
	stdout []string // up to "Serving;"
	stderr *lockedBuffer
	exited chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs localgw on a free port (through wrapper, a command that runs
// its arguments, when given) and waits until it prints that it serves.
func (e e2e) start(t *testing.T, wrapper ...string) *localgw {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	lg := &localgw{t: t, url: "http://127.0.0.1:" + strconv.Itoa(port), data: t.TempDir(), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	// The validator reads its rules from a path relative to the working
	// directory (the repository root under `make run`); localgw runs in an
	// empty one (no local/overrides.json), so the path is made absolute.
	overrides := filepath.Join(t.TempDir(), "overrides.json")
	ov, _ := json.Marshal(map[string]map[string]string{"ValidatorFunction": {
		"VALIDATION_RULES_FILE": filepath.Join(e.root, "functions", "validator", "testdata", "rules.json")}})
	if err := os.WriteFile(overrides, ov, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append(wrapper, e.bin, "-port", strconv.Itoa(port), "-template", filepath.Join(e.root, "template.yaml"),
		"-data", lg.data, "-build", e.functions, "-overrides", overrides)
	lg.cmd = exec.Command(args[0], args[1:]...)
	lg.cmd.Dir = t.TempDir()
	lg.cmd.Env = e.env
	lg.cmd.Stderr = lg.stderr
	out, err := lg.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lg.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = lg.cmd.Wait(); close(lg.exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("localgw stdout:\n%s\nstderr:\n%s", strings.Join(lg.stdout, "\n"), lg.stderr)
		}
		// SIGTERM first, so that a failed test leaves no stack behind.
		_ = lg.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-lg.exited:
		case <-time.After(15 * time.Second):
			_ = lg.cmd.Process.Kill()
			<-lg.exited
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "Serving;") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
			lg.stdout = append(lg.stdout, line)
		}
		ready <- errors.New("stdout closed before \"Serving;\"")
	}()
	started := time.Now()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("localgw: %v", err)
		}
		t.Logf("localgw ready in %v", time.Since(started).Round(time.Millisecond))
	case <-time.After(90 * time.Second):
		t.Fatal("localgw not ready after 90s")
	}
	return lg
}

// walkStep is one curl command of the printed walk-through.
type walkStep struct {
	status int
	line   string
}

// walkthrough returns the printed curl commands with the status the comment
// before each promises ("# 401: no token ...").
func (lg *localgw) walkthrough() []walkStep {
	var steps []walkStep
	want := 0
	for _, l := range lg.stdout {
		l = strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(l, "# "); ok {
			code, _, _ := strings.Cut(c, ":")
			want, _ = strconv.Atoi(code)
			continue
		}
		if strings.HasPrefix(l, "curl ") {
			if want == 0 {
				lg.t.Errorf("curl command without a status comment: %s", l)
			}
			steps = append(steps, walkStep{want, l})
			want = 0
		}
	}
	return steps
}

// webhookCommands returns the printed cmd/webhook command lines.
func (lg *localgw) webhookCommands() []string {
	var out []string
	for _, l := range lg.stdout {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "go run ./cmd/webhook ") {
			out = append(out, l)
		}
	}
	return out
}

// curlRequest turns a printed curl command into the request it sends.
func curlRequest(line string) (*http.Request, error) {
	args, err := shellWords(line)
	if err != nil {
		return nil, err
	}
	method, url, user := "GET", "", ""
	header := http.Header{}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-i":
		case a == "-X" && i+1 < len(args):
			i++
			method = args[i]
		case a == "-u" && i+1 < len(args):
			i++
			user = args[i]
		case a == "-H" && i+1 < len(args):
			i++
			k, v, ok := strings.Cut(args[i], ":")
			if !ok {
				return nil, fmt.Errorf("header %q", args[i])
			}
			header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case strings.HasPrefix(a, "-"):
			return nil, fmt.Errorf("curl option %s is not understood here", a)
		default:
			url = a
		}
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = header
	if user != "" {
		id, secret, _ := strings.Cut(user, ":")
		req.SetBasicAuth(id, secret)
	}
	return req, nil
}

// shellWords splits a command line the way sh does for words, spaces and
// single quotes (all the walk-through uses).
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune(`"\$`+"`", r):
			return nil, fmt.Errorf("%q needs a real shell", s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// proc is a process, told apart from a later one with the same pid by its
// start time.
type proc struct {
	pid   int
	start string
	comm  string
}

// procStat reads /proc/pid/stat: the command name, the state, the parent
// and the start time.
func procStat(pid int) (comm, state string, ppid int, start string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", 0, "", false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", "", 0, "", false
	}
	f := strings.Fields(s[end+1:]) // state ppid pgrp ... ; starttime is field 22 of the line
	if len(f) < 20 {
		return "", "", 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return s[open+1 : end], f[0], ppid, f[19], true
}

// descendants lists every live process below pid.
func descendants(t *testing.T, pid int) []proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	children := map[int][]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, state, ppid, start, ok := procStat(p); ok && state != "Z" {
			children[ppid] = append(children[ppid], proc{p, start, comm})
		}
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

// alive reports whether p still runs (a zombie does not).
func alive(p proc) bool {
	_, state, _, start, ok := procStat(p.pid)
	return ok && start == p.start && state != "Z" && state != "X"
}

// waitGone fails the test unless every process in ps has exited within
// limit.
func waitGone(t *testing.T, ps []proc, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var left []string
		for _, p := range ps {
			if alive(p) {
				left = append(left, fmt.Sprintf("%s (pid %d)", p.comm, p.pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range ps {
				if alive(p) {
					_ = syscall.Kill(p.pid, syscall.SIGKILL) // leave the machine clean
				}
			}
			t.Fatalf("still running %v after the stop: %s", limit, strings.Join(left, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkChildren asserts that the stack's processes are all there: moto and
// one emulator per function, under localgw (pid); each emulator starts its
// bootstrap on the first invocation.
func checkChildren(t *testing.T, pid int, functions int) {
	t.Helper()
	count := map[string]int{}
	others := 0
	for _, p := range descendants(t, pid) {
		count[p.comm]++
		if _, _, ppid, _, _ := procStat(p.pid); ppid == pid && p.comm != "aws-lambda-rie" {
			others++ // moto_server (or the interpreter running it)
		}
	}
	if others < 1 || count["aws-lambda-rie"] != functions || count["bootstrap"] < 1 || count["bootstrap"] > functions {
		t.Fatalf("processes under localgw %v, want moto_server and %d aws-lambda-rie with their bootstraps", count, functions)
	}
}

// TestLocalgwBinary runs the localgw binary against template.yaml, executes
// the walk-through it prints, drives both APIs, and checks that SIGTERM
// stops every process it started.
func TestLocalgwBinary(t *testing.T) {
	e := setupE2E(t)
	lg := e.start(t)

	steps := lg.walkthrough()
	seen := map[string]map[int]int{} // API → status → commands
	for _, s := range steps {
		req, err := curlRequest(s.line)
		if err != nil {
			t.Fatalf("walk-through command %q: %v", s.line, err)
		}
		if !strings.HasPrefix(req.URL.String(), lg.url+"/") {
			t.Errorf("%q does not call the gateway at %s", s.line, lg.url)
		}
		got, body := do(t, req)
		if got != s.status {
			t.Errorf("%s: %s %s = %d %s, want %d", s.line[:min(len(s.line), 60)], req.Method, req.URL.Path, got, body, s.status)
		}
		api, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
		if seen[api] == nil {
			seen[api] = map[int]int{}
		}
		seen[api][s.status]++
	}
	for api, want := range map[string]map[int]int{
		// Bearer tokens: 200, 401 twice, 403; client credentials: 200, 401.
		"restapi":  {200: 2, 401: 3, 403: 1},
		"httpapi":  {200: 2, 401: 3, 403: 1},
		"restapis": {202: 1}, // FlushStageAuthorizersCache
		"v2":       {204: 1}, // ResetAuthorizersCache
	} {
		for status, n := range want {
			if seen[api][status] != n {
				t.Errorf("walk-through: %d %s commands answering %d, want %d (all: %v)", seen[api][status], api, status, n, seen)
			}
		}
	}

	// Beyond the walk-through: the allow token's cached REST policy serves
	// another route, and the HTTP API route answers with the backend's echo.
	var allow string
	for _, s := range steps {
		if s.status == 200 {
			req, _ := curlRequest(s.line)
			allow = req.Header.Get("Authorization")
			break
		}
	}
	for _, c := range []struct {
		path    string
		status  int
		bodyHas string
	}{
		{"/restapi/dev/orders", 200, `"principalId": "alice"`},
		{"/restapi/dev/orders/7", 200, `"id": "7"`},
		{"/httpapi/dev/orders", 200, `"api": "HTTP"`},
		{"/restapi/dev/nowhere", 403, `Missing Authentication Token`},
	} {
		req, _ := http.NewRequest("GET", lg.url+c.path, nil)
		req.Header.Set("Authorization", allow)
		if got, body := do(t, req); got != c.status || !strings.Contains(body, c.bodyHas) {
			t.Errorf("GET %s = %d %s, want %d with %q", c.path, got, body, c.status, c.bodyHas)
		}
	}

	// The function logs follow the template's LoggingConfig (LogFormat: JSON):
	// the authorizer's decisions are JSON lines with the request id.
	decisions := 0
	for _, l := range strings.Split(lg.stderr.String(), "\n") {
		_, rest, ok := strings.Cut(l, "[TokenAuthorizerFunction] ")
		if !ok || !strings.Contains(rest, "authorizer decision") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(rest), &rec); err != nil {
			t.Errorf("decision log is not JSON: %s", rest)
			continue
		}
		if rec["message"] != "authorizer decision" || rec["requestId"] == "" || rec["decision"] == nil {
			t.Errorf("decision log lacks message / requestId / decision: %s", rest)
		}
		decisions++
	}
	if decisions < 3 {
		t.Errorf("%d JSON decision lines from the token authorizer, want at least 3 (allow, 401, 403 on two APIs)", decisions)
	}
	if token := strings.TrimPrefix(allow, "Bearer "); token == "" || strings.Contains(lg.stderr.String(), token) {
		t.Error("the logs hold the demo token")
	}
	opsSecret := ""
	for _, s := range steps {
		req, _ := curlRequest(s.line)
		if _, secret, ok := req.BasicAuth(); ok && s.status == 200 {
			opsSecret = secret
		}
	}
	if opsSecret == "" || strings.Contains(lg.stderr.String(), opsSecret) {
		t.Error("no client-credentials call in the walk-through, or the logs hold the demo client secret")
	}

	// The printed webhook commands, run with the built cmd/webhook: a signed
	// webhook passes the request authorizer and the validator on each API;
	// with its body changed after signing, the signature still verifies but
	// the body no longer matches the signed Content-Digest: the validator
	// answers 400.
	cmds := lg.webhookCommands()
	if len(cmds) != 2 {
		t.Errorf("walk-through webhook commands %q, want one per API", cmds)
	}
	for _, line := range cmds {
		args, err := shellWords(strings.TrimPrefix(line, "go run ./cmd/webhook"))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, c := range []struct {
			tamper  bool
			status  string
			bodyHas string
		}{
			{false, "HTTP/1.1 200 OK", `"keyId": "partner-a"`},
			{true, "HTTP/1.1 400 Bad Request", `problems/content-digest-mismatch`},
		} {
			a := args
			if c.tamper {
				a = append(a[:len(a):len(a)], "-tamper")
			}
			cmd := exec.Command(e.webhook, a...)
			cmd.Dir, cmd.Env = e.root, e.env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			status, body, _ := strings.Cut(string(out), "\n")
			if err != nil || status != c.status || !strings.Contains(body, c.bodyHas) {
				t.Errorf("webhook %v: %v\n%s\n%s; want %s with %q", a, err, out, stderr.String(), c.status, c.bodyHas)
			}
		}
	}

	// SIGTERM stops everything: no moto, emulator or function remains.
	checkChildren(t, lg.cmd.Process.Pid, builtFunctions)
	kids := descendants(t, lg.cmd.Process.Pid)
	if err := lg.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lg.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("localgw still running 15s after SIGTERM")
	}
	if code := lg.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("localgw exit code %d after SIGTERM, want 0", code)
	}
	waitGone(t, kids, 5*time.Second)
	if _, err := os.Stat(filepath.Join(lg.data, stackfile.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stack file is still there after SIGTERM: %v", err)
	}
	if !strings.Contains(lg.stderr.String(), "localgw: shutting down") {
		t.Error(`no "localgw: shutting down" on stderr`)
	}
}

// TestLocalgwDiesWithItsParent starts localgw the way `go run` does (as the
// child of another process), kills that parent with SIGKILL, and checks
// that localgw shuts the stack down by itself.
func TestLocalgwDiesWithItsParent(t *testing.T) {
	e := setupE2E(t)
	// sh stays the parent: localgw is not its last command, so it is not
	// exec'd.
	lg := e.start(t, "sh", "-c", `"$@"; echo "localgw exited with $?"`, "sh")
	kids := descendants(t, lg.cmd.Process.Pid) // sh's: localgw and below
	var gw []proc
	for _, p := range kids {
		if p.comm == "localgw" {
			gw = append(gw, p)
		}
	}
	if len(gw) != 1 {
		t.Fatalf("processes under sh: %v, want one localgw", kids)
	}
	// One call, so that at least the authorizer's and the backend's
	// bootstraps run too.
	steps := lg.walkthrough()
	if len(steps) == 0 || steps[0].status != 200 {
		t.Fatalf("walk-through %v: want an allowed call first", steps)
	}
	req, err := curlRequest(steps[0].line)
	if err != nil {
		t.Fatal(err)
	}
	if got, body := do(t, req); got != 200 {
		t.Fatalf("%s = %d %s, want 200", req.URL.Path, got, body)
	}
	checkChildren(t, gw[0].pid, builtFunctions)
	if err := lg.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-lg.exited
	waitGone(t, kids, 15*time.Second)
	if !strings.Contains(lg.stderr.String(), "localgw: the parent process exited; shutting down") {
		t.Errorf("stderr lacks the parent-exit message:\n%s", lg.stderr)
	}
	if _, err := os.Stat(filepath.Join(lg.data, stackfile.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stack file is still there: %v", err)
	}
}
