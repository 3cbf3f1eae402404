package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/validate"
)

// service is the Service dimension of the function's metrics.
const service = "validator"

// The function's metrics (EMF on stdout), all with the dimension Service:
//
//	ValidationRejections  Count, by Rule (the rule that refused the request:
//	                      schema, sql-injection, body-too-large, ...; see
//	                      validate.Rule), rolled up over all rules
//	DownstreamErrors      Count, by Reason: invoke_failed, function_error,
//	                      bad_status, malformed_response (each a 502)

// countRejection counts one refused request by its rule.
func (h *handler) countRejection(ctx context.Context, err error) {
	if h.metrics == nil {
		return
	}
	rule := "unknown"
	var p *validate.Problem
	if errors.As(err, &p) && p.Rule != "" {
		rule = string(p.Rule)
	}
	h.flush(ctx, h.metrics.Record(
		observe.Dimension{Name: "Service", Value: service},
		observe.Dimension{Name: "Rule", Value: rule},
	).Rollup("Service").Count("ValidationRejections", 1))
}

// countDownstreamError counts one failed call of the downstream function.
func (h *handler) countDownstreamError(ctx context.Context, reason string) {
	if h.metrics == nil {
		return
	}
	h.flush(ctx, h.metrics.Record(
		observe.Dimension{Name: "Service", Value: service},
		observe.Dimension{Name: "Reason", Value: reason},
	).Rollup("Service").Count("DownstreamErrors", 1))
}

func (h *handler) flush(ctx context.Context, r *observe.Record) {
	if err := r.Property("requestId", observe.RequestID(ctx)).Flush(); err != nil {
		slog.WarnContext(ctx, "write metrics", "err", err)
	}
}
