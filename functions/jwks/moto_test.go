package main

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/shared/secretver"
)

// TestMotoReader serves the JWKS through the real caching client and
// secretver.Reader against moto's Secrets Manager.
func TestMotoReader(t *testing.T) {
	if !moto.Available() {
		t.Skip("moto_server not installed (pip install \"moto[server]\")")
	}
	ctx := context.Background()
	srv, err := moto.Start(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	sm := demo.LocalSecrets(srv.Endpoint)
	k := newTestKeys(t)
	const name = "jwks-keys"
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(k.rs))}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(merge(t, k.es, k.hs))}); err != nil {
		t.Fatal(err)
	}
	cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = sm; c.CacheItemTTL = time.Minute.Nanoseconds() })
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(secretver.New(name, cache, sm), 300*time.Second, slog.New(slog.DiscardHandler))
	a := call(t, h, readFixture(t, "http-get.json"))
	if a.Status != 200 || a.Headers["Cache-Control"] != "public, max-age=300" {
		t.Fatalf("answer %d %v %s", a.Status, a.Headers, a.Body)
	}
	if got, want := kids(publishedKeys(t, a.Body)), []string{k.kid["ES256"], k.kid["RS256"]}; !slices.Equal(got, want) {
		t.Fatalf("kids %v, want %v", got, want)
	}
}
