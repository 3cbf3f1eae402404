package revocation

import (
	"strings"
	"testing"
	"time"
)

func TestSettingsFrom(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	s, err := SettingsFrom(env(nil))
	if err != nil || s.Table != "" || s.Refresh != 2*time.Second || s.MaxStaleness != 10*time.Second || s.FailMode != FailClosed {
		t.Fatalf("defaults = %+v, %v", s, err)
	}
	s, err = SettingsFrom(env(map[string]string{"REVOCATION_TABLE": "t", "REVOCATION_REFRESH_SECONDS": "5",
		"REVOCATION_MAX_STALENESS_SECONDS": "30", "REVOCATION_FAIL_MODE": "OPEN"}))
	if err != nil || s.Table != "t" || s.Refresh != 5*time.Second || s.MaxStaleness != 30*time.Second || s.FailMode != FailOpen {
		t.Fatalf("settings = %+v, %v", s, err)
	}
	_, err = SettingsFrom(env(map[string]string{"REVOCATION_REFRESH_SECONDS": "0", "REVOCATION_MAX_STALENESS_SECONDS": "x", "REVOCATION_FAIL_MODE": "maybe"}))
	for _, want := range []string{"REVOCATION_REFRESH_SECONDS", "REVOCATION_MAX_STALENESS_SECONDS", "REVOCATION_FAIL_MODE"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if _, err := SettingsFrom(env(map[string]string{"REVOCATION_REFRESH_SECONDS": "20", "REVOCATION_MAX_STALENESS_SECONDS": "5"})); err == nil {
		t.Error("staleness below the refresh interval accepted")
	}
}
