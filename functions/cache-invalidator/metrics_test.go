package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/apigw-guard/guard/internal/emf"
	"github.com/apigw-guard/guard/shared/observe"
)

// withMetrics gives the rig's handler metrics written to a buffer.
func withMetrics(t *testing.T, r *rig) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	m, err := observe.NewMetrics(&out, "guard/test")
	if err != nil {
		t.Fatal(err)
	}
	r.h.metrics = m
	return &out
}

func parseEMF(t *testing.T, out *bytes.Buffer) []emf.Doc {
	t.Helper()
	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Namespace != "guard/test" || d.Dim("Service") != "cache-invalidator" || d.Fields["requestId"] != "req-inv-1" {
			t.Errorf("doc %v: want namespace guard/test, Service cache-invalidator, requestId req-inv-1", d)
		}
	}
	return docs
}

var errStore = errors.New("table unavailable")

var invocation = lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-inv-1"})

func TestMetricsRevokeAndFlush(t *testing.T) {
	r := newRig(testTargets)
	out := withMetrics(t, r)
	r.store.hiddenChecks = 2
	r.rest.errs["auth abc123/prod"] = []error{throttled(), throttled()}
	r.http.errs["def456/$default"] = []error{status(404)} // not retryable
	if _, err := r.h.handle(invocation, readFixture(t, "direct-jti.json")); err == nil {
		t.Fatal("a failed HTTP API reset was not reported")
	}
	docs := parseEMF(t, out)

	rev := emf.Find(docs, "Revocations")
	if len(rev) != 1 {
		t.Fatalf("Revocations lines = %v, want 1", rev)
	}
	if n, _ := rev[0].Value("Revocations"); n != 1 || rev[0].Dim("Origin") != "direct" || rev[0].Dim("Result") != "created" ||
		!rev[0].HasDimensionSet("Service", "Origin", "Result") || !rev[0].HasDimensionSet("Service", "Result") {
		t.Errorf("revocation = %v, want 1 direct created with the Result rollup", rev[0])
	}

	vis := emf.Find(docs, "RevocationVisibleLatency")
	// The fake clock advances by each poll's sleep: two misses, then seen.
	if len(vis) != 1 || vis[0].Units["RevocationVisibleLatency"] != "Milliseconds" || !vis[0].HasDimensionSet("Service") {
		t.Fatalf("visibility lines = %v", vis)
	}
	if ms, _ := vis[0].Value("RevocationVisibleLatency"); ms != float64(2*pollEvery.Milliseconds()) {
		t.Errorf("RevocationVisibleLatency = %v ms, want %d", ms, 2*pollEvery.Milliseconds())
	}

	flushes := emf.Find(docs, "Flushes")
	if len(flushes) != 2 {
		t.Fatalf("Flushes lines = %v, want one per stage", flushes)
	}
	got := map[string][3]float64{}
	for _, d := range flushes {
		n, _ := d.Value("Flushes")
		a, _ := d.Value("FlushAttempts")
		th, _ := d.Value("FlushThrottles")
		got[d.Dim("Operation")+" "+d.Dim("Result")] = [3]float64{n, a, th}
		if !d.HasDimensionSet("Service", "Result") {
			t.Errorf("flush %v lacks the Result rollup", d)
		}
	}
	want := map[string][3]float64{
		"FlushStageAuthorizersCache ok": {1, 3, 2},
		"ResetAuthorizersCache error":   {1, 1, 0},
	}
	if len(got) != len(want) || got["FlushStageAuthorizersCache ok"] != want["FlushStageAuthorizersCache ok"] || got["ResetAuthorizersCache error"] != want["ResetAuthorizersCache error"] {
		t.Errorf("flushes = %v, want %v", got, want)
	}
}

func TestMetricsRevocationResults(t *testing.T) {
	r := newRig(nil)
	out := withMetrics(t, r)
	for _, raw := range [][]byte{
		readFixture(t, "direct-subject.json"),
		readFixture(t, "direct-subject.json"),                // a retry: existing
		readFixture(t, "cloudtrail-admin-disable-user.json"), // the same user, at an earlier time
		[]byte(`{"subject": 7}`),                             // invalid
		[]byte(`not json`),                                   // invalid, before its kind is known
	} {
		_, _ = r.h.handle(invocation, raw)
	}
	r.store.hiddenChecks = -1
	r.store.fail["bob"] = errStore
	_, _ = r.h.handle(invocation, json.RawMessage(`{"subject":"bob"}`))

	ev := readEvent[events.EventBridgeEvent](t, "cloudtrail-admin-disable-user.json")
	ev.Detail = json.RawMessage(`{"eventSource":"cognito-idp.amazonaws.com","eventName":"ListUsers","eventID":"e1"}`)
	raw, _ := json.Marshal(ev)
	_, _ = r.h.handle(invocation, raw) // a call that does not revoke: skipped

	var got []string
	for _, d := range emf.Find(parseEMF(t, out), "Revocations") {
		got = append(got, d.Dim("Origin")+"/"+d.Dim("Result"))
	}
	want := []string{"direct/created", "direct/existing", "cloudtrail/existing", // the same user, revoked earlier
		"direct/invalid", "unknown/invalid", "direct/error", "cloudtrail/skipped"}
	if len(got) != len(want) {
		t.Fatalf("revocations = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("revocations = %v, want %v", got, want)
			break
		}
	}
}

func TestMetricsNotVisible(t *testing.T) {
	r := newRig(testTargets)
	out := withMetrics(t, r)
	r.store.hiddenChecks = -1
	if _, err := r.h.handle(invocation, readFixture(t, "direct-jti.json")); err == nil {
		t.Fatal("an invisible revocation was not reported")
	}
	nv := emf.Find(parseEMF(t, out), "RevocationsNotVisible")
	if len(nv) != 1 {
		t.Fatalf("RevocationsNotVisible lines = %v, want 1", nv)
	}
	if n, _ := nv[0].Value("RevocationsNotVisible"); n != 1 {
		t.Errorf("RevocationsNotVisible = %v, want 1", n)
	}
}

func TestOriginDim(t *testing.T) {
	for in, want := range map[string]string{
		"direct": "direct", "access.revoked": "access.revoked", "cloudtrail:AdminDisableUser": "cloudtrail",
		"cloudtrail:AnythingAtAll": "cloudtrail", "": "unknown", "eventbridge": "eventbridge", "sqs": "unknown",
	} {
		if got := originDim(in); got != want {
			t.Errorf("originDim(%q) = %q, want %q", in, got, want)
		}
	}
}
