// Command validator is a validating front for any Lambda proxy backend: it
// checks each API Gateway request (REST payload 1.0 or HTTP API payload 2.0)
// against its route's rules, rejects bad ones with an RFC 9457 problem, and
// invokes the downstream function with the original event otherwise,
// returning its response with security headers added.
//
// Environment:
//
//	DOWNSTREAM_FUNCTION_ARN  the backend's function ARN (required; may carry a
//	                         version or alias qualifier)
//	VALIDATION_RULES         the rules as inline JSON, or
//	VALIDATION_RULES_FILE    a path to them (exactly one of the two; Lambda
//	                         limits all variables together to 4 KB, so larger
//	                         rules belong in a file deployed with the function)
//	METRICS_NAMESPACE        the namespace of its EMF metrics (default guard)
//
// The Lambda client honours the SDK's standard settings, including
// AWS_ENDPOINT_URL_LAMBDA for local emulation.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/awsconfig"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/validate"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
)

func main() {
	slog.SetDefault(observe.NewLogger())

	env, err := loadEnv(os.Getenv, os.ReadFile)
	obs, obsErr := observe.SettingsFrom(os.Getenv)
	if err := errors.Join(err, obsErr); err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	metrics, err := observe.NewMetrics(os.Stdout, obs.Namespace)
	if err != nil {
		slog.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	v, err := validate.New(env.rules, validate.WithLogger(slog.Default()))
	if err != nil {
		slog.Error("bad validation rules", "err", err)
		os.Exit(1)
	}
	// The downstream invoke is bounded by the invocation's deadline, not by
	// awsconfig's default 3 s per attempt: a backend may take longer, and the
	// SDK would retry a timed-out attempt, running the backend twice.
	awsCfg, err := awsconfig.Load(context.Background(), awsconfig.Options{RequestTimeout: 15 * time.Minute})
	if err != nil {
		slog.Error("load AWS config", "err", err)
		os.Exit(1)
	}
	h := &handler{
		validator:  v,
		downstream: lambdasvc.NewFromConfig(awsCfg),
		target:     env.target,
		metrics:    metrics,
	}
	lambda.Start(h.handle)
}

type envConfig struct {
	target string // downstream function ARN
	rules  []byte
}

// loadEnv reports every configuration problem at once, not just the first.
func loadEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (envConfig, error) {
	var errs []error
	var env envConfig

	env.target = getenv("DOWNSTREAM_FUNCTION_ARN")
	if env.target == "" {
		errs = append(errs, errors.New("DOWNSTREAM_FUNCTION_ARN is not set"))
	} else if err := checkFunctionARN(env.target); err != nil {
		errs = append(errs, fmt.Errorf("DOWNSTREAM_FUNCTION_ARN: %w", err))
	}

	inline, file := getenv("VALIDATION_RULES"), getenv("VALIDATION_RULES_FILE")
	switch {
	case inline != "" && file != "":
		errs = append(errs, errors.New("set VALIDATION_RULES or VALIDATION_RULES_FILE, not both"))
	case inline != "":
		env.rules = []byte(inline)
	case file != "":
		b, err := readFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("VALIDATION_RULES_FILE: %w", err))
		}
		env.rules = b
	default:
		errs = append(errs, errors.New("neither VALIDATION_RULES nor VALIDATION_RULES_FILE is set"))
	}
	return env, errors.Join(errs...)
}

// checkFunctionARN accepts arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>].
func checkFunctionARN(s string) error {
	a, err := arn.Parse(s)
	if err != nil {
		return err
	}
	name, ok := strings.CutPrefix(a.Resource, "function:")
	if a.Service != "lambda" || !ok || name == "" || a.Region == "" || a.AccountID == "" {
		return fmt.Errorf("%q is not a Lambda function ARN", s)
	}
	return nil
}
