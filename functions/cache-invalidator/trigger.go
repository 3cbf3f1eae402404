package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/aws/aws-lambda-go/events"
)

// Event shapes this function accepts.
const (
	detailTypeRevoked    = "access.revoked"
	detailTypeCloudTrail = "AWS API Call via CloudTrail"
	sourceCognito        = "aws.cognito-idp"
	eventSourceCognito   = "cognito-idp.amazonaws.com"
	eventSourceSQS       = "aws:sqs"

	// redacted is what CloudTrail records in place of a value it hides.
	redacted = "HIDDEN_DUE_TO_SECURITY_REASONS"

	// maxFutureSkew bounds a revokedAt given in an event: a revocation dated
	// far in the future would deny every new login until then.
	maxFutureSkew = 5 * time.Minute
)

// revokingCalls are the Cognito operations whose CloudTrail events revoke the
// user's tokens.
var revokingCalls = map[string]bool{
	"AdminDisableUser":       true,
	"AdminUserGlobalSignOut": true,
	"AdminDeleteUser":        true,
}

// userPoolIDPattern is the API's pattern for a user pool ID, anchored, with
// the region part captured.
var userPoolIDPattern = regexp.MustCompile(`^([a-z0-9-]+)_[0-9a-zA-Z]+$`)

// InvalidEventError means the event is not one this function understands or
// lacks what a revocation needs. Retrying does not help; the event ends in
// the dead-letter queue, where someone should look at it.
type InvalidEventError struct{ Reason string }

func (e *InvalidEventError) Error() string { return "invalid event: " + e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidEventError{Reason: fmt.Sprintf(format, args...)}
}

// kind is the shape of a raw event.
type kind int

const (
	kindDirect kind = iota
	kindEventBridge
	kindSQS
)

// classify tells the three shapes apart by their top-level keys.
func classify(raw []byte) (kind, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || probe == nil {
		return 0, invalid("not a JSON object")
	}
	if _, ok := probe["Records"]; ok {
		return kindSQS, nil
	}
	if _, ok := probe["detail-type"]; ok {
		return kindEventBridge, nil
	}
	return kindDirect, nil
}

// payload is a direct invocation, and the detail of an access.revoked event.
type payload struct {
	// Subject is the sub claim to revoke; or set JTI.
	Subject string `json:"subject"`
	// Issuer scopes the subject to one iss; empty means every issuer.
	Issuer string `json:"issuer"`
	// JTI is the jti of the single token to revoke.
	JTI string `json:"jti"`
	// Reason is kept with the entry for audits.
	Reason string `json:"reason"`
	// RevokedAt is taken literally (RFC 3339); absent means the event's time.
	RevokedAt *time.Time `json:"revokedAt"`
}

// cloudTrailDetail is the part of a CloudTrail record this function reads.
// Decoding is lenient: CloudTrail adds fields over time.
type cloudTrailDetail struct {
	EventTime         time.Time `json:"eventTime"`
	EventSource       string    `json:"eventSource"`
	EventName         string    `json:"eventName"`
	AWSRegion         string    `json:"awsRegion"`
	ErrorCode         string    `json:"errorCode"`
	EventID           string    `json:"eventID"`
	RequestParameters *struct {
		UserPoolID string `json:"userPoolId"`
		Username   string `json:"username"`
	} `json:"requestParameters"`
	AdditionalEventData *struct {
		Sub string `json:"sub"`
	} `json:"additionalEventData"`
}

// request is one revocation an event asks for, before it is written.
type request struct {
	origin  string // for logs: "direct", "access.revoked", "cloudtrail:AdminDisableUser"
	eventID string // for logs
	entry   revocation.Entry
	// For a CloudTrail event, the user as the call named it; the handler
	// turns these into entry.Subject.
	userPoolID, username, sub string
	// skip, when set, says why the event asks for nothing.
	skip string
}

// parseRequest reads a direct or EventBridge event (not an SQS batch).
// fallback is the revocation time when the event carries none; now bounds
// how far in the future an event's time may be.
func parseRequest(raw []byte, fallback, now time.Time) (request, error) {
	k, err := classify(raw)
	if err != nil {
		return request{}, err
	}
	switch k {
	case kindSQS:
		return request{}, invalid("an SQS batch inside an SQS message")
	case kindEventBridge:
		return parseEventBridge(raw, now)
	}
	var p payload
	if err := decodeStrict(raw, &p); err != nil {
		return request{}, invalid("direct invocation: %v", err)
	}
	return fromPayload("direct", "", p, fallback, now)
}

func fromPayload(origin, id string, p payload, fallback, now time.Time) (request, error) {
	at := fallback
	if p.RevokedAt != nil {
		at = *p.RevokedAt
	}
	if at.IsZero() {
		return request{}, invalid("%s: no revocation time", origin)
	}
	if at.After(now.Add(maxFutureSkew)) {
		return request{}, invalid("%s: revokedAt is more than %s in the future", origin, maxFutureSkew)
	}
	e := revocation.Entry{Issuer: p.Issuer, Subject: p.Subject, JTI: p.JTI, Reason: p.Reason, RevokedAt: at}
	if _, err := e.Key(); err != nil {
		return request{}, invalid("%s: %v", origin, err)
	}
	return request{origin: origin, eventID: id, entry: e}, nil
}

func parseEventBridge(raw []byte, now time.Time) (request, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return request{}, invalid("EventBridge envelope: %v", err)
	}
	switch ev.DetailType {
	case detailTypeRevoked:
		if strings.HasPrefix(ev.Source, "aws.") {
			return request{}, invalid("access.revoked from AWS source %q", ev.Source)
		}
		var p payload
		if err := decodeStrict(ev.Detail, &p); err != nil {
			return request{}, invalid("access.revoked detail: %v", err)
		}
		return fromPayload(detailTypeRevoked, ev.ID, p, wholeSecondEnd(ev.Time), now)
	case detailTypeCloudTrail:
		if ev.Source != sourceCognito {
			return request{}, invalid("CloudTrail event from %q, want %s", ev.Source, sourceCognito)
		}
		return parseCloudTrail(ev, now)
	}
	return request{}, invalid("unsupported detail-type %q", ev.DetailType)
}

func parseCloudTrail(ev events.EventBridgeEvent, now time.Time) (request, error) {
	var d cloudTrailDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return request{}, invalid("CloudTrail detail: %v", err)
	}
	if d.EventSource != eventSourceCognito {
		return request{}, invalid("CloudTrail eventSource %q, want %s", d.EventSource, eventSourceCognito)
	}
	req := request{origin: "cloudtrail:" + d.EventName, eventID: d.EventID}
	if !revokingCalls[d.EventName] {
		req.skip = "the call does not revoke access"
		return req, nil
	}
	if d.ErrorCode != "" {
		req.skip = "the call failed with " + d.ErrorCode
		return req, nil
	}
	if d.RequestParameters == nil {
		return request{}, invalid("%s: no requestParameters", req.origin)
	}
	pool := d.RequestParameters.UserPoolID
	m := userPoolIDPattern.FindStringSubmatch(pool)
	if len(pool) > 55 || m == nil {
		return request{}, invalid("%s: malformed userPoolId", req.origin)
	}
	req.userPoolID = pool
	if u := d.RequestParameters.Username; u != redacted {
		req.username = u
	}
	if d.AdditionalEventData != nil && d.AdditionalEventData.Sub != redacted {
		req.sub = d.AdditionalEventData.Sub
	}
	if req.username == "" && req.sub == "" {
		return request{}, invalid("%s: the event names no user (username redacted or absent)", req.origin)
	}
	at := d.EventTime
	if at.IsZero() {
		at = ev.Time
	}
	if at.IsZero() {
		return request{}, invalid("%s: no event time", req.origin)
	}
	if at.After(now.Add(maxFutureSkew)) {
		return request{}, invalid("%s: eventTime is more than %s in the future", req.origin, maxFutureSkew)
	}
	req.entry = revocation.Entry{
		// Cognito's issuer: the pool's region is the prefix of its ID.
		Issuer:    "https://cognito-idp." + m[1] + ".amazonaws.com/" + pool,
		RevokedAt: wholeSecondEnd(at),
		Reason:    truncate(fmt.Sprintf("cognito %s (CloudTrail event %s)", d.EventName, d.EventID), 1024),
	}
	return req, nil
}

// wholeSecondEnd turns a timestamp recorded with whole seconds (CloudTrail's
// eventTime, EventBridge's time) into the end of that second: the event
// happened somewhere inside it, and a token issued earlier in the same second
// has the same iat, so it must be denied too.
func wholeSecondEnd(t time.Time) time.Time {
	if t.IsZero() || t.Nanosecond() != 0 {
		return t
	}
	return t.Add(time.Second)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing
// data.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
