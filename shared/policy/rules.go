package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Limits on the route table. They keep [ParseRules] and [Rules.Policy]
// bounded for any input; real tables are far smaller.
const (
	MaxRules       = 256 // rules in one table
	MaxRouteLength = 400 // bytes in one route key, so generated resources stay under 512 characters
	MaxSegments    = 32  // path segments in one route
	MaxNames       = 64  // scopes or groups in one rule
	MaxNameLength  = 256 // bytes in one scope or group
	maxRulesInput  = 1 << 20
)

// DefaultRoute is the HTTP API route key that catches every request no other
// route matches.
const DefaultRoute = "$default"

// ErrInvalidRules is wrapped by every error [ParseRules] returns. Compare
// with errors.Is; a *[RuleError] names the offending rule.
var ErrInvalidRules = errors.New("invalid route rules")

// RuleError reports a problem with one rule of the table.
type RuleError struct {
	Index int    // position of the rule in the JSON array, from 0
	Route string // the rule's route key as written, if it was read
	Err   error
}

func (e *RuleError) Error() string {
	if e.Route != "" {
		return fmt.Sprintf("rule %d (%q): %v", e.Index, e.Route, e.Err)
	}
	return fmt.Sprintf("rule %d: %v", e.Index, e.Err)
}

// Unwrap returns ErrInvalidRules and the cause.
func (e *RuleError) Unwrap() []error { return []error{ErrInvalidRules, e.Err} }

// A Rule says what a route needs. Parsed from the ROUTES env var, e.g.
//
//	[{"route":"GET /orders","scopes":["orders:read"]},
//	 {"route":"POST /admin/users","scopes":["admin"]},
//	 {"route":"ANY /reports/{proxy+}","groups":["analysts"]}]
//
// A rule is satisfied when the caller has ALL listed scopes and ANY of the
// listed groups. No groups listed means no group requirement; a rule with
// neither admits any authenticated caller.
type Rule struct {
	Route  string   `json:"route"`
	Scopes []string `json:"scopes,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// satisfiedBy reports whether a caller holding scopes and groups meets r.
func (r Rule) satisfiedBy(scopes, groups []string) bool {
	for _, s := range r.Scopes {
		if !slices.Contains(scopes, s) {
			return false
		}
	}
	if len(r.Groups) == 0 {
		return true
	}
	for _, g := range r.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// Rules is a parsed, validated route table. Build it once at init with
// [ParseRules] and share the pointer: the table never changes, the policy
// plans it caches are filled on demand, and every method is safe for
// concurrent use.
type Rules struct {
	routes []*route
	byKey  map[string]int // normalised route key -> index
	byName map[string]int // route key as written -> index
	dflt   int            // index of the $default rule, or -1
	alpha  map[string]int // literal path segments -> symbol, for the policy analysis
	lits   []string       // symbol-symLit0 -> literal
	budget int            // automaton steps one search may take (see setBudget)

	plans     sync.Map // planKey -> *plan, at most maxPlans of them
	planCount atomic.Int32
}

// segment kinds, ordered by API Gateway precedence: a literal beats a
// parameter, which beats a greedy parameter.
type segKind uint8

const (
	segEnd    segKind = iota // past the end of a route without a greedy segment
	segGreedy                // {proxy+}: one or more segments
	segParam                 // {id}: exactly one segment
	segLit                   // a literal segment
)

type segment struct {
	kind segKind
	lit  string // for segLit
}

// route is a Rule with its parsed route key and its lazily computed
// analysis for policy generation.
type route struct {
	rule   Rule
	index  int
	method string    // GET…OPTIONS, "ANY", or DefaultRoute
	segs   []segment // path segments; empty for "/" and for $default
	key    string    // normalised key: method and shape, parameter names dropped
	rank   int       // position in precedence order; higher wins

	// Automata over the abstract alphabet (see region.go), built by prepare.
	shape nfa      // the requests the route's method and shape admit
	pat   *pattern // its resource pattern, e.g. "GET/orders/*" or "*/reports/*"
	// perM is, for an ANY route, its pattern with each specific method;
	// nil where a route of the same shape has that method and so owns
	// those requests.
	perM [len(methods)]*pattern
}

func (r *route) isDefault() bool { return r.method == DefaultRoute }
func (r *route) isRoot() bool    { return !r.isDefault() && len(r.segs) == 0 }

// kindAt is the segment kind at position i, extending a final greedy
// segment over every later position.
func (r *route) kindAt(i int) segKind {
	if i < len(r.segs) {
		return r.segs[i].kind
	}
	if n := len(r.segs); n > 0 && r.segs[n-1].kind == segGreedy {
		return segGreedy
	}
	return segEnd
}

// beats reports whether a takes precedence over b for a request both match:
// comparing segment by segment, a literal beats a parameter, which beats a
// greedy parameter; for equal shapes a specific method beats ANY; $default
// loses to everything.
func (a *route) beats(b *route) bool {
	if a.isDefault() != b.isDefault() {
		return b.isDefault()
	}
	for i := 0; ; i++ {
		ka, kb := a.kindAt(i), b.kindAt(i)
		if ka != kb {
			return ka > kb
		}
		if ka == segEnd || ka == segGreedy && i >= len(a.segs) && i >= len(b.segs) {
			break
		}
	}
	return a.method != "ANY" && b.method == "ANY"
}

// matches reports whether the route's method and shape admit the request.
func (r *route) matches(method string, segs []string) bool {
	if r.isDefault() {
		return false
	}
	if r.method != "ANY" && r.method != method {
		return false
	}
	if r.method == "ANY" && methodIndex(method) < 0 {
		return false
	}
	n := len(r.segs)
	if n > 0 && r.segs[n-1].kind == segGreedy {
		if len(segs) < n {
			return false
		}
	} else if len(segs) != n {
		return false
	}
	for i, s := range r.segs {
		switch s.kind {
		case segLit:
			if segs[i] != s.lit {
				return false
			}
		case segParam:
			if segs[i] == "" {
				return false
			}
		case segGreedy:
			for _, v := range segs[i:] {
				if v == "" {
					return false
				}
			}
		}
	}
	return true
}

// methods are the HTTP methods API Gateway routes, in a fixed order.
var methods = [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

func methodIndex(m string) int {
	for i, x := range methods {
		if x == m {
			return i
		}
	}
	return -1
}

// ParseRules parses and validates a route table (the ROUTES env var). The
// JSON is strict: the top level must be a non-empty array of objects whose
// only members are "route", "scopes" and "groups" (exact case, each at most
// once); scopes and groups are arrays of non-empty strings.
//
// A route is "$default" or "METHOD /path" with one space, where METHOD is
// GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or * (the same as ANY),
// and the path is "/" or API Gateway resource path syntax: "/"-separated
// non-empty segments, each a literal, a {param}, or, last only, a greedy
// {proxy+}. Literals may hold letters, digits and -._~:@!&'()+,;= only, so
// no segment can smuggle an IAM wildcard into a policy. Two rules with the
// same method and the same shape (parameter names aside) are duplicates.
//
// Errors wrap [ErrInvalidRules]; problems with one rule are a *[RuleError]
// naming its index.
func ParseRules(data []byte) (*Rules, error) {
	if len(data) > maxRulesInput {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidRules, len(data), maxRulesInput)
	}
	elems, err := jsonArray(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRules, err)
	}
	if len(elems) == 0 {
		return nil, fmt.Errorf("%w: no rules", ErrInvalidRules)
	}
	if len(elems) > MaxRules {
		return nil, fmt.Errorf("%w: %d rules, more than %d", ErrInvalidRules, len(elems), MaxRules)
	}
	rs := &Rules{byKey: make(map[string]int, len(elems)), byName: make(map[string]int, len(elems)), dflt: -1, alpha: map[string]int{}}
	for i, raw := range elems {
		rule, err := decodeRule(raw)
		if err != nil {
			return nil, &RuleError{Index: i, Route: rule.Route, Err: err}
		}
		rt, err := parseRoute(rule.Route)
		if err != nil {
			return nil, &RuleError{Index: i, Route: rule.Route, Err: err}
		}
		if j, dup := rs.byKey[rt.key]; dup {
			return nil, &RuleError{Index: i, Route: rule.Route,
				Err: fmt.Errorf("duplicate of rule %d (%q)", j, rs.routes[j].rule.Route)}
		}
		rt.rule, rt.index = rule, i
		rs.byKey[rt.key] = i
		rs.byName[rule.Route] = i
		if rt.isDefault() {
			rs.dflt = i
		}
		rs.routes = append(rs.routes, rt)
	}
	rs.rank()
	rs.buildAlphabet()
	for _, r := range rs.routes {
		rs.prepare(r)
	}
	rs.setBudget()
	return rs, nil
}

// rank orders the routes by precedence once, so the analysis and Match
// agree on which route wins.
func (rs *Rules) rank() {
	order := slices.Clone(rs.routes)
	slices.SortStableFunc(order, func(a, b *route) int {
		switch {
		case a.beats(b):
			return 1
		case b.beats(a):
			return -1
		}
		return 0
	})
	for i, r := range order {
		r.rank = i
	}
}

func decodeRule(raw []byte) (Rule, error) {
	var r Rule
	fields, err := jsonObject(raw)
	if err != nil {
		return r, err
	}
	seen := false
	for _, f := range fields {
		switch f.name {
		case "route":
			if r.Route, err = jsonString(f.raw); err != nil {
				return r, fmt.Errorf("route: %v", err)
			}
			seen = true
		case "scopes":
			if r.Scopes, err = nameList(f.raw); err != nil {
				return r, fmt.Errorf("scopes: %v", err)
			}
		case "groups":
			if r.Groups, err = nameList(f.raw); err != nil {
				return r, fmt.Errorf("groups: %v", err)
			}
		default:
			return r, fmt.Errorf("unknown field %q", f.name)
		}
	}
	if !seen {
		return r, errors.New(`missing "route"`)
	}
	return r, nil
}

func nameList(raw []byte) ([]string, error) {
	list, err := jsonStrings(raw)
	if err != nil {
		return nil, err
	}
	if len(list) > MaxNames {
		return nil, fmt.Errorf("%d entries, more than %d", len(list), MaxNames)
	}
	for _, s := range list {
		if s == "" || len(s) > MaxNameLength || strings.ContainsFunc(s, isControl) {
			return nil, fmt.Errorf("%q: want 1 to %d printable bytes", s, MaxNameLength)
		}
	}
	return list, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parseRoute parses a route key into its method and segments.
func parseRoute(key string) (*route, error) {
	if key == DefaultRoute {
		return &route{method: DefaultRoute, key: DefaultRoute}, nil
	}
	if len(key) > MaxRouteLength {
		return nil, fmt.Errorf("route is %d bytes, more than %d", len(key), MaxRouteLength)
	}
	method, path, ok := strings.Cut(key, " ")
	if !ok {
		return nil, errors.New(`want "METHOD /path" or "$default"`)
	}
	switch {
	case method == "*":
		method = "ANY"
	case method == "ANY", methodIndex(method) >= 0:
	default:
		return nil, fmt.Errorf("method %q: want GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY or *", method)
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q: want a leading /", path)
	}
	r := &route{method: method}
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte(' ')
	if path != "/" {
		parts := strings.Split(path[1:], "/")
		if len(parts) > MaxSegments {
			return nil, fmt.Errorf("path has %d segments, more than %d", len(parts), MaxSegments)
		}
		names := map[string]bool{}
		for i, p := range parts {
			s, name, err := parseSegment(p, i == len(parts)-1)
			if err != nil {
				return nil, fmt.Errorf("path %q, segment %d: %v", path, i+1, err)
			}
			if name != "" {
				if names[name] {
					return nil, fmt.Errorf("path %q: parameter %q appears twice", path, name)
				}
				names[name] = true
			}
			r.segs = append(r.segs, s)
			b.WriteByte('/')
			switch s.kind {
			case segLit:
				b.WriteString(s.lit)
			case segParam:
				b.WriteString("{}")
			case segGreedy:
				b.WriteString("{+}")
			}
		}
	} else {
		b.WriteByte('/')
	}
	r.key = b.String()
	return r, nil
}

func parseSegment(p string, last bool) (segment, string, error) {
	if p == "" {
		return segment{}, "", errors.New("empty segment (a doubled or trailing /)")
	}
	if strings.HasPrefix(p, "{") {
		if !strings.HasSuffix(p, "}") || len(p) < 3 {
			return segment{}, "", fmt.Errorf("%q: a parameter is {name} or {name+} and fills the whole segment", p)
		}
		name := p[1 : len(p)-1]
		kind := segParam
		if strings.HasSuffix(name, "+") {
			if !last {
				return segment{}, "", fmt.Errorf("%q: a greedy parameter must be the last segment", p)
			}
			kind, name = segGreedy, strings.TrimSuffix(name, "+")
		}
		if name == "" || strings.IndexFunc(name, func(c rune) bool { return !isNameChar(c) }) >= 0 {
			return segment{}, "", fmt.Errorf("%q: parameter names hold letters, digits, _ . and - only", p)
		}
		return segment{kind: kind}, name, nil
	}
	if p == "." || p == ".." {
		return segment{}, "", fmt.Errorf("%q: dot segments are not allowed", p)
	}
	for _, c := range p {
		if !isLiteralChar(c) {
			return segment{}, "", fmt.Errorf("%q: character %q is not allowed in a literal segment", p, c)
		}
	}
	return segment{kind: segLit, lit: p}, "", nil
}

func isNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func isLiteralChar(c rune) bool {
	return isNameChar(c) || strings.ContainsRune("~:@!&'()+,;=", c)
}

// Entitled returns the rules a caller holding scopes and groups satisfies,
// in table order. Comparisons are exact and case-sensitive.
func (rs *Rules) Entitled(scopes, groups []string) []Rule {
	var out []Rule
	for _, r := range rs.routes {
		if r.rule.satisfiedBy(scopes, groups) {
			out = append(out, r.rule)
		}
	}
	return out
}

// Match returns the rule of the route API Gateway selects for a request
// with method and path (the request path without the stage, e.g.
// "/orders/42"). Among the routes whose method and shape admit the request,
// the most specific path wins, compared segment by segment from the left: a
// literal beats a {param}, which beats a {proxy+}; among routes of the same
// shape a specific method beats ANY. A {param} matches one non-empty
// segment, {proxy+} one or more. If no route matches and the table has a
// $default rule, Match returns it; method "$default" (the method part of a
// $default route ARN) selects it directly. Paths with empty segments
// ("//", a trailing "/") match no route but $default.
func (rs *Rules) Match(method, path string) (Rule, bool) {
	if method != DefaultRoute {
		if i := rs.matchPath(method, path); i >= 0 {
			return rs.routes[i].rule, true
		}
	}
	if rs.dflt >= 0 {
		return rs.routes[rs.dflt].rule, true
	}
	return Rule{}, false
}

// noRoute is the index of "no configured route", for paths nothing matches.
const noRoute = -1

// matchPath is Match without the $default fallback: the index of the
// route owning the request, or noRoute.
func (rs *Rules) matchPath(method, path string) int {
	if !strings.HasPrefix(path, "/") {
		return noRoute
	}
	var segs []string
	if path != "/" {
		segs = strings.Split(path[1:], "/")
	}
	best := noRoute
	for i, r := range rs.routes {
		if r.matches(method, segs) && (best < 0 || r.rank > rs.routes[best].rank) {
			best = i
		}
	}
	return best
}

// index returns the table index of rule, matched by its route key, or -1.
func (rs *Rules) index(rule Rule) int {
	if i, ok := rs.byName[rule.Route]; ok {
		return i
	}
	rt, err := parseRoute(rule.Route)
	if err != nil {
		return -1
	}
	if i, ok := rs.byKey[rt.key]; ok {
		return i
	}
	return -1
}
