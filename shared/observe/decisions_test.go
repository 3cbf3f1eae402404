package observe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestDecisionsLines(t *testing.T) {
	m, buf := newTestMetrics(t)
	s, _ := NewSampler(0)
	d := NewDecisions(m, "token-authorizer", s)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	logs := []bool{
		d.Count(ctx, "allow", "ok", 1500*time.Microsecond, true),
		d.Count(ctx, "error", "keys_unavailable", 2*time.Millisecond, false),
	}
	d.Refresh(ctx, "secret", true, nil)
	d.Refresh(ctx, "jwks", false, nil)
	d.Refresh(ctx, "secret", false, errors.New("throttled"))
	if logs[0] || !logs[1] {
		t.Errorf("log? = %v, want the allow sampled out (rate 0) and the error kept", logs)
	}
	want := []string{
		`{"requestId":"req-1","Service":"token-authorizer","Outcome":"allow","Reason":"ok","Decisions":1,"DecisionLatency":1.5,"CachedDecisions":1,` +
			`"_aws":{"Timestamp":1772366400000,"CloudWatchMetrics":[{"Namespace":"guard/test","Dimensions":[["Service","Outcome","Reason"],["Service","Outcome"]],` +
			`"Metrics":[{"Name":"Decisions","Unit":"Count"},{"Name":"DecisionLatency","Unit":"Milliseconds"},{"Name":"CachedDecisions","Unit":"Count"}]}]}}`,
		`{"requestId":"req-1","Service":"token-authorizer","Outcome":"error","Reason":"keys_unavailable","Decisions":1,"DecisionLatency":2,"CachedDecisions":0,` +
			`"_aws":{"Timestamp":1772366400000,"CloudWatchMetrics":[{"Namespace":"guard/test","Dimensions":[["Service","Outcome","Reason"],["Service","Outcome"]],` +
			`"Metrics":[{"Name":"Decisions","Unit":"Count"},{"Name":"DecisionLatency","Unit":"Milliseconds"},{"Name":"CachedDecisions","Unit":"Count"}]}]}}`,
	}
	docs := lines(t, buf)
	if len(docs) != 5 {
		t.Fatalf("%d lines, want 5", len(docs))
	}
	for i, w := range want {
		if got := splitLines(buf.String())[i]; got != w {
			t.Errorf("line %d =\n%s\nwant\n%s", i, got, w)
		}
	}
	for i, r := range []string{"refreshed", "skipped", "error"} {
		doc := docs[2+i]
		if doc["KeyRefreshes"] != 1.0 || doc["Result"] != r || doc["Service"] != "token-authorizer" {
			t.Errorf("refresh line %d = %v, want KeyRefreshes 1 Result %s", i, doc, r)
		}
	}
	if d.Metrics() != m {
		t.Error("Metrics() is not the Metrics given")
	}
}

func TestNilDecisions(t *testing.T) {
	var d *Decisions
	if !d.Count(context.Background(), "allow", "ok", 0, false) || d.Metrics() != nil {
		t.Error("a nil Decisions must keep every line and have no Metrics")
	}
	d.Refresh(context.Background(), "secret", true, nil)
}
