package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/observe"
)

// service is the Service dimension of the function's metrics.
const service = "cache-invalidator"

// The Result dimension of Revocations.
const (
	resultCreated  = "created"  // a new entry was stored
	resultExisting = "existing" // the entry was there already (a retry)
	resultSkipped  = "skipped"  // the event asks for nothing (a call that does not revoke, or failed)
	resultInvalid  = "invalid"  // the event is malformed: not retried, ends in the DLQ
	resultError    = "error"    // storing (or resolving the user) failed: retried
)

// The function's metrics (EMF on stdout), all with the dimension Service:
//
//	Revocations               Count, by Origin and Result, rolled up by Result
//	RevocationVisibleLatency  Milliseconds from the write until the function's own view
//	                          of the table (as the authorizers read it) denies the token
//	RevocationsNotVisible     Count of writes that view did not see in time
//	Flushes                   Count, by Operation (FlushStageAuthorizersCache,
//	                          ResetAuthorizersCache, FlushStageCache, settle) and
//	                          Result (ok, error), rolled up by Result; with
//	FlushAttempts, FlushThrottles  Count, the calls made and the 429s met
//
// Origin is direct, access.revoked, cloudtrail, eventbridge (an event
// rejected before its kind was known) or unknown.

func (h *handler) countRevocation(ctx context.Context, origin, result string) {
	if h.metrics == nil {
		return
	}
	h.flush(ctx, h.metrics.Record(
		observe.Dimension{Name: "Service", Value: service},
		observe.Dimension{Name: "Origin", Value: originDim(origin)},
		observe.Dimension{Name: "Result", Value: result},
	).Rollup("Service", "Result").Count("Revocations", 1))
}

func (h *handler) countVisible(ctx context.Context, waited time.Duration, seen bool) {
	if h.metrics == nil {
		return
	}
	r := h.metrics.Record(observe.Dimension{Name: "Service", Value: service})
	if seen {
		r.Duration("RevocationVisibleLatency", waited)
	} else {
		r.Count("RevocationsNotVisible", 1)
	}
	h.flush(ctx, r)
}

func (h *handler) countFlushes(ctx context.Context, stages []stageResult) {
	if h.metrics == nil {
		return
	}
	for _, st := range stages {
		result := "ok"
		if st.Error != "" {
			result = "error"
		}
		h.flush(ctx, h.metrics.Record(
			observe.Dimension{Name: "Service", Value: service},
			observe.Dimension{Name: "Operation", Value: st.Operation},
			observe.Dimension{Name: "Result", Value: result},
		).Rollup("Service", "Result").
			Count("Flushes", 1).
			Count("FlushAttempts", float64(st.Attempts)).
			Count("FlushThrottles", float64(st.Throttled)))
	}
}

func (h *handler) flush(ctx context.Context, r *observe.Record) {
	if err := r.Property("requestId", observe.RequestID(ctx)).Flush(); err != nil {
		slog.WarnContext(ctx, "write metrics", "err", err)
	}
}

// originOf names the origin of an event whose request could not be read.
func originOf(k kind) string {
	if k == kindEventBridge {
		return "eventbridge"
	}
	return "direct"
}

// originDim maps a request's origin ("cloudtrail:AdminDisableUser", ...) to
// one of a few dimension values: never an event name an event chose.
func originDim(origin string) string {
	switch {
	case origin == "direct", origin == detailTypeRevoked, origin == "eventbridge":
		return origin
	case strings.HasPrefix(origin, "cloudtrail:"):
		return "cloudtrail"
	}
	return "unknown"
}
