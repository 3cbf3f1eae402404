package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/validate"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// invoker is the one Lambda API call the handler makes.
type invoker interface {
	Invoke(ctx context.Context, in *lambdasvc.InvokeInput, optFns ...func(*lambdasvc.Options)) (*lambdasvc.InvokeOutput, error)
}

type handler struct {
	validator  *validate.Validator
	downstream invoker
	target     string           // downstream function ARN
	metrics    *observe.Metrics // nil: no metrics (see metrics.go)
}

// unsupportedEventError means the event is not an API Gateway proxy event.
// It fails the invocation: no client is waiting for an HTTP response.
type unsupportedEventError struct{}

func (unsupportedEventError) Error() string {
	return "event is not an API Gateway proxy event (payload format 1.0 or 2.0)"
}

// badGateway is the answer when the downstream function fails or answers
// something API Gateway could not use; API Gateway itself says 502 then.
var badGateway = &validate.Problem{
	Type:   "about:blank",
	Title:  http.StatusText(http.StatusBadGateway),
	Status: http.StatusBadGateway,
	Detail: "The downstream function failed.",
}

// handle takes the raw event so that the downstream function receives it
// byte for byte, whatever fields the events types know about.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var probe struct {
		Version    string `json:"version"`
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, unsupportedEventError{}
	}
	var resp any
	switch {
	case probe.Version == "2.0":
		resp = h.handleV2(ctx, raw)
	case (probe.Version == "" || probe.Version == "1.0") && probe.HTTPMethod != "":
		resp = h.handleV1(ctx, raw)
	default:
		return nil, unsupportedEventError{}
	}
	return json.Marshal(resp)
}

func (h *handler) handleV1(ctx context.Context, raw json.RawMessage) events.APIGatewayProxyResponse {
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		slog.ErrorContext(ctx, "decode payload 1.0 event", "err", err)
		return validate.ProblemV1(err) // an opaque 500
	}
	req := validate.RequestV1(&e)
	if err := h.validator.Validate(ctx, req); err != nil {
		h.countRejection(ctx, err)
		return validate.ProblemV1(err)
	}
	payload, ok := h.invoke(ctx, raw)
	if !ok {
		return validate.ProblemV1(badGateway)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		slog.ErrorContext(ctx, "malformed downstream response", "function", h.target, "format", "1.0")
		h.countDownstreamError(ctx, "malformed_response")
		return validate.ProblemV1(badGateway)
	}
	validate.SecureV1(&resp, req.Authorized)
	return resp
}

func (h *handler) handleV2(ctx context.Context, raw json.RawMessage) events.APIGatewayV2HTTPResponse {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		slog.ErrorContext(ctx, "decode payload 2.0 event", "err", err)
		return validate.ProblemV2(err)
	}
	req := validate.RequestV2(&e)
	if err := h.validator.Validate(ctx, req); err != nil {
		h.countRejection(ctx, err)
		return validate.ProblemV2(err)
	}
	payload, ok := h.invoke(ctx, raw)
	if !ok {
		return validate.ProblemV2(badGateway)
	}
	resp, ok := responseV2(payload)
	if !ok {
		slog.ErrorContext(ctx, "malformed downstream response", "function", h.target, "format", "2.0")
		h.countDownstreamError(ctx, "malformed_response")
		return validate.ProblemV2(badGateway)
	}
	validate.SecureV2(&resp, req.Authorized)
	return resp
}

// responseV2 reads a payload 2.0 function result as API Gateway does: an
// object with statusCode is the response; any other valid JSON is the body
// of a 200 application/json response (a JSON string is the body itself).
func responseV2(payload []byte) (events.APIGatewayV2HTTPResponse, bool) {
	var resp events.APIGatewayV2HTTPResponse
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) == nil {
		if _, ok := fields["statusCode"]; ok {
			if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
				return resp, false
			}
			return resp, true
		}
	}
	if !json.Valid(payload) {
		return resp, false
	}
	body := string(bytes.TrimSpace(payload))
	var s string
	if json.Unmarshal(payload, &s) == nil {
		body = s
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       body,
	}, true
}

// invoke calls the downstream function synchronously with the original
// event. It logs why a call failed (never the payload) and reports false.
func (h *handler) invoke(ctx context.Context, raw json.RawMessage) ([]byte, bool) {
	out, err := h.downstream.Invoke(ctx, &lambdasvc.InvokeInput{
		FunctionName: aws.String(h.target),
		Payload:      raw,
	})
	switch {
	case err != nil:
		slog.ErrorContext(ctx, "invoke downstream function", "function", h.target, "err", err)
		h.countDownstreamError(ctx, "invoke_failed")
		return nil, false
	case out.FunctionError != nil:
		slog.ErrorContext(ctx, "downstream function failed", "function", h.target, "functionError", *out.FunctionError)
		h.countDownstreamError(ctx, "function_error")
		return nil, false
	case out.StatusCode != http.StatusOK:
		slog.ErrorContext(ctx, "downstream function status", "function", h.target, "status", out.StatusCode)
		h.countDownstreamError(ctx, "bad_status")
		return nil, false
	}
	return out.Payload, true
}
