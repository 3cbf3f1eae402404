package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/revocation"
)

// service is the Service dimension of the function's metrics; the
// template's fail-closed alarm watches Decisions{Service, Outcome=error}.
const service = "token-authorizer"

// stateEvery is how often the revocation view's and the key source's state
// is written as metrics: once a minute, CloudWatch's standard resolution.
const stateEvery = time.Minute

// The function's metrics (EMF on stdout), all with the dimension Service:
//
//	Decisions         Count (1 per decision, whether or not its log line is
//	                  sampled), by Outcome (allow, deny, unauthorized, error) and
//	                  Reason (ok, not_entitled, expired, keys_unavailable, ...),
//	                  rolled up by Outcome; with DecisionLatency (Milliseconds)
//	                  and CachedDecisions (1 when the decision cache answered)
//	                  (see observe.Decisions)
//	KeyRefreshes      Count of refreshes forced by an unknown kid, by Source
//	                  (secret, jwks) and Result (refreshed, skipped: within the
//	                  cool-down, error), rolled up by Result
//	KeyVersionsSkipped Count of signing-key secret versions the keys served now
//	                  leave out because they do not parse (only AWSPREVIOUS
//	                  can be: a bad AWSCURRENT fails closed), with Stage
//	                  AWSPREVIOUS; a gauge written when a version is left out
//	                  and once a minute (0 when all is well), so an alarm on
//	                  its Maximum stays up while the bad version is there
//	RevocationLag     Milliseconds since the revocation view last read the table,
//	                  at most once a minute, with RevocationEntries (Count) and,
//	                  since the previous line, RevocationRefreshes,
//	                  RevocationRefreshErrors, RevocationStaleDenied and
//	                  RevocationStaleAllowed (Count)

// observer holds the function's metrics and its decision log sampler. Build
// one in main with [newObserver]; it is safe for concurrent use. A nil
// *observer counts nothing and logs every decision.
type observer struct {
	decisions *observe.Decisions
	metrics   *observe.Metrics

	// keyState is the signing-key secret's source, when there is one.
	keyState interface{ SkippedVersions() int }

	nextState atomic.Int64 // unix nanoseconds when the state lines are next written
	mu        sync.Mutex   // serialises the state lines and guards last
	last      revocation.Stats
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
	return &observer{decisions: observe.NewDecisions(m, service, s.DecisionLogs), metrics: m}, err
}

// observe counts the decision and reports whether to log it: allows are
// logged as sampled by DECISION_LOG_SAMPLE_RATE (by request id), every
// other outcome always.
func (h *handler) observe(ctx context.Context, d decision, latency time.Duration) bool {
	o := h.obs
	if o == nil {
		return true
	}
	logIt := o.decisions.Count(ctx, d.outcome, d.reason, latency, d.cached)
	view, _ := h.revoked.(interface{ Stats() revocation.Stats })
	o.stateLines(ctx, view, h.now())
	return logIt
}

// stateLines writes, when a minute has passed since the last time (the
// first decision writes them at once), the revocation view's lag and
// counters (view may be nil) and the signing-key source's
// KeyVersionsSkipped.
func (o *observer) stateLines(ctx context.Context, view interface{ Stats() revocation.Stats }, now time.Time) {
	next := o.nextState.Load()
	if now.UnixNano() < next || !o.nextState.CompareAndSwap(next, now.Add(stateEvery).UnixNano()) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	flush := func(r *observe.Record) {
		if err := r.Property("requestId", observe.RequestID(ctx)).Flush(); err != nil {
			slog.WarnContext(ctx, "write metrics", "err", err)
		}
	}
	if view != nil {
		st := view.Stats()
		flush(o.metrics.Record(observe.Dimension{Name: "Service", Value: service}).
			Duration("RevocationLag", st.Lag).
			Count("RevocationEntries", float64(st.Entries)).
			Count("RevocationRefreshes", float64(st.Refreshes-o.last.Refreshes)).
			Count("RevocationRefreshErrors", float64(st.RefreshErrors-o.last.RefreshErrors)).
			Count("RevocationStaleDenied", float64(st.StaleDenied-o.last.StaleDenied)).
			Count("RevocationStaleAllowed", float64(st.StaleAllowed-o.last.StaleAllowed)))
		o.last = st
	}
	if o.keyState != nil {
		flush(o.metrics.Record(observe.Dimension{Name: "Service", Value: service}, observe.Dimension{Name: "Stage", Value: "AWSPREVIOUS"}).
			Count("KeyVersionsSkipped", float64(o.keyState.SkippedVersions())))
	}
}

// keySources wraps each issuer's key source so that its forced refreshes
// are counted: secretIssuer's (KEYS_ISSUER) as Source secret, the others
// as jwks. A nil observer returns sources as they are.
func (o *observer) keySources(sources map[string]keyring.Source, secretIssuer string) map[string]keyring.Source {
	if o == nil {
		return sources
	}
	out := make(map[string]keyring.Source, len(sources))
	for iss, src := range sources {
		origin := "jwks"
		if iss == secretIssuer {
			origin = "secret"
			o.keyState, _ = src.(interface{ SkippedVersions() int })
		}
		out[iss] = countedSource{Source: src, o: o, origin: origin}
	}
	return out
}

// skippedVersion returns the hook keyring.FromSecret calls for a secret
// version it leaves out: one warning log line with the secret's ID, stage,
// version ID and cause (never the value) and, with an observer, a
// KeyVersionsSkipped line at once. Tokens signed with that version's keys
// get 401 until it is fixed or rotated away; the once-a-minute gauge
// (stateLines) keeps the template's alarm up meanwhile.
func (o *observer) skippedVersion(log *slog.Logger) keyring.SkippedVersion {
	return func(ctx context.Context, secretID, stage, versionID string, err error) {
		log.WarnContext(ctx, "signing key version skipped",
			"secretId", secretID, "stage", stage, "version", versionID, "err", err.Error())
		if o == nil {
			return
		}
		r := o.metrics.Record(observe.Dimension{Name: "Service", Value: service}, observe.Dimension{Name: "Stage", Value: stage}).
			Count("KeyVersionsSkipped", 1)
		if err := r.Property("requestId", observe.RequestID(ctx)).Flush(); err != nil {
			log.WarnContext(ctx, "write metrics", "err", err)
		}
	}
}

// countedSource counts a Source's Refresh calls: the ring makes one when a
// token names a kid it does not hold. Keys, the hot path, passes through.
type countedSource struct {
	keyring.Source
	o      *observer
	origin string // the Source dimension: secret or jwks
}

func (s countedSource) Refresh(ctx context.Context) (bool, error) {
	refreshed, err := s.Source.Refresh(ctx)
	s.o.decisions.Refresh(ctx, s.origin, refreshed, err)
	return refreshed, err
}

// misconfigured counts every answer of a misconfigured function as a
// fail-closed decision (Outcome error, Reason misconfigured), so the
// template's alarm sees it.
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
