//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/procs"
)

// TestValidatorThroughGateway runs the template's validating front of
// POST /orders (REST and HTTP API) behind the token authorizer, in front of
// the demo backend: a good body reaches the backend with the authorizer's
// principal; the seed's privilege escalation, an injection and a wrong
// content type are refused with problem documents before the backend runs;
// every answer carries the security headers.
func TestValidatorThroughGateway(t *testing.T) {
	root, err := procs.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, nil, map[string]map[string]string{
		// Lambda resolves the template's relative path from /var/task; the
		// test's emulators run in integration/.
		"ValidatorFunction": {"VALIDATION_RULES_FILE": filepath.Join(root, "functions", "validator", "testdata", "rules.json")},
	})
	tok, err := s.Keys.Current.Sign(demo.Claims("alice", "orders:write", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	good := `{"customer":{"name":"Siobhán O'Brien","email":"siobhan@example.com"},` +
		`"items":[{"sku":"TEA-001","qty":2,"note":"It's a gift -- please wrap it"}]}`
	cases := []struct {
		name, contentType, body string
		status                  int
		problem                 string   // the problem type's last path segment; "" for a backend answer
		pointers                []string // acceptable JSON pointers (URI fragments) of the problem
	}{
		{"valid order", "application/json", good, 200, "", nil},
		{"privilege escalation", "application/json", `{"userId":"admin","role":"superuser","items":[{"sku":"TEA-001","qty":1}]}`, 400, "privileged-field", []string{"#/userId", "#/role"}},
		{"SQL injection in a strict field", "application/json", `{"items":[{"sku":"TEA-001","qty":1}],"q":"1' OR '1'='1"}`, 400, "sql-injection", []string{"#/q"}},
		{"XSS in a text field", "application/json", `{"items":[{"sku":"TEA-001","qty":1}],"description":"<script>alert(1)</script>"}`, 400, "xss", []string{"#/description"}},
		{"wrong content type", "text/plain", good, 415, "unsupported-media-type", []string{""}},
	}
	for _, api := range []string{"restapi", "httpapi"} {
		for _, tc := range cases {
			t.Run(api+" "+tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/"+api+"/dev/orders", bytes.NewReader([]byte(tc.body)))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", tc.contentType)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
				for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
					if got := resp.Header.Get(h); got != want {
						t.Errorf("%s = %q, want %q", h, got, want)
					}
				}
				if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
					t.Errorf("Strict-Transport-Security = %q", resp.Header.Get("Strict-Transport-Security"))
				}
				if tc.problem == "" {
					if !strings.Contains(string(body), "alice") {
						t.Errorf("the backend's echo lacks the principal: %s", body)
					}
					return
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q, want application/problem+json", ct)
				}
				var p struct{ Type, Pointer string }
				if err := json.Unmarshal(body, &p); err != nil {
					t.Fatalf("problem %s: %v", body, err)
				}
				if !strings.HasSuffix(p.Type, "/"+tc.problem) || !slices.Contains(tc.pointers, p.Pointer) {
					t.Errorf("problem type %q pointer %q, want …/%s and one of %q", p.Type, p.Pointer, tc.problem, tc.pointers)
				}
				if strings.Contains(string(body), "superuser") || strings.Contains(string(body), "<script>") || strings.Contains(string(body), "1'") {
					t.Errorf("the problem echoes the offending value: %s", body)
				}
			})
		}
	}
}
