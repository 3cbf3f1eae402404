package apigw

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/policy"
)

// PolicyDocument converts a policy document to the shape of an IAM policy
// response (REST, or HTTP API without simple responses).
func PolicyDocument(doc policy.Document) events.APIGatewayCustomAuthorizerPolicy {
	out := events.APIGatewayCustomAuthorizerPolicy{Version: doc.Version}
	for _, s := range doc.Statement {
		out.Statement = append(out.Statement, events.IAMPolicyStatement{
			Action: []string(s.Action), Effect: s.Effect, Resource: []string(s.Resource),
		})
	}
	return out
}

// Misconfigured returns the handler an authorizer runs while its
// configuration is broken: every event gets a [FailClosed] error (500),
// and each one logs a decision line saying why. The cause must name
// settings, never secrets.
func Misconfigured(log *slog.Logger, cause error) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, _ json.RawMessage) (any, error) {
		log.ErrorContext(ctx, "authorizer decision", "decision", "error", "reason", "misconfigured", "err", cause.Error())
		return nil, NewFailClosed(cause)
	}
}
