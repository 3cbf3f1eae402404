package observe

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultNamespace is the metrics namespace when METRICS_NAMESPACE is not
// set. The template sets guard/<stack name>.
const DefaultNamespace = "guard"

// Settings are a function's observability settings. Every function reads
// them from the same environment variables (a public contract):
//
//	METRICS_NAMESPACE         the CloudWatch namespace of its EMF metrics (default guard)
//	DECISION_LOG_SAMPLE_RATE  0..1: the share of allow decisions whose log line an
//	                          authorizer writes (default 1); denials, 401s and
//	                          errors are always logged, and every decision is counted
type Settings struct {
	Namespace string
	// DecisionLogs samples the authorizers' allow lines, by request id.
	DecisionLogs Sampler
}

// SettingsFrom reads Settings through getenv (os.Getenv in main), reporting
// every problem at once.
func SettingsFrom(getenv func(string) string) (Settings, error) {
	var errs []error
	s := Settings{Namespace: strings.TrimSpace(getenv("METRICS_NAMESPACE"))}
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	} else if len(s.Namespace) > maxNamespaceLen || s.Namespace[0] == ':' {
		errs = append(errs, fmt.Errorf("METRICS_NAMESPACE=%q: want 1 to %d characters, not starting with ':'", s.Namespace, maxNamespaceLen))
		s.Namespace = DefaultNamespace
	}
	sm, err := ParseSampleRate(getenv("DECISION_LOG_SAMPLE_RATE"))
	if err != nil {
		errs = append(errs, fmt.Errorf("DECISION_LOG_SAMPLE_RATE: %w", err))
	}
	s.DecisionLogs = sm
	return s, errors.Join(errs...)
}
