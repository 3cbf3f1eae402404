// Command invoke sends one sample event to a function of the running local
// stack through the Lambda Runtime Interface Emulator and prints the answer.
// "{{token}}" in the event is replaced by a freshly minted demo token. The
// request authorizer's samples that need a signature or client credentials
// ({{signature}}, {{basic}}) are refused with a pointer to make webhook and
// the printed curl commands, which go through the local gateway.
//
// Usage: go run ./cmd/invoke -event events/token-authorizer/rest-token.json
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/stackfile"
)

func main() {
	event := flag.String("event", "", "the event file")
	function := flag.String("function", "", "the function's logical id (default: from the event's folder)")
	tok := flag.String("token", "", "the token to put for {{token}} (default: a fresh demo token)")
	scope := flag.String("scope", "orders:read", "scopes of the minted token")
	data := flag.String("data", ".local", "the local stack's data folder")
	flag.Parse()
	if err := run(*event, *function, *tok, *scope, *data); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(event, function, tok, scope, data string) error {
	if event == "" {
		return fmt.Errorf("-event is required")
	}
	payload, err := os.ReadFile(event)
	if err != nil {
		return err
	}
	for _, p := range []string{"{{signature}}", "{{signature-input}}", "{{basic}}"} {
		if bytes.Contains(payload, []byte(p)) {
			return fmt.Errorf("%s needs a signature or client credentials (%s), which invoke does not make: "+
				"send the request through the local gateway instead (make webhook, or the curl -u commands make run prints)", event, p)
		}
	}
	st, err := stackfile.Read(data)
	if err != nil {
		return err
	}
	if function == "" {
		function = stackfile.LogicalID(filepath.Base(filepath.Dir(event)))
	}
	url, ok := st.Functions[function]
	if !ok {
		return fmt.Errorf("the local stack runs no function %s", function)
	}
	ctx := context.Background()
	if bytes.Contains(payload, []byte("{{token}}")) {
		if tok == "" {
			keys, err := demo.Load(ctx, demo.LocalSecrets(st.Moto))
			if err != nil {
				return err
			}
			if tok, err = keys.Current.Sign(demo.Claims("alice", scope, time.Hour)); err != nil {
				return err
			}
		}
		payload = bytes.ReplaceAll(payload, []byte("{{token}}"), []byte(tok))
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("invoke %s: %w", function, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s (emulator status %d)\n", bytes.TrimSpace(body), resp.StatusCode)
	return nil
}
