package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/replay"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/sourceip"
)

// config is the function's configuration, read from the environment once at
// init. The variable names are a public contract: users set them in their
// templates (see the README).
type config struct {
	secretID       string
	routes         *routeTable
	apiIP          *sourceip.Rules
	simple         bool
	window         time.Duration
	skew           time.Duration
	components     []string
	label          string
	tag            string
	nonceTable     string
	replaySize     int
	clientIDHeader string // "" = HTTP Basic in Authorization
	secretHeader   string
	coolDown       time.Duration
	cacheTTL       time.Duration
	verifiedTTL    time.Duration
	revocation     revocation.Settings
}

// loadConfig reads the configuration and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c := config{
		secretID:       strings.TrimSpace(getenv("CREDENTIALS_SECRET_ID")),
		label:          strings.TrimSpace(getenv("SIGNATURE_LABEL")),
		tag:            strings.TrimSpace(getenv("SIGNATURE_TAG")),
		nonceTable:     strings.TrimSpace(getenv("NONCE_TABLE")),
		clientIDHeader: strings.ToLower(strings.TrimSpace(getenv("CLIENT_ID_HEADER"))),
		secretHeader:   strings.ToLower(strings.TrimSpace(getenv("CLIENT_SECRET_HEADER"))),
	}
	if c.secretID == "" {
		bad("CREDENTIALS_SECRET_ID is not set")
	}
	seconds := func(key string, def, min, max time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || time.Duration(n)*time.Second < min || time.Duration(n)*time.Second > max {
			bad("%s=%q: want whole seconds from %d to %d", key, v, int(min/time.Second), int(max/time.Second))
			return def
		}
		return time.Duration(n) * time.Second
	}
	c.window = seconds("SIGNATURE_WINDOW_SECONDS", httpsig.DefaultWindow, time.Second, time.Hour)
	c.skew = seconds("CLOCK_SKEW_SECONDS", httpsig.DefaultClockSkew, 0, 5*time.Minute)
	c.coolDown = seconds("CREDENTIALS_REFRESH_COOLDOWN_SECONDS", 10*time.Second, time.Second, time.Hour)
	c.cacheTTL = seconds("CREDENTIALS_CACHE_TTL_SECONDS", time.Hour, time.Minute, 24*time.Hour)
	c.verifiedTTL = seconds("VERIFIED_CACHE_SECONDS", 15*time.Minute, 0, 24*time.Hour)

	c.replaySize = replay.DefaultMemorySize
	if v := strings.TrimSpace(getenv("REPLAY_CACHE_SIZE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 || n > 10_000_000 {
			bad("REPLAY_CACHE_SIZE=%q: want 1000 to 10000000 entries", v)
		} else {
			c.replaySize = n
		}
	}

	switch v := strings.ToLower(strings.TrimSpace(getenv("SIMPLE_RESPONSES"))); v {
	case "", "false":
	case "true":
		c.simple = true
	default:
		bad("SIMPLE_RESPONSES=%q: want true or false", v)
	}

	c.components = httpsig.DefaultComponents
	if v := strings.TrimSpace(getenv("SIGNATURE_COMPONENTS")); v != "" {
		c.components = list(v)
	}
	if _, err := httpsig.NewVerifier(nopKeys{}, httpsig.WithRequired(c.components...), httpsig.WithLabel(c.label)); err != nil {
		bad("SIGNATURE_COMPONENTS or SIGNATURE_LABEL: %v", err)
	}

	switch {
	case (c.clientIDHeader == "") != (c.secretHeader == ""):
		bad("CLIENT_ID_HEADER and CLIENT_SECRET_HEADER go together: set both or neither (neither: HTTP Basic)")
	case c.clientIDHeader != "" && c.clientIDHeader == c.secretHeader:
		bad("CLIENT_ID_HEADER and CLIENT_SECRET_HEADER name the same header")
	}
	for _, h := range []string{c.clientIDHeader, c.secretHeader} {
		if h != "" && !validHeaderName(h) {
			bad("header name %q is not a valid field name", h)
		}
	}

	apiIP, err := sourceip.Parse(list(getenv("SOURCE_IP_ALLOW")), list(getenv("SOURCE_IP_DENY")))
	if err != nil {
		bad("SOURCE_IP_ALLOW/SOURCE_IP_DENY: %v", err)
	}
	c.apiIP = apiIP

	rev, err := revocation.SettingsFrom(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.revocation = rev

	if raw := strings.TrimSpace(getenv("ROUTES")); raw == "" {
		bad("ROUTES is not set")
	} else if routes, err := parseRoutes([]byte(raw)); err != nil {
		bad("ROUTES: %v", err)
	} else {
		c.routes = routes
	}
	return c, errors.Join(errs...)
}

func validHeaderName(h string) bool {
	return http.CanonicalHeaderKey(h) != "" && !strings.ContainsAny(h, " \t:\r\n()<>@,;\\\"/[]?={}")
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
