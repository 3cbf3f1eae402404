package revocation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Settings is an authorizer's revocation configuration. Both authorizers read
// it from the same environment variables (a public contract):
//
//	REVOCATION_TABLE                  the table; empty disables revocation checks
//	REVOCATION_REFRESH_SECONDS        how often the local view is refreshed (default 2)
//	REVOCATION_MAX_STALENESS_SECONDS  how old the view may get while the table cannot be read (default 10)
//	REVOCATION_FAIL_MODE              closed (default: deny with 500) or open (keep the last view)
type Settings struct {
	Table        string
	Refresh      time.Duration
	MaxStaleness time.Duration
	FailMode     FailMode
}

// SettingsFrom reads Settings through getenv (os.Getenv in main), reporting
// every problem at once.
func SettingsFrom(getenv func(string) string) (Settings, error) {
	var errs []error
	s := Settings{
		Table:        strings.TrimSpace(getenv("REVOCATION_TABLE")),
		Refresh:      DefaultRefreshInterval,
		MaxStaleness: DefaultMaxStaleness,
	}
	seconds := func(key string, def time.Duration, min, max int) time.Duration {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s=%q: want whole seconds from %d to %d", key, v, min, max))
			return def
		}
		return time.Duration(n) * time.Second
	}
	s.Refresh = seconds("REVOCATION_REFRESH_SECONDS", DefaultRefreshInterval, 1, 60)
	s.MaxStaleness = seconds("REVOCATION_MAX_STALENESS_SECONDS", DefaultMaxStaleness, 1, 3600)
	if s.MaxStaleness < s.Refresh {
		errs = append(errs, fmt.Errorf("REVOCATION_MAX_STALENESS_SECONDS (%v) must not be below REVOCATION_REFRESH_SECONDS (%v)", s.MaxStaleness, s.Refresh))
	}
	switch m := strings.ToLower(strings.TrimSpace(getenv("REVOCATION_FAIL_MODE"))); m {
	case "", "closed":
	case "open":
		s.FailMode = FailOpen
	default:
		errs = append(errs, fmt.Errorf("REVOCATION_FAIL_MODE=%q: want closed or open", m))
	}
	return s, errors.Join(errs...)
}

// Options returns the View options these settings imply.
func (s Settings) Options() []Option {
	return []Option{WithRefreshInterval(s.Refresh), WithMaxStaleness(s.MaxStaleness), WithFailMode(s.FailMode)}
}
