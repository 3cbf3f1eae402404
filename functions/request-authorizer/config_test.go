package main

import (
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/replay"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": `[{"route":"POST /hooks","accept":["signature"]}]`}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.window != 300*time.Second || c.skew != 30*time.Second || c.coolDown != 10*time.Second || c.cacheTTL != time.Hour ||
		c.verifiedTTL != 15*time.Minute || c.simple || c.clientIDHeader != "" || c.replaySize != 100_000 || !c.apiIP.Empty() {
		t.Fatalf("defaults = %+v", c)
	}
	if strings.Join(c.components, ",") != "@method,@authority,@path,content-digest" {
		t.Fatalf("components = %v", c.components)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"SIGNATURE_WINDOW_SECONDS":      "0",
		"CLOCK_SKEW_SECONDS":            "-1",
		"CREDENTIALS_CACHE_TTL_SECONDS": "30",
		"SIMPLE_RESPONSES":              "yes",
		"SIGNATURE_COMPONENTS":          "@method,@status",
		"CLIENT_ID_HEADER":              "X-Client-Id",
		"REPLAY_CACHE_SIZE":             "10",
		"SOURCE_IP_ALLOW":               "10.0.0.1/8",
		"ROUTES":                        "[]",
	}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"CREDENTIALS_SECRET_ID", "SIGNATURE_WINDOW_SECONDS", "CLOCK_SKEW_SECONDS", "CREDENTIALS_CACHE_TTL_SECONDS",
		"SIMPLE_RESPONSES", "@status", "CLIENT_SECRET_HEADER", "REPLAY_CACHE_SIZE", "host bits", "no routes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestParseRoutesRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not an array":          `{"route":"GET /x"}`,
		"unknown field":         `[{"route":"GET /x","accept":["signature"],"scopes":["a"]}]`,
		"empty accept":          `[{"route":"GET /x","accept":[]}]`,
		"unknown method":        `[{"route":"GET /x","accept":["jwt"]}]`,
		"method twice":          `[{"route":"GET /x","accept":["signature","signature"]}]`,
		"certificate, no rules": `[{"route":"GET /x","accept":["certificate"]}]`,
		"bad route key":         `[{"route":"GET x","accept":["signature"]}]`,
		"duplicate route":       `[{"route":"GET /x/{a}","accept":["signature"]},{"route":"GET /x/{b}","accept":["credentials"]}]`,
		"bad CIDR":              `[{"route":"GET /x","accept":["signature"],"sourceIp":{"allow":["10.0.0.0/33"]}}]`,
		"bad fingerprint":       `[{"route":"GET /x","accept":["certificate"],"clientCert":{"fingerprints":["abc"]}}]`,
		"empty principal":       `[{"route":"GET /x","accept":["signature"],"principals":[" "]}]`,
		"trailing data":         `[{"route":"GET /x","accept":["signature"]}] []`,
	} {
		if _, err := parseRoutes([]byte(in)); err == nil {
			t.Errorf("%s: parseRoutes accepted %s", name, in)
		}
	}
	rt, err := parseRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	if len(rt.routes) != 5 || !rt.hasIPRules() || !rt.routes[4].accepts(methodCertificate) || rt.routes[4].cert == nil {
		t.Fatalf("parsed routes = %+v", rt.routes)
	}
}

func TestNonceTableAndReplayCache(t *testing.T) {
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": testRoutes, "NONCE_TABLE": " guard-nonces ", "REPLAY_CACHE_SIZE": "5000"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.nonceTable != "guard-nonces" || cfg.replaySize != 5000 {
		t.Errorf("nonce table %q, replay cache %d; want guard-nonces and 5000", cfg.nonceTable, cfg.replaySize)
	}
	cfg, err = loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": testRoutes}[k]
	})
	if err != nil || cfg.nonceTable != "" || cfg.replaySize != replay.DefaultMemorySize {
		t.Errorf("defaults: nonce table %q, replay cache %d, %v; want none and %d", cfg.nonceTable, cfg.replaySize, err, replay.DefaultMemorySize)
	}
	if _, err := loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": testRoutes, "REPLAY_CACHE_SIZE": "10"}[k]
	}); err == nil || !strings.Contains(err.Error(), "REPLAY_CACHE_SIZE") {
		t.Errorf("a 10-entry replay cache: err = %v, want a REPLAY_CACHE_SIZE error", err)
	}
}
