package stack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
