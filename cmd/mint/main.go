// Command mint prints a demo token signed with the running local stack's
// current signing key. Usage: go run ./cmd/mint -sub alice -scope "orders:read"
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/stackfile"
)

func main() {
	sub := flag.String("sub", "alice", "the token's subject")
	scope := flag.String("scope", "orders:read", "space-separated scopes")
	groups := flag.String("groups", "", "comma-separated groups (cognito:groups)")
	ttl := flag.Duration("ttl", time.Hour, "lifetime")
	data := flag.String("data", ".local", "the local stack's data folder")
	flag.Parse()
	if err := run(*sub, *scope, *groups, *ttl, *data); err != nil {
		fmt.Fprintln(os.Stderr, "mint:", err)
		os.Exit(1)
	}
}

func run(sub, scope, groups string, ttl time.Duration, data string) error {
	st, err := stackfile.Read(data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	keys, err := demo.Load(ctx, demo.LocalSecrets(st.Moto))
	if err != nil {
		return err
	}
	c := demo.Claims(sub, scope, ttl)
	if groups != "" {
		c["cognito:groups"] = strings.Split(groups, ",")
	}
	tok, err := keys.Current.Sign(c)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
