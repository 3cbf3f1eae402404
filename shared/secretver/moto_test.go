package secretver_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"

	"github.com/apigw-guard/guard/shared/secretver"
)

// startMoto runs moto's server on a free loopback port for the test's
// lifetime and returns its URL. It skips the test when moto_server is not
// installed.
func startMoto(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("moto test skipped in -short mode")
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr
}

func TestReaderAgainstMoto(t *testing.T) {
	endpoint := startMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	client := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "dummy-secret", ""),
	})
	name := fmt.Sprintf("guard/moto-%d", time.Now().UnixNano())
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	put := func(value string) string {
		t.Helper()
		out, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		return aws.ToString(out.VersionId)
	}
	put("value-1")
	id2 := put("value-2")

	cache, err := secretcache.New(func(c *secretcache.Cache) { c.Client = client })
	if err != nil {
		t.Fatal(err)
	}
	r := secretver.New(name, cache, client)

	s, err := r.Get(ctx)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, want := stagesOf(s), "AWSCURRENT=value-2 AWSPREVIOUS=value-1"; got != want {
		t.Fatalf("Get = %q, want %q", got, want)
	}

	id3 := put("value-3")
	// The cache is warm and refreshes no sooner than half its 1 h TTL: it
	// still serves the old version map.
	if s, err := r.Get(ctx); err != nil || stagesOf(s) != "AWSCURRENT=value-2 AWSPREVIOUS=value-1" {
		t.Fatalf("Get before Refresh = %q, %v; want the cached value-2/value-1", stagesOf(s), err)
	}
	s, refreshed, err := r.Refresh(ctx)
	if err != nil || !refreshed {
		t.Fatalf("Refresh = %v, %v; want true, nil", refreshed, err)
	}
	if got, want := stagesOf(s), "AWSCURRENT=value-3 AWSPREVIOUS=value-2"; got != want {
		t.Errorf("Refresh = %q, want %q", got, want)
	}
	if s.Versions[0].ID != id3 || s.Versions[1].ID != id2 {
		t.Errorf("Refresh IDs = %s, %s; want %s, %s", s.Versions[0].ID, s.Versions[1].ID, id3, id2)
	}
	got, err := r.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stagesOf(got) != "AWSCURRENT=value-3 AWSPREVIOUS=value-2" {
		t.Errorf("Get after Refresh = %q, want value-3/value-2 (value-1 gone)", stagesOf(got))
	}
}
