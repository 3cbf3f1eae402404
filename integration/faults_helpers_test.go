//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/faultproxy"
	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/procs"
)

// faultStack is the local stack with the token authorizer reaching Secrets
// Manager, DynamoDB and an OIDC issuer's JWKS through fault proxies. The
// JWKS is the stack's own (the jwks function behind the gateway), published
// for a second issuer, oidcIssuer, whose tokens the demo keys sign.
type faultStack struct {
	*stack.Stack
	sm, ddb, jwks *faultproxy.Proxy
	logs          *lockedLog
	oidcIssuer    string
	env           map[string]string // the authorizer's overrides
}

// Settings of the fault stacks' authorizer: short enough that each outage
// plays out in seconds.
const (
	faultCoolDown   = time.Second     // KEYS_REFRESH_COOLDOWN_SECONDS
	faultKeysStale  = 2 * time.Second // KEYS_MAX_STALENESS_SECONDS
	faultJWKSStale  = 2 * time.Second // JWKS_MAX_STALENESS_SECONDS
	faultRevRefresh = time.Second     // REVOCATION_REFRESH_SECONDS
	faultRevStale   = 2 * time.Second // REVOCATION_MAX_STALENESS_SECONDS
	// faultDeadline is the authorizer's budget: the template's function
	// timeout (10 s) less the handler's margin (1 s).
	faultDeadline = 9 * time.Second
	// readBound is the longest a dependency call may hold a request while
	// keys or a revocation view are held (secretver.DefaultReadTimeout,
	// keyring.DefaultFetchTimeout; the revocation refresh timeout is 2 s).
	readBound = 3 * time.Second
)

// startFaultStack starts moto, three pass-through proxies and the stack
// (authorizer cache off: every request is decided by the authorizer). extra
// overrides the authorizer's environment.
func startFaultStack(t *testing.T, extra map[string]string) *faultStack {
	t.Helper()
	needTools(t)
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "build", "token-authorizer", "bootstrap")); err != nil {
		t.Fatal("function binaries missing: run `make build` (make test-integration does)")
	}
	m := startMoto(t)
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := procs.Addr(port)
	fs := &faultStack{logs: &lockedLog{}, oidcIssuer: "http://127.0.0.1/oidc-faults"}
	for _, p := range []struct {
		dst      **faultproxy.Proxy
		upstream string
	}{{&fs.sm, m.Endpoint}, {&fs.ddb, m.Endpoint}, {&fs.jwks, "http://" + addr}} {
		px, err := faultproxy.Start(p.upstream)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(px.Close)
		*p.dst = px
	}
	oidc, _ := json.Marshal([]map[string]any{{
		"issuer": fs.oidcIssuer, "jwks_uri": fs.jwks.URL() + "/restapi/dev/.well-known/jwks.json",
		"audiences": []string{demo.Audience},
	}})
	fs.env = map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": fs.sm.URL(),
		"AWS_ENDPOINT_URL_DYNAMODB":        fs.ddb.URL(),
		"OIDC_ISSUERS":                     string(oidc),
		"KEYS_REFRESH_COOLDOWN_SECONDS":    envSeconds(faultCoolDown),
		"KEYS_MAX_STALENESS_SECONDS":       envSeconds(faultKeysStale),
		"JWKS_MAX_STALENESS_SECONDS":       envSeconds(faultJWKSStale),
		"REVOCATION_REFRESH_SECONDS":       envSeconds(faultRevRefresh),
		"REVOCATION_MAX_STALENESS_SECONDS": envSeconds(faultRevStale),
		"DECISION_LOG_SAMPLE_RATE":         "1",
	}
	for k, v := range extra {
		fs.env[k] = v
	}
	ovr := filepath.Join(t.TempDir(), "overrides.json")
	b, _ := json.Marshal(map[string]map[string]string{"TokenAuthorizerFunction": fs.env})
	if err := os.WriteFile(ovr, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out := fs.logs.String()
			if len(out) > 30000 {
				out = out[len(out)-30000:]
			}
			t.Logf("stack output (tail):\n%s", out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Config{
		Template: filepath.Join(root, "template.yaml"), Addr: addr,
		BuildDir: filepath.Join(root, "build"), DataDir: t.TempDir(),
		Parameters: map[string]string{"AuthorizerTtlSeconds": "0"},
		Overrides:  ovr, AWSEndpoint: m.Endpoint, Log: fs.logs,
	})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	t.Cleanup(s.Close)
	fs.Stack = s
	return fs
}

func envSeconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mintFor signs a token of sub (scope orders:read, 1 h) for issuer with the
// stack's current key, or its previous one.
func (fs *faultStack) mintFor(t *testing.T, issuer, sub string, previous bool) string {
	t.Helper()
	c := demo.Claims(sub, "orders:read", time.Hour)
	c["iss"] = issuer
	sg := fs.Keys.Current
	if previous {
		sg = fs.Keys.Previous
	}
	tok, err := sg.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// shot is one request through the gateway.
type shot struct {
	at      time.Time // when it was sent
	code    int
	latency time.Duration
	body    string
}

var faultClient = &http.Client{Timeout: 20 * time.Second}

// fire sends GET path with the bearer token and never fails the test on a
// transport error (code 0).
func (fs *faultStack) fire(path, token string) shot {
	req, _ := http.NewRequest(http.MethodGet, fs.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	s := shot{at: time.Now()}
	resp, err := faultClient.Do(req)
	s.latency = time.Since(s.at)
	if err != nil {
		s.body = err.Error()
		return s
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text())
	}
	s.code, s.body = resp.StatusCode, b.String()
	return s
}

// decisions returns the authorizer's decision log records since offset (a
// byte offset into the stack's log) and the new offset.
func (fs *faultStack) decisions(offset int) ([]map[string]any, int) {
	out := fs.logs.String()
	if offset > len(out) {
		offset = len(out)
	}
	var recs []map[string]any
	for _, line := range strings.Split(out[offset:], "\n") {
		_, rest, ok := strings.Cut(line, "[TokenAuthorizerFunction] ")
		if !ok || !strings.Contains(rest, `"authorizer decision"`) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(rest), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	return recs, len(out)
}

// decisionMetrics counts the authorizer's EMF "Decisions" records since
// offset with the given Outcome and Reason dimensions.
func (fs *faultStack) decisionMetrics(offset int, outcome, reason string) int {
	out := fs.logs.String()
	n := 0
	for _, line := range strings.Split(out[min(offset, len(out)):], "\n") {
		_, rest, ok := strings.Cut(line, "[TokenAuthorizerFunction] ")
		if !ok || !strings.Contains(rest, `"_aws"`) {
			continue
		}
		var rec struct {
			Outcome, Reason string
			Decisions       float64
		}
		if json.Unmarshal([]byte(rest), &rec) == nil && rec.Outcome == outcome && rec.Reason == reason {
			n += int(rec.Decisions)
		}
	}
	return n
}

// authorizerState returns the authorizer emulator's pid and its init count,
// to show that a recovery needed no restart and no re-initialisation.
func (fs *faultStack) authorizerState() string {
	f := fs.Function("TokenAuthorizerFunction")
	return fmt.Sprintf("pid %d, %d inits", f.PID(), len(f.InitDurations()))
}

// openFDs counts the open file descriptors of the authorizer's function
// process (the bootstrap under the emulator): leaked goroutines blocked on
// a dependency hold connections, so a leak shows here.
func (fs *faultStack) openFDs(t *testing.T) int {
	t.Helper()
	pid := functionPID(t, fs.Function("TokenAuthorizerFunction").PID())
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("open fds of %d: %v", pid, err)
	}
	return len(entries)
}

// functionPID returns the pid of the function process (bootstrap) that the
// emulator with pid emulator runs, waiting briefly for it to appear.
func functionPID(t *testing.T, emulator int) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		if kids := childPIDs(emulator); len(kids) > 0 {
			return kids[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("emulator %d runs no function process", emulator)
	return 0
}

// childPIDs lists the children of pid from /proc.
func childPIDs(pid int) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}
