package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

var _ lambda.Handler = Handler(nil)

// TestHandlerInvokeMatchesRuntime: for the responses an authorizer gives,
// Invoke returns the bytes the runtime's reflection path would have sent
// for the same function, and the same error.
func TestHandlerInvokeMatchesRuntime(t *testing.T) {
	responses := map[string]any{
		"policy": events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: "user-1",
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
				{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{"arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/orders"}},
			}},
			Context:            map[string]any{"email": "a&b <x@example.com>", "tenant": "acme", "n": 3},
			UsageIdentifierKey: "usage-key-1",
		},
		"simple": events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"sub": "é\u2028"}},
	}
	event := []byte(`{"type":"TOKEN","methodArn":"arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/orders"}`)
	for name, resp := range responses {
		t.Run(name, func(t *testing.T) {
			var seen []byte
			f := func(_ context.Context, payload json.RawMessage) (any, error) {
				seen = append([]byte(nil), payload...)
				return resp, nil
			}
			got, err := Handler(f).Invoke(context.Background(), event)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(seen, event) {
				t.Errorf("the function saw %q, want the event as sent", seen)
			}
			want, err := lambda.NewHandler(f).Invoke(context.Background(), event)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Invoke = %s\nthe runtime's reflection path sends %s", got, want)
			}
			if !bytes.Contains(got, []byte(`a&b <x@example.com>`)) && name == "policy" {
				t.Errorf("Invoke escaped HTML: %s", got)
			}
		})
	}

	for _, want := range []error{ErrUnauthorized, NewFailClosed(errors.New("keys unavailable"))} {
		f := func(context.Context, json.RawMessage) (any, error) { return nil, want }
		got, err := Handler(f).Invoke(context.Background(), event)
		if err != want || got != nil {
			t.Errorf("Invoke = %q, %v; want nil, %v as is", got, err, want)
		}
	}
}

// TestHandlerInvokeUnencodable: a response encoding/json refuses is a 500
// (FailClosed), not a half-written answer.
func TestHandlerInvokeUnencodable(t *testing.T) {
	f := func(context.Context, json.RawMessage) (any, error) {
		return map[string]any{"n": math.Inf(1)}, nil
	}
	var logs bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	got, err := Handler(f).Invoke(context.Background(), []byte(`{}`))
	var fc *FailClosed
	if !errors.As(err, &fc) || got != nil {
		t.Fatalf("Invoke = %q, %v; want nil and a FailClosed error", got, err)
	}
	if !strings.Contains(logs.String(), `"msg":"encode the authorizer response"`) || !strings.Contains(logs.String(), "unsupported value") {
		t.Errorf("log %q: want the encoding error", logs.String())
	}
}
