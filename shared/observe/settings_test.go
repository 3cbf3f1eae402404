package observe

import (
	"strings"
	"testing"
)

func TestSettingsFrom(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		ns      string
		rate    float64
		wantErr []string
	}{
		{"defaults", nil, DefaultNamespace, 1, nil},
		{"set", map[string]string{"METRICS_NAMESPACE": " guard/prod ", "DECISION_LOG_SAMPLE_RATE": "0.1"}, "guard/prod", 0.1, nil},
		{"every problem at once", map[string]string{"METRICS_NAMESPACE": ":bad", "DECISION_LOG_SAMPLE_RATE": "2"}, DefaultNamespace, 1,
			[]string{`METRICS_NAMESPACE=":bad"`, "DECISION_LOG_SAMPLE_RATE"}},
		{"long namespace", map[string]string{"METRICS_NAMESPACE": strings.Repeat("n", 256)}, DefaultNamespace, 1, []string{"METRICS_NAMESPACE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SettingsFrom(func(k string) string { return tt.env[k] })
			if s.Namespace != tt.ns || s.DecisionLogs.Rate() != tt.rate {
				t.Errorf("settings = %q, %v; want %q, %v", s.Namespace, s.DecisionLogs.Rate(), tt.ns, tt.rate)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %s", err, w)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}
