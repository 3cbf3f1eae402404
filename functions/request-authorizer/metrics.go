package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/secretver"
)

// service is the Service dimension of the function's metrics.
const service = "request-authorizer"

// The function's metrics (EMF on stdout; see observe.Decisions), all with
// the dimension Service:
//
//	Decisions     Count (1 per decision, whether or not its log line is
//	              sampled), by Outcome (allow, deny, unauthorized, error) and
//	              Reason (ok, not_entitled, bad_signature, bad_credentials,
//	              replay, credentials_unavailable, ...), rolled up by Outcome;
//	              with DecisionLatency (Milliseconds) and CachedDecisions (0)
//	KeyRefreshes  Count of direct reads of the credentials secret forced by an
//	              unknown keyid or client, by Source (credentials) and Result
//	              (refreshed, skipped: within the cool-down, error)

// observer holds the function's decision metrics and log sampler. A nil
// *observer counts nothing and logs every decision.
type observer struct {
	decisions *observe.Decisions
}

// newObserver reads METRICS_NAMESPACE and DECISION_LOG_SAMPLE_RATE. On a
// bad setting it still returns a working observer (default namespace, no
// sampling), so that the fail-closed answers are counted, and the error.
func newObserver(getenv func(string) string, w io.Writer) (*observer, error) {
	s, err := observe.SettingsFrom(getenv)
	m, merr := observe.NewMetrics(w, s.Namespace)
	if merr != nil {
		return nil, merr // only a nil writer gets here
	}
	return &observer{decisions: observe.NewDecisions(m, service, s.DecisionLogs)}, err
}

// observe counts the decision and reports whether to log it: allows are
// logged as sampled by DECISION_LOG_SAMPLE_RATE, every other outcome always.
func (h *handler) observe(ctx context.Context, d decision, latency time.Duration) bool {
	if h.obs == nil {
		return true
	}
	return h.obs.decisions.Count(ctx, d.outcome, d.reason, latency, false)
}

// credentials wraps the secret's reader so that its forced refreshes are
// counted. A nil observer returns r as it is.
func (o *observer) credentials(r credential.Reader) credential.Reader {
	if o == nil {
		return r
	}
	return countedReader{Reader: r, o: o}
}

// countedReader counts Refresh, the direct read the credential store makes
// for an unknown keyid or client; Get, the hot path, passes through.
type countedReader struct {
	credential.Reader
	o *observer
}

func (c countedReader) Refresh(ctx context.Context) (secretver.Snapshot, bool, error) {
	s, refreshed, err := c.Reader.Refresh(ctx)
	c.o.decisions.Refresh(ctx, "credentials", refreshed, err)
	return s, refreshed, err
}

// misconfigured counts every answer of a misconfigured function as a
// fail-closed decision (Outcome error, Reason misconfigured).
func (o *observer) misconfigured(next apigw.Handler) apigw.Handler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		start := time.Now()
		resp, err := next(ctx, raw)
		if o != nil {
			o.decisions.Count(ctx, "error", "misconfigured", time.Since(start), false)
		}
		return resp, err
	}
}
