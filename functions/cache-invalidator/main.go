// Command cache-invalidator stores revocations and flushes the authorizer
// caches of every configured API stage, so revoked access stops working
// within seconds instead of a cache TTL.
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

	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/trace"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	log := observe.NewLogger()
	slog.SetDefault(log)

	env, err := loadEnv()
	obs, obsErr := observe.SettingsFrom(os.Getenv)
	mode, modeErr := trace.ParseMode(os.Getenv("TRACING"))
	if modeErr != nil {
		modeErr = fmt.Errorf("TRACING: %w", modeErr)
	}
	if err := errors.Join(err, obsErr, modeErr); err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	metrics, err := observe.NewMetrics(os.Stdout, obs.Namespace)
	if err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	tracer, err := trace.New(trace.WithMode(mode), trace.WithLogger(log))
	if err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	// Load honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB,
	// AWS_ENDPOINT_URL_API_GATEWAY and AWS_ENDPOINT_URL_APIGATEWAYV2, which
	// point the clients at moto and the local gateway.
	awsCfg, err := awsconfig.Load(context.Background(), awsconfig.Options{})
	if err != nil {
		slog.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	// Every client below records its calls in the invocation's trace.
	tracer.InstrumentAWS(&awsCfg)
	db := dynamodb.NewFromConfig(awsCfg)
	// The flusher retries with its own backoff bounded by the invocation
	// deadline; SDK retries underneath would multiply the attempts.
	rest := apigateway.NewFromConfig(awsCfg, func(o *apigateway.Options) { o.RetryMaxAttempts = 1 })
	http := apigatewayv2.NewFromConfig(awsCfg, func(o *apigatewayv2.Options) { o.RetryMaxAttempts = 1 })

	h := &handler{
		store: revocation.NewWriter(db, env.table, revocation.WithMaxTokenLifetime(env.maxTokenLifetime)),
		// Its own view of the table, polled often, to see the write the way
		// the authorizers will before flushing their caches.
		view:           revocation.NewView(db, env.table, revocation.WithRefreshInterval(pollEvery)),
		flusher:        newFlusher(env.targets, rest, http, env.flushResponseCache),
		settle:         env.readerRefresh + settleMargin,
		visibleTimeout: visibleTimeout,
		pollEvery:      pollEvery,
		now:            time.Now,
		sleep:          sleepContext,
		metrics:        metrics,
		tracer:         tracer,
	}
	if len(env.cognitoPools) > 0 {
		h.users = newCognitoUsers(cognitoidentityprovider.NewFromConfig(awsCfg), env.cognitoPools)
	}
	lambda.Start(h.handle)
}

type envConfig struct {
	table              string
	targets            []target
	flushResponseCache bool
	readerRefresh      time.Duration
	maxTokenLifetime   time.Duration
	cognitoPools       []string // user pools whose usernames are resolved to subs
}

// loadEnv reports every bad variable at once.
func loadEnv() (envConfig, error) {
	var errs []error
	need := func(key string) string {
		v := os.Getenv(key)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", key))
		}
		return v
	}
	seconds := func(key string, def int) time.Duration {
		v := os.Getenv(key)
		if v == "" {
			return time.Duration(def) * time.Second
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive number of seconds", key, v))
			return time.Duration(def) * time.Second
		}
		return time.Duration(n) * time.Second
	}

	c := envConfig{
		table: need("REVOCATION_TABLE"),
		// Must match the authorizers' setting: the flush waits one of their
		// refresh intervals after the write.
		readerRefresh:    seconds("REVOCATION_REFRESH_SECONDS", 2),
		maxTokenLifetime: seconds("REVOCATION_MAX_TOKEN_LIFETIME_SECONDS", int(revocation.DefaultMaxTokenLifetime/time.Second)),
	}
	if raw := need("FLUSH_TARGETS"); raw != "" {
		ts, err := parseTargets(raw)
		if err != nil {
			errs = append(errs, err)
		}
		c.targets = ts
	}
	for _, pool := range strings.Split(os.Getenv("COGNITO_USER_POOLS"), ",") {
		switch pool = strings.TrimSpace(pool); {
		case pool == "":
		case !userPoolIDPattern.MatchString(pool):
			errs = append(errs, fmt.Errorf("COGNITO_USER_POOLS: %q is not a user pool id (region_id)", pool))
		default:
			c.cognitoPools = append(c.cognitoPools, pool)
		}
	}
	if v := os.Getenv("FLUSH_RESPONSE_CACHE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("FLUSH_RESPONSE_CACHE=%q: want true or false", v))
		}
		c.flushResponseCache = b
	}
	return c, errors.Join(errs...)
}
