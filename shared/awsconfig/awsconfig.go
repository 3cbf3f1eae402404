package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
)

// Options tune the HTTP client. The zero value gives the defaults.
type Options struct {
	// DialTimeout bounds a TCP connect; default 1 s.
	DialTimeout time.Duration
	// RequestTimeout bounds one attempt, headers and body; default 3 s.
	RequestTimeout time.Duration
	// MaxAttempts is the SDK's retry budget per call; default 3.
	MaxAttempts int
}

// Load returns the SDK configuration read from the process environment. It
// makes no network call. It fails, naming every problem at once, when the
// region or the static credentials are missing or an endpoint setting is
// malformed; the error never contains a credential.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if o.DialTimeout == 0 {
		o.DialTimeout = time.Second
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 3 * time.Second
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	if o.DialTimeout < 0 || o.RequestTimeout < 0 || o.MaxAttempts < 0 {
		return aws.Config{}, errors.New("load AWS config: negative timeout or attempts")
	}
	env, err := readEnv(os.Getenv)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	cfg := aws.Config{
		Region:      env.region,
		Credentials: env.credentials,
		HTTPClient:  newHTTPClient(o),
		// The service clients build the SDK's standard retryer with this
		// budget, as they did under LoadDefaultConfig(WithRetryMaxAttempts).
		RetryMaxAttempts: o.MaxAttempts,
		// The service clients look AWS_ENDPOINT_URL_<SERVICE> up here.
		ConfigSources: []any{env.endpoints},
		// LoadDefaultConfig's defaults, kept so that nothing else changes.
		Logger:                     logging.NewStandardLogger(os.Stderr),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	if env.endpoints.global != "" {
		cfg.BaseEndpoint = aws.String(env.endpoints.global)
	}
	return cfg, nil
}
