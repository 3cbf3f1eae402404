// Command revoke revokes a subject or a token id on the running local stack
// by invoking its cache-invalidator function, as an operator would in AWS.
//
// Usage: go run ./cmd/revoke -sub alice [-reason offboarded]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/apigw-guard/guard/internal/stackfile"
)

func main() {
	sub := flag.String("sub", "", "the subject (sub claim) to revoke")
	jti := flag.String("jti", "", "the token id (jti claim) to revoke")
	issuer := flag.String("issuer", "", "limit a subject revocation to this issuer")
	reason := flag.String("reason", "revoked locally", "why")
	data := flag.String("data", ".local", "the local stack's data folder")
	flag.Parse()
	if err := run(*sub, *jti, *issuer, *reason, *data); err != nil {
		fmt.Fprintln(os.Stderr, "revoke:", err)
		os.Exit(1)
	}
}

func run(sub, jti, issuer, reason, data string) error {
	if (sub == "") == (jti == "") {
		return fmt.Errorf("give exactly one of -sub and -jti")
	}
	st, err := stackfile.Read(data)
	if err != nil {
		return err
	}
	url, ok := st.Functions["CacheInvalidatorFunction"]
	if !ok {
		return fmt.Errorf("the local stack runs no CacheInvalidatorFunction")
	}
	ev := map[string]string{"reason": reason, "revokedAt": time.Now().UTC().Format(time.RFC3339)}
	if sub != "" {
		ev["subject"] = sub
	} else {
		ev["jti"] = jti
	}
	if issuer != "" {
		ev["issuer"] = issuer
	}
	payload, _ := json.Marshal(ev)
	start := time.Now()
	resp, err := http.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s (%v)\n", bytes.TrimSpace(body), time.Since(start).Round(time.Millisecond))
	// The emulator answers a handler error with 200 and an errorMessage
	// object, a crash with 502: either way the revocation did not happen.
	var fe struct {
		Message *string `json:"errorMessage"`
	}
	if resp.StatusCode != http.StatusOK || (json.Unmarshal(body, &fe) == nil && fe.Message != nil) {
		return fmt.Errorf("the invalidator failed (HTTP %d): the revocation may not be recorded; retry", resp.StatusCode)
	}
	return nil
}
