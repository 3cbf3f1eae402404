package main

import "testing"

func TestConfig(t *testing.T) {
	t.Setenv("LOCALGW_PORT", "")
	cfg, err := config([]string{"-port", "3100", "-template", "t.yaml", "-folder", "ExampleBackendFunction=echo-backend", "-param", "StageName=test"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:3100" || cfg.Template != "t.yaml" || cfg.DataDir != ".local" || cfg.BuildDir != "build" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.Folders["ExampleBackendFunction"] != "echo-backend" || cfg.Parameters["StageName"] != "test" {
		t.Errorf("folders %v params %v", cfg.Folders, cfg.Parameters)
	}
	t.Setenv("LOCALGW_PORT", "3200")
	if cfg, err := config(nil); err != nil || cfg.Addr != "127.0.0.1:3200" {
		t.Errorf("LOCALGW_PORT: addr %q err %v, want 127.0.0.1:3200", cfg.Addr, err)
	}
	for _, bad := range [][]string{{"-port", "0"}, {"-folder", "nope"}, {"-nope"}} {
		if _, err := config(bad); err == nil {
			t.Errorf("config(%v) accepted", bad)
		}
	}
}
