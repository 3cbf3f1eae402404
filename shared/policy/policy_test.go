package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const testBase = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/"

var testArn = ARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", APIID: "abcdef1234", Stage: "dev", Method: "GET", Resource: "orders"}

// arnOf is the methodArn API Gateway sends for method and path (path with
// its leading "/"); method "$default" gives the $default route's ARN.
func arnOf(method, path string) string {
	if method == DefaultRoute {
		return testBase + DefaultRoute
	}
	return testBase + method + path
}

// entitle returns the rules of rs whose routes are listed.
func entitle(t testing.TB, rs *Rules, routes ...string) []Rule {
	t.Helper()
	var out []Rule
	for _, r := range routes {
		i := slices.IndexFunc(rs.routes, func(x *route) bool { return x.rule.Route == r })
		if i < 0 {
			t.Fatalf("no route %q", r)
		}
		out = append(out, rs.routes[i].rule)
	}
	return out
}

func TestPolicyCases(t *testing.T) {
	type check struct {
		method, path string
		want         Decision
	}
	cases := []struct {
		name     string
		routes   []string
		entitled []string
		checks   []check
		hurt     []string // entitled routes the policy may refuse: IAM cannot express the overlap
		noDeny   bool     // the policy needs no Deny statement
		resource []string // resources (after the stage) the policy must contain
	}{
		{name: "param route with a stricter child",
			routes: []string{"GET /orders/{id}", "GET /orders/{id}/secret"}, entitled: []string{"GET /orders/{id}"},
			checks:   []check{{"GET", "/orders/1", Allow}, {"GET", "/orders/1/secret", Deny}, {"GET", "/orders/1/x/y", Deny}, {"POST", "/orders/1", NotAllowed}},
			resource: []string{"GET/orders/*"}},
		{name: "literal entitled, param sibling not: exact",
			routes: []string{"GET /orders/mine", "GET /orders/{id}"}, entitled: []string{"GET /orders/mine"},
			checks: []check{{"GET", "/orders/mine", Allow}, {"GET", "/orders/1", NotAllowed}, {"GET", "/orders/mine/x", NotAllowed}},
			noDeny: true, resource: []string{"GET/orders/mine"}},
		{name: "param entitled, literal sibling not",
			routes: []string{"GET /orders/mine", "GET /orders/{id}"}, entitled: []string{"GET /orders/{id}"},
			checks: []check{{"GET", "/orders/1", Allow}, {"GET", "/orders/mine", Deny}, {"GET", "/orders/1/2", Deny}}},
		{name: "greedy entitled, param route beneath it not: inexpressible",
			routes: []string{"ANY /{proxy+}", "GET /admin/{id}"}, entitled: []string{"ANY /{proxy+}"},
			checks: []check{{"GET", "/x/y", Allow}, {"POST", "/admin/1", Allow}, {"GET", "/admin/1", Deny},
				{"GET", "/admin/1/2", Deny}}, // a false 403: GET /admin/1/2 belongs to ANY /{proxy+}
			hurt: []string{"ANY /{proxy+}"}},
		{name: "deeper entitled route under a denied param: inexpressible",
			routes:   []string{"GET /orders/{id}", "GET /orders/{id}/items/{n}", "GET /orders/{id}/{x}"},
			entitled: []string{"GET /orders/{id}", "GET /orders/{id}/items/{n}"},
			checks: []check{{"GET", "/orders/1", Allow}, {"GET", "/orders/1/foo", Deny},
				{"GET", "/orders/1/items/2", Deny}}, // a false 403
			hurt: []string{"GET /orders/{id}/items/{n}"}},
		{name: "ANY keeps the method wildcard",
			routes: []string{"ANY /reports/{proxy+}", "GET /orders"}, entitled: []string{"ANY /reports/{proxy+}"},
			checks:   []check{{"GET", "/reports/2026/q1", Allow}, {"DELETE", "/reports/x", Allow}, {"GET", "/orders", NotAllowed}},
			resource: []string{"*/reports/*"}},
		{name: "ANY beside a catch-all it must not reach goes per method",
			routes: []string{"ANY /reports/{proxy+}", "ANY /{proxy+}"}, entitled: []string{"ANY /reports/{proxy+}"},
			checks:   []check{{"GET", "/reports/1", Allow}, {"OPTIONS", "/reports/a/b", Allow}, {"GET", "/x/reports/1", NotAllowed}, {"GET", "/x", NotAllowed}},
			resource: []string{"GET/reports/*", "OPTIONS/reports/*"}},
		{name: "specific method beats ANY",
			routes: []string{"ANY /orders", "GET /orders"}, entitled: []string{"ANY /orders"},
			checks: []check{{"POST", "/orders", Allow}, {"GET", "/orders", Deny}}},
		{name: "ANY denied per method beside entitled specific method",
			routes: []string{"ANY /orders", "GET /orders", "GET /{x}"}, entitled: []string{"GET /orders", "GET /{x}"},
			checks: []check{{"GET", "/orders", Allow}, {"GET", "/y", Allow}, {"POST", "/orders", NotAllowed}}},
		{name: "root not entitled",
			routes: []string{"GET /", "GET /{id}"}, entitled: []string{"GET /{id}"},
			checks: []check{{"GET", "/x", Allow}, {"GET", "/", Deny}}},
		{name: "greedy does not cover the root",
			routes: []string{"ANY /{proxy+}"}, entitled: []string{"ANY /{proxy+}"},
			checks: []check{{"GET", "/a/b/c", Allow}, {"GET", "/", Deny}, {"HEAD", "/", Deny}}},
		{name: "root entitled",
			routes: []string{"GET /", "ANY /{proxy+}"}, entitled: []string{"GET /", "ANY /{proxy+}"},
			checks: []check{{"GET", "/", Allow}, {"GET", "/a", Allow}, {"POST", "/", Deny}}},
		{name: "empty segments never allowed",
			routes: []string{"GET /orders/{id}", "ANY /{proxy+}"}, entitled: []string{"GET /orders/{id}", "ANY /{proxy+}"},
			checks: []check{{"GET", "/orders/1", Allow}, {"GET", "/orders/1/", Deny}, {"GET", "/orders//1", Deny}, {"GET", "//", Deny}}},
		{name: "HTTP API $default entitled",
			routes: []string{"GET /orders", "$default"}, entitled: []string{"$default"},
			checks: []check{{DefaultRoute, "", Allow}, {"GET", "/orders", NotAllowed}},
			noDeny: true, resource: []string{"$default"}},
		{name: "HTTP API $default not entitled",
			routes: []string{"GET /orders/{id}", "$default"}, entitled: []string{"GET /orders/{id}"},
			checks: []check{{DefaultRoute, "", NotAllowed}, {"GET", "/orders/1", Allow}}},
		{name: "method-name literal",
			routes: []string{"GET /GET/{x}", "ANY /{a}/{b}"}, entitled: []string{"ANY /{a}/{b}"},
			checks: []check{{"GET", "/GET/1", Deny}, {"POST", "/GET/1", Allow}, {"GET", "/a/1", Allow}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustRules(t, tc.routes...)
			allowed := entitle(t, rs, tc.entitled...)
			doc := rs.Policy(testArn, allowed)
			b, _ := json.Marshal(doc)
			for _, c := range tc.checks {
				if got := Evaluate(doc, arnOf(c.method, c.path)); got != c.want {
					t.Errorf("%s %s: %v, want %v\npolicy %s", c.method, c.path, got, c.want, b)
				}
			}
			p := rs.plan(rs.set(allowed), MaxResourceLength-len(testBase))
			var hurt []string
			for _, i := range p.hurt.members() {
				hurt = append(hurt, rs.routes[i].rule.Route)
			}
			if !slices.Equal(hurt, tc.hurt) {
				t.Errorf("routes the policy may refuse = %v, want %v\npolicy %s", hurt, tc.hurt, b)
			}
			if tc.noDeny && len(doc.Statement) != 1 {
				t.Errorf("policy has %d statements, want only the Allow: %s", len(doc.Statement), b)
			}
			for _, r := range tc.resource {
				if !slices.Contains(doc.Statement[0].Resource, testBase+r) {
					t.Errorf("Allow lacks %s: %s", r, b)
				}
			}
		})
	}
}

func TestPolicyNoEntitlement(t *testing.T) {
	rs := mustRules(t, "GET /orders", "ANY /{proxy+}")
	for _, allowed := range [][]Rule{nil, {{Route: "GET /unknown"}}} {
		doc := rs.Policy(testArn, allowed)
		b, _ := json.Marshal(doc)
		want := `{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":["` + testBase + `*/*"]}]}`
		if string(b) != want {
			t.Errorf("Policy(%v) = %s, want %s", allowed, b, want)
		}
		if d := Evaluate(doc, arnOf("GET", "/orders")); d != Deny {
			t.Errorf("GET /orders: %v, want Deny", d)
		}
	}
}

func TestPolicyIsStageWide(t *testing.T) {
	rs := mustRules(t, "GET /orders", "GET /orders/{id}", "POST /admin/users", "ANY /reports/{proxy+}")
	allowed := entitle(t, rs, "GET /orders", "GET /orders/{id}")
	// The answer for the first request is cached and applied to the next ones.
	first, _ := ParseARN(testBase + "POST/admin/users")
	doc := rs.Policy(first, allowed)
	for arn, want := range map[string]Decision{
		testBase + "GET/orders":       Allow,
		testBase + "GET/orders/42":    Allow,
		testBase + "POST/admin/users": NotAllowed,
		testBase + "GET/reports/x":    NotAllowed,
		"arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders": NotAllowed,
		"arn:aws:execute-api:us-east-1:123456789012:other12345/dev/GET/orders":  NotAllowed,
		"arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/dev/GET/orders":  NotAllowed,
	} {
		if got := Evaluate(doc, arn); got != want {
			t.Errorf("Evaluate(%s) = %v, want %v", arn, got, want)
		}
	}
	for _, st := range doc.Statement {
		for _, r := range st.Resource {
			if !strings.HasPrefix(r, testBase) || r == testBase+"*" || r == testBase+"*/*" {
				t.Errorf("resource %q is not scoped to routes of the stage", r)
			}
		}
	}
}

func TestPolicyInvalidARN(t *testing.T) {
	rs := mustRules(t, "GET /orders")
	for name, a := range map[string]ARN{
		"zero":          {},
		"wild stage":    {Partition: "aws", Region: "us-east-1", Account: "123456789012", APIID: "abc", Stage: "*", Method: "GET"},
		"default+path":  {Partition: "aws", Region: "us-east-1", Account: "123456789012", APIID: "abc", Stage: "dev", Method: DefaultRoute, Resource: "x"},
		"short account": {Partition: "aws", Region: "us-east-1", Account: "1", APIID: "abc", Stage: "dev", Method: "GET"},
	} {
		doc := rs.Policy(a, rs.Entitled([]string{"GET /orders"}, nil))
		if len(doc.Statement) != 1 || doc.Statement[0].Effect != EffectDeny || !slices.Equal(doc.Statement[0].Resource, []string{"*"}) {
			t.Errorf("%s: Policy = %+v, want a single Deny of *", name, doc)
		}
	}
}

func TestPolicyResourceLength(t *testing.T) {
	stage := strings.Repeat("s", 128)
	a := testArn
	a.Stage = stage
	base := a.base()
	room := MaxResourceLength - len(base)
	long := "/" + strings.Repeat("l", room-len("GET/")+1) // "GET"+long is room+1 characters
	fits := "/" + strings.Repeat("f", room-len("GET/"))   // exactly room

	rs := mustRules(t, "GET "+long, "GET "+fits, "GET /{id}", "GET /a/{id}")
	check := func(name string, entitled []string, want map[string]Decision, omitted []string) {
		t.Run(name, func(t *testing.T) {
			allowed := entitle(t, rs, entitled...)
			doc := rs.Policy(a, allowed)
			for _, st := range doc.Statement {
				for _, r := range st.Resource {
					if n := len(r); n > MaxResourceLength {
						t.Errorf("resource of %d characters", n)
					}
				}
			}
			for path, w := range want {
				if got := Evaluate(doc, base+"GET"+path); got != w {
					t.Errorf("GET %.20s…: %v, want %v", path, got, w)
				}
			}
			p := rs.plan(rs.set(allowed), room)
			var got []string
			for _, i := range p.omitted.members() {
				got = append(got, rs.routes[i].rule.Route)
			}
			if !slices.Equal(got, omitted) {
				t.Errorf("omitted = %.40q, want %.40q", got, omitted)
			}
		})
	}
	check("allow too long is left out", []string{"GET " + long}, map[string]Decision{long: Deny}, []string{"GET " + long})
	check("allow that fits", []string{"GET " + fits, "GET /a/{id}"}, map[string]Decision{fits: Allow, "/a/1": Allow, long: NotAllowed}, nil)
	// GET/* reaches GET <long>, whose Deny would not fit: GET /{id} is left out.
	check("needed deny too long", []string{"GET /{id}", "GET /a/{id}"}, map[string]Decision{"/x": NotAllowed, long: NotAllowed, "/a/1": Allow}, []string{"GET /{id}"})
}

// TestPolicyExact is the property test: for many generated route tables
// (overlapping literal, {param} and {proxy+} routes, ANY and specific
// methods, the root, $default) and entitlements, the policy allows a
// concrete request exactly when the route API Gateway selects for it is
// entitled. It never allows a request of a route the caller is not entitled
// to, nor one with empty segments; it allows a request no route matches only
// through the documented spill of an Allow (an entitled deeper route ruled
// out the Deny); and it refuses an entitled route's request only where the
// plan reports an inexpressible overlap. A quarter of the tables run with no
// search budget, so every search falls back to its over-approximation.
func TestPolicyExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	lits := []string{"orders", "items", "me", "GET"}
	var stats struct{ tables, policies, samples, allowed, hurt, tolerated int }
	for n := range 400 {
		rs, routes := genTable(t, rng, lits)
		if n%4 == 3 {
			// Searches that run out of budget fall back to a superset of
			// the truth; the policy must stay safe and report its caution.
			rs.budget = 0
		}
		stats.tables++
		samples := genSamples(rs, lits)
		var subsets []rset
		var all rset
		for i := range rs.routes {
			all.add(i)
		}
		subsets = append(subsets, rset{}, all)
		for range 5 {
			var s rset
			for i := range rs.routes {
				if rng.IntN(2) == 0 {
					s.add(i)
				}
			}
			subsets = append(subsets, s)
		}
		for _, E := range subsets {
			stats.policies++
			var allowed []Rule
			for _, i := range E.members() {
				allowed = append(allowed, rs.routes[i].rule)
			}
			doc := rs.Policy(testArn, allowed)
			p := rs.plan(E, MaxResourceLength-len(testBase))
			b, _ := json.Marshal(doc)
			if back, err := ParseDocument(b); err != nil || !docEqual(back, doc) {
				t.Fatalf("policy %s does not survive JSON: %v", b, err)
			}
			if E == all && !(p.hurt.empty() && p.omitted.empty()) {
				t.Errorf("table %q, all entitled: hurt %v omitted %v, want none", routes, p.hurt.members(), p.omitted.members())
			}
			if E.empty() && string(b) != `{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":["`+testBase+`*/*"]}]}` {
				t.Errorf("table %q, nothing entitled: policy %s, want a single Deny of the stage", routes, b)
			}
			if !p.hurt.empty() {
				stats.hurt++
			}
			if !p.tolerated.empty() {
				stats.tolerated++
			}
			for _, s := range samples {
				stats.samples++
				owner := noRoute
				if s.method == DefaultRoute {
					owner = rs.dflt
				} else if !s.malformed {
					owner = rs.matchPath(s.method, s.path)
				}
				got := Evaluate(doc, arnOf(s.method, s.path))
				if got == Allow {
					stats.allowed++
				}
				where := func() string {
					return fmt.Sprintf("table %q, entitled %v, %s %s", routes, names(rs, E), s.method, s.path)
				}
				switch {
				case s.malformed && got == Allow:
					t.Fatalf("%s: empty segments allowed\npolicy %s", where(), b)
				case owner >= 0 && !E.has(owner) && got == Allow:
					t.Fatalf("%s: allowed, but its route %q is not entitled\npolicy %s", where(), rs.routes[owner].rule.Route, b)
				case owner < 0 && got == Allow && !spill(rs, p.tolerated, s):
					t.Fatalf("%s: allowed, but no route matches it\npolicy %s", where(), b)
				case owner >= 0 && E.has(owner) && got != Allow && !p.hurt.has(owner) && !p.omitted.has(owner):
					t.Fatalf("%s: %v, but its route %q is entitled\npolicy %s", where(), got, rs.routes[owner].rule.Route, b)
				}
			}
		}
	}
	t.Logf("%d tables, %d policies, %d samples (%d allowed); %d policies with an inexpressible overlap, %d with a tolerated spill",
		stats.tables, stats.policies, stats.samples, stats.allowed, stats.hurt, stats.tolerated)
	if stats.hurt == 0 || stats.tolerated == 0 || stats.allowed == 0 {
		t.Errorf("the generator misses cases: %+v", stats)
	}
}

// spill reports whether s is covered by the pattern of a route whose
// spill into unmatched paths the plan tolerates.
func spill(rs *Rules, tolerated rset, s sample) bool {
	for _, i := range tolerated.members() {
		if globMatch(rs.routes[i].pat.glob, s.method+s.path) {
			return true
		}
	}
	return false
}

func names(rs *Rules, s rset) []string {
	var out []string
	for _, i := range s.members() {
		out = append(out, rs.routes[i].rule.Route)
	}
	return out
}

// genTable generates a route table of 1 to 9 routes over a few literals.
func genTable(t *testing.T, rng *rand.Rand, lits []string) (*Rules, []string) {
	t.Helper()
	methodsGen := []string{"GET", "GET", "POST", "DELETE", "ANY", "ANY", "*"}
	seen := map[string]bool{}
	var routes []string
	n := 1 + rng.IntN(9)
	for tries := 0; len(routes) < n && tries < 50; tries++ {
		var rt string
		if rng.IntN(15) == 0 {
			rt = DefaultRoute
		} else {
			depth := rng.IntN(4)
			segs := make([]string, depth)
			for i := range segs {
				switch k := rng.IntN(10); {
				case k < 5:
					segs[i] = lits[rng.IntN(len(lits))]
				case k < 8 || i < depth-1:
					segs[i] = fmt.Sprintf("{p%d}", i)
				default:
					segs[i] = "{proxy+}"
				}
			}
			rt = methodsGen[rng.IntN(len(methodsGen))] + " /" + strings.Join(segs, "/")
		}
		r, err := parseRoute(rt)
		if err != nil {
			t.Fatalf("generated route %q: %v", rt, err)
		}
		if !seen[r.key] {
			seen[r.key] = true
			routes = append(routes, rt)
		}
	}
	return mustRules(t, routes...), routes
}

type sample struct {
	method, path string
	malformed    bool // has empty segments
}

// genSamples returns concrete requests for every route and every method:
// parameters as "123", "a" or a literal, proxies as "a/b", "a" or
// "literal/123"; requests that spill past a parameter; unmatched and
// malformed paths; the root; and the $default route ARN.
func genSamples(rs *Rules, lits []string) []sample {
	var out []sample
	inst := func(r *route, v int) string {
		if len(r.segs) == 0 {
			return "/"
		}
		var b strings.Builder
		for i, s := range r.segs {
			b.WriteByte('/')
			switch {
			case s.kind == segLit:
				b.WriteString(s.lit)
			case s.kind == segParam && v == 0:
				b.WriteString("123")
			case s.kind == segParam && v == 1:
				b.WriteString("a")
			case s.kind == segParam:
				b.WriteString(lits[i%len(lits)])
			case v == 0:
				b.WriteString("a/b")
			case v == 1:
				b.WriteString("a")
			default:
				b.WriteString(lits[(i+1)%len(lits)] + "/123")
			}
		}
		return b.String()
	}
	for _, r := range rs.routes {
		if r.isDefault() {
			continue
		}
		for v := range 3 {
			p := inst(r, v)
			for _, m := range methods {
				out = append(out, sample{method: m, path: p})
			}
			m := r.method
			if m == "ANY" {
				m = "PATCH"
			}
			if p != "/" {
				out = append(out,
					sample{method: m, path: p + "/zz"},
					sample{method: m, path: "/zz" + p},
					sample{method: m, path: p + "/", malformed: true},
					sample{method: m, path: strings.Replace(p, "/", "//", 1), malformed: true})
			}
		}
		if i := slices.IndexFunc(r.segs, func(s segment) bool { return s.kind == segParam }); i >= 0 {
			p := strings.Split(inst(r, 0), "/")
			p[i+1] = "1/2"
			out = append(out, sample{method: strings.Replace(r.method, "ANY", "GET", 1), path: strings.Join(p, "/")})
		}
	}
	for _, m := range methods {
		out = append(out, sample{method: m, path: "/"}, sample{method: m, path: "/zzz"}, sample{method: m, path: "/zzz/123"},
			sample{method: m, path: "/orders/123/items/a/b"})
	}
	return append(out, sample{method: DefaultRoute})
}

func TestPolicyConcurrent(t *testing.T) {
	rs, err := ParseRules([]byte(benchRoutes(30)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{}
	for i := range 4 {
		b, _ := json.Marshal(mustRulesCopy(t, rs).Policy(testArn, rs.Entitled(readScopes(i+1), nil)))
		want[i] = string(b)
	}
	done := make(chan string, 16)
	for g := range 16 {
		go func() {
			b, _ := json.Marshal(rs.Policy(testArn, rs.Entitled(readScopes(g%4+1), nil)))
			if string(b) != want[g%4] {
				done <- fmt.Sprintf("goroutine %d: policy %s, want %s", g, b, want[g%4])
				return
			}
			done <- ""
		}()
	}
	for range 16 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

// mustRulesCopy parses rs's table again, for a Rules with no cached analysis.
func mustRulesCopy(t *testing.T, rs *Rules) *Rules {
	t.Helper()
	var rules []Rule
	for _, r := range rs.routes {
		rules = append(rules, r.rule)
	}
	b, _ := json.Marshal(rules)
	fresh, err := ParseRules(b)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}
