package observe

import (
	"context"
	"log/slog"
	"time"
)

// Decisions counts an authorizer's decisions, in the shape the template's
// alarms read, and samples their log lines. Build one in main with
// [NewDecisions]; it is safe for concurrent use. A nil *Decisions counts
// nothing and keeps every line.
//
// Each decision is one EMF line with the dimensions Service, Outcome
// (allow, deny, unauthorized, error) and Reason (a fixed set per
// authorizer: ok, not_entitled, expired, keys_unavailable, ...), rolled up
// by Service and Outcome, and the metrics
//
//	Decisions        Count: 1
//	DecisionLatency  Milliseconds
//	CachedDecisions  Count: 1 when a decision cache answered, else 0 (the
//	                 average is the hit rate)
//
// and the request id as a property. Refreshes of key material forced by an
// unknown key id are lines of their own: KeyRefreshes (Count: 1) by
// Service, Source and Result (refreshed; skipped, within the cool-down;
// error), rolled up by Service and Result.
type Decisions struct {
	m       *Metrics
	service string
	sample  Sampler
}

// NewDecisions returns the decision counter of service (the Service
// dimension: the function's name), writing to m, whose allow lines are
// kept as sample says.
func NewDecisions(m *Metrics, service string, sample Sampler) *Decisions {
	return &Decisions{m: m, service: service, sample: sample}
}

// Count counts one decision and reports whether to write its log line:
// an allow is logged as the sampler decides by request id; a denial, a 401
// or an error always.
func (d *Decisions) Count(ctx context.Context, outcome, reason string, latency time.Duration, cached bool) (logIt bool) {
	if d == nil {
		return true
	}
	hit := 0.0
	if cached {
		hit = 1
	}
	id := RequestID(ctx)
	err := d.m.Record(
		Dimension{"Service", d.service},
		Dimension{"Outcome", outcome},
		Dimension{"Reason", reason},
	).Rollup("Service", "Outcome").
		Count("Decisions", 1).
		Duration("DecisionLatency", latency).
		Count("CachedDecisions", hit).
		Property("requestId", id).
		Flush()
	if err != nil {
		slog.WarnContext(ctx, "write metrics", "err", err)
	}
	return outcome != "allow" || d.sample.Keep(id)
}

// Refresh counts one forced refresh of source ("secret", "jwks",
// "credentials"): refreshed as the key source reported it, err its error.
func (d *Decisions) Refresh(ctx context.Context, source string, refreshed bool, err error) {
	if d == nil {
		return
	}
	result := "skipped"
	switch {
	case err != nil:
		result = "error"
	case refreshed:
		result = "refreshed"
	}
	ferr := d.m.Record(
		Dimension{"Service", d.service},
		Dimension{"Source", source},
		Dimension{"Result", result},
	).Rollup("Service", "Result").
		Count("KeyRefreshes", 1).
		Property("requestId", RequestID(ctx)).
		Flush()
	if ferr != nil {
		slog.WarnContext(ctx, "write metrics", "err", ferr)
	}
}

// Metrics returns the Metrics d writes to, for an authorizer's other lines.
func (d *Decisions) Metrics() *Metrics {
	if d == nil {
		return nil
	}
	return d.m
}
