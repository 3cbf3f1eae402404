// Package rie runs a function binary under the AWS Lambda Runtime Interface
// Emulator and invokes it the way the Lambda service does.
//
// A [Function] is safe for concurrent use. One emulator is one Lambda
// execution environment: it takes one invocation at a time (a second
// concurrent invoke crashes it), so Invoke queues callers.
package rie

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
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/apigw-guard/guard/internal/procs"
)

// RIEVersion is the emulator version the Makefile installs (the only one the
// module proxy serves).
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// Config describes one function.
type Config struct {
	Name    string            // for logs
	Binary  string            // the function's bootstrap
	Env     map[string]string // the function's environment, on top of dummy credentials
	Timeout time.Duration     // the function timeout; default 10 s
	Log     io.Writer         // the emulator's and function's output; default os.Stderr
}

// Function is one running emulator with its function.
type Function struct {
	cfg    Config
	url    string
	client *http.Client

	busy chan struct{} // one invocation at a time

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	inits   []time.Duration
	stopped bool
}

// Result is one invocation's outcome as the Lambda service reports it.
type Result struct {
	Status  int    // the emulator's HTTP status: 200, or 502 for a crash
	Payload []byte // the function's response bytes
	// Err is set when the function returned an error (errorMessage/errorType)
	// or crashed.
	Err *FunctionError
}

// FunctionError is a function error as Lambda reports it.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Start launches the emulator for cfg and waits until it accepts invocations.
func Start(ctx context.Context, cfg Config) (*Function, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	f := &Function{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout + 5*time.Second}, busy: make(chan struct{}, 1)}
	if err := f.start(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Function) start(ctx context.Context) error {
	rie, err := procs.Tool("RIE", "aws-lambda-rie")
	if err != nil {
		return err
	}
	apiPort, err := procs.FreePort()
	if err != nil {
		return err
	}
	runtimePort, err := procs.FreePort()
	if err != nil {
		return err
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME=" + f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(f.cfg.Timeout/time.Second)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	}
	for k, v := range f.cfg.Env {
		env = append(env, k+"="+v)
	}
	pr, pw := io.Pipe()
	cmd, err := procs.Start(rie, []string{
		"--runtime-interface-emulator-address", procs.Addr(apiPort),
		"--runtime-api-address", procs.Addr(runtimePort),
		f.cfg.Binary,
	}, env, pw)
	if err != nil {
		pw.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(exited) }()
	go f.scan(pr)

	f.mu.Lock()
	f.cmd, f.exited, f.url = cmd, exited, "http://"+procs.Addr(apiPort)+"/2015-03-31/functions/function/invocations"
	f.mu.Unlock()

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := procs.WaitTCP(wctx, procs.Addr(apiPort), exited); err != nil {
		f.Stop()
		return fmt.Errorf("start %s under the emulator: %w", f.cfg.Name, err)
	}
	return nil
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// scan copies the emulator's output to the log and records init durations.
func (f *Function) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if m := initReport.FindSubmatch(line); m != nil {
			if ms, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
				f.mu.Lock()
				f.inits = append(f.inits, time.Duration(ms*float64(time.Millisecond)))
				f.mu.Unlock()
			}
		}
		fmt.Fprintf(f.cfg.Log, "[%s] %s\n", f.cfg.Name, line)
	}
	_, _ = io.Copy(io.Discard, r)
}

// InitDurations returns the emulator's INIT REPORT durations so far (the
// REPORT line's "Init Duration" is wrong; this one is the real init time).
func (f *Function) InitDurations() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.inits...)
}

// Invoke sends payload as one invocation. A transport error (the emulator
// is gone) is returned as err; function errors and crashes are in the Result.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Result, error) {
	select {
	case f.busy <- struct{}{}:
		defer func() { <-f.busy }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", f.cfg.Name, ctx.Err())
	}
	f.mu.Lock()
	url, exited := f.url, f.exited
	f.mu.Unlock()
	select {
	case <-exited:
		return Result{}, fmt.Errorf("invoke %s: the emulator is not running", f.cfg.Name)
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoke %s: %w", f.cfg.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return Result{}, fmt.Errorf("invoke %s: read response: %w", f.cfg.Name, err)
	}
	res := Result{Status: resp.StatusCode, Payload: body}
	res.Err = functionError(resp.StatusCode, body)
	return res, nil
}

// functionError recognises the emulator's error shapes: an errorMessage
// object (handler error, 200; crash, 502) or a non-JSON body (a timeout).
func functionError(status int, body []byte) *FunctionError {
	var fe struct {
		Message *string `json:"errorMessage"`
		Type    string  `json:"errorType"`
	}
	if json.Unmarshal(body, &fe) == nil && fe.Message != nil {
		return &FunctionError{Message: *fe.Message, Type: fe.Type}
	}
	if status != http.StatusOK {
		return &FunctionError{Message: string(bytes.TrimSpace(body)), Type: "Runtime.Error"}
	}
	if !json.Valid(body) {
		return &FunctionError{Message: string(bytes.TrimSpace(body)), Type: "Runtime.InvalidResponse"}
	}
	return nil
}

// Running reports whether the emulator process is alive.
func (f *Function) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.exited:
		return false
	default:
		return !f.stopped
	}
}

// Restart stops the emulator if it runs and starts it again on new ports.
func (f *Function) Restart(ctx context.Context) error {
	f.stop()
	f.mu.Lock()
	f.stopped = false
	f.mu.Unlock()
	return f.start(ctx)
}

// Stop ends the emulator and the function process. It is safe to call twice.
func (f *Function) Stop() {
	f.stop()
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
}

func (f *Function) stop() {
	f.mu.Lock()
	cmd, exited := f.cmd, f.exited
	f.mu.Unlock()
	if cmd != nil {
		procs.Stop(cmd, exited, 3*time.Second)
	}
}

// URL returns the emulator's invoke URL (it changes on Restart).
func (f *Function) URL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.url
}

// PID returns the emulator's process id, for tests that kill it.
func (f *Function) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil || f.cmd.Process == nil {
		return 0
	}
	return f.cmd.Process.Pid
}

// ErrNotRunning is returned by helpers when the emulator has exited.
var ErrNotRunning = errors.New("emulator not running")
