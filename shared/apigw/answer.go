package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
func Misconfigured(log *slog.Logger, cause error) Handler {
	return func(ctx context.Context, _ json.RawMessage) (any, error) {
		log.ErrorContext(ctx, "authorizer decision", "decision", "error", "reason", "misconfigured", "err", cause.Error())
		return nil, NewFailClosed(cause)
	}
}

// Handler is an authorizer's decision function: one event's JSON in, the
// response to encode (or the error "Unauthorized", or a [FailClosed]) out.
// Give it to lambda.Start as a Handler so that the runtime calls Invoke.
type Handler func(ctx context.Context, payload json.RawMessage) (any, error)

// Invoke implements aws-lambda-go's lambda.Handler. The runtime then passes
// the event's bytes straight in and sends the bytes Invoke returns. Given a
// plain function instead, it reflects on the function's signature, decodes
// the event into a json.RawMessage (a full scan and a copy) and encodes the
// response through reflection: about 7 µs and 11 allocations of a warm
// decision (BenchmarkRuntimePath in functions/token-authorizer). The
// response is encoded as that path encodes it (encoding/json, no HTML
// escaping, no trailing newline) and errors are returned as they are, so
// API Gateway gets the same answer. Two differences no caller sees: the
// runtime posts the response to the Runtime API as
// application/octet-stream rather than application/json, and its
// handlertrace hooks (unused here) are not called.
//
// A response encoding/json refuses (a NaN in the context, say) is logged
// through slog's default logger and answered as a [FailClosed] error.
func (f Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, err := f(ctx, payload)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		slog.ErrorContext(ctx, "encode the authorizer response", "err", err.Error())
		return nil, NewFailClosed(fmt.Errorf("encoding the response: %w", err))
	}
	buf.Truncate(buf.Len() - 1) // the encoder's newline, which the runtime strips too
	return buf.Bytes(), nil
}
