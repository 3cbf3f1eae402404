// Command jwks serves /.well-known/jwks.json: the public keys of the
// signing-key secret's AWSCURRENT and AWSPREVIOUS versions, so that anyone
// can verify tokens signed with asymmetric keys. Private and symmetric key
// material is never published. It answers API Gateway proxy events: REST
// APIs (payload 1.0) and HTTP APIs (payload 2.0). See README for its
// configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/secretver"
)

func main() {
	log := observe.NewLogger()
	slog.SetDefault(log)
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("bad configuration: every request gets 500 until it is fixed", "err", err)
		h = &handler{broken: err, log: log}
	}
	lambda.Start(h.handle)
}

// setup builds the handler once per execution environment. It makes no
// network call: the keys are read on the first request.
func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{})
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	reader, err := secretver.Open(cfg.secretID, sm, cfg.cacheTTL)
	if err != nil {
		return nil, err
	}
	return newHandler(reader, cfg.maxAge, log), nil
}

// config is the function's configuration. The variable names are a public
// contract.
type config struct {
	secretID string
	// maxAge is the Cache-Control max-age. Keep it well below the rotation
	// interval: a client may hold the document that long, so a key first
	// published by a rotation reaches it at most maxAge (plus cacheTTL)
	// later, unless it refetches on an unknown kid, as good clients do.
	maxAge time.Duration
	// cacheTTL bounds how long after a rotation this function may still
	// serve the keys from before it.
	cacheTTL time.Duration
}

// Defaults and limits of the configuration.
const (
	defaultMaxAge   = 300 * time.Second
	maxMaxAge       = time.Hour
	defaultCacheTTL = 60 * time.Second
	maxCacheTTL     = time.Hour
)

// loadConfig reads the configuration and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c := config{secretID: strings.TrimSpace(getenv("KEYS_SECRET_ID"))}
	if c.secretID == "" {
		bad("KEYS_SECRET_ID is not set")
	}
	seconds := func(key string, def, minimum, maximum time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(key))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if d := time.Duration(n) * time.Second; err != nil || d < minimum || d > maximum {
			bad("%s=%q: want whole seconds from %d to %d", key, v, int(minimum/time.Second), int(maximum/time.Second))
			return def
		}
		return time.Duration(n) * time.Second
	}
	c.maxAge = seconds("JWKS_MAX_AGE_SECONDS", defaultMaxAge, 0, maxMaxAge)
	c.cacheTTL = seconds("KEYS_CACHE_TTL_SECONDS", defaultCacheTTL, time.Second, maxCacheTTL)
	return c, errors.Join(errs...)
}
