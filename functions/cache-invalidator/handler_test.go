package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/aws/aws-lambda-go/events"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "cache-invalidator", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeInto[T any](t *testing.T, name string, b []byte) T {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not a %T: %v", name, v, err)
	}
	return v
}

func readEvent[T any](t *testing.T, name string) T {
	t.Helper()
	return decodeInto[T](t, name, readFixture(t, name))
}

// cloudTrailRecord lists every field of a CloudTrail record, so that a
// fixture with a misspelt or invented field fails to decode.
type cloudTrailRecord struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		SessionContext *struct {
			SessionIssuer struct {
				Type        string `json:"type"`
				PrincipalID string `json:"principalId"`
				ARN         string `json:"arn"`
				AccountID   string `json:"accountId"`
				UserName    string `json:"userName"`
			} `json:"sessionIssuer"`
			Attributes struct {
				CreationDate     string `json:"creationDate"`
				MFAAuthenticated string `json:"mfaAuthenticated"`
			} `json:"attributes"`
		} `json:"sessionContext"`
		SessionCredentialFromConsole string `json:"sessionCredentialFromConsole"`
		InvokedBy                    string `json:"invokedBy"`
	} `json:"userIdentity"`
	EventTime         time.Time `json:"eventTime"`
	EventSource       string    `json:"eventSource"`
	EventName         string    `json:"eventName"`
	AWSRegion         string    `json:"awsRegion"`
	SourceIPAddress   string    `json:"sourceIPAddress"`
	UserAgent         string    `json:"userAgent"`
	ErrorCode         string    `json:"errorCode"`
	ErrorMessage      string    `json:"errorMessage"`
	RequestParameters struct {
		UserPoolID string `json:"userPoolId"`
		Username   string `json:"username"`
	} `json:"requestParameters"`
	ResponseElements             json.RawMessage `json:"responseElements"`
	AdditionalEventData          json.RawMessage `json:"additionalEventData"`
	RequestID                    string          `json:"requestID"`
	EventID                      string          `json:"eventID"`
	ReadOnly                     bool            `json:"readOnly"`
	Resources                    json.RawMessage `json:"resources"`
	EventType                    string          `json:"eventType"`
	APIVersion                   string          `json:"apiVersion"`
	ManagementEvent              bool            `json:"managementEvent"`
	RecipientAccountID           string          `json:"recipientAccountId"`
	SharedEventID                string          `json:"sharedEventID"`
	VPCEndpointID                string          `json:"vpcEndpointId"`
	EventCategory                string          `json:"eventCategory"`
	SessionCredentialFromConsole string          `json:"sessionCredentialFromConsole"`
	TLSDetails                   *struct {
		TLSVersion               string `json:"tlsVersion"`
		CipherSuite              string `json:"cipherSuite"`
		ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
	} `json:"tlsDetails"`
}

func TestFixturesDecodeStrictly(t *testing.T) {
	for _, name := range []string{"direct-subject.json", "direct-jti.json"} {
		readEvent[payload](t, name)
	}
	for _, name := range []string{"eventbridge-access-revoked.json", "cloudtrail-admin-disable-user.json",
		"cloudtrail-admin-user-global-sign-out.json", "cloudtrail-admin-delete-user.json"} {
		ev := readEvent[events.EventBridgeEvent](t, name)
		if ev.DetailType == detailTypeCloudTrail {
			d := decodeInto[cloudTrailRecord](t, name+" detail", ev.Detail)
			if ev.Source != "aws.cognito-idp" || d.EventSource != "cognito-idp.amazonaws.com" ||
				d.RequestParameters.UserPoolID == "" || d.RequestParameters.Username == "" {
				t.Errorf("%s: source %q, eventSource %q, requestParameters %+v; want a Cognito call naming a user",
					name, ev.Source, d.EventSource, d.RequestParameters)
			}
		} else {
			decodeInto[payload](t, name+" detail", ev.Detail)
		}
	}
	batch := readEvent[events.SQSEvent](t, "sqs-batch.json")
	if len(batch.Records) != 4 {
		t.Fatalf("sqs-batch.json has %d records, want 4", len(batch.Records))
	}
}

func TestHandleTriggerShapes(t *testing.T) {
	const uuid = "4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19"
	poolUSE1 := "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E"
	tests := []struct {
		fixture   string
		resolver  userResolver
		wantKey   string
		wantAt    time.Time
		wantOrign string
	}{
		{fixture: "direct-subject.json", wantKey: "sub#" + poolUSE1 + "#" + uuid, wantAt: testNow, wantOrign: "direct"},
		{fixture: "direct-jti.json", wantKey: "jti#c2a7e1f0-5d3b-4c8e-9f16-7b0a4d2e8c51", wantAt: testNow, wantOrign: "direct"},
		{
			fixture: "eventbridge-access-revoked.json", wantOrign: "access.revoked",
			wantKey: "sub#https://login.example.com#9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
			wantAt:  time.Date(2025, 6, 12, 14, 3, 28, 0, time.UTC), // the end of the event's second
		},
		{
			fixture: "cloudtrail-admin-disable-user.json", wantOrign: "cloudtrail:AdminDisableUser",
			wantKey: "sub#" + poolUSE1 + "#" + uuid,
			wantAt:  time.Date(2025, 6, 12, 14, 5, 9, 0, time.UTC), // eventTime + 1s
		},
		{
			fixture: "cloudtrail-admin-user-global-sign-out.json", wantOrign: "cloudtrail:AdminUserGlobalSignOut",
			resolver: fakeResolver{subs: map[string]string{"eu-west-1_Zy98Xw76V/jdoe": "11111111-2222-4333-8444-555555555555"}},
			wantKey:  "sub#https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zy98Xw76V#11111111-2222-4333-8444-555555555555",
			wantAt:   time.Date(2025, 6, 12, 14, 7, 42, 0, time.UTC),
		},
		{
			fixture: "cloudtrail-admin-user-global-sign-out.json", wantOrign: "cloudtrail:AdminUserGlobalSignOut",
			// Without a resolver the username is all there is.
			wantKey: "sub#https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zy98Xw76V#jdoe",
			wantAt:  time.Date(2025, 6, 12, 14, 7, 42, 0, time.UTC),
		},
		{
			fixture: "cloudtrail-admin-delete-user.json", wantOrign: "cloudtrail:AdminDeleteUser",
			// The user is gone, so AdminGetUser finds nothing: revoke by username.
			resolver: fakeResolver{subs: map[string]string{}},
			wantKey:  "sub#" + poolUSE1 + "#6e2d4b8f-0a1c-4d3e-b5f7-9c8a6e4d2b0f",
			wantAt:   time.Date(2025, 6, 12, 14, 12, 3, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+tt.wantKey[len(tt.wantKey)-6:], func(t *testing.T) {
			r := newRig(testTargets)
			r.h.users = tt.resolver
			got, err := r.h.handle(context.Background(), readFixture(t, tt.fixture))
			if err != nil {
				t.Fatalf("handle error: %v", err)
			}
			out, ok := got.(outcome)
			if !ok {
				t.Fatalf("handle returned %T, want outcome", got)
			}
			if out.Origin != tt.wantOrign || !out.Created || len(out.Stages) != 2 {
				t.Errorf("outcome = %+v; want origin %s, created, 2 stages", out, tt.wantOrign)
			}
			e := r.store.get(t, tt.wantKey)
			if !e.RevokedAt.Equal(tt.wantAt) {
				t.Errorf("RevokedAt = %v, want %v", e.RevokedAt, tt.wantAt)
			}
			if e.Reason == "" {
				t.Error("no reason stored")
			}
			// Write first, then wait one reader interval, then flush each stage.
			want := []string{
				"revoke " + tt.wantKey + " created=true",
				"sleep 2.5s",
			}
			lines := r.j.all()
			if len(lines) != 4 || !slices.Equal(lines[:2], want) {
				t.Fatalf("side effects = %q, want %q then two flushes", lines, want)
			}
			flushes := lines[2:]
			slices.Sort(flushes)
			if wantF := []string{"FlushStageAuthorizersCache abc123/prod", "ResetAuthorizersCache def456/$default"}; !slices.Equal(flushes, wantF) {
				t.Errorf("flushes = %q, want %q", flushes, wantF)
			}
		})
	}
}

func TestCloudTrailSubject(t *testing.T) {
	base := readFixture(t, "cloudtrail-admin-user-global-sign-out.json")
	withDetail := func(t *testing.T, edit func(d map[string]any)) []byte {
		t.Helper()
		var ev map[string]any
		if err := json.Unmarshal(base, &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev["detail"].(map[string]any))
		b, _ := json.Marshal(ev)
		return b
	}
	const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zy98Xw76V#"
	const sub = "11111111-2222-4333-8444-555555555555"

	t.Run("a recorded sub wins over the username", func(t *testing.T) {
		r := newRig(testTargets)
		r.h.users = fakeResolver{err: errors.New("must not be called")}
		ev := withDetail(t, func(d map[string]any) { d["additionalEventData"] = map[string]any{"sub": sub} })
		if _, err := r.h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		r.store.get(t, "sub#"+iss+sub)
	})
	t.Run("redacted username with a sub", func(t *testing.T) {
		r := newRig(testTargets)
		ev := withDetail(t, func(d map[string]any) {
			d["requestParameters"].(map[string]any)["username"] = redacted
			d["additionalEventData"] = map[string]any{"sub": sub}
		})
		if _, err := r.h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		r.store.get(t, "sub#"+iss+sub)
	})
	t.Run("redacted username and no sub", func(t *testing.T) {
		r := newRig(testTargets)
		ev := withDetail(t, func(d map[string]any) { d["requestParameters"].(map[string]any)["username"] = redacted })
		_, err := r.h.handle(context.Background(), ev)
		var ie *InvalidEventError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v, want *InvalidEventError", err)
		}
		if n := len(r.j.all()); n != 0 {
			t.Errorf("side effects = %d, want none", n)
		}
	})
	t.Run("resolver failure is retried, nothing written", func(t *testing.T) {
		r := newRig(testTargets)
		boom := errors.New("TooManyRequestsException")
		r.h.users = fakeResolver{err: boom}
		_, err := r.h.handle(context.Background(), base)
		var re *RevokeError
		if !errors.As(err, &re) || !errors.Is(err, boom) {
			t.Fatalf("err = %v, want *RevokeError wrapping %v", err, boom)
		}
		if n := len(r.j.all()); n != 0 {
			t.Errorf("side effects = %q, want none", r.j.all())
		}
	})
	t.Run("failed call is skipped", func(t *testing.T) {
		r := newRig(testTargets)
		ev := withDetail(t, func(d map[string]any) {
			d["errorCode"] = "UserNotFoundException"
			d["errorMessage"] = "User does not exist."
		})
		got, err := r.h.handle(context.Background(), ev)
		if err != nil || !strings.Contains(got.(outcome).Skipped, "UserNotFoundException") {
			t.Fatalf("handle = %+v, %v; want skipped, nil", got, err)
		}
		if n := len(r.j.all()); n != 0 {
			t.Errorf("side effects = %q, want none", r.j.all())
		}
	})
	t.Run("other Cognito call is skipped", func(t *testing.T) {
		r := newRig(testTargets)
		ev := withDetail(t, func(d map[string]any) { d["eventName"] = "AdminEnableUser" })
		got, err := r.h.handle(context.Background(), ev)
		if err != nil || got.(outcome).Skipped == "" {
			t.Fatalf("handle = %+v, %v; want skipped, nil", got, err)
		}
	})
}

func TestIdempotentRepeat(t *testing.T) {
	r := newRig(testTargets)
	ev := readFixture(t, "cloudtrail-admin-disable-user.json")
	first, err := r.h.handle(context.Background(), ev)
	if err != nil || !first.(outcome).Created {
		t.Fatalf("first = %+v, %v; want created", first, err)
	}
	key := "sub#https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E#4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19"
	before := r.store.get(t, key)
	r.clock.sleep(context.Background(), time.Minute) // a redelivery, later
	second, err := r.h.handle(context.Background(), ev)
	if err != nil || second.(outcome).Created {
		t.Fatalf("second = %+v, %v; want not created", second, err)
	}
	if after := r.store.get(t, key); after != before {
		t.Errorf("entry changed on a repeat: %+v -> %+v", before, after)
	}
	// The repeat still flushes: the first delivery may have failed to.
	if n := r.rest.flushes["abc123/prod"]; n != 2 {
		t.Errorf("REST flushes = %d, want 2", n)
	}
}

func TestDirectRetry(t *testing.T) {
	t.Run("with revokedAt: exact no-op", func(t *testing.T) {
		r := newRig(testTargets)
		ev := []byte(`{"jti":"t-1","revokedAt":"2025-06-12T14:29:59.250Z"}`)
		for i, want := range []bool{true, false} {
			got, err := r.h.handle(context.Background(), ev)
			if err != nil || got.(outcome).Created != want {
				t.Fatalf("call %d = %+v, %v; want created=%v", i, got, err, want)
			}
		}
		if e := r.store.get(t, "jti#t-1"); !e.RevokedAt.Equal(time.Date(2025, 6, 12, 14, 29, 59, 250e6, time.UTC)) {
			t.Errorf("RevokedAt = %v, want the given time", e.RevokedAt)
		}
	})
	t.Run("without: a retry only moves revokedAt later", func(t *testing.T) {
		r := newRig(testTargets)
		ev := readFixture(t, "direct-subject.json")
		if _, err := r.h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		first := r.clock.now()
		if _, err := r.h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		e := r.store.get(t, "sub#https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E#4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19")
		if !e.RevokedAt.After(first.Add(-time.Nanosecond)) {
			t.Errorf("RevokedAt = %v, want the retry's time (after %v)", e.RevokedAt, first)
		}
	})
}

func TestSQSBatch(t *testing.T) {
	r := newRig(testTargets)
	got, err := r.h.handle(context.Background(), readFixture(t, "sqs-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := got.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("handle returned %T, want events.SQSEventResponse", got)
	}
	wantFailed := []events.SQSBatchItemFailure{{ItemIdentifier: "c3f1a2b4-6d5e-4f7a-8b9c-0d1e2f3a4b5c"}}
	if !slices.Equal(resp.BatchItemFailures, wantFailed) {
		t.Errorf("BatchItemFailures = %v, want %v (the record with both subject and jti)", resp.BatchItemFailures, wantFailed)
	}
	// A direct body takes the message's SentTimestamp, so a redelivery is a no-op.
	e := r.store.get(t, "sub#*#0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
	if want := time.UnixMilli(1749737007000); !e.RevokedAt.Equal(want) {
		t.Errorf("RevokedAt = %v, want SentTimestamp %v", e.RevokedAt, want)
	}
	r.store.get(t, "sub#https://login.example.com#9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
	r.store.get(t, "sub#https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Ab12Cd34E#4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19")
	// One flush per stage for the whole batch.
	if r.rest.flushes["abc123/prod"] != 1 || r.http.resets["def456/$default"] != 1 {
		t.Errorf("flushes = %v / %v, want one each", r.rest.flushes, r.http.resets)
	}
}

func TestSQSFailures(t *testing.T) {
	batch := readEvent[events.SQSEvent](t, "sqs-batch.json")
	ids := func(fs []events.SQSBatchItemFailure) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ItemIdentifier)
		}
		slices.Sort(out)
		return out
	}
	all := []string{batch.Records[0].MessageId, batch.Records[1].MessageId, batch.Records[2].MessageId, batch.Records[3].MessageId}
	slices.Sort(all)

	t.Run("a failed write fails only its record", func(t *testing.T) {
		r := newRig(testTargets)
		r.store.fail["0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"] = errors.New("ProvisionedThroughputExceeded")
		resp := r.h.handleSQS(context.Background(), batch)
		want := []string{batch.Records[0].MessageId, batch.Records[3].MessageId}
		slices.Sort(want)
		if got := ids(resp.BatchItemFailures); !slices.Equal(got, want) {
			t.Errorf("failures = %v, want %v", got, want)
		}
	})
	t.Run("a failed flush fails every written record", func(t *testing.T) {
		r := newRig(testTargets)
		r.http.errs["def456/$default"] = []error{&gwtypes.NotFoundException{Message: ptr("Invalid stage identifier specified")}}
		resp := r.h.handleSQS(context.Background(), batch)
		if got := ids(resp.BatchItemFailures); !slices.Equal(got, all) {
			t.Errorf("failures = %v, want all %v", got, all)
		}
	})
	t.Run("a record from another source", func(t *testing.T) {
		r := newRig(testTargets)
		b := events.SQSEvent{Records: []events.SQSMessage{batch.Records[0]}}
		b.Records[0].EventSource = "aws:kinesis"
		resp := r.h.handleSQS(context.Background(), b)
		if got := ids(resp.BatchItemFailures); !slices.Equal(got, []string{batch.Records[0].MessageId}) {
			t.Errorf("failures = %v, want the record", got)
		}
		if n := len(r.j.all()); n != 0 {
			t.Errorf("side effects = %q, want none", r.j.all())
		}
	})
	t.Run("never visible: one bound for the batch", func(t *testing.T) {
		r := newRig(testTargets)
		r.store.hiddenChecks = -1
		resp := r.h.handleSQS(context.Background(), batch)
		if got := ids(resp.BatchItemFailures); !slices.Equal(got, all) {
			t.Errorf("failures = %v, want all %v", got, all)
		}
		var polled time.Duration
		for _, d := range r.clock.sleeps {
			if d == pollEvery {
				polled += d
			}
		}
		if polled > visibleTimeout {
			t.Errorf("polled for %v, want at most %v for the whole batch", polled, visibleTimeout)
		}
		if r.rest.flushes["abc123/prod"] != 1 {
			t.Error("not flushed")
		}
	})
	t.Run("nothing written, nothing flushed", func(t *testing.T) {
		r := newRig(testTargets)
		b := events.SQSEvent{Records: []events.SQSMessage{batch.Records[3]}}
		r.h.handleSQS(context.Background(), b)
		if n := len(r.j.all()); n != 0 {
			t.Errorf("side effects = %q, want none", r.j.all())
		}
	})
}

func TestFlushRetriesThrottling(t *testing.T) {
	r := newRig(testTargets)
	r.rest.errs["auth abc123/prod"] = []error{throttled(), throttled()}
	r.http.errs["def456/$default"] = []error{status(429), status(503)}
	got, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json"))
	if err != nil {
		t.Fatalf("handle error: %v", err)
	}
	stages := got.(outcome).Stages
	want := []stageResult{
		{Type: "rest", APIID: "abc123", Stage: "prod", Operation: "FlushStageAuthorizersCache", Attempts: 3, Throttled: 2},
		{Type: "http", APIID: "def456", Stage: "$default", Operation: "ResetAuthorizersCache", Attempts: 3, Throttled: 1},
	}
	if !slices.Equal(stages, want) {
		t.Errorf("stages = %+v, want %+v", stages, want)
	}
	// Backoff doubles from the base delay (jitter is the identity here).
	var backoffs []time.Duration
	for _, d := range r.clock.sleeps {
		if d < time.Second && d != pollEvery {
			backoffs = append(backoffs, d)
		}
	}
	slices.Sort(backoffs)
	if wantB := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond}; !slices.Equal(backoffs, wantB) {
		t.Errorf("backoffs = %v, want %v", backoffs, wantB)
	}
}

func TestFlushFailures(t *testing.T) {
	t.Run("partial failure names the failed stage", func(t *testing.T) {
		r := newRig(testTargets)
		r.rest.errs["auth abc123/prod"] = []error{&gwtypes.NotFoundException{Message: ptr("Invalid stage identifier specified")}}
		got, err := r.h.handle(context.Background(), readFixture(t, "direct-subject.json"))
		var fe *FlushError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v, want *FlushError", err)
		}
		if len(fe.Failed) != 1 || fe.Failed[0].APIID != "abc123" || fe.Failed[0].Attempts != 1 {
			t.Errorf("Failed = %+v, want only abc123/prod after 1 attempt (not retryable)", fe.Failed)
		}
		if r.http.resets["def456/$default"] != 1 {
			t.Error("the healthy stage was not flushed")
		}
		if out := got.(outcome); !out.Created || len(out.Stages) != 2 {
			t.Errorf("outcome = %+v, want created with both stage results", out)
		}
	})
	t.Run("gives up after the last attempt", func(t *testing.T) {
		r := newRig(testTargets[:1])
		r.rest.always = throttled()
		_, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json"))
		var fe *FlushError
		if !errors.As(err, &fe) || fe.Failed[0].Attempts != defaultMaxAttempts || fe.Failed[0].Throttled != defaultMaxAttempts {
			t.Fatalf("err = %v, want *FlushError after %d throttled attempts", err, defaultMaxAttempts)
		}
		if r.rest.flushes["abc123/prod"] != defaultMaxAttempts {
			t.Errorf("calls = %d, want %d", r.rest.flushes["abc123/prod"], defaultMaxAttempts)
		}
	})
	t.Run("stops at the invocation deadline", func(t *testing.T) {
		r := newRig(testTargets[:1])
		r.rest.always = throttled()
		ctx, cancel := context.WithTimeout(context.Background(), deadlineReserve+100*time.Millisecond)
		defer cancel()
		r.h.flusher.baseDelay = time.Second
		_, err := r.h.handle(ctx, readFixture(t, "direct-jti.json"))
		var fe *FlushError
		if !errors.As(err, &fe) || fe.Failed[0].Attempts != 1 || !strings.Contains(fe.Failed[0].Error, "deadline") {
			t.Fatalf("err = %v, want *FlushError after 1 attempt, out of time", err)
		}
	})
	t.Run("write failure flushes nothing", func(t *testing.T) {
		r := newRig(testTargets)
		boom := errors.New("AccessDeniedException")
		r.store.fail["c2a7e1f0-5d3b-4c8e-9f16-7b0a4d2e8c51"] = boom
		_, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json"))
		var re *RevokeError
		if !errors.As(err, &re) || !errors.Is(err, boom) {
			t.Fatalf("err = %v, want *RevokeError wrapping %v", err, boom)
		}
		if len(r.rest.flushes)+len(r.http.resets) != 0 {
			t.Error("flushed after a failed write")
		}
	})
}

func TestResponseCacheFlush(t *testing.T) {
	r := newRig(testTargets)
	r.h.flusher.responseCache = true
	got, err := r.h.handle(context.Background(), readFixture(t, "direct-subject.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.rest.caches["abc123/prod"] != 1 || len(r.rest.caches) != 1 {
		t.Errorf("FlushStageCache calls = %v, want one on abc123/prod only", r.rest.caches)
	}
	if n := len(got.(outcome).Stages); n != 3 {
		t.Errorf("stage results = %d, want 3", n)
	}
}

func TestVisibility(t *testing.T) {
	t.Run("waits for a reader to see the entry", func(t *testing.T) {
		r := newRig(testTargets)
		r.store.hiddenChecks = 3
		if _, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json")); err != nil {
			t.Fatal(err)
		}
		if r.store.checks != 4 {
			t.Errorf("checks = %d, want 4", r.store.checks)
		}
		polls := 0
		for _, d := range r.clock.sleeps {
			if d == pollEvery {
				polls++
			}
		}
		if polls != 3 {
			t.Errorf("polls = %d, want 3", polls)
		}
	})
	t.Run("never visible: flush anyway, then fail for a retry", func(t *testing.T) {
		r := newRig(testTargets)
		r.store.hiddenChecks = -1
		r.store.checkErr = revocation.ErrStale
		_, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json"))
		var nv *NotVisibleError
		if !errors.As(err, &nv) || !errors.Is(err, revocation.ErrStale) {
			t.Fatalf("err = %v, want *NotVisibleError wrapping ErrStale", err)
		}
		if r.rest.flushes["abc123/prod"] != 1 {
			t.Error("not flushed")
		}
	})
	t.Run("no targets: no wait, no flush", func(t *testing.T) {
		r := newRig(nil)
		r.store.hiddenChecks = -1
		got, err := r.h.handle(context.Background(), readFixture(t, "direct-jti.json"))
		if err != nil || !got.(outcome).Created {
			t.Fatalf("handle = %+v, %v; want created, nil", got, err)
		}
		if len(r.clock.sleeps) != 0 || r.store.checks != 0 {
			t.Errorf("sleeps, checks = %v, %d; want none", r.clock.sleeps, r.store.checks)
		}
	})
}

func TestInvalidEvents(t *testing.T) {
	future := testNow.Add(time.Hour).Format(time.RFC3339)
	tests := []struct{ name, raw string }{
		{"not JSON", `subject=alice`},
		{"not an object", `["alice"]`},
		{"null", `null`},
		{"unknown field", `{"subject":"alice","sub":"alice"}`},
		{"trailing data", `{"subject":"alice"} {"subject":"bob"}`},
		{"neither subject nor jti", `{"reason":"x"}`},
		{"both subject and jti", `{"subject":"a","jti":"b"}`},
		{"issuer with #", `{"subject":"a","issuer":"https://idp#frag"}`},
		{"revokedAt in the future", `{"subject":"a","revokedAt":"` + future + `"}`},
		{"access.revoked from an AWS source", `{"detail-type":"access.revoked","source":"aws.cognito-idp","time":"2025-06-12T14:03:27Z","detail":{"subject":"a"}}`},
		{"access.revoked with unknown detail field", `{"detail-type":"access.revoked","source":"x","time":"2025-06-12T14:03:27Z","detail":{"subject":"a","extra":1}}`},
		{"unsupported detail-type", `{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`},
		{"CloudTrail from another service", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","eventName":"DeleteUser"}}`},
		{"CloudTrail wrong eventSource", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","detail":{"eventSource":"iam.amazonaws.com","eventName":"AdminDisableUser"}}`},
		{"CloudTrail malformed pool", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"AdminDisableUser","eventTime":"2025-06-12T14:05:08Z","requestParameters":{"userPoolId":"../evil","username":"a"}}}`},
		{"CloudTrail no requestParameters", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"AdminDisableUser"}}`},
		{"CloudTrail no time", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"AdminDisableUser","requestParameters":{"userPoolId":"us-east-1_Ab1","username":"a"}}}`},
		{"SQS batch with a bad record list", `{"Records":{"a":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(testTargets)
			_, err := r.h.handle(context.Background(), json.RawMessage(tt.raw))
			var ie *InvalidEventError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InvalidEventError", err)
			}
			if n := len(r.j.all()); n != 0 {
				t.Errorf("side effects = %q, want none", r.j.all())
			}
		})
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []target
		wantErr   bool
	}{
		{name: "both kinds", raw: `[{"type":"rest","apiId":"abc","stage":"prod"},{"type":"http","apiId":"def","stage":"$default"}]`,
			want: []target{{"rest", "abc", "prod"}, {"http", "def", "$default"}}},
		{name: "empty list", raw: `[]`, want: []target{}},
		{name: "null", raw: `null`, wantErr: true},
		{name: "unknown type", raw: `[{"type":"websocket","apiId":"a","stage":"s"}]`, wantErr: true},
		{name: "missing stage", raw: `[{"type":"rest","apiId":"a"}]`, wantErr: true},
		{name: "unknown field", raw: `[{"type":"rest","apiId":"a","stage":"s","region":"us-east-1"}]`, wantErr: true},
		{name: "duplicate", raw: `[{"type":"rest","apiId":"a","stage":"s"},{"type":"rest","apiId":"a","stage":"s"}]`, wantErr: true},
		{name: "not JSON", raw: `rest:abc:prod`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTargets(tt.raw)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseTargets = %v, nil; want an error", got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("parseTargets = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	t.Run("all bad at once", func(t *testing.T) {
		t.Setenv("REVOCATION_TABLE", "")
		t.Setenv("FLUSH_TARGETS", `[{"type":"soap"}]`)
		t.Setenv("FLUSH_RESPONSE_CACHE", "maybe")
		t.Setenv("REVOCATION_REFRESH_SECONDS", "-2")
		t.Setenv("COGNITO_USER_POOLS", "eu-west-1_Good1,not a pool")
		_, err := loadEnv()
		if err == nil {
			t.Fatal("err = nil, want errors")
		}
		for _, want := range []string{"REVOCATION_TABLE", "FLUSH_TARGETS", "FLUSH_RESPONSE_CACHE", "REVOCATION_REFRESH_SECONDS", `COGNITO_USER_POOLS: "not a pool"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
	})
	t.Run("good", func(t *testing.T) {
		t.Setenv("REVOCATION_TABLE", "revocations")
		t.Setenv("FLUSH_TARGETS", `[{"type":"rest","apiId":"abc","stage":"prod"}]`)
		t.Setenv("FLUSH_RESPONSE_CACHE", "true")
		t.Setenv("REVOCATION_REFRESH_SECONDS", "3")
		t.Setenv("REVOCATION_MAX_TOKEN_LIFETIME_SECONDS", "")
		t.Setenv("COGNITO_USER_POOLS", " eu-west-1_AbC123 ,us-east-1_Xyz9,")
		c, err := loadEnv()
		if err != nil {
			t.Fatal(err)
		}
		if c.table != "revocations" || len(c.targets) != 1 || !c.flushResponseCache || c.readerRefresh != 3*time.Second || c.maxTokenLifetime != 24*time.Hour {
			t.Errorf("config = %+v", c)
		}
		if want := []string{"eu-west-1_AbC123", "us-east-1_Xyz9"}; !slices.Equal(c.cognitoPools, want) {
			t.Errorf("cognitoPools = %q, want %q", c.cognitoPools, want)
		}
	})
}

func TestLooksLikeUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a19": true,
		"4F1C8E2A-9B7D-4E51-A3C6-2D8F0B6E7A19": true,
		"jdoe":                                 false,
		"4f1c8e2a-9b7d-4e51-a3c6-2d8f0b6e7a1g": false,
		"4f1c8e2a09b7d-4e51-a3c6-2d8f0b6e7a19": false,
	} {
		if got := looksLikeUUID(s); got != want {
			t.Errorf("looksLikeUUID(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestExpiredRevocationIsDone: a revocation older than the longest token
// lifetime (a late EventBridge delivery, a replayed CloudTrail event) has
// nothing left to revoke: it is answered as skipped, with no write, no wait
// for readers and no flush, instead of failing (and, from SQS, being
// retried into the dead-letter queue).
func TestExpiredRevocationIsDone(t *testing.T) {
	old := func(e revocation.Entry) bool { return e.RevokedAt.Before(testNow.Add(-24 * time.Hour)) }
	r := newRig(testTargets)
	r.store.expired = old
	ev := bytes.Replace(readFixture(t, "eventbridge-access-revoked.json"), []byte(`"2025-06-12T14:03:27Z"`), []byte(`"2025-06-10T14:03:27Z"`), 1)
	got, err := r.h.handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("handle = %v, want the expired revocation answered as done", err)
	}
	if out, ok := got.(outcome); !ok || out.Skipped != skipExpired || out.Created {
		t.Errorf("outcome = %+v, want skipped: %q", got, skipExpired)
	}
	if len(r.rest.flushes) != 0 || len(r.http.resets) != 0 || r.store.checks != 0 {
		t.Errorf("flushes %v / %v, %d view checks; want none for a revocation with nothing to revoke", r.rest.flushes, r.http.resets, r.store.checks)
	}

	// From SQS: the expired records are done, the invalid one still fails,
	// and with nothing written nothing is flushed.
	r = newRig(testTargets)
	r.store.expired = func(revocation.Entry) bool { return true }
	resp, err := r.h.handle(context.Background(), readFixture(t, "sqs-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantFailed := []events.SQSBatchItemFailure{{ItemIdentifier: "c3f1a2b4-6d5e-4f7a-8b9c-0d1e2f3a4b5c"}}
	if got := resp.(events.SQSEventResponse).BatchItemFailures; !slices.Equal(got, wantFailed) {
		t.Errorf("BatchItemFailures = %v, want only the invalid record %v", got, wantFailed)
	}
	if len(r.rest.flushes) != 0 || len(r.store.entries) != 0 {
		t.Errorf("flushes %v, entries %v; want none", r.rest.flushes, r.store.entries)
	}
}
