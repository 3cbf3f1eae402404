package main

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	t.Setenv("LOCALGW_PORT", "")
	cfg, err := config([]string{"-port", "3100", "-template", "t.yaml", "-folder", "ExampleBackendFunction=echo-backend", "-param", "StageName=test",
		"-api-key", "key-one-0123456789abcd", "-api-key", "key-two-0123456789abcd"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3100" || cfg.Template != "t.yaml" || cfg.DataDir != ".local" || cfg.BuildDir != "build" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.Folders["ExampleBackendFunction"] != "echo-backend" || cfg.Parameters["StageName"] != "test" {
		t.Errorf("folders %v params %v", cfg.Folders, cfg.Parameters)
	}
	if len(cfg.APIKeys) != 2 || cfg.APIKeys[0] != "key-one-0123456789abcd" || cfg.APIKeys[1] != "key-two-0123456789abcd" {
		t.Errorf("api keys %v", cfg.APIKeys)
	}
	t.Setenv("LOCALGW_PORT", "3200")
	if cfg, err := config(nil); err != nil || cfg.Addr != "127.0.0.1:3200" {
		t.Errorf("LOCALGW_PORT: addr %q err %v, want 127.0.0.1:3200", cfg.Addr, err)
	}
	for _, bad := range [][]string{{"-port", "0"}, {"-folder", "nope"}, {"-nope"}, {"-api-key", ""}} {
		if _, err := config(bad); err == nil {
			t.Errorf("config(%v) accepted", bad)
		}
	}
}

func TestWatchParent(t *testing.T) {
	// A parent id that is not ours any more: gone is called at once.
	called := make(chan struct{})
	go watchParent(context.Background(), os.Getppid()+1, time.Hour, func() { close(called) })
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("watchParent did not notice a changed parent")
	}
	// Our parent is alive: watchParent waits, and returns when ctx ends
	// without calling gone.
	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	calls := 0
	go func() {
		defer close(returned)
		watchParent(ctx, os.Getppid(), time.Millisecond, func() { calls++ })
	}()
	time.Sleep(20 * time.Millisecond) // a few polls
	cancel()
	<-returned
	if calls != 0 {
		t.Errorf("gone called %d times while the parent lives, want 0", calls)
	}
}
