package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/apigw-guard/guard/internal/emf"
	"github.com/apigw-guard/guard/shared/observe"
)

// TestMetricsCountRejectionsByRule sends the sample events through the
// handler and reads the EMF lines back: one per rejection, by rule, and
// one per failed downstream call, by reason.
func TestMetricsCountRejectionsByRule(t *testing.T) {
	fake := &fakeLambda{payload: backendOK}
	h := newHandler(t, fake)
	var out bytes.Buffer
	var err error
	if h.metrics, err = observe.NewMetrics(&out, "guard/test"); err != nil {
		t.Fatal(err)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-val-1"})
	send := func(name string) {
		t.Helper()
		raw, err := os.ReadFile(eventPath(name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.handle(ctx, raw); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, name := range []string{
		"rest-create-order.json",            // accepted: no line
		"rest-sqli-query.json",              // sql-injection
		"http-xss-body.json",                // xss
		"rest-privilege-escalation.json",    // privileged-field
		"http-privilege-escalation.json",    // privileged-field
		"http-content-digest-mismatch.json", // content-digest-mismatch
	} {
		send(name)
	}
	fake.err = errors.New("connection reset")
	send("rest-create-order.json")
	fake.err, fake.fnErr = nil, "Unhandled"
	send("http-create-order.json")
	fake.fnErr, fake.payload = "", "not json"
	send("rest-create-order.json")

	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var rules, reasons []string
	for _, d := range docs {
		if d.Namespace != "guard/test" || d.Dim("Service") != "validator" || d.Fields["requestId"] != "req-val-1" || !d.HasDimensionSet("Service") {
			t.Errorf("doc %v: want guard/test, Service validator, requestId, a Service rollup", d)
		}
		if n, ok := d.Value("ValidationRejections"); ok {
			if n != 1 || !d.HasDimensionSet("Service", "Rule") {
				t.Errorf("rejection %v", d)
			}
			rules = append(rules, d.Dim("Rule"))
		}
		if n, ok := d.Value("DownstreamErrors"); ok {
			if n != 1 || !d.HasDimensionSet("Service", "Reason") {
				t.Errorf("downstream error %v", d)
			}
			reasons = append(reasons, d.Dim("Reason"))
		}
	}
	wantRules := []string{"sql-injection", "xss", "privileged-field", "privileged-field", "content-digest-mismatch"}
	wantReasons := []string{"invoke_failed", "function_error", "malformed_response"}
	if !slices.Equal(rules, wantRules) || !slices.Equal(reasons, wantReasons) || len(docs) != len(wantRules)+len(wantReasons) {
		t.Errorf("rules %v, reasons %v (%d lines); want %v and %v", rules, reasons, len(docs), wantRules, wantReasons)
	}
}
