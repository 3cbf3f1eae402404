package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/trace"
	"github.com/aws/aws-lambda-go/events"
)

// revoker stores a revocation; *revocation.Writer implements it.
type revoker interface {
	Revoke(ctx context.Context, e revocation.Entry) (created bool, err error)
}

// checker is a reader's view of the table; *revocation.View implements it.
// The handler uses it to see its own write the way the authorizers will.
type checker interface {
	Check(ctx context.Context, issuer, sub, jti string, issuedAt time.Time) (revoked bool, err error)
}

// userResolver maps a Cognito username or alias to the user's sub, the
// claim tokens carry (AdminGetUser). It returns an error wrapping
// errUserNotFound when the pool has no such user, as after AdminDeleteUser.
type userResolver interface {
	SubOf(ctx context.Context, userPoolID, username string) (string, error)
}

var errUserNotFound = errors.New("user not found")

// RevokeError means the revocation could not be stored (or its user could
// not be resolved); nothing was flushed. The event should be retried.
type RevokeError struct {
	Op  string
	Err error
}

func (e *RevokeError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *RevokeError) Unwrap() error { return e.Err }

// NotVisibleError means the revocation was stored but a reader did not see
// it in time, so authorizers may not deny yet; the caches were flushed
// anyway. The event should be retried, which flushes again.
type NotVisibleError struct{ Err error }

func (e *NotVisibleError) Error() string {
	return "revocation stored but not yet visible to readers: " + e.Err.Error()
}
func (e *NotVisibleError) Unwrap() error { return e.Err }

// Timing of the flush after a write.
const (
	// visibleTimeout bounds the wait for a reader to see a new entry.
	visibleTimeout = 5 * time.Second
	// pollEvery is how often the handler looks for it meanwhile.
	pollEvery = 100 * time.Millisecond
	// settleMargin is added to the authorizers' refresh interval: after
	// that long every authorizer's view includes the entry, so an authorizer
	// invoked after the flush cannot re-cache an Allow from an older view.
	settleMargin = 500 * time.Millisecond
)

type handler struct {
	store   revoker
	view    checker // nil: do not wait for readers (no flush targets)
	flusher *flusher
	users   userResolver // nil: a CloudTrail username is used as the sub

	settle         time.Duration // authorizers' refresh interval + settleMargin
	visibleTimeout time.Duration
	pollEvery      time.Duration
	now            func() time.Time
	sleep          func(context.Context, time.Duration) error

	metrics *observe.Metrics // nil: no metrics (see metrics.go)
	tracer  *trace.Tracer    // nil: no tracing
}

// outcome is the answer to a direct or EventBridge invocation.
type outcome struct {
	Origin  string        `json:"origin"`
	Skipped string        `json:"skipped,omitempty"`
	Created bool          `json:"created"`
	Stages  []stageResult `json:"stages,omitempty"`
}

// handle detects the trigger: an SQS batch, an EventBridge event, or a
// direct invocation. The invocation is one trace subsegment, with the
// table and API Gateway calls inside.
func (h *handler) handle(ctx context.Context, raw json.RawMessage) (any, error) {
	ctx, end := h.tracer.Start(ctx, "invalidate")
	out, err := h.dispatch(ctx, raw)
	end(err)
	return out, err
}

func (h *handler) dispatch(ctx context.Context, raw json.RawMessage) (any, error) {
	k, err := classify(raw)
	if err != nil {
		slog.ErrorContext(ctx, "reject event", "err", err)
		h.countRevocation(ctx, "", resultInvalid)
		return nil, err
	}
	if k == kindSQS {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			err = invalid("SQS event: %v", err)
			slog.ErrorContext(ctx, "reject event", "err", err)
			h.countRevocation(ctx, "", resultInvalid)
			return nil, err
		}
		return h.handleSQS(ctx, ev), nil
	}
	now := h.now()
	req, err := parseRequest(raw, now, now)
	if err != nil {
		slog.ErrorContext(ctx, "reject event", "err", err)
		h.countRevocation(ctx, originOf(k), resultInvalid)
		return nil, err
	}
	return h.handleOne(ctx, req)
}

func (h *handler) handleOne(ctx context.Context, req request) (outcome, error) {
	out := outcome{Origin: req.origin}
	if req.skip != "" {
		slog.InfoContext(ctx, "skip event", "origin", req.origin, "eventId", req.eventID, "why", req.skip)
		h.countRevocation(ctx, req.origin, resultSkipped)
		out.Skipped = req.skip
		return out, nil
	}
	e, created, err := h.write(ctx, req)
	if errors.Is(err, revocation.ErrExpiredEntry) {
		out.Skipped = skipExpired // nothing to revoke, nothing to wait for or flush
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Created = created
	notVisible := h.waitVisible(ctx, e, h.now().Add(h.visibleTimeout))
	stages, flushErr := h.settleAndFlush(ctx)
	out.Stages = stages
	if flushErr != nil {
		return out, flushErr
	}
	return out, notVisible
}

// handleSQS processes each record on its own and reports the failed ones.
// The caches are flushed once for the whole batch, after every write; if a
// flush fails, every written record is reported failed so that all are
// retried (their writes are then no-ops, and the flush runs again).
func (h *handler) handleSQS(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	var resp events.SQSEventResponse
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	now := h.now()
	var writtenIDs []string
	var entries []revocation.Entry
	for _, m := range ev.Records {
		if m.EventSource != eventSourceSQS {
			slog.ErrorContext(ctx, "reject record", "messageId", m.MessageId, "err", invalid("eventSource %q", m.EventSource))
			h.countRevocation(ctx, "", resultInvalid)
			fail(m.MessageId)
			continue
		}
		req, err := parseRequest([]byte(m.Body), sentAt(m, now), now)
		if err != nil {
			slog.ErrorContext(ctx, "reject record", "messageId", m.MessageId, "err", err)
			h.countRevocation(ctx, "", resultInvalid)
			fail(m.MessageId)
			continue
		}
		if req.skip != "" {
			slog.InfoContext(ctx, "skip record", "messageId", m.MessageId, "origin", req.origin, "why", req.skip)
			h.countRevocation(ctx, req.origin, resultSkipped)
			continue
		}
		e, _, err := h.write(ctx, req)
		if errors.Is(err, revocation.ErrExpiredEntry) {
			continue // done: every token it revokes has expired
		}
		if err != nil {
			fail(m.MessageId)
			continue
		}
		writtenIDs = append(writtenIDs, m.MessageId)
		entries = append(entries, e)
	}
	if len(writtenIDs) == 0 {
		return resp
	}
	var ok []string
	deadline := h.now().Add(h.visibleTimeout) // one bound for the whole batch
	for i, e := range entries {
		if err := h.waitVisible(ctx, e, deadline); err != nil {
			fail(writtenIDs[i])
			continue
		}
		ok = append(ok, writtenIDs[i])
	}
	if _, err := h.settleAndFlush(ctx); err != nil {
		for _, id := range ok {
			fail(id)
		}
	}
	return resp
}

// sentAt is when SQS received the message: a retried delivery of the same
// message gets the same revocation time, so the retry is a no-op.
func sentAt(m events.SQSMessage, fallback time.Time) time.Time {
	ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return fallback
	}
	return time.UnixMilli(ms)
}

// skipExpired is the outcome's Skipped for a revocation older than the
// longest token lifetime: every token it would revoke has expired, so it is
// not stored (revocation.ErrExpiredEntry), and a late or replayed event is
// answered as done instead of failing (and being retried) forever.
const skipExpired = "every token it revokes has expired already"

// write resolves the request's subject and stores the revocation. For a
// revocation whose tokens have all expired it stores nothing and returns
// revocation.ErrExpiredEntry (logged and counted as skipped).
func (h *handler) write(ctx context.Context, req request) (revocation.Entry, bool, error) {
	e, err := h.resolve(ctx, req)
	if err != nil {
		slog.ErrorContext(ctx, "resolve user", "origin", req.origin, "eventId", req.eventID, "err", err)
		h.countRevocation(ctx, req.origin, resultError)
		return e, false, err
	}
	created, err := h.store.Revoke(ctx, e)
	if errors.Is(err, revocation.ErrExpiredEntry) {
		slog.InfoContext(ctx, "skip event", "origin", req.origin, "eventId", req.eventID, "why", skipExpired,
			"issuer", e.Issuer, "subject", e.Subject, "jti", e.JTI, "revokedAt", e.RevokedAt)
		h.countRevocation(ctx, req.origin, resultSkipped)
		return e, false, err
	}
	if errors.Is(err, revocation.ErrInvalidEntry) {
		err = invalid("%s: %v", req.origin, err)
	} else if err != nil {
		err = &RevokeError{Op: "store revocation", Err: err}
	}
	if err != nil {
		slog.ErrorContext(ctx, "revoke", "origin", req.origin, "eventId", req.eventID, "err", err)
		if errors.Is(err, revocation.ErrInvalidEntry) {
			h.countRevocation(ctx, req.origin, resultInvalid)
		} else {
			h.countRevocation(ctx, req.origin, resultError)
		}
		return e, false, err
	}
	slog.InfoContext(ctx, "revoke", "origin", req.origin, "eventId", req.eventID,
		"issuer", e.Issuer, "subject", e.Subject, "jti", e.JTI, "revokedAt", e.RevokedAt, "created", created)
	if created {
		h.countRevocation(ctx, req.origin, resultCreated)
	} else {
		h.countRevocation(ctx, req.origin, resultExisting)
	}
	return e, created, nil
}

// resolve fills in the subject of a CloudTrail request. Cognito tokens carry
// the user's sub, while the call names the user by username, alias or sub:
// a sub recorded by CloudTrail wins; otherwise the resolver (AdminGetUser)
// maps the username; without one, or for a user already deleted, the
// username itself is used, which matches tokens only when it is the sub.
func (h *handler) resolve(ctx context.Context, req request) (revocation.Entry, error) {
	e := req.entry
	if e.Subject != "" || e.JTI != "" {
		return e, nil
	}
	switch {
	case req.sub != "":
		e.Subject = req.sub
	case h.users != nil:
		sub, err := h.users.SubOf(ctx, req.userPoolID, req.username)
		switch {
		case err == nil && sub != "":
			e.Subject = sub
		case err == nil || errors.Is(err, errUserNotFound):
			slog.WarnContext(ctx, "user not found; revoking by username", "origin", req.origin, "eventId", req.eventID)
			e.Subject = req.username
		default:
			return e, &RevokeError{Op: "resolve user", Err: err}
		}
	default:
		e.Subject = req.username
	}
	if !looksLikeUUID(e.Subject) {
		slog.WarnContext(ctx, "revoking a Cognito user by a name that is not a sub; tokens of this user are denied only if it is their sub",
			"origin", req.origin, "eventId", req.eventID, "userPoolId", req.userPoolID)
	}
	return e, nil
}

// looksLikeUUID reports whether s has the shape of a Cognito sub.
func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// waitVisible polls a reader until it denies what e revokes, or deadline.
func (h *handler) waitVisible(ctx context.Context, e revocation.Entry, deadline time.Time) error {
	if h.view == nil || len(h.flusher.targets) == 0 {
		return nil
	}
	// A token issued one second before the stored (rounded-up) revokedAt.
	r := e.RevokedAt.Unix()
	if e.RevokedAt.Nanosecond() > 0 {
		r++
	}
	iat := time.Unix(r-1, 0)
	issuer := e.Issuer
	if issuer == revocation.AnyIssuer {
		issuer = ""
	}
	var last error
	start := h.now()
	for {
		revoked, err := h.view.Check(ctx, issuer, e.Subject, e.JTI, iat)
		if err == nil && revoked {
			h.countVisible(ctx, h.now().Sub(start), true)
			return nil
		}
		if err != nil {
			last = err
		}
		if !h.now().Before(deadline) {
			if last == nil {
				last = fmt.Errorf("not seen within %s", h.visibleTimeout)
			}
			err := &NotVisibleError{Err: last}
			slog.ErrorContext(ctx, "wait for readers", "subject", e.Subject, "jti", e.JTI, "err", err)
			h.countVisible(ctx, h.now().Sub(start), false)
			return err
		}
		if err := h.sleep(ctx, h.pollEvery); err != nil {
			h.countVisible(ctx, h.now().Sub(start), false)
			return &NotVisibleError{Err: err}
		}
	}
}

// settleAndFlush waits until every authorizer's view includes the new
// entries, then flushes every stage.
func (h *handler) settleAndFlush(ctx context.Context) ([]stageResult, error) {
	if len(h.flusher.targets) == 0 {
		return nil, nil
	}
	if err := h.sleep(ctx, h.settle); err != nil {
		failed := []stageResult{{Operation: "settle", Error: err.Error()}}
		h.countFlushes(ctx, failed)
		return nil, &FlushError{Failed: failed}
	}
	stages, err := h.flusher.flushAll(ctx)
	h.countFlushes(ctx, stages)
	return stages, err
}
