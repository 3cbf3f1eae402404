package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/token"
)

// config is the function's configuration, read from the environment once at
// init. The variable names are a public contract: users set them in their
// templates.
type config struct {
	keysSecretID  string
	keysIssuer    string
	audiences     []string
	oidc          []oidcIssuer
	rules         *policy.Rules
	simple        bool
	skew          time.Duration
	maxLifetime   time.Duration
	contextClaims []string
	usageClaim    string
	coolDown      time.Duration
	cacheTTL      time.Duration
	keysMaxStale  time.Duration
	jwksMaxAge    time.Duration
	revocation    revocation.Settings
	decisionCache int // entries; 0 turns the decision cache off
}

// defaultDecisionCache is DECISION_CACHE_SIZE's default: about a few
// megabytes of verified claims and verdicts.
const defaultDecisionCache = 1024

// oidcIssuer is one entry of OIDC_ISSUERS.
type oidcIssuer struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri,omitempty"`
	Audiences  []string `json:"audiences,omitempty"`
	ClientIDs  []string `json:"client_ids,omitempty"`
	TokenUse   string   `json:"token_use,omitempty"`
	Algorithms []string `json:"algorithms,omitempty"`
}

// loadConfig reads the configuration and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c := config{
		keysSecretID:  strings.TrimSpace(getenv("KEYS_SECRET_ID")),
		keysIssuer:    strings.TrimSpace(getenv("KEYS_ISSUER")),
		audiences:     list(getenv("AUDIENCES")),
		contextClaims: list(getenv("CONTEXT_CLAIMS")),
		usageClaim:    strings.TrimSpace(getenv("USAGE_IDENTIFIER_CLAIM")),
	}
	seconds := func(key string, def, max time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || time.Duration(n)*time.Second > max {
			bad("%s=%q: want whole seconds from 0 to %d", key, v, int(max/time.Second))
			return def
		}
		return time.Duration(n) * time.Second
	}
	c.skew = seconds("CLOCK_SKEW_SECONDS", 30*time.Second, 5*time.Minute)
	c.maxLifetime = seconds("MAX_TOKEN_LIFETIME_SECONDS", 24*time.Hour, 30*24*time.Hour)
	c.coolDown = seconds("KEYS_REFRESH_COOLDOWN_SECONDS", 10*time.Second, time.Hour)
	c.cacheTTL = seconds("KEYS_CACHE_TTL_SECONDS", time.Hour, 24*time.Hour)
	c.keysMaxStale = seconds("KEYS_MAX_STALENESS_SECONDS", 24*time.Hour, 7*24*time.Hour)
	c.jwksMaxAge = seconds("JWKS_MAX_STALENESS_SECONDS", time.Hour, 7*24*time.Hour)
	if c.keysMaxStale < time.Second {
		bad("KEYS_MAX_STALENESS_SECONDS=0: want at least 1")
	}
	if c.cacheTTL < time.Minute {
		bad("KEYS_CACHE_TTL_SECONDS=%d: want at least 60", int(c.cacheTTL/time.Second))
	}

	c.decisionCache = defaultDecisionCache
	if v := strings.TrimSpace(getenv("DECISION_CACHE_SIZE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > token.MaxDecisionCacheSize {
			bad("DECISION_CACHE_SIZE=%q: want a whole number from 0 (off) to %d", v, token.MaxDecisionCacheSize)
		} else {
			c.decisionCache = n
		}
	}

	switch v := strings.ToLower(strings.TrimSpace(getenv("SIMPLE_RESPONSES"))); v {
	case "", "false":
	case "true":
		c.simple = true
	default:
		bad("SIMPLE_RESPONSES=%q: want true or false", v)
	}

	switch {
	case c.keysSecretID != "" && c.keysIssuer == "":
		bad("KEYS_ISSUER is not set (required with KEYS_SECRET_ID)")
	case c.keysSecretID == "" && c.keysIssuer != "":
		bad("KEYS_SECRET_ID is not set (required with KEYS_ISSUER)")
	}
	if c.keysSecretID != "" && len(c.audiences) == 0 {
		bad("AUDIENCES is not set (required with KEYS_SECRET_ID)")
	}

	if raw := strings.TrimSpace(getenv("OIDC_ISSUERS")); raw != "" {
		dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.oidc); err != nil {
			bad("OIDC_ISSUERS: %v", err)
		}
		for i, o := range c.oidc {
			if u, err := url.Parse(o.Issuer); err != nil || u.Scheme != "https" && !isLoopback(u.Hostname()) || u.Host == "" {
				bad("OIDC_ISSUERS[%d].issuer %q: want an https URL", i, o.Issuer)
			}
			if o.JWKSURI != "" {
				if u, err := url.Parse(o.JWKSURI); err != nil || u.Scheme != "https" && !isLoopback(u.Hostname()) || u.Host == "" {
					bad("OIDC_ISSUERS[%d].jwks_uri %q: want an https URL", i, o.JWKSURI)
				}
			}
			if len(o.Audiences) == 0 && len(o.ClientIDs) == 0 {
				bad("OIDC_ISSUERS[%d] (%s): set audiences or client_ids", i, o.Issuer)
			}
			if o.TokenUse != "" && o.TokenUse != "access" && o.TokenUse != "id" {
				bad("OIDC_ISSUERS[%d].token_use %q: want access or id", i, o.TokenUse)
			}
			if o.Issuer == c.keysIssuer && o.Issuer != "" {
				bad("OIDC_ISSUERS[%d].issuer %q is also KEYS_ISSUER", i, o.Issuer)
			}
		}
	}
	if c.keysSecretID == "" && len(c.oidc) == 0 {
		bad("no key source: set KEYS_SECRET_ID and KEYS_ISSUER, or OIDC_ISSUERS")
	}

	if raw := strings.TrimSpace(getenv("ROUTES")); raw == "" {
		bad("ROUTES is not set")
	} else if rules, err := policy.ParseRules([]byte(raw)); err != nil {
		bad("ROUTES: %v", err)
	} else {
		c.rules = rules
	}
	rev, err := revocation.SettingsFrom(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c.revocation = rev
	return c, errors.Join(errs...)
}

// issuers returns the verifier's issuer rules.
func (c config) issuers() []token.Issuer {
	var out []token.Issuer
	if c.keysSecretID != "" {
		out = append(out, token.Issuer{Issuer: c.keysIssuer, Audiences: c.audiences})
	}
	for _, o := range c.oidc {
		out = append(out, token.Issuer{
			Issuer: o.Issuer, Audiences: o.Audiences, ClientIDs: o.ClientIDs,
			TokenUse: o.TokenUse, Algorithms: o.Algorithms,
		})
	}
	return out
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

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
