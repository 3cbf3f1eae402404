package observe

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns the JSON logger for a function: Lambda's structured log
// format (it follows the function's LoggingConfig: AWS_LAMBDA_LOG_FORMAT and
// AWS_LAMBDA_LOG_LEVEL), with the request id taken from each call's context,
// so use the ...Context logging methods with the invocation's ctx.
func NewLogger() *slog.Logger { return lambdacontext.NewLogger() }
