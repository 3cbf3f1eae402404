// Command connreuse counts the new TCP connections that warm invocations
// open to the local AWS endpoints, for `make conn-reuse`
// (scripts/conn-reuse). It is developer tooling: never deployed.
//
// It brings up the local stack (moto with the demo signing-key secret and
// the template's tables, every template function under its own emulator,
// and the local gateway, which also serves the API Gateway management calls
// and Lambda Invoke). Then it runs emulators of its own for three functions
// whose every invocation makes AWS calls, with each endpoint they call
// behind a counting proxy (one per function and endpoint; see proxy and
// newFront):
//
//   - cache-invalidator, a direct revocation with a new jti each time:
//     a DynamoDB write, the reads of its own view of the table until the
//     write shows, and the flush of both stages' authorizer caches through
//     the gateway (API Gateway and API Gateway v2 management calls);
//   - validator, a valid POST /orders: a Lambda Invoke of the echo backend
//     through the gateway;
//   - token-authorizer, a token from an OIDC issuer whose JWK Set lacks the
//     token's kid: every invocation refreshes that JWK Set (served by this
//     command) before it refuses the token; invocations are paced past the
//     refresh cool-down (KEYS_REFRESH_COOLDOWN_SECONDS=1) so that none is
//     skipped. (A refused token reads neither the signing-key secret nor
//     the revocation table, so the JWK Set is its only endpoint here.)
//
// Each instance is first warmed with -warmup invocations; then -n
// invocations per function are spread over its instances (several
// execution environments, so that the paced and the slow functions finish
// in minutes), and the connections and requests each proxy saw during
// those -n invocations are reported. A connection kept alive is counted
// once, when it is opened.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigw-guard/guard/internal/gateway/stack"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/shared/signer"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "warm invocations per function, after the warm-up")
	flag.IntVar(&o.instances, "instances", 8, "execution environments of the cache invalidator and of the token authorizer (the validator has one)")
	flag.IntVar(&o.warmup, "warmup", 2, "warm-up invocations per execution environment, not counted")
	flag.StringVar(&o.build, "build", "build", "the folder holding {function}/bootstrap")
	flag.StringVar(&o.template, "template", "template.yaml", "the SAM template")
	flag.StringVar(&o.only, "only", "", "comma-separated functions to measure (default all: cache-invalidator,validator,token-authorizer)")
	flag.BoolVar(&o.verbose, "v", false, "copy the emulators' output to stderr")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "connreuse:", err)
		os.Exit(1)
	}
}

type options struct {
	n, instances, warmup  int
	build, template, only string
	verbose               bool
}

// subject is one function measured, with its own emulators and proxies.
type subject struct {
	name      string // the function's folder
	logicalID string
	instances int
	pace      time.Duration // least time between two invocations of one instance
	env       map[string]string
	proxies   []*proxy
	event     func(seq int64) []byte
	check     func(rie.Result) error

	fns      []*rie.Function
	last     []time.Time // by instance: when its last invocation started
	seq      atomic.Int64
	failures atomic.Int64
	firstErr atomic.Pointer[string]
}

// phase is what one subject's proxies saw during one phase.
type phase struct {
	invocations int
	counts      []counts // by proxy
}

const (
	oidcIssuer   = "https://issuer.connreuse.invalid"
	oidcAudience = "connreuse"
	jwksCoolDown = time.Second
)

func run(ctx context.Context, o options) error {
	if o.n < 1 || o.instances < 1 || o.warmup < 1 {
		return fmt.Errorf("-n %d, -instances %d, -warmup %d: want at least 1 each", o.n, o.instances, o.warmup)
	}
	data, err := os.MkdirTemp("", "connreuse-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	var logs io.Writer = io.Discard
	if o.verbose {
		logs = os.Stderr
	}
	s, err := stack.Start(ctx, stack.Config{
		Template: o.template, Addr: "127.0.0.1:0", DataDir: data, BuildDir: o.build,
		Log: logs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	defer s.Close()
	moto, gw := hostOf(s.AWSEndpoint), hostOf(s.URL)

	jwks, err := startJWKS()
	if err != nil {
		return err
	}
	defer jwks.Close()

	all := map[string]func() (*subject, error){
		"cache-invalidator": func() (*subject, error) { return invalidator(s, o, moto, gw) },
		"validator":         func() (*subject, error) { return validator(s, moto, gw) },
		"token-authorizer":  func() (*subject, error) { return authorizer(s, o, moto, gw, jwks) },
	}
	order := []string{"cache-invalidator", "validator", "token-authorizer"}
	if o.only != "" {
		order = nil
		for name := range strings.SplitSeq(o.only, ",") {
			name = strings.TrimSpace(name)
			if all[name] == nil {
				return fmt.Errorf("-only %q: want some of cache-invalidator, validator, token-authorizer", name)
			}
			order = append(order, name)
		}
	}
	var subjects []*subject
	defer func() {
		for _, sub := range subjects {
			for _, p := range sub.proxies {
				p.Close()
			}
			for _, fn := range sub.fns {
				fn.Stop()
			}
		}
	}()
	for _, name := range order {
		sub, err := all[name]()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		subjects = append(subjects, sub)
		bin := filepath.Join(o.build, sub.name, "bootstrap")
		for i := range sub.instances {
			fn, err := rie.Start(ctx, rie.Config{
				Name: fmt.Sprintf("%s%d", strings.TrimSuffix(sub.logicalID, "Function"), i+1), Binary: bin,
				Env: sub.env, Timeout: s.Template.Functions[sub.logicalID].Timeout, Log: logs,
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			sub.fns = append(sub.fns, fn)
			sub.last = append(sub.last, time.Time{})
		}
	}

	// All functions run side by side: each has its own proxies.
	results := make([][2]phase, len(subjects))
	var wg sync.WaitGroup
	for i, sub := range subjects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			fmt.Fprintf(os.Stderr, "connreuse: %s: %d instance(s), %d warm-up invocation(s) each, then %d invocations\n",
				sub.name, sub.instances, o.warmup, o.n)
			results[i][0] = sub.drive(ctx, o.warmup*sub.instances)
			results[i][1] = sub.drive(ctx, o.n)
			fmt.Fprintf(os.Stderr, "connreuse: %s done in %s\n", sub.name, time.Since(start).Round(time.Second))
		}()
	}
	wg.Wait()

	report(os.Stdout, o, subjects, results, jwks.served.Load())
	var errs []error
	for _, sub := range subjects {
		if n := sub.failures.Load(); n > 0 {
			errs = append(errs, fmt.Errorf("%s: %d invocation(s) did not answer as expected; first: %s", sub.name, n, *sub.firstErr.Load()))
		}
	}
	return errors.Join(errs...)
}

// drive makes n invocations spread over the subject's instances, each
// instance one at a time, and returns what its proxies saw meanwhile.
func (sub *subject) drive(ctx context.Context, n int) phase {
	before := sub.snapshot()
	var next atomic.Int64
	var wg sync.WaitGroup
	for k, fn := range sub.fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if wait := sub.pace - time.Since(sub.last[k]); !sub.last[k].IsZero() && wait > 0 {
					time.Sleep(wait)
				}
				sub.last[k] = time.Now()
				res, err := fn.Invoke(ctx, sub.event(sub.seq.Add(1)))
				if err == nil {
					err = sub.check(res)
				}
				if err != nil {
					sub.failures.Add(1)
					msg := err.Error()
					sub.firstErr.CompareAndSwap(nil, &msg)
				}
			}
		}()
	}
	wg.Wait()
	after := sub.snapshot()
	p := phase{invocations: n}
	for i := range after {
		p.counts = append(p.counts, counts{after[i].conns - before[i].conns, after[i].requests - before[i].requests, after[i].aborted - before[i].aborted})
	}
	return p
}

func (sub *subject) snapshot() []counts {
	var c []counts
	for _, p := range sub.proxies {
		c = append(c, p.snapshot())
	}
	return c
}

// baseEnv is a function's template environment with every endpoint variable
// pointing straight at the local stack; callers then route the endpoints
// they measure through proxies.
func baseEnv(s *stack.Stack, logicalID, moto, gw string) (map[string]string, error) {
	f := s.Template.Functions[logicalID]
	if f == nil {
		return nil, fmt.Errorf("template has no %s", logicalID)
	}
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://" + moto,
		"AWS_ENDPOINT_URL_DYNAMODB":        "http://" + moto,
		"AWS_ENDPOINT_URL_API_GATEWAY":     "http://" + gw,
		"AWS_ENDPOINT_URL_APIGATEWAYV2":    "http://" + gw,
		"AWS_ENDPOINT_URL_LAMBDA":          "http://" + gw,
	} {
		env[k] = v
	}
	return env, nil
}

// via puts a new proxy to upstream in front of the endpoint variables vars.
// moto's endpoints get a keep-alive front (see newFront), the others a TCP
// proxy.
func (sub *subject) via(name, upstream string, vars ...string) (*proxy, error) {
	var p *proxy
	var err error
	if strings.HasSuffix(name, "(moto)") {
		p, err = newFront(name, upstream)
	} else if p, err = newProxy(name); err == nil {
		p.target(upstream)
	}
	if err != nil {
		return nil, err
	}
	sub.proxies = append(sub.proxies, p)
	for _, v := range vars {
		sub.env[v] = p.URL()
	}
	return p, nil
}

func invalidator(s *stack.Stack, o options, moto, gw string) (*subject, error) {
	const id = "CacheInvalidatorFunction"
	env, err := baseEnv(s, id, moto, gw)
	if err != nil {
		return nil, err
	}
	sub := &subject{name: "cache-invalidator", logicalID: id, instances: o.instances, env: env}
	if _, err := sub.via("DynamoDB (moto)", moto, "AWS_ENDPOINT_URL_DYNAMODB"); err != nil {
		return nil, err
	}
	if _, err := sub.via("API Gateway management (gateway)", gw, "AWS_ENDPOINT_URL_API_GATEWAY", "AWS_ENDPOINT_URL_APIGATEWAYV2"); err != nil {
		return nil, err
	}
	run := time.Now().UnixNano()
	sub.event = func(seq int64) []byte {
		b, _ := json.Marshal(map[string]string{"jti": fmt.Sprintf("connreuse-%d-%d", run, seq), "reason": "connreuse"})
		return b
	}
	sub.check = func(r rie.Result) error {
		if r.Err != nil {
			return r.Err
		}
		var out struct {
			Created bool `json:"created"`
			Stages  []struct {
				Error string `json:"error"`
			} `json:"stages"`
		}
		if err := json.Unmarshal(r.Payload, &out); err != nil {
			return fmt.Errorf("answer %.200q: %w", r.Payload, err)
		}
		if !out.Created || len(out.Stages) == 0 {
			return fmt.Errorf("answer %.200q: want a new revocation and flushed stages", r.Payload)
		}
		for _, st := range out.Stages {
			if st.Error != "" {
				return fmt.Errorf("flush: %s", st.Error)
			}
		}
		return nil
	}
	return sub, nil
}

func validator(s *stack.Stack, moto, gw string) (*subject, error) {
	const id = "ValidatorFunction"
	env, err := baseEnv(s, id, moto, gw)
	if err != nil {
		return nil, err
	}
	sub := &subject{name: "validator", logicalID: id, instances: 1, env: env}
	if _, err := sub.via("Lambda Invoke (gateway)", gw, "AWS_ENDPOINT_URL_LAMBDA"); err != nil {
		return nil, err
	}
	event, err := os.ReadFile(filepath.Join("events", "validator", "rest-create-order.json"))
	if err != nil {
		return nil, err
	}
	sub.event = func(int64) []byte { return event }
	sub.check = func(r rie.Result) error {
		if r.Err != nil {
			return r.Err
		}
		var out struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal(r.Payload, &out); err != nil || out.StatusCode != http.StatusOK {
			return fmt.Errorf("answer %.200q: want the backend's 200", r.Payload)
		}
		return nil
	}
	return sub, nil
}

func authorizer(s *stack.Stack, o options, moto, gw string, jwks *jwksServer) (*subject, error) {
	const id = "TokenAuthorizerFunction"
	env, err := baseEnv(s, id, moto, gw)
	if err != nil {
		return nil, err
	}
	sub := &subject{name: "token-authorizer", logicalID: id, instances: o.instances, env: env,
		pace: jwksCoolDown + 100*time.Millisecond}
	jp, err := sub.via("JWKS (issuer)", jwks.addr)
	if err != nil {
		return nil, err
	}
	issuers, err := json.Marshal([]map[string]any{{
		"issuer": oidcIssuer, "jwks_uri": jp.URL() + "/jwks.json", "audiences": []string{oidcAudience},
	}})
	if err != nil {
		return nil, err
	}
	env["OIDC_ISSUERS"] = string(issuers)
	env["KEYS_REFRESH_COOLDOWN_SECONDS"] = fmt.Sprint(int(jwksCoolDown / time.Second))

	// A key the issuer does not publish: every token it signs has a kid
	// the JWK Set lacks, so each invocation refreshes the set.
	set, err := signer.Generate("ES256", 0)
	if err != nil {
		return nil, err
	}
	stranger, err := signer.New(set)
	if err != nil {
		return nil, err
	}
	tmpl, err := os.ReadFile(filepath.Join("events", "token-authorizer", "rest-token.json"))
	if err != nil {
		return nil, err
	}
	sub.event = func(seq int64) []byte {
		now := time.Now()
		tok, err := stranger.Sign(map[string]any{
			"iss": oidcIssuer, "aud": oidcAudience, "sub": "connreuse", "jti": fmt.Sprint(seq),
			"iat": now, "exp": now.Add(10 * time.Minute),
		})
		if err != nil {
			panic(err) // a fixed ES256 key signs anything
		}
		return []byte(strings.ReplaceAll(string(tmpl), "{{token}}", tok))
	}
	sub.check = func(r rie.Result) error {
		if r.Err == nil || r.Err.Message != "Unauthorized" {
			return fmt.Errorf("answer %.200q (error %v): want Unauthorized", r.Payload, r.Err)
		}
		return nil
	}
	return sub, nil
}

// jwksServer publishes the OIDC issuer's JWK Set (one key, never the one
// the tokens are signed with) and counts the fetches.
type jwksServer struct {
	addr   string
	srv    *http.Server
	served atomic.Int64
}

func startJWKS() (*jwksServer, error) {
	set, err := signer.Generate("ES256", 0)
	if err != nil {
		return nil, err
	}
	doc, err := signer.PublicSet(set)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	j := &jwksServer{addr: ln.Addr().String()}
	j.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks.json" {
			http.NotFound(w, r)
			return
		}
		j.served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})}
	go func() { _ = j.srv.Serve(ln) }()
	return j, nil
}

func (j *jwksServer) Close() error { return j.srv.Close() }

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}
