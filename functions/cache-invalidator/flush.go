package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
)

// Retry policy of one flush call. The SDK clients are built with their own
// retries off, so this is the only policy.
const (
	defaultMaxAttempts = 6
	defaultBaseDelay   = 200 * time.Millisecond
	defaultMaxDelay    = 5 * time.Second
	// deadlineReserve is the part of the invocation deadline never spent
	// waiting to retry, so the handler can still log and return.
	deadlineReserve = 500 * time.Millisecond
	// flushConcurrency bounds parallel calls: API Gateway's management API
	// has low per-account rate limits.
	flushConcurrency = 4
)

// A target is one API stage whose authorizer cache is flushed.
type target struct {
	// Type is "rest" (API Gateway REST API) or "http" (HTTP API).
	Type  string `json:"type"`
	APIID string `json:"apiId"`
	Stage string `json:"stage"`
}

// parseTargets reads FLUSH_TARGETS: a JSON list of targets.
func parseTargets(s string) ([]target, error) {
	var ts []target
	if err := decodeStrict([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("FLUSH_TARGETS: %w", err)
	}
	if ts == nil {
		return nil, errors.New("FLUSH_TARGETS: want a JSON list, use [] for none")
	}
	seen := map[target]bool{}
	for i, t := range ts {
		switch {
		case t.Type != "rest" && t.Type != "http":
			return nil, fmt.Errorf("FLUSH_TARGETS[%d]: type %q, want rest or http", i, t.Type)
		case t.APIID == "" || t.Stage == "":
			return nil, fmt.Errorf("FLUSH_TARGETS[%d]: apiId and stage are required", i)
		case seen[t]:
			return nil, fmt.Errorf("FLUSH_TARGETS[%d]: duplicate of an earlier target", i)
		}
		seen[t] = true
	}
	return ts, nil
}

// restAPI is the part of the API Gateway (REST) client the flusher uses.
type restAPI interface {
	FlushStageAuthorizersCache(ctx context.Context, in *apigateway.FlushStageAuthorizersCacheInput, opts ...func(*apigateway.Options)) (*apigateway.FlushStageAuthorizersCacheOutput, error)
	FlushStageCache(ctx context.Context, in *apigateway.FlushStageCacheInput, opts ...func(*apigateway.Options)) (*apigateway.FlushStageCacheOutput, error)
}

// httpAPI is the part of the API Gateway V2 (HTTP API) client the flusher uses.
type httpAPI interface {
	ResetAuthorizersCache(ctx context.Context, in *apigatewayv2.ResetAuthorizersCacheInput, opts ...func(*apigatewayv2.Options)) (*apigatewayv2.ResetAuthorizersCacheOutput, error)
}

// A flusher clears the caches of every configured stage.
type flusher struct {
	targets       []target
	rest          restAPI
	http          httpAPI
	responseCache bool // also FlushStageCache on REST stages

	maxAttempts         int
	baseDelay, maxDelay time.Duration
	sleep               func(context.Context, time.Duration) error
	jitter              func(time.Duration) time.Duration // uniform in [0, d)
}

func newFlusher(targets []target, rest restAPI, http httpAPI, responseCache bool) *flusher {
	return &flusher{
		targets: targets, rest: rest, http: http, responseCache: responseCache,
		maxAttempts: defaultMaxAttempts, baseDelay: defaultBaseDelay, maxDelay: defaultMaxDelay,
		sleep:  sleepContext,
		jitter: fullJitter,
	}
}

// stageResult is the outcome of one call on one stage.
type stageResult struct {
	Type      string `json:"type"`
	APIID     string `json:"apiId"`
	Stage     string `json:"stage"`
	Operation string `json:"operation"`
	Attempts  int    `json:"attempts"`
	Throttled int    `json:"throttled"`
	Error     string `json:"error,omitempty"`
}

// FlushError means at least one stage's cache could not be flushed, so a
// revoked principal may keep a cached Allow there until the cache's TTL. The
// revocation itself is stored; the event should be retried, which flushes
// again.
type FlushError struct{ Failed []stageResult }

func (e *FlushError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, r := range e.Failed {
		parts[i] = fmt.Sprintf("%s %s/%s %s: %s", r.Type, r.APIID, r.Stage, r.Operation, r.Error)
	}
	return fmt.Sprintf("flush failed on %d of the stages: %s", len(e.Failed), strings.Join(parts, "; "))
}

// call is one management call to make.
type call struct {
	t  target
	op string
	do func(context.Context) error
}

func (f *flusher) calls() []call {
	var cs []call
	for _, t := range f.targets {
		switch t.Type {
		case "rest":
			cs = append(cs, call{t, "FlushStageAuthorizersCache", func(ctx context.Context) error {
				_, err := f.rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{RestApiId: aws.String(t.APIID), StageName: aws.String(t.Stage)})
				return err
			}})
			if f.responseCache {
				cs = append(cs, call{t, "FlushStageCache", func(ctx context.Context) error {
					_, err := f.rest.FlushStageCache(ctx, &apigateway.FlushStageCacheInput{RestApiId: aws.String(t.APIID), StageName: aws.String(t.Stage)})
					return err
				}})
			}
		case "http":
			cs = append(cs, call{t, "ResetAuthorizersCache", func(ctx context.Context) error {
				_, err := f.http.ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{ApiId: aws.String(t.APIID), StageName: aws.String(t.Stage)})
				return err
			}})
		}
	}
	return cs
}

// flushAll flushes every stage, a few at a time, and logs each result. It
// returns a *FlushError when any call still failed after its retries.
func (f *flusher) flushAll(ctx context.Context) ([]stageResult, error) {
	cs := f.calls()
	results := make([]stageResult, len(cs))
	sem := make(chan struct{}, flushConcurrency)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			attempts, throttled, err := f.retry(ctx, c.do)
			r := stageResult{Type: c.t.Type, APIID: c.t.APIID, Stage: c.t.Stage, Operation: c.op, Attempts: attempts, Throttled: throttled}
			if err != nil {
				r.Error = err.Error()
				slog.ErrorContext(ctx, "flush stage", "type", r.Type, "apiId", r.APIID, "stage", r.Stage,
					"operation", r.Operation, "attempts", attempts, "throttled", throttled, "err", err)
			} else {
				slog.InfoContext(ctx, "flush stage", "type", r.Type, "apiId", r.APIID, "stage", r.Stage,
					"operation", r.Operation, "attempts", attempts, "throttled", throttled)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	var failed []stageResult
	for _, r := range results {
		if r.Error != "" {
			failed = append(failed, r)
		}
	}
	if failed != nil {
		return results, &FlushError{Failed: failed}
	}
	return results, nil
}

var (
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
)

// retry calls do until it succeeds, fails with an error that is not
// retryable (throttling, 429, 5xx, connection errors are), runs out of
// attempts, or would sleep past the invocation deadline. Delays grow
// exponentially with full jitter.
func (f *flusher) retry(ctx context.Context, do func(context.Context) error) (attempts, throttled int, err error) {
	for attempts = 1; ; attempts++ {
		err = do(ctx)
		if err == nil {
			return attempts, throttled, nil
		}
		if throttles.IsErrorThrottle(err) == aws.TrueTernary {
			throttled++
		}
		if retryables.IsErrorRetryable(err) != aws.TrueTernary {
			return attempts, throttled, err
		}
		if attempts >= f.maxAttempts {
			return attempts, throttled, fmt.Errorf("gave up after %d attempts: %w", attempts, err)
		}
		delay := f.jitter(min(f.maxDelay, f.baseDelay<<(attempts-1)))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl)-deadlineReserve < delay {
			return attempts, throttled, fmt.Errorf("no time left to retry before the invocation deadline: %w", err)
		}
		if serr := f.sleep(ctx, delay); serr != nil {
			return attempts, throttled, fmt.Errorf("%w (while waiting to retry: %v)", err, serr)
		}
	}
}

// fullJitter returns a uniformly random duration in [0, d).
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
