package stack

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/internal/stackfile"
)

func TestFolder(t *testing.T) {
	for id, want := range map[string]string{
		"TokenAuthorizerFunction":  "token-authorizer",
		"CacheInvalidatorFunction": "cache-invalidator",
		"EchoBackendFunction":      "echo-backend",
		"Validator":                "validator",
	} {
		if got := Folder(id); got != want {
			t.Errorf("Folder(%q) = %q, want %q", id, got, want)
		}
		if got := stackfile.LogicalID(want); strings.HasSuffix(id, "Function") && got != id {
			t.Errorf("stackfile.LogicalID(%q) = %q, want %q (the two must stay inverse)", want, got, id)
		}
	}
	if got := folderOf("ExampleBackendFunction", map[string]string{"ExampleBackendFunction": "echo-backend"}); got != "echo-backend" {
		t.Errorf("folderOf with a mapping = %q, want echo-backend", got)
	}
}

func TestFunctionEnv(t *testing.T) {
	f := &samtemplate.Function{LogicalID: "Fn", Env: map[string]string{"A": "template", "B": "template", "C": "template"}}
	got := functionEnv(f, "http://moto", "http://gw", map[string]map[string]string{
		"Parameters": {"B": "all", "AWS_ENDPOINT_URL_LAMBDA": "http://elsewhere"},
		"Fn":         {"C": "mine"},
		"Other":      {"A": "not mine"},
	})
	want := map[string]string{
		"A": "template", "B": "all", "C": "mine",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://moto", "AWS_ENDPOINT_URL_DYNAMODB": "http://moto",
		"AWS_ENDPOINT_URL_API_GATEWAY": "http://gw", "AWS_ENDPOINT_URL_APIGATEWAYV2": "http://gw",
		"AWS_ENDPOINT_URL_LAMBDA": "http://elsewhere",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env = %v\nwant  %v", got, want)
	}
}

// TestFunctionEnvLogging checks that LoggingConfig reaches the function as
// Lambda passes it, so lambdacontext.NewLogger logs JSON locally too.
func TestFunctionEnvLogging(t *testing.T) {
	tests := []struct {
		name    string
		logging samtemplate.Logging
		format  string // "" = unset
		level   string
	}{
		{"JSON with a level", samtemplate.Logging{Format: "JSON", ApplicationLogLevel: "DEBUG", SystemLogLevel: "WARN"}, "JSON", "DEBUG"},
		{"JSON without a level", samtemplate.Logging{Format: "JSON"}, "JSON", ""},
		{"Text ignores levels, as Lambda does", samtemplate.Logging{Format: "Text", ApplicationLogLevel: "DEBUG"}, "TEXT", ""},
		{"no LoggingConfig", samtemplate.Logging{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &samtemplate.Function{LogicalID: "Fn", Env: map[string]string{"A": "1"}, Logging: tt.logging}
			env := functionEnv(f, "http://moto", "http://gw", nil)
			format, hasFormat := env["AWS_LAMBDA_LOG_FORMAT"]
			level, hasLevel := env["AWS_LAMBDA_LOG_LEVEL"]
			if format != tt.format || hasFormat != (tt.format != "") {
				t.Errorf("AWS_LAMBDA_LOG_FORMAT = %q (set %v), want %q", format, hasFormat, tt.format)
			}
			if level != tt.level || hasLevel != (tt.level != "") {
				t.Errorf("AWS_LAMBDA_LOG_LEVEL = %q (set %v), want %q", level, hasLevel, tt.level)
			}
			if env["A"] != "1" {
				t.Errorf("template variable A = %q, want 1", env["A"])
			}
		})
	}
	// The overrides file still wins, e.g. to debug one function locally.
	f := &samtemplate.Function{LogicalID: "Fn", Logging: samtemplate.Logging{Format: "JSON", ApplicationLogLevel: "INFO"}}
	env := functionEnv(f, "", "", map[string]map[string]string{"Fn": {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}})
	if env["AWS_LAMBDA_LOG_LEVEL"] != "DEBUG" {
		t.Errorf("with an override AWS_LAMBDA_LOG_LEVEL = %q, want DEBUG", env["AWS_LAMBDA_LOG_LEVEL"])
	}

	// The project's template: every function logs JSON at INFO.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tm.FunctionIDs() {
		env := functionEnv(tm.Functions[id], "", "", nil)
		if env["AWS_LAMBDA_LOG_FORMAT"] != "JSON" {
			t.Errorf("template.yaml %s: AWS_LAMBDA_LOG_FORMAT = %q, want JSON (Globals LoggingConfig)", id, env["AWS_LAMBDA_LOG_FORMAT"])
		}
	}
}

func TestReadOverrides(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"Parameters":{"X":"1"},"Fn":{"Y":"2"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readOverrides(good)
	if err != nil || got["Fn"]["Y"] != "2" || got["Parameters"]["X"] != "1" {
		t.Errorf("readOverrides = %v, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Fn":{"Y":2}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readOverrides(bad); err == nil {
		t.Error("a non-string value was accepted")
	}
	if _, err := readOverrides(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("a missing explicit overrides file was accepted")
	}
}

func TestExamplePath(t *testing.T) {
	api := &samtemplate.API{Routes: []*samtemplate.Route{
		{Method: "ANY", Path: "/reports/{proxy+}", Authorizer: "A"},
		{Method: "GET", Path: "/open"},
		{Method: "GET", Path: "/orders/{id}/lines/{line}", Authorizer: "A"},
	}}
	if got := examplePath(api); got != "/orders/1/lines/1" {
		t.Errorf("examplePath = %q, want /orders/1/lines/1", got)
	}
}

// nopInvoker stands in for a running function: the walk-through only
// lists routes.
type nopInvoker struct{}

func (nopInvoker) Invoke(context.Context, []byte) (rie.Result, error) { return rie.Result{}, nil }

// walkthroughOf prints the walk-through of the project's template.yaml
// with the given demo credentials (nil: none), as a stack started with
// Config.Template tmplFlag and Config.DataDir dataDir would.
func walkthroughOf(t *testing.T, tmplFlag string, creds *demo.Credentials, dataDir string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns := map[string]gateway.Invoker{}
	for _, id := range tm.FunctionIDs() {
		fns[id] = nopInvoker{}
	}
	g, err := gateway.New(tm, fns)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{URL: "http://127.0.0.1:3000", AWSEndpoint: "http://127.0.0.1:5000", Gateway: g, Template: tm,
		Credentials: creds, cfg: Config{Template: tmplFlag, DataDir: dataDir}}
	var b strings.Builder
	s.PrintWalkthrough(&b, Tokens{Allow: "allow.token.x", NoScope: "noscope.token.x"})
	return b.String()
}

// TestWalkthroughRequestAuthorizer checks the request authorizer's part of
// the walk-through on template.yaml: the credentials calls and the webhook
// command on both APIs, each after its status comment. cmd/localgw's
// end-to-end test runs them.
func TestWalkthroughRequestAuthorizer(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	creds := &demo.Credentials{SecretID: "guard-local-request-credentials", KeyID: "partner-a", ClientID: "ops",
		Current: demo.CredentialVersion{ClientSecret: "current-secret-0123456789"}, Previous: demo.CredentialVersion{ClientSecret: "previous-secret-0123456789"}}
	out := walkthroughOf(t, "template.yaml", creds, ".local")
	for _, want := range []string{
		"  # 200: client credentials (HTTP Basic) from an allowed source address (loopback)\n  curl -i -u 'ops:current-secret-0123456789' http://127.0.0.1:3000/restapi/dev/admin/audit\n",
		"  # 401: a wrong client secret\n  curl -i -u 'ops:not-the-ops-secret-0123456789' http://127.0.0.1:3000/restapi/dev/admin/audit\n",
		"  # 200: client credentials (HTTP Basic) from an allowed source address (loopback)\n  curl -i -u 'ops:current-secret-0123456789' http://127.0.0.1:3000/httpapi/dev/admin/audit\n",
		"  # 401: a wrong client secret\n  curl -i -u 'ops:not-the-ops-secret-0123456789' http://127.0.0.1:3000/httpapi/dev/admin/audit\n",
		"the validator answers 400 (the digest does not match)\n  go run ./cmd/webhook -api rest\n",
		"the validator answers 400 (the digest does not match)\n  go run ./cmd/webhook -api http\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("walk-through lacks\n%s\ngot:\n%s", want, out)
		}
	}
	if strings.Contains(out, "previous-secret") {
		t.Error("the walk-through uses the AWSPREVIOUS client secret")
	}

	// Another data folder and template travel with the webhook command.
	tmplPath := filepath.Join(root, "template.yaml")
	out = walkthroughOf(t, tmplPath, creds, "/tmp/my data")
	if want := "go run ./cmd/webhook -api rest -data '/tmp/my data' -template " + tmplPath + "\n"; !strings.Contains(out, want) {
		t.Errorf("walk-through lacks %q:\n%s", want, out)
	}

	// Without demo credentials (none seeded, or another secret was there),
	// the walk-through is what it was.
	out = walkthroughOf(t, tmplPath, nil, ".local")
	for _, not := range []string{" -u ", "cmd/webhook", "/dev/admin/audit"} {
		if strings.Contains(out, not) {
			t.Errorf("walk-through without credentials holds %q:\n%s", not, out)
		}
	}
}

func TestCredentialsSecretID(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := credentialsSecretID(tm, nil); got != "guard-local-request-credentials" {
		t.Errorf("template.yaml: credentials secret %q, want guard-local-request-credentials", got)
	}
	if got := credentialsSecretID(tm, map[string]map[string]string{RequestAuthorizer: {"CREDENTIALS_SECRET_ID": "mine"}}); got != "mine" {
		t.Errorf("with an override: %q, want mine", got)
	}
	delete(tm.Functions, RequestAuthorizer)
	if got := credentialsSecretID(tm, nil); got != "" {
		t.Errorf("without a request authorizer: %q, want none", got)
	}
}
