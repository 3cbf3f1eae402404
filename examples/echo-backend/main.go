// Command echo-backend is the local walk-through's backend: a Lambda proxy
// integration that answers with the caller's principal and the authorizer
// context it received, for REST API (payload 1.0) and HTTP API (payload 2.0)
// events. It is an example, never deployed with the suite's own functions.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/apigw-guard/guard/shared/observe"
)

func main() {
	slog.SetDefault(observe.NewLogger())
	lambda.Start(handle)
}
