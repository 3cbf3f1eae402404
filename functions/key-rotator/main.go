// Command key-rotator is the Secrets Manager rotation function for the
// suite's signing keys: each rotation puts one new key (a JWK Set with one
// private key, kid = its RFC 7638 thumbprint, and alg) into a new version,
// proves that the authorizers' verifier accepts a token it signs, and makes
// it AWSCURRENT, so that the key before it becomes AWSPREVIOUS and the one
// before that is no longer read by anyone. See shared/rotation for the
// protocol and README for the configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/trace"
)

func main() {
	log := observe.NewLogger()
	slog.SetDefault(log)
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("bad configuration: every rotation step fails until it is fixed", "err", err)
		lambda.Start(func(context.Context, events.SecretsManagerSecretRotationEvent) error {
			return &configError{err: err}
		})
		return
	}
	lambda.Start(h.handle)
}

// setup builds the handler once per execution environment. It makes no
// network call. Its metrics go to stdout (EMF); its Secrets Manager calls
// are traced with X-Ray unless TRACING=off.
func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler, error) {
	cfg, cfgErr := loadConfig(getenv)
	obs, obsErr := observe.SettingsFrom(getenv)
	mode, modeErr := trace.ParseMode(getenv("TRACING"))
	if modeErr != nil {
		modeErr = fmt.Errorf("TRACING: %w", modeErr)
	}
	if err := errors.Join(cfgErr, obsErr, modeErr); err != nil {
		return nil, err
	}
	metrics, err := observe.NewMetrics(os.Stdout, obs.Namespace)
	if err != nil {
		return nil, err
	}
	tracer, err := trace.New(trace.WithMode(mode), trace.WithLogger(log))
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.Load(ctx, awsconfig.Options{})
	if err != nil {
		return nil, err
	}
	tracer.InstrumentAWS(&awsCfg)
	h, err := newHandler(secretsmanager.NewFromConfig(awsCfg), cfg, log)
	if err != nil {
		return nil, err
	}
	h.metrics, h.tracer = metrics, tracer
	return h, nil
}

// The key types KEY_TYPE accepts.
var keyTypes = []string{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "EdDSA"}

// Defaults of the probe token's claims when KEYS_ISSUER and AUDIENCES are
// not set.
const (
	defaultProbeIssuer   = "urn:guard:key-rotator"
	defaultProbeAudience = "urn:guard:key-rotator:probe"
)

// config is the function's configuration, read from the environment once
// at init. The variable names are a public contract.
type config struct {
	keyType  string
	rsaBits  int
	issuer   string
	audience string
}

// loadConfig reads the configuration and reports every problem at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c := config{
		keyType: strings.TrimSpace(getenv("KEY_TYPE")),
		issuer:  strings.TrimSpace(getenv("KEYS_ISSUER")),
	}
	switch {
	case c.keyType == "":
		bad("KEY_TYPE is not set (one of %s)", strings.Join(keyTypes, ", "))
	case !slices.Contains(keyTypes, c.keyType):
		bad("KEY_TYPE=%q: want one of %s", c.keyType, strings.Join(keyTypes, ", "))
	}
	rsa := c.keyType == "RS256" || c.keyType == "PS256"
	switch bits := strings.TrimSpace(getenv("RSA_BITS")); {
	case bits == "" && rsa:
		c.rsaBits = 2048
	case bits == "":
	case !rsa:
		bad("RSA_BITS=%q is set, but KEY_TYPE %q is not RS256 or PS256", bits, c.keyType)
	default:
		n, err := strconv.Atoi(bits)
		if err != nil || (n != 2048 && n != 3072) {
			bad("RSA_BITS=%q: want 2048 or 3072", bits)
		}
		c.rsaBits = n
	}
	if c.issuer == "" {
		c.issuer = defaultProbeIssuer
	}
	c.audience = defaultProbeAudience
	for _, a := range strings.Split(getenv("AUDIENCES"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.audience = a
			break
		}
	}
	return c, errors.Join(errs...)
}

// configError fails every invocation of a misconfigured function; Lambda
// reports its type, "configError", as the errorType.
type configError struct{ err error }

func (e *configError) Error() string { return "key-rotator is misconfigured: " + e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// probeLifetime is the probe token's lifetime: long enough for any clock
// the verifier could use, short enough to be useless if it ever leaked.
const probeLifetime = 2 * time.Minute
