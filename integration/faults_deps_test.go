//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/faultproxy"
	"github.com/apigw-guard/guard/shared/signer"
)

// The faults every dependency meets. Slow means slower than every bound the
// authorizer puts on a call (3 s), so each slow call is abandoned.
func commonFaults(match string) []struct {
	name  string
	fault faultproxy.Fault
} {
	hdr := http.Header{"Content-Type": {"application/x-amz-json-1.1"}}
	return []struct {
		name  string
		fault faultproxy.Fault
	}{
		{"unreachable", faultproxy.Fault{Mode: faultproxy.Refuse}},
		{"slow", faultproxy.Fault{Mode: faultproxy.Delay, Match: match, Delay: 5 * time.Second}},
		{"throttling 429", faultproxy.Throttle(match)},
		{"malformed body", faultproxy.Fault{Mode: faultproxy.Respond, Match: match, Header: hdr, Body: `{"VersionIdsToStages": {"x": [`}},
		{"empty body", faultproxy.Fault{Mode: faultproxy.Respond, Match: match, Header: hdr, Body: ""}},
	}
}

// TestFaultSecretsManager puts each fault between the token authorizer and
// Secrets Manager once its keys are held: tokens keep verifying with the
// last-good keys until KEYS_MAX_STALENESS_SECONDS after the last successful
// read, then every token of that issuer fails closed (500, logged with
// reason keys_unavailable); tokens of the OIDC issuer (JWKS) are not
// affected; after the fault the next read after the cool-down restores
// service without a restart.
func TestFaultSecretsManager(t *testing.T) {
	t.Parallel()
	fs := startFaultStack(t, nil)
	tok := fs.mintFor(t, fsIssuer, "alice", false)
	oidc := fs.mintFor(t, fs.oidcIssuer, "alice", false)
	fs.coldHang(t, "Secrets Manager", fs.sm, tok, "keys_unavailable", faultCoolDown)
	fs.warm(t, tok, oidc)
	fds := fs.openFDs(t)
	for _, f := range commonFaults("secretsmanager.") {
		t.Run(f.name, func(t *testing.T) {
			fs.outage(t, outage{
				name: "Secrets Manager " + f.name, proxy: fs.sm, fault: f.fault, token: tok, stale: faultKeysStale, retry: faultCoolDown,
				reason: "keys_unavailable", steady: []faultProbe{{"OIDC token", oidc, 200}},
			})
		})
	}
	t.Run("AWSCURRENT holds no key material", func(t *testing.T) {
		fs.badSecretValue(t, tok)
	})
	fs.checkLeaks(t, fds, fs.sm)
}

// badSecretValue puts a value that is not key material into the secret
// (a bad PutSecretValue; the key rotator's testSecret keeps a rotation from
// doing it): once the authorizer reads it, every token of the issuer fails
// closed (500), never served with the keys held before. One good version
// put after it restores service without a restart: the bad one, now
// AWSPREVIOUS, is left out (shared/keyring).
func (fs *faultStack) badSecretValue(t *testing.T, tok string) {
	t.Helper()
	ctx := context.Background()
	sm := demo.LocalSecrets(fs.AWSEndpoint)
	put := func(v string) {
		t.Helper()
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(demo.SecretName), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	_, offset := fs.decisions(0)
	put(`{"note":"not a JWK"}`)
	putAt := time.Now()
	var first500 time.Time
	for time.Since(putAt) < faultKeysStale+2*faultCoolDown {
		s := fs.fire("/restapi/dev/orders", tok)
		switch {
		case s.code == 500 && first500.IsZero():
			first500 = s.at
		case s.code == 200 && !first500.IsZero():
			t.Errorf("allowed again after failing closed on the bad version")
		case s.code != 200 && s.code != 500:
			t.Errorf("with a bad AWSCURRENT: %d %s, want 200 (not read yet) or 500", s.code, s.body)
		}
		if !first500.IsZero() && time.Since(first500) > 500*time.Millisecond {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first500.IsZero() {
		t.Fatalf("a bad AWSCURRENT never failed closed")
	}
	recs, _ := fs.decisions(offset)
	if countDecisions(recs, "error", "keys_unavailable") == 0 {
		t.Errorf("bad AWSCURRENT: no error/keys_unavailable decision logged")
	}
	// After one good version the bad one is AWSPREVIOUS (left out, and
	// reported); after two it is gone. Either way the new key's tokens
	// verify.
	_, goodAt := fs.decisions(0)
	for i := 0; i < 2; i++ {
		set, err := signer.Generate(demo.Alg, 0)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := signer.New(set)
		if err != nil {
			t.Fatal(err)
		}
		put(string(set))
		c := demo.Claims("alice", "orders:read", time.Hour)
		next, err := sg.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		code := 0
		for deadline := time.Now().Add(faultKeysStale + 2*faultCoolDown); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if code = fs.fire("/restapi/dev/orders", next).code; code == 200 {
				break
			}
		}
		t.Logf("%d good version(s) after the bad one: a token of the new AWSCURRENT key answers %d", i+1, code)
		if code != 200 {
			t.Errorf("%d good version(s) after the bad one: new-key token %d, want 200", i+1, code)
		}
		if i == 0 {
			fs.wantSkippedVersionReported(t, goodAt)
		}
	}
	t.Logf("bad AWSCURRENT: failed closed %v after the put; authorizer %s", first500.Sub(putAt).Round(time.Millisecond), fs.authorizerState())
}

// TestFaultJWKS does the same between the token authorizer and an OIDC
// issuer's JWKS endpoint (JWKS_MAX_STALENESS_SECONDS), adds an empty key
// set, and a key set that drops the key tokens are signed with: tokens of
// that key are then refused (401, unknown_key: the issuer withdrew it),
// tokens of the other key keep verifying, and the key is accepted again
// within the cool-down once the set holds it again.
func TestFaultJWKS(t *testing.T) {
	t.Parallel()
	fs := startFaultStack(t, nil)
	tok := fs.mintFor(t, fs.oidcIssuer, "alice", false)
	prev := fs.mintFor(t, fs.oidcIssuer, "alice", true)
	local := fs.mintFor(t, fsIssuer, "alice", false)
	fs.coldHang(t, "JWKS", fs.jwks, tok, "keys_unavailable", faultCoolDown)
	fs.warm(t, tok, prev, local)
	fds := fs.openFDs(t)
	faults := commonFaults("/")
	faults = append(faults, struct {
		name  string
		fault faultproxy.Fault
	}{"empty key set", faultproxy.Fault{Mode: faultproxy.Respond, Body: `{"keys":[]}`}})
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			fs.outage(t, outage{
				name: "JWKS " + f.name, proxy: fs.jwks, fault: f.fault, token: tok, stale: faultJWKSStale, retry: faultCoolDown,
				reason: "keys_unavailable", steady: []faultProbe{{"Secrets Manager token", local, 200}},
			})
		})
	}
	t.Run("key set drops the current key", func(t *testing.T) {
		kid := fs.Keys.Current.KeyID()
		fs.waitFresh(t, fs.jwks, tok)
		if err := fs.jwks.Inject(faultproxy.Fault{Mode: faultproxy.Rewrite, Rewrite: dropKid(t, kid)}); err != nil {
			t.Fatal(err)
		}
		_, offset := fs.decisions(0)
		var shots []shot
		refusedAt := time.Time{}
		for deadline := time.Now().Add(faultJWKSStale + 3*faultCoolDown); time.Now().Before(deadline); {
			s := fs.fire("/restapi/dev/orders", tok)
			shots = append(shots, s)
			switch {
			case s.code == 401 && refusedAt.IsZero():
				refusedAt = s.at
			case s.code == 200 && !refusedAt.IsZero():
				t.Errorf("token of the dropped key allowed again at +%v after it was refused", s.at.Sub(refusedAt))
			case s.code != 200 && s.code != 401:
				t.Errorf("token of the dropped key: %d %s, want 200 then 401", s.code, s.body)
			}
			if p := fs.fire("/restapi/dev/orders", prev); p.code != 200 {
				t.Errorf("token of the key still in the set: %d %s, want 200", p.code, p.body)
			}
			if !refusedAt.IsZero() && time.Since(refusedAt) > faultCoolDown+500*time.Millisecond {
				break // refused across a whole cool-down: the refetch did not bring it back
			}
			time.Sleep(100 * time.Millisecond)
		}
		if refusedAt.IsZero() {
			t.Fatalf("token of the dropped key never refused: %v", shotCodes(shots))
		}
		recs, _ := fs.decisions(offset)
		if n := countDecisions(recs, "unauthorized", "unknown_key"); n == 0 {
			t.Errorf("no unknown_key decision logged")
		}
		healed := fs.heal(t, fs.jwks, tok, faultCoolDown)
		t.Logf("dropped key refused %v after the rewrite (refresh age %v); accepted again %v after the set held it again",
			refusedAt.Sub(shots[0].at).Round(time.Millisecond), faultJWKSStale/2, healed.Round(time.Millisecond))
	})
	fs.checkLeaks(t, fds, fs.jwks)
}

// TestFaultDynamoDB puts each fault between the token authorizer and the
// revocation table: decisions keep coming from the last view (a revoked
// subject stays refused, others allowed) until
// REVOCATION_MAX_STALENESS_SECONDS after the last successful read, then
// every verified token fails closed (500, revocations_unavailable); the
// next refresh after the fault restores service without a restart.
func TestFaultDynamoDB(t *testing.T) {
	t.Parallel()
	fs := startFaultStack(t, nil)
	tok := fs.mintFor(t, fsIssuer, "alice", false)
	revoked := fs.mintFor(t, fsIssuer, "mallory", false)
	fs.coldHang(t, "DynamoDB", fs.ddb, tok, "revocations_unavailable", faultRevRefresh)
	fs.warm(t, tok, revoked)
	inv := fs.Function("CacheInvalidatorFunction")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	payload, _ := json.Marshal(map[string]string{"subject": "mallory", "reason": "fault test"})
	if res, err := inv.Invoke(ctx, payload); err != nil || res.Err != nil {
		t.Fatalf("revoke mallory: %v %v", err, res.Err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if s := fs.fire("/restapi/dev/orders", revoked); s.code == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mallory not refused 5 s after the revocation")
		}
		time.Sleep(100 * time.Millisecond)
	}
	fds := fs.openFDs(t)
	faults := commonFaults("DynamoDB_20120810.")
	faults[3].fault.Header = http.Header{"Content-Type": {"application/x-amz-json-1.0"}}
	faults[3].fault.Body = `{"Items": [{"pk": {"S": "sub#`
	// An empty 200 body decodes as a Query without Items; the view refuses
	// it like any other bad reply (shared/revocation ErrMalformedResponse).
	faults[4].fault.Header = faults[3].fault.Header
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			fs.outage(t, outage{
				name: "DynamoDB " + f.name, proxy: fs.ddb, fault: f.fault, token: tok, stale: faultRevStale, retry: faultRevRefresh,
				reason: "revocations_unavailable", held: []faultProbe{{"revoked subject", revoked, 401}},
			})
		})
	}
	fs.checkLeaks(t, fds, fs.ddb)
}

// coldHang makes the dependency hang before the authorizer has ever read
// it: the first requests must fail closed (500, logged) within the call
// bound, far inside the deadline, and the first request after the hang
// ends must be served without a restart.
func (fs *faultStack) coldHang(t *testing.T, name string, p *faultproxy.Proxy, tok, reason string, retry time.Duration) {
	t.Helper()
	if err := p.Inject(faultproxy.Fault{Mode: faultproxy.Delay, Delay: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, offset := fs.decisions(0)
	s := fs.fire("/restapi/dev/orders", tok)
	if s.code != 500 {
		t.Errorf("cold, dependency hanging: %d %s, want 500", s.code, s.body)
	}
	if s.latency >= faultDeadline {
		t.Errorf("cold, dependency hanging: answered after %v, beyond the authorizer's deadline %v", s.latency, faultDeadline)
	}
	var recs []map[string]any
	for deadline := time.Now().Add(2 * time.Second); countDecisions(recs, "error", reason) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		recs, _ = fs.decisions(offset)
	}
	if countDecisions(recs, "error", reason) != 1 {
		t.Errorf("cold, dependency hanging: decisions %v, want one error/%s", recs, reason)
	}
	if n := fs.decisionMetrics(offset, "error", reason); n != 1 {
		t.Errorf("cold, dependency hanging: %d counted in the Decisions metric as error/%s, want 1", n, reason)
	}
	healed := fs.heal(t, p, tok, retry+readBound)
	t.Logf("%s hanging at cold start: %d after %v (logged and counted as %s); served %v after the hang ended; authorizer %s",
		name, s.code, s.latency.Round(time.Millisecond), reason, healed.Round(time.Millisecond), fs.authorizerState())
}

// fsIssuer is the issuer of the stack's own keys (KEYS_ISSUER).
const fsIssuer = "https://auth.example.com"

// faultProbe is a token whose answer a fault must not change.
type faultProbe struct {
	name  string
	token string
	code  int
}

// outage describes one fault of one dependency.
type outage struct {
	name  string
	proxy *faultproxy.Proxy
	fault faultproxy.Fault
	token string // decided with the dependency's data
	// stale is the dependency's maximum staleness; retry the least time
	// between two attempts to read it.
	stale, retry time.Duration
	reason       string       // of the fail-closed decisions
	steady       []faultProbe // answers that must not change at all
	// held are answers that must not change while the last-good data is
	// served, and may only become 500 after.
	held []faultProbe
}

// warm checks that every token is allowed with all dependencies healthy.
func (fs *faultStack) warm(t *testing.T, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		for _, path := range []string{"/restapi/dev/orders", "/httpapi/dev/orders"} {
			if s := fs.fire(path, tok); s.code != 200 {
				t.Fatalf("healthy: GET %s = %d %s, want 200", path, s.code, s.body)
			}
		}
	}
}

// waitFresh sends requests until the proxy has just forwarded a successful
// read, so that an outage starts with the whole staleness budget ahead.
func (fs *faultStack) waitFresh(t *testing.T, p *faultproxy.Proxy, tok string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if s := fs.fire("/restapi/dev/orders", tok); s.code == 200 && time.Since(p.Stats().LastOK) < 250*time.Millisecond {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no successful read through the proxy for 10 s")
}

// outage injects o.fault and checks the story: last-good data served until
// the maximum staleness, then fail closed (500, logged), every answer
// within the deadline; then heals and checks the recovery.
func (fs *faultStack) outage(t *testing.T, o outage) {
	t.Helper()
	fs.waitFresh(t, o.proxy, o.token)
	_, offset := fs.decisions(0)
	if err := o.proxy.Inject(o.fault); err != nil {
		t.Fatal(err)
	}
	injected := time.Now()
	lastOK := o.proxy.Stats().LastOK
	var shots []shot
	var first500 *shot
	limit := injected.Add(o.stale + 2*readBound + o.retry + 2*time.Second)
	for time.Now().Before(limit) {
		s := fs.fire("/restapi/dev/orders", o.token)
		shots = append(shots, s)
		switch {
		case s.code == 500 && first500 == nil:
			first500 = &shots[len(shots)-1]
		case s.code == 200 && first500 != nil:
			t.Errorf("allowed again at +%v after failing closed at +%v", s.at.Sub(injected), first500.at.Sub(injected))
		case s.code != 200 && s.code != 500:
			t.Errorf("answer %d %s at +%v, want 200 (last-good) or 500 (fail closed)", s.code, s.body, s.at.Sub(injected))
		}
		if s.latency >= faultDeadline {
			t.Errorf("request took %v, beyond the authorizer's deadline %v", s.latency, faultDeadline)
		}
		for _, p := range o.steady {
			if got := fs.fire("/restapi/dev/orders", p.token); got.code != p.code {
				t.Errorf("%s during the fault: %d %s, want %d", p.name, got.code, got.body, p.code)
			}
		}
		for _, p := range o.held {
			got := fs.fire("/restapi/dev/orders", p.token)
			if got.code != p.code && (got.code != 500 || got.at.Sub(lastOK) < o.stale-200*time.Millisecond) {
				t.Errorf("%s at +%v: %d %s, want %d (or 500 once stale)", p.name, got.at.Sub(injected), got.code, got.body, p.code)
			}
		}
		if n := len(shots); first500 != nil && n >= 2 && shots[n-1].code == 500 && shots[n-2].code == 500 {
			break // failed closed, and stays so
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first500 == nil {
		t.Fatalf("never failed closed within %v of the fault (max staleness %v): %v", limit.Sub(injected), o.stale, shotCodes(shots))
	}
	served := 0
	var maxLatency time.Duration
	for _, s := range shots {
		maxLatency = max(maxLatency, s.latency)
		if s.code == 200 {
			served++
			if s.at.Sub(lastOK) > o.stale+100*time.Millisecond {
				t.Errorf("allowed at %v after the last good read, beyond the max staleness %v", s.at.Sub(lastOK), o.stale)
			}
		}
	}
	failedAt := first500.at.Add(first500.latency).Sub(lastOK)
	if failedAt < o.stale-200*time.Millisecond {
		t.Errorf("failed closed %v after the last good read, before the max staleness %v", failedAt, o.stale)
	}
	if served == 0 {
		t.Errorf("no request served from the last-good data after the fault: %v", shotCodes(shots))
	}
	recs, _ := fs.decisions(offset)
	fails := 0
	for _, s := range shots {
		if s.code == 500 {
			fails++
		}
	}
	if n := countDecisions(recs, "error", o.reason); n < fails {
		t.Errorf("%d fail-closed answers, %d decisions logged as error/%s", fails, n, o.reason)
	}
	if n := fs.decisionMetrics(offset, "error", o.reason); n < fails {
		t.Errorf("%d fail-closed answers, %d counted in the Decisions metric (Outcome=error, Reason=%s)", fails, n, o.reason)
	}
	healed := fs.heal(t, o.proxy, o.token, o.retry+2*readBound)
	t.Logf("%s: %d served from last-good data, failed closed %v after the last good read (max staleness %v), %d 500s (all logged and counted), max latency %v; recovered %v after the fault ended; authorizer %s",
		o.name, served, failedAt.Round(time.Millisecond), o.stale, fails, maxLatency.Round(time.Millisecond), healed.Round(time.Millisecond), fs.authorizerState())
}

// heal removes the proxy's fault and returns how long until tok is allowed
// again, failing beyond within (plus a second of slack). The recovery must
// need no restart: same emulator, no new init.
func (fs *faultStack) heal(t *testing.T, p *faultproxy.Proxy, tok string, within time.Duration) time.Duration {
	t.Helper()
	before := fs.authorizerState()
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	for {
		s := fs.fire("/restapi/dev/orders", tok)
		if s.code == 200 {
			break
		}
		if time.Since(healed) > within+time.Second {
			t.Fatalf("still %d %s %v after the fault ended", s.code, s.body, time.Since(healed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := time.Since(healed)
	if after := fs.authorizerState(); after != before {
		t.Errorf("authorizer %s before the recovery, %s after: it was restarted", before, after)
	}
	return d
}

// checkLeaks checks, after all outages, that no request is still held in
// the proxy (every abandoned call was really cancelled), that the
// authorizer holds no more connections than before, and that no token
// reached the log.
func (fs *faultStack) checkLeaks(t *testing.T, fdsBefore int, p *faultproxy.Proxy) {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	for p.Stats().InFlight != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	st := p.Stats()
	if st.InFlight != 0 {
		t.Errorf("%d requests still held by the proxy", st.InFlight)
	}
	fds := fs.openFDs(t)
	t.Logf("proxy: %d requests, %d faulted, %d abandoned by the authorizer; authorizer fds %d before the faults, %d after",
		st.Requests, st.Faulted, st.Abandoned, fdsBefore, fds)
	if fds > fdsBefore+4 {
		t.Errorf("authorizer holds %d file descriptors after the faults, %d before: leaked connections", fds, fdsBefore)
	}
	if out := fs.logs.String(); strings.Contains(out, "eyJ") {
		i := strings.Index(out, "eyJ")
		t.Errorf("a token (or JOSE header) reached the log: ...%s...", out[max(0, i-200):min(len(out), i+40)])
	}
}

// dropKid returns a rewrite that removes the key kid from a JWK Set.
func dropKid(t *testing.T, kid string) func([]byte) []byte {
	return func(body []byte) []byte {
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(body, &set); err != nil {
			t.Errorf("rewrite: the JWKS is not JSON: %v", err)
			return body
		}
		kept := set.Keys[:0]
		for _, k := range set.Keys {
			if k["kid"] != kid {
				kept = append(kept, k)
			}
		}
		set.Keys = kept
		out, _ := json.Marshal(set)
		return bytes.TrimSpace(out)
	}
}

func countDecisions(recs []map[string]any, decision, reason string) int {
	n := 0
	for _, r := range recs {
		if r["decision"] == decision && r["reason"] == reason {
			n++
		}
	}
	return n
}

// shotCodes summarises shots as "+ms:code".
func shotCodes(shots []shot) string {
	if len(shots) == 0 {
		return "no requests"
	}
	var b strings.Builder
	for _, s := range shots {
		fmt.Fprintf(&b, "+%dms:%d ", s.at.Sub(shots[0].at).Milliseconds(), s.code)
	}
	return b.String()
}

// wantSkippedVersionReported checks that the token authorizer, since
// offset in its logs, reported the bad version it left out as AWSPREVIOUS:
// a warning line without the value and a KeyVersionsSkipped metric.
func (fs *faultStack) wantSkippedVersionReported(t *testing.T, offset int) {
	t.Helper()
	out := fs.logs.String()
	var warned, counted bool
	for _, line := range strings.Split(out[min(offset, len(out)):], "\n") {
		_, rest, ok := strings.Cut(line, "[TokenAuthorizerFunction] ")
		if !ok {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(rest), &rec) != nil {
			continue
		}
		if rec["message"] == "signing key version skipped" && rec["stage"] == "AWSPREVIOUS" && rec["secretId"] == demo.SecretName {
			warned = true
			if strings.Contains(rest, "not a JWK") {
				t.Errorf("the warning holds the version's value: %s", rest)
			}
		}
		if n, ok := rec["KeyVersionsSkipped"].(float64); ok && n == 1 && rec["Stage"] == "AWSPREVIOUS" {
			counted = true
		}
	}
	if !warned || !counted {
		t.Errorf("left-out AWSPREVIOUS: warning logged %v, KeyVersionsSkipped counted %v; want both", warned, counted)
	}
}
