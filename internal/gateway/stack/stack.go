// Package stack starts the whole local suite the way `make run` does: moto
// for Secrets Manager and DynamoDB, the demo signing-key secret (and the
// request authorizer's demo credentials secret, when there is one), every
// template function under its own Lambda Runtime Interface Emulator, and the
// local API Gateway in front of them. cmd/localgw runs it (its end-to-end
// tests run that binary); this package's end-to-end test drives it in
// process, to reach inside (kill one emulator, read the access log).
//
// A [Stack] owns its child processes; Close ends them all (and the
// processes die with this one anyway: see internal/procs).
package stack

import (
	"context"
	"encoding/json"
	"errors"
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
	"time"
	"unicode"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/internal/stackfile"
)

// Config says what to run. Zero values mean the `make run` defaults.
type Config struct {
	Template string // default "template.yaml"
	Addr     string // the gateway's listen address; default "127.0.0.1:3000"
	DataDir  string // local state (keys, stack file); default ".local"
	BuildDir string // where {folder}/bootstrap binaries are; default "build"
	// Overrides is a JSON file of function environment overrides in the
	// format of `sam local invoke --env-vars`: {"Parameters": {...} for
	// every function, "LogicalId": {...} for one}. Default
	// "local/overrides.json"; a missing default file is fine.
	Overrides string
	// Folders maps a function's logical id to its build folder name when the
	// convention (the logical id without "Function", in kebab case:
	// TokenAuthorizerFunction → token-authorizer) does not hold.
	Folders map[string]string
	// Parameters overrides template parameter defaults.
	Parameters map[string]string
	// AWSEndpoint is a running moto (or other) endpoint to use instead of
	// starting moto. Default: AWS_ENDPOINT_URL when it is reachable.
	AWSEndpoint string
	Log         io.Writer    // emulator, function and moto output; default os.Stderr
	AccessLog   io.Writer    // the gateway's access log; default Log
	Logger      *slog.Logger // the gateway's own log; default text on Log
	// SkipSeed leaves the local Secrets Manager and DynamoDB alone: no
	// signing-key secret, no request credentials, no tables (for templates
	// without them).
	SkipSeed bool
	// APIKeys are API key values the gateway accepts on methods with
	// ApiKeyRequired (see gateway.WithAPIKeys), beside the demo partner's
	// usage keys, which it always accepts.
	APIKeys []string
}

func (c *Config) defaults() {
	if c.Template == "" {
		c.Template = "template.yaml"
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:3000"
	}
	if c.DataDir == "" {
		c.DataDir = ".local"
	}
	if c.BuildDir == "" {
		c.BuildDir = "build"
	}
	if c.Log == nil {
		c.Log = os.Stderr
	}
	if c.AccessLog == nil {
		c.AccessLog = c.Log
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(c.Log, nil))
	}
}

// Stack is the running local suite.
type Stack struct {
	// URL is the gateway's base URL, e.g. http://127.0.0.1:3000.
	URL string
	// AWSEndpoint serves Secrets Manager and DynamoDB.
	AWSEndpoint string
	Gateway     *gateway.Gateway
	Template    *samtemplate.Template
	// Keys signs demo tokens; nil with SkipSeed.
	Keys *demo.Keys
	// Credentials are the request authorizer's demo partner key and client;
	// nil with SkipSeed, without a RequestAuthorizerFunction, or when its
	// credentials secret already held other credentials.
	Credentials *demo.Credentials

	cfg       Config
	moto      *moto.Server
	functions map[string]*rie.Function
	server    *http.Server
	closeOnce sync.Once
}

// Start brings the stack up and serves until Close. On error, whatever was
// started is stopped again.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg.defaults()
	s := &Stack{cfg: cfg, functions: map[string]*rie.Function{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Template, err = samtemplate.Load(cfg.Template, samtemplate.WithParameters(cfg.Parameters)); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.server = &http.Server{ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()

	if s.AWSEndpoint, err = s.awsEndpoint(ctx); err != nil {
		return nil, err
	}
	overrides, err := readOverrides(cfg.Overrides)
	if err != nil {
		return nil, err
	}
	if !cfg.SkipSeed {
		sm := demo.LocalSecrets(s.AWSEndpoint)
		if s.Keys, err = demo.Seed(ctx, sm, cfg.DataDir); err != nil {
			return nil, fmt.Errorf("seed the signing-key secret: %w", err)
		}
		if id := credentialsSecretID(s.Template, overrides); id != "" {
			s.Credentials, err = demo.SeedCredentials(ctx, sm, id, cfg.DataDir)
			if errors.Is(err, demo.ErrOtherCredentials) {
				cfg.Logger.Warn("the request credentials secret was there before the stack: left as it is, no demo credentials", "secret", id)
				err = nil
			}
			if err != nil {
				return nil, fmt.Errorf("seed the request credentials secret: %w", err)
			}
		}
		if err = createTables(ctx, LocalDynamoDB(s.AWSEndpoint), s.Template.Tables); err != nil {
			return nil, err
		}
	}
	invokers := map[string]gateway.Invoker{}
	for _, id := range s.Template.FunctionIDs() {
		f := s.Template.Functions[id]
		bin := filepath.Join(cfg.BuildDir, folderOf(id, cfg.Folders), "bootstrap")
		if _, statErr := os.Stat(bin); statErr != nil {
			if used(s.Template, id) {
				return nil, fmt.Errorf("function %s: %s not found (run `make build`)", id, bin)
			}
			cfg.Logger.Warn("function not built; it cannot be invoked", "function", id, "binary", bin)
			continue
		}
		env := functionEnv(f, s.AWSEndpoint, s.URL, overrides)
		fn, err := rie.Start(ctx, rie.Config{Name: id, Binary: bin, Env: env, Timeout: f.Timeout, Log: cfg.Log})
		if err != nil {
			return nil, err
		}
		s.functions[id] = fn
		invokers[id] = gateway.Supervise(id, fn, cfg.Logger)
	}
	apiKeys := append([]string(nil), cfg.APIKeys...)
	if c := s.Credentials; c != nil {
		apiKeys = append(apiKeys, c.Current.UsageKey, c.Previous.UsageKey)
	}
	if s.Gateway, err = gateway.New(s.Template, invokers, gateway.WithAccessLog(cfg.AccessLog), gateway.WithLogger(cfg.Logger),
		gateway.WithAPIKeys(apiKeys...)); err != nil {
		return nil, err
	}
	s.server.Handler = s.Gateway
	go func() {
		if err := s.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("gateway stopped", "err", err)
		}
	}()
	sf := stackfile.Stack{Gateway: s.URL, Moto: s.AWSEndpoint, Functions: map[string]string{}, PID: os.Getpid()}
	for id, fn := range s.functions {
		sf.Functions[id] = fn.URL()
	}
	if err := stackfile.Write(cfg.DataDir, sf); err != nil {
		return nil, fmt.Errorf("write the stack file: %w", err)
	}
	return s, nil
}

// RequestAuthorizer is the logical id of the function whose credentials
// secret (CREDENTIALS_SECRET_ID) the stack seeds with demo credentials.
const RequestAuthorizer = "RequestAuthorizerFunction"

// credentialsSecretID is the secret the request authorizer reads, as it
// will see it (template and overrides resolved), or "" when the template
// has no request authorizer.
func credentialsSecretID(t *samtemplate.Template, overrides map[string]map[string]string) string {
	f := t.Functions[RequestAuthorizer]
	if f == nil {
		return ""
	}
	return strings.TrimSpace(functionEnv(f, "", "", overrides)["CREDENTIALS_SECRET_ID"])
}

// functionEnv is a function's environment under the emulator: the
// template's variables, the variables Lambda derives from LoggingConfig, the
// standard endpoint variables that send the SDK to moto (Secrets Manager,
// DynamoDB) and to the gateway itself (API Gateway management, Lambda
// Invoke), then the overrides file's "Parameters" and the function's own
// entry, which win.
func functionEnv(f *samtemplate.Function, awsEndpoint, gatewayURL string, overrides map[string]map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range loggingEnv(f.Logging) {
		env[k] = v
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": awsEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB":        awsEndpoint,
		"AWS_ENDPOINT_URL_API_GATEWAY":     gatewayURL,
		"AWS_ENDPOINT_URL_APIGATEWAYV2":    gatewayURL,
		"AWS_ENDPOINT_URL_LAMBDA":          gatewayURL,
	} {
		env[k] = v
	}
	for k, v := range overrides["Parameters"] {
		env[k] = v
	}
	for k, v := range overrides[f.LogicalID] {
		env[k] = v
	}
	return env
}

// loggingEnv is what Lambda sets from a function's LoggingConfig:
// AWS_LAMBDA_LOG_FORMAT (JSON or TEXT) and, with the JSON format only,
// AWS_LAMBDA_LOG_LEVEL from ApplicationLogLevel. lambdacontext.NewLogger
// (shared/observe) reads both, so without them a function logs text locally
// while it logs JSON in AWS.
func loggingEnv(l samtemplate.Logging) map[string]string {
	switch l.Format {
	case "JSON":
		env := map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON"}
		if l.ApplicationLogLevel != "" {
			env["AWS_LAMBDA_LOG_LEVEL"] = l.ApplicationLogLevel
		}
		return env
	case "Text":
		return map[string]string{"AWS_LAMBDA_LOG_FORMAT": "TEXT"}
	}
	return nil
}

// awsEndpoint returns the Secrets Manager / DynamoDB endpoint: the
// configured one, AWS_ENDPOINT_URL if something listens there, else a moto
// started for this stack.
func (s *Stack) awsEndpoint(ctx context.Context) (string, error) {
	if s.cfg.AWSEndpoint != "" {
		return s.cfg.AWSEndpoint, nil
	}
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		if u, err := url.Parse(e); err == nil && u.Host != "" {
			if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
				c.Close()
				return e, nil
			}
		}
		s.cfg.Logger.Warn("AWS_ENDPOINT_URL is not reachable; starting moto", "endpoint", e)
	}
	m, err := moto.Start(ctx, 0, s.cfg.Log)
	if err != nil {
		return "", err
	}
	s.moto = m
	return m.Endpoint, nil
}

// Close stops the gateway, the functions and moto. It is safe to call twice.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		if s.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.server.Shutdown(ctx)
			cancel()
		}
		var wg sync.WaitGroup
		for _, fn := range s.functions {
			wg.Add(1)
			go func() { defer wg.Done(); fn.Stop() }()
		}
		wg.Wait()
		if s.moto != nil {
			s.moto.Stop()
		}
		if s.URL != "" {
			_ = os.Remove(filepath.Join(s.cfg.DataDir, stackfile.Name))
		}
	})
}

// Function returns a running function's emulator, for tests.
func (s *Stack) Function(logicalID string) *rie.Function { return s.functions[logicalID] }

// folderOf is the build folder of a function: Folders[id], else the logical
// id without "Function" in kebab case.
func folderOf(id string, folders map[string]string) string {
	if f, ok := folders[id]; ok {
		return f
	}
	return Folder(id)
}

// Folder maps a logical id to its conventional folder name:
// "TokenAuthorizerFunction" → "token-authorizer" (the inverse of
// stackfile.LogicalID).
func Folder(logicalID string) string {
	name := strings.TrimSuffix(logicalID, "Function")
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// used reports whether a route or an authorizer needs the function.
func used(t *samtemplate.Template, id string) bool {
	for _, a := range t.APIs {
		for _, r := range a.Routes {
			if r.Function == id {
				return true
			}
		}
		for _, az := range a.Authorizers {
			if az.Function == id {
				return true
			}
		}
	}
	return false
}

// readOverrides reads an env-vars overlay; the default path may be absent.
func readOverrides(path string) (map[string]map[string]string, error) {
	explicit := path != ""
	if !explicit {
		path = filepath.Join("local", "overrides.json")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	var out map[string]map[string]string
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("overrides %s: want {\"Parameters\": {...}, \"LogicalId\": {\"VAR\": \"value\"}}: %w", path, err)
	}
	return out, nil
}
