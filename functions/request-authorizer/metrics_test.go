package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/apigw-guard/guard/internal/emf"
	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/observe"
)

func withObserver(t testing.TB, f *fixture, rate string) (*observer, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	o, err := newObserver(func(k string) string {
		return map[string]string{"METRICS_NAMESPACE": "guard/test-stack", "DECISION_LOG_SAMPLE_RATE": rate}[k]
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	f.h.obs = o
	return o, &out
}

func invocation(id string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
}

func parseEMF(t *testing.T, out *bytes.Buffer) []emf.Doc {
	t.Helper()
	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Namespace != "guard/test-stack" || d.Dim("Service") != "request-authorizer" {
			t.Errorf("doc %v: want namespace guard/test-stack and Service request-authorizer", d)
		}
	}
	return docs
}

// TestDecisionMetricsCountEveryDecision runs an allow, a 403, two 401s and
// a fail-closed error with allow lines sampled out: every decision is one
// EMF line; only the allow's log line is missing; no secret is printed.
func TestDecisionMetricsCountEveryDecision(t *testing.T) {
	f := newFixture(t, nil, nil)
	_, out := withObserver(t, f, "0")
	good := edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
	outside := withBasic(t, "rest-credentials.json", "ops", opsNewSecret)
	wrong := edit(t, withBasic(t, "rest-credentials.json", "ops", "wrong-secret-0123456789"), setSourceIP("10.1.2.3"))
	oldKey := signed(t, "rest-signed.json", signOpts{key: keyOldOld})
	type step struct {
		id              string
		payload         []byte
		outcome, reason string
	}
	steps := []step{
		{"req-allow", good, "allow", "ok"},
		{"req-deny", outside, "deny", "ip_not_allowed"},
		{"req-wrong", wrong, "unauthorized", "bad_credentials"},
		{"req-oldkey", oldKey, "unauthorized", "bad_signature"},
	}
	for _, s := range steps {
		_, _ = f.h.handle(invocation(s.id), s.payload)
	}
	// A fresh environment that cannot read the secret fails closed.
	down := newFixture(t, nil, nil)
	down.reader.err = errors.New("secrets manager unavailable")
	down.h.obs, down.h.log, down.logs = f.h.obs, f.h.log, f.logs
	_, _ = down.h.handle(invocation("req-error"), good)
	steps = append(steps, step{"req-error", good, "error", "credentials_unavailable"})

	docs := emf.Find(parseEMF(t, out), "Decisions")
	if len(docs) != len(steps) {
		t.Fatalf("%d decision lines, want %d: %s", len(docs), len(steps), out)
	}
	for i, d := range docs {
		w := steps[i]
		n, _ := d.Value("Decisions")
		if _, ok := d.Value("DecisionLatency"); n != 1 || !ok {
			t.Errorf("%s: Decisions %v and a latency wanted", w.id, n)
		}
		if d.Dim("Outcome") != w.outcome || d.Dim("Reason") != w.reason || d.Fields["requestId"] != w.id {
			t.Errorf("line %d = %v, want %s/%s for %s", i, d, w.outcome, w.reason, w.id)
		}
		if !d.HasDimensionSet("Service", "Outcome", "Reason") || !d.HasDimensionSet("Service", "Outcome") {
			t.Errorf("%s: dimension sets %v", w.id, d.Dimensions)
		}
	}
	logs := f.logs.String()
	if strings.Contains(logs, `"decision":"allow"`) {
		t.Errorf("the allow was logged at sample rate 0: %s", logs)
	}
	for _, r := range []string{"ip_not_allowed", "bad_credentials", "bad_signature", "credentials_unavailable"} {
		if !strings.Contains(logs, `"reason":"`+r+`"`) {
			t.Errorf("no log line for %s: %s", r, logs)
		}
	}
	basic := base64.StdEncoding.EncodeToString([]byte("ops:" + opsNewSecret))
	for _, secret := range []string{opsNewSecret, basic, "wrong-secret-0123456789"} {
		if strings.Contains(out.String()+logs, secret) {
			t.Fatalf("a secret reached the output: %s", secret)
		}
	}
}

func TestCredentialRefreshMetrics(t *testing.T) {
	f := newFixture(t, nil, nil)
	o, out := withObserver(t, f, "1")
	store := credential.NewStore(o.credentials(f.reader))
	ctx := invocation("req-refresh")
	if _, err := store.Authenticate(ctx, "nobody", opsNewSecret); !errors.Is(err, credential.ErrBadCredentials) {
		t.Fatalf("Authenticate(nobody) = %v", err)
	}
	f.reader.err = errors.New("throttled")
	_, _ = store.Refresh(ctx)

	var got []string
	for _, d := range emf.Find(parseEMF(t, out), "KeyRefreshes") {
		if n, _ := d.Value("KeyRefreshes"); n != 1 || d.Fields["requestId"] != "req-refresh" || !d.HasDimensionSet("Service", "Result") {
			t.Errorf("doc %v", d)
		}
		got = append(got, d.Dim("Source")+"/"+d.Dim("Result"))
	}
	if strings.Join(got, ",") != "credentials/refreshed,credentials/error" {
		t.Errorf("refreshes = %v, want credentials/refreshed then credentials/error", got)
	}
	if o.credentials(f.reader) == credential.Reader(f.reader) || (*observer)(nil).credentials(f.reader) != credential.Reader(f.reader) {
		t.Error("credentials must wrap the reader, and a nil observer must not")
	}
}

func TestMisconfiguredIsCounted(t *testing.T) {
	var out, logs bytes.Buffer
	o, obsErr := newObserver(func(k string) string { return map[string]string{"METRICS_NAMESPACE": ":bad"}[k] }, &out)
	if obsErr == nil {
		t.Fatal("a bad namespace was accepted")
	}
	h := o.misconfigured(apigw.Misconfigured(observe.NewLogger(observe.WithWriter(&logs)), obsErr))
	if _, err := h(invocation("req-bad"), json.RawMessage(`{}`)); err == nil {
		t.Fatal("a misconfigured authorizer answered")
	}
	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Namespace != observe.DefaultNamespace || docs[0].Dim("Outcome") != "error" || docs[0].Dim("Reason") != "misconfigured" {
		t.Errorf("docs = %v, want one error/misconfigured decision in the default namespace", docs)
	}
}
