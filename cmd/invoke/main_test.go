package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesSamplesItCannotSign: the request authorizer's samples that
// need a signature or client credentials get a clear error naming what to
// use instead, before any stack is looked for.
func TestRefusesSamplesItCannotSign(t *testing.T) {
	for _, name := range []string{"rest-signed.json", "http-v2-signed.json", "rest-credentials.json", "http-v1-credentials.json"} {
		err := run(filepath.Join("..", "..", "events", "request-authorizer", name), "", "", "orders:read", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "make webhook") || !strings.Contains(err.Error(), "{{") {
			t.Errorf("%s: %v; want an error naming the placeholder and make webhook", name, err)
		}
	}
	// A token sample goes on to look for the stack (none in an empty folder).
	err := run(filepath.Join("..", "..", "events", "token-authorizer", "rest-token.json"), "", "", "orders:read", t.TempDir())
	if err == nil || strings.Contains(err.Error(), "make webhook") {
		t.Errorf("rest-token.json without a stack: %v; want the missing stack reported", err)
	}
}
