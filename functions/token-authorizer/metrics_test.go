package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"gopkg.in/yaml.v3"

	"github.com/apigw-guard/guard/internal/emf"
	"github.com/apigw-guard/guard/shared/apigw"
	"github.com/apigw-guard/guard/shared/keyring"
	"github.com/apigw-guard/guard/shared/observe"
	"github.com/apigw-guard/guard/shared/revocation"
	"github.com/apigw-guard/guard/shared/signer"
	"github.com/apigw-guard/guard/shared/token"
)

// withObserver gives the fixture's handler metrics written to a buffer and
// the sample rate for allow lines.
func withObserver(t testing.TB, f *fixture, rate string) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	o, err := newObserver(func(k string) string {
		return map[string]string{"METRICS_NAMESPACE": "guard/test-stack", "DECISION_LOG_SAMPLE_RATE": rate}[k]
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	f.h.obs = o
	return &out
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
		if d.Namespace != "guard/test-stack" || d.Dim("Service") != "token-authorizer" {
			t.Errorf("doc %v: want namespace guard/test-stack and Service token-authorizer", d)
		}
	}
	return docs
}

// TestDecisionMetricsCountEveryDecision sends an allow, a deny, two 401s
// and a fail-closed error with allow lines sampled out entirely: every
// decision is one EMF line, while only the allow's log line is missing.
func TestDecisionMetricsCountEveryDecision(t *testing.T) {
	f := newFixture(t, nil)
	out := withObserver(t, f, "0")
	good := f.token(t, nil)
	admin := f.token(t, func(c map[string]any) { c["scope"] = "admin" })
	expired := f.token(t, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	send := func(f *fixture, id string, payload []byte) {
		t.Helper()
		_, _ = f.h.handle(invocation(id), payload)
	}
	send(f, "req-allow", event(t, "rest-token.json", good))
	send(f, "req-deny", event(t, "rest-token.json", admin))
	send(f, "req-expired", event(t, "rest-request.json", expired))
	send(f, "req-notoken", bytes.ReplaceAll(event(t, "rest-token.json", "@@"), []byte("Bearer @@"), nil))
	down := newFixture(t, map[string]string{"_KEYS_DOWN": "1"})
	down.h.obs = f.h.obs
	down.logs = f.logs
	down.h.log = f.h.log
	send(down, "req-error", event(t, "rest-token.json", good))

	want := []struct{ id, outcome, reason string }{
		{"req-allow", "allow", "ok"},
		{"req-deny", "deny", "not_entitled"},
		{"req-expired", "unauthorized", "expired"},
		{"req-notoken", "unauthorized", "no_token"},
		{"req-error", "error", "keys_unavailable"},
	}
	docs := emf.Find(parseEMF(t, out), "Decisions")
	if len(docs) != len(want) {
		t.Fatalf("%d decision lines, want %d: %s", len(docs), len(want), out)
	}
	for i, d := range docs {
		w := want[i]
		n, _ := d.Value("Decisions")
		lat, latOK := d.Value("DecisionLatency")
		hit, hitOK := d.Value("CachedDecisions")
		if n != 1 || !latOK || lat < 0 || !hitOK || hit != 0 || d.Units["DecisionLatency"] != "Milliseconds" {
			t.Errorf("%s: Decisions %v, DecisionLatency %v, CachedDecisions %v", w.id, n, lat, hit)
		}
		if d.Dim("Outcome") != w.outcome || d.Dim("Reason") != w.reason || d.Fields["requestId"] != w.id {
			t.Errorf("line %d = %v (requestId %v), want %s/%s for %s", i, d, d.Fields["requestId"], w.outcome, w.reason, w.id)
		}
		if len(d.Dimensions) != 2 || !d.HasDimensionSet("Service", "Outcome", "Reason") || !d.HasDimensionSet("Service", "Outcome") {
			t.Errorf("%s: dimension sets %v, want [Service Outcome Reason] and [Service Outcome]", w.id, d.Dimensions)
		}
	}

	logs := f.logs.String()
	if strings.Contains(logs, `"decision":"allow"`) {
		t.Errorf("the allow was logged at sample rate 0: %s", logs)
	}
	for _, r := range []string{"not_entitled", "expired", "no_token", "keys_unavailable"} {
		if !strings.Contains(logs, `"reason":"`+r+`"`) {
			t.Errorf("no log line for %s (refusals and errors are never sampled): %s", r, logs)
		}
	}
	for _, tok := range []string{good, admin, expired} {
		if sig := tok[strings.LastIndex(tok, ".")+1:]; strings.Contains(out.String(), sig) || strings.Contains(logs, sig) {
			t.Fatal("a token's signature reached the output")
		}
	}
}

func TestDecisionLogSampling(t *testing.T) {
	for _, tt := range []struct {
		rate string
		want int // allow lines of 200
	}{{"1", 200}, {"", 200}, {"0.25", 50}, {"0", 0}} {
		t.Run("rate "+tt.rate, func(t *testing.T) {
			f := newFixture(t, nil)
			out := withObserver(t, f, tt.rate)
			payload := event(t, "rest-token.json", f.token(t, nil))
			for i := range 200 {
				if _, err := f.h.handle(invocation(fmt.Sprintf("c0ffee%02d-%d-4e5a-9f00-%012d", i%97, i, i)), payload); err != nil {
					t.Fatal(err)
				}
			}
			logged := strings.Count(f.logs.String(), `"decision":"allow"`)
			if d := logged - tt.want; d < -25 || d > 25 {
				t.Errorf("%d allow lines logged, want about %d", logged, tt.want)
			}
			if n := len(emf.Find(parseEMF(t, out), "Decisions")); n != 200 {
				t.Errorf("%d decisions counted, want all 200", n)
			}
		})
	}
}

func TestDecisionMetricsCountCacheHits(t *testing.T) {
	f := newFixture(t, nil)
	f.h.cache = token.NewDecisionCache[verdict](f.h.verify.(*token.Verifier), 16)
	out := withObserver(t, f, "1")
	payload := event(t, "rest-token.json", f.token(t, nil))
	for range 3 {
		if _, err := f.h.handle(invocation("r"), payload); err != nil {
			t.Fatal(err)
		}
	}
	var hits []float64
	for _, d := range emf.Find(parseEMF(t, out), "Decisions") {
		v, _ := d.Value("CachedDecisions")
		hits = append(hits, v)
	}
	if fmt.Sprint(hits) != "[0 1 1]" {
		t.Errorf("CachedDecisions = %v, want [0 1 1]", hits)
	}
}

// fakeView is a revocation view with set Stats.
type fakeView struct{ stats revocation.Stats }

func (*fakeView) Check(context.Context, string, string, string, time.Time) (bool, error) {
	return false, nil
}
func (v *fakeView) Stats() revocation.Stats { return v.stats }

func TestRevocationMetricsOncePerMinute(t *testing.T) {
	f := newFixture(t, nil)
	out := withObserver(t, f, "1")
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.h.now = func() time.Time { return clock }
	view := &fakeView{stats: revocation.Stats{Entries: 12, Lag: 1500 * time.Millisecond, Refreshes: 40, RefreshErrors: 1, StaleDenied: 2}}
	f.h.revoked = view
	payload := event(t, "rest-token.json", f.token(t, nil))
	decide := func() {
		t.Helper()
		if _, err := f.h.handle(invocation("r"), payload); err != nil {
			t.Fatal(err)
		}
	}
	decide() // the first decision writes the view's state
	clock = clock.Add(30 * time.Second)
	decide() // within the minute: no line
	clock = clock.Add(31 * time.Second)
	view.stats = revocation.Stats{Entries: 13, Lag: 12 * time.Second, Refreshes: 55, RefreshErrors: 4, StaleDenied: 5, StaleAllowed: 0}
	decide()

	lines := emf.Find(parseEMF(t, out), "RevocationLag")
	if len(lines) != 2 {
		t.Fatalf("%d revocation lines, want 2", len(lines))
	}
	want := []map[string]float64{
		{"RevocationLag": 1500, "RevocationEntries": 12, "RevocationRefreshes": 40, "RevocationRefreshErrors": 1, "RevocationStaleDenied": 2, "RevocationStaleAllowed": 0},
		{"RevocationLag": 12000, "RevocationEntries": 13, "RevocationRefreshes": 15, "RevocationRefreshErrors": 3, "RevocationStaleDenied": 3, "RevocationStaleAllowed": 0},
	}
	for i, d := range lines {
		if len(d.Dimensions) != 1 || !d.HasDimensionSet("Service") || d.Units["RevocationLag"] != "Milliseconds" {
			t.Errorf("line %d: dimensions %v, unit %s", i, d.Dimensions, d.Units["RevocationLag"])
		}
		for name, v := range want[i] {
			if got, _ := d.Value(name); got != v {
				t.Errorf("line %d: %s = %v, want %v", i, name, got, v)
			}
		}
	}
	if n := len(emf.Find(parseEMF(t, out), "Decisions")); n != 3 {
		t.Errorf("%d decisions, want 3", n)
	}
}

// flakySource is a key source whose Refresh answers from a script.
type flakySource struct {
	keys    []keyring.Key
	answers []error // nil: refreshed; errSkip: within the cool-down
	calls   int
}

var errSkip = errors.New("skip")

func (s *flakySource) Keys(context.Context) ([]keyring.Key, error) { return s.keys, nil }
func (s *flakySource) Refresh(context.Context) (bool, error) {
	a := s.answers[s.calls%len(s.answers)]
	s.calls++
	switch a {
	case nil:
		return true, nil
	case errSkip:
		return false, nil
	}
	return false, a
}

func TestKeyRefreshMetrics(t *testing.T) {
	var out bytes.Buffer
	o, err := newObserver(func(k string) string { return "" }, &out)
	if err != nil {
		t.Fatal(err)
	}
	secret := &flakySource{answers: []error{nil, errSkip, errors.New("throttled")}}
	jwks := &flakySource{answers: []error{nil}}
	ring, err := keyring.NewRing(o.keySources(map[string]keyring.Source{
		"https://auth.example.com": secret, "https://idp.example.com": jwks,
	}, "https://auth.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := ring.Key(invocation("r"), "https://auth.example.com", "kid-unknown"); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("Key = %v, want ErrUnknownKey", err)
		}
	}
	_, _ = ring.Key(invocation("r"), "https://idp.example.com", "kid-unknown")

	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range emf.Find(docs, "KeyRefreshes") {
		n, _ := d.Value("KeyRefreshes")
		if n != 1 || d.Namespace != observe.DefaultNamespace || !d.HasDimensionSet("Service", "Source", "Result") || !d.HasDimensionSet("Service", "Result") {
			t.Errorf("doc %v", d)
		}
		got = append(got, d.Dim("Source")+"/"+d.Dim("Result"))
	}
	if want := "[secret/refreshed secret/skipped secret/error jwks/refreshed]"; fmt.Sprint(got) != want {
		t.Errorf("refreshes = %v, want %s", got, want)
	}
	if secret.calls != 3 || jwks.calls != 1 {
		t.Errorf("Refresh calls = %d, %d; want 3, 1 (the wrapper passes them on)", secret.calls, jwks.calls)
	}
}

func TestMisconfiguredIsCounted(t *testing.T) {
	var out, logs bytes.Buffer
	o, obsErr := newObserver(func(k string) string { return map[string]string{"DECISION_LOG_SAMPLE_RATE": "lots"}[k] }, &out)
	if obsErr == nil || !strings.Contains(obsErr.Error(), "DECISION_LOG_SAMPLE_RATE") {
		t.Fatalf("newObserver error = %v, want the bad sample rate named", obsErr)
	}
	h := o.misconfigured(apigw.Misconfigured(observe.NewLogger(observe.WithWriter(&logs)), obsErr))
	if _, err := h(invocation("req-bad"), json.RawMessage(`{}`)); err == nil {
		t.Fatal("a misconfigured authorizer answered")
	}
	docs, err := emf.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Dim("Outcome") != "error" || docs[0].Dim("Reason") != "misconfigured" || docs[0].Fields["requestId"] != "req-bad" {
		t.Errorf("docs = %v, want one error/misconfigured decision", docs)
	}
}

// TestFailClosedAlarmSeesTheMetric reads the template's fail-closed alarm
// and checks that a fail-closed decision writes exactly the metric it
// watches: its namespace (the function's METRICS_NAMESPACE), its name and
// its dimension set and values.
func TestFailClosedAlarmSeesTheMetric(t *testing.T) {
	resources := templateResources(t)
	alarm := child(resources, "TokenAuthorizerFailClosedAlarm", "Properties")
	if alarm == nil {
		t.Skip("template.yaml has no TokenAuthorizerFailClosedAlarm")
	}
	ns := child(alarm, "Namespace")
	envNS := child(resources, "TokenAuthorizerFunction", "Properties", "Environment", "Variables", "METRICS_NAMESPACE")
	if ns == nil || envNS == nil || ns.Tag != envNS.Tag || ns.Value != envNS.Value {
		t.Fatalf("alarm namespace %v, function METRICS_NAMESPACE %v: want the same", ns, envNS)
	}
	f := newFixture(t, map[string]string{"_KEYS_DOWN": "1"})
	out := withObserver(t, f, "1")
	_, _ = f.h.handle(invocation("r"), event(t, "rest-token.json", f.token(t, nil))) // keys down: fails closed
	alarmWatches(t, alarm, parseEMF(t, out))
}

// alarmWatches checks that docs hold exactly one line of the metric alarm
// watches, with a dimension set that is exactly the alarm's dimensions and
// their values.
func alarmWatches(t *testing.T, alarm *yaml.Node, docs []emf.Doc) {
	t.Helper()
	dims := map[string]string{}
	for _, d := range child(alarm, "Dimensions").Content {
		dims[child(d, "Name").Value] = child(d, "Value").Value
	}
	docs = emf.Find(docs, child(alarm, "MetricName").Value)
	if len(docs) != 1 {
		t.Fatalf("%d lines with metric %s, want 1", len(docs), child(alarm, "MetricName").Value)
	}
	var names []string
	for name, v := range dims {
		names = append(names, name)
		if docs[0].Dim(name) != v {
			t.Errorf("dimension %s = %q, the alarm wants %q", name, docs[0].Dim(name), v)
		}
	}
	found := false
	for _, set := range docs[0].Dimensions {
		if len(set) == len(names) && sameSet(set, names) {
			found = true
		}
	}
	if !found {
		t.Errorf("dimension sets %v: none is exactly the alarm's %v", docs[0].Dimensions, names)
	}
}

// templateResources reads template.yaml's Resources.
func templateResources(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return child(&doc, "Resources")
}

// fakeKeyState reports a fixed number of left-out versions.
type fakeKeyState struct{ n int }

func (f *fakeKeyState) SkippedVersions() int { return f.n }

// TestSkippedKeyVersionLoggedAndCounted: the hook keyring.FromSecret calls
// for a left-out AWSPREVIOUS writes one warning line without key material;
// the KeyVersionsSkipped gauge the template's alarm watches is written once
// a minute while it lasts, and 0 once it is gone.
func TestSkippedKeyVersionLoggedAndCounted(t *testing.T) {
	var logs, out bytes.Buffer
	o, err := newObserver(func(k string) string {
		return map[string]string{"METRICS_NAMESPACE": "guard/test-stack"}[k]
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	log := observe.NewLogger(observe.WithWriter(&logs))
	cause := errors.New(`parse JWK: HS256 key "weak" is 40 bits, want at least 256`)
	o.skippedVersion(log)(invocation("req-6"), "guard/signing-keys", "AWSPREVIOUS", "v-0042", cause)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	for k, want := range map[string]string{
		"level": "WARN", "message": "signing key version skipped", "secretId": "guard/signing-keys",
		"stage": "AWSPREVIOUS", "version": "v-0042", "err": cause.Error(),
	} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %q (line %s)", k, line[k], want, logs.String())
		}
	}

	state := &fakeKeyState{n: 1}
	ring := o.keySources(map[string]keyring.Source{"https://auth.example.com": struct {
		keyring.Source
		*fakeKeyState
	}{&flakySource{answers: []error{nil}}, state}}, "https://auth.example.com")
	if o.keyState == nil || len(ring) != 1 {
		t.Fatal("keySources did not keep the secret source's state")
	}
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o.stateLines(invocation("req-7"), nil, clock)                     // written at once
	o.stateLines(invocation("req-8"), nil, clock.Add(30*time.Second)) // within the minute: nothing
	o.stateLines(invocation("req-9"), nil, clock.Add(61*time.Second)) // still bad: 1 again
	state.n = 0
	o.stateLines(invocation("req-10"), nil, clock.Add(122*time.Second)) // fixed: 0
	docs := parseEMF(t, &out)
	lines := emf.Find(docs, "KeyVersionsSkipped")
	var got []float64
	for _, d := range lines {
		n, _ := d.Value("KeyVersionsSkipped")
		got = append(got, n)
	}
	if fmt.Sprint(got) != "[1 1 1 0]" || lines[0].Fields["requestId"] != "req-6" || lines[1].Fields["requestId"] != "req-7" {
		t.Errorf("KeyVersionsSkipped lines %v (requests %v, %v), want [1 1 1 0]: the hook's (req-6), then the gauge from req-7 on",
			got, lines[0].Fields["requestId"], lines[1].Fields["requestId"])
	}
	alarm := child(templateResources(t), "TokenAuthorizerKeyVersionSkippedAlarm", "Properties")
	if alarm == nil {
		t.Fatal("template.yaml has no TokenAuthorizerKeyVersionSkippedAlarm")
	}
	if st := child(alarm, "Statistic"); st == nil || st.Value != "Maximum" {
		t.Errorf("the alarm's statistic is %v, want Maximum of the gauge", st)
	}
	alarmWatches(t, alarm, lines[:1])
	alarmWatches(t, alarm, lines[1:2])

	// Without an observer (metrics off) the line is still logged.
	logs.Reset()
	(*observer)(nil).skippedVersion(log)(invocation("req-11"), "guard/signing-keys", "AWSPREVIOUS", "v-0042", cause)
	if !strings.Contains(logs.String(), "signing key version skipped") {
		t.Errorf("nil observer: log %q", logs.String())
	}
}

// child walks mapping keys from n (a document node is stepped into).
func child(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil {
			return nil
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n
}

func sameSet(a, b []string) bool {
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return len(a) == len(b)
}

// observedHandler is a handler over fakeKeys with one ES256 key, the demo
// routes and a JSON log to io.Discard, and a REST TOKEN event it allows.
func observedHandler(b *testing.B) (*handler, []byte) {
	b.Helper()
	set, err := signer.Generate("ES256", 0)
	if err != nil {
		b.Fatal(err)
	}
	s, err := signer.New(set)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := keyring.ParseKeys(set, "AWSCURRENT")
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"KEYS_SECRET_ID": "keys", "KEYS_ISSUER": testIssuer, "AUDIENCES": testAudience, "ROUTES": testRoutes}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	v, err := token.NewVerifier(fakeKeys{keys: map[string]keyring.Key{keys[0].ID: keys[0]}}, cfg.issuers())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok, err := s.Sign(map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "alice", "scope": "orders:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		b.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "token-authorizer", "rest-token.json"))
	if err != nil {
		b.Fatal(err)
	}
	h := &handler{verify: v, rules: cfg.rules, log: observe.NewLogger(observe.WithWriter(io.Discard)), now: time.Now}
	return h, bytes.ReplaceAll(sample, []byte("{{token}}"), []byte(tok))
}

// BenchmarkDecisionMetrics is the per-decision cost of observability:
// "count" is the EMF line alone (to /dev/null, so with the write system
// call stdout costs); "handler" is a whole warm ES256 decision without
// metrics, with metrics and every allow logged, and with metrics and allow
// lines sampled out (DECISION_LOG_SAMPLE_RATE=0).
func BenchmarkDecisionMetrics(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	ctx := invocation("c0ffee00-1234-4e5a-9f00-000000000001")
	b.Run("count", func(b *testing.B) {
		o, err := newObserver(func(string) string { return "" }, null)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			o.decisions.Count(ctx, "allow", "ok", 120*time.Microsecond, false)
		}
	})
	for _, tc := range []struct {
		name string
		rate string // "-": no observer
	}{{"handler/no-metrics", "-"}, {"handler/metrics", "1"}, {"handler/metrics-allows-sampled-out", "0"}} {
		b.Run(tc.name, func(b *testing.B) {
			h, payload := observedHandler(b)
			if tc.rate != "-" {
				o, err := newObserver(func(k string) string { return map[string]string{"DECISION_LOG_SAMPLE_RATE": tc.rate}[k] }, null)
				if err != nil {
					b.Fatal(err)
				}
				h.obs = o
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.handle(ctx, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
