package policy

import (
	"slices"
	"strings"
	"sync"
)

// Policy returns the IAM policy document for a caller entitled to the
// allowed rules (normally the result of [Rules.Entitled]), scoped to the API
// and stage of arn (the methodArn or routeArn of the current request).
// Rules in allowed that are not in the table are ignored.
//
// API Gateway caches the answer by identity source and applies it to every
// method the caller calls next, so the policy covers the whole stage: it
// allows the requests API Gateway routes to an entitled route and nothing
// routed to any other route. It is never a blanket allow and never just the
// current method. For every configured route, a request of that route is
// allowed exactly when the route is entitled, except in the cases below
// where IAM cannot say it, which fail towards 403.
//
// Construction. Each entitled route gets an Allow resource: its method ('*'
// for ANY), its literal segments, and '*' for each {param} and for
// {proxy+}, so "GET /orders/{id}" gives …/{stage}/GET/orders/*; the $default
// route gives …/{stage}/$default, the routeArn API Gateway uses for it.
// Because IAM's '*' also matches '/', GET/orders/* also covers GET
// /orders/1/secret, and a '*' method covers GET/x/… too. So the policy adds
// Deny resources, which beat any Allow: for each route the caller is not
// entitled to that an Allow reaches, that route's own pattern (per method
// for an ANY route, when the '*' form would refuse entitled requests); and
// for an Allow whose '*' reaches deeper paths, the Allow with that '*'
// doubled ("GET/orders/*/*") when no entitled route lives there. An ANY
// route whose '*' method would reach a route that cannot be denied safely
// is allowed per method instead (GET/reports/*, POST/reports/*, …). Which
// pattern reaches which route is decided by an exact search over the route
// table (see region.go), not by sampling. The root path and paths with
// empty segments ("//", a trailing "/") get Deny resources when an Allow's
// '*' could match them.
//
// What IAM cannot express. IAM patterns have no precedence and no wildcard
// confined to one segment. When a route the caller is not entitled to must
// be denied and every pattern that denies it also matches requests of an
// entitled route, Policy keeps the Deny: a false 403 is better than a false
// allow. Examples: ANY /{proxy+} entitled but GET /admin/{id} not (the Deny
// GET/admin/* also refuses GET /admin/1/2, which belongs to the proxy
// route); GET /orders/{id} and GET /orders/{id}/items/{n} entitled but GET
// /orders/{id}/{x} not (the Deny GET/orders/*/* also refuses GET
// /orders/1/items/2). A literal route entitled beside a parameter sibling
// that is not (GET /orders/mine allowed, GET /orders/{id} not) is
// expressible and exact: the literal's Allow has no wildcard and nothing
// needs denying.
//
// Paths that no route matches never reach an authorizer (REST answers 403
// "Missing Authentication Token" first; an HTTP API answers 404 or routes
// them to $default, whose routeArn is …/$default). Policy denies them where
// that costs nothing, but an Allow such as GET/orders/* still covers GET
// /orders/1/extra when a deeper entitled route (GET /orders/{id}/items)
// rules out the Deny.
//
// A resource longer than 512 characters is never emitted: its Allow is left
// out, and so is every Allow that would need a Deny that long. With no Allow
// left, or no entitled rule at all, the policy is a single Deny of
// …/{stage}/*/*, which API Gateway turns into 403. If arn is not a valid
// execute-api ARN (see [ParseARN]) the policy is a single Deny of "*".
//
// The first Policy for an entitlement set runs the searches its patterns
// need (microseconds to a few milliseconds for real tables) and caches the
// plan in rs; later calls only build the document. Safe for concurrent use.
func (rs *Rules) Policy(arn ARN, allowed []Rule) Document {
	if p, err := ParseARN(arn.String()); err != nil || p != arn {
		return denyAll("*")
	}
	base := arn.base()
	p := rs.plan(rs.set(allowed), MaxResourceLength-len(base))
	if len(p.allow) == 0 {
		return denyAll(base + "*/*")
	}
	doc := Document{Version: Version2012, Statement: []Statement{statement(EffectAllow, base, p.allow)}}
	if len(p.deny) > 0 {
		doc.Statement = append(doc.Statement, statement(EffectDeny, base, p.deny))
	}
	return doc
}

func denyAll(resource string) Document {
	return Document{Version: Version2012, Statement: []Statement{{
		Effect: EffectDeny, Action: StringOrList{ActionInvoke}, Resource: StringOrList{resource},
	}}}
}

func statement(effect, base string, suffixes []string) Statement {
	res := make(StringOrList, len(suffixes))
	for i, s := range suffixes {
		res[i] = base + s
	}
	return Statement{Effect: effect, Action: StringOrList{ActionInvoke}, Resource: res}
}

// set maps rules to the set of their table indices.
func (rs *Rules) set(rules []Rule) rset {
	var s rset
	for _, r := range rules {
		if i := rs.index(r); i >= 0 {
			s.add(i)
		}
	}
	return s
}

// plan is a policy before the ARN prefix is added.
type plan struct {
	allow, deny []string // resource suffixes after "…/{stage}/"
	// hurt holds entitled routes some Deny may refuse: the overlaps IAM
	// patterns cannot express.
	hurt rset
	// omitted holds entitled routes left without an Allow because a
	// resource would exceed 512 characters.
	omitted rset
	// tolerated holds entitled routes whose Allow may also cover paths no
	// route matches (see Policy).
	tolerated rset
}

// maxPlans bounds the plans a Rules keeps, one per distinct entitlement set
// (and ARN prefix length): real callers fall into a handful of sets.
const maxPlans = 4096

type planKey struct {
	entitled rset
	room     int
}

// plan returns the policy for the entitled routes, given room characters
// for each resource suffix, computing it on first use. The result is
// shared: callers must not modify it.
func (rs *Rules) plan(entitled rset, room int) *plan {
	k := planKey{entitled, room}
	if p, ok := rs.plans.Load(k); ok {
		return p.(*plan)
	}
	p := rs.computePlan(entitled, room)
	if rs.planCount.Add(1) <= maxPlans {
		rs.plans.Store(k, p)
	}
	return p
}

func (rs *Rules) computePlan(entitled rset, room int) *plan {
	active := entitled
	for {
		p, tooLong := rs.tryPlan(entitled, active, room)
		if tooLong.empty() {
			p.omitted = entitled.andNot(active)
			return &p
		}
		active = active.andNot(tooLong)
	}
}

// pattern is a resource pattern the policy may use, with what the search
// found about it (computed on first use; safe for concurrent use).
type pattern struct {
	glob   string // the resource suffix, e.g. "GET/orders/*"
	toks   nfa    // literals and tStar
	greedy int    // index of the token standing for {proxy+}, or -1
	roots  uint8  // bit m: the pattern matches the root path "/" with methods[m]

	once sync.Once
	an   analysis
}

// analysis is what the search found about one pattern.
type analysis struct {
	exact    rset      // regions reached with each non-greedy '*' taking exactly one segment
	variants []variant // the pattern with one non-greedy '*' doubled: its reach into deeper paths
	full     rset      // regions the whole pattern reaches
}

type variant struct {
	glob   string
	touch  rset
	method bool // the doubled '*' is the method of an ANY route
}

// prepare builds a route's automata and resource patterns.
func (rs *Rules) prepare(r *route) {
	if r.isDefault() {
		r.shape = nfa{{kind: tLit, sym: symDefault}}
		r.pat = rs.newPattern(r.shape, -1)
		return
	}
	var pat nfa
	greedy := -1
	if r.method == "ANY" {
		r.shape = append(r.shape, tok{kind: tMethod})
		pat = append(pat, tok{kind: tStar})
	} else {
		m := tok{kind: tLit, sym: symMethod0 + methodIndex(r.method)}
		r.shape = append(r.shape, m)
		pat = append(pat, m)
	}
	if len(r.segs) == 0 {
		root := tok{kind: tLit, sym: symEmpty}
		r.shape = append(r.shape, root)
		pat = append(pat, root)
	}
	for _, s := range r.segs {
		switch s.kind {
		case segLit:
			l := tok{kind: tLit, sym: rs.symOf(s.lit)}
			r.shape = append(r.shape, l)
			pat = append(pat, l)
		case segParam:
			r.shape = append(r.shape, tok{kind: tParam})
			pat = append(pat, tok{kind: tStar})
		case segGreedy:
			greedy = len(pat)
			r.shape = append(r.shape, tok{kind: tGreedy})
			pat = append(pat, tok{kind: tStar})
		}
	}
	r.pat = rs.newPattern(pat, greedy)
	if r.method != "ANY" {
		return
	}
	for m := range methods {
		if _, ok := rs.byKey[methods[m]+strings.TrimPrefix(r.key, "ANY")]; ok {
			continue
		}
		pm := slices.Clone(pat)
		pm[0] = tok{kind: tLit, sym: symMethod0 + m}
		r.perM[m] = rs.newPattern(pm, greedy)
	}
}

func (rs *Rules) newPattern(toks nfa, greedy int) *pattern {
	p := &pattern{glob: rs.glob(toks), toks: toks, greedy: greedy}
	for m, name := range methods {
		if globMatch(p.glob, name+"/") {
			p.roots |= 1 << m
		}
	}
	return p
}

// analyse runs the searches for p once.
func (rs *Rules) analyse(p *pattern) *analysis {
	p.once.Do(func() {
		exact := slices.Clone(p.toks)
		for i, t := range exact {
			if t.kind == tStar && i != p.greedy {
				exact[i] = tok{kind: tOneAny}
			}
		}
		p.an.exact = rs.touch(exact)
		p.an.full = p.an.exact
		for i, t := range p.toks {
			if t.kind != tStar || i == p.greedy {
				continue
			}
			v := slices.Insert(slices.Clone(p.toks), i, tok{kind: tStar})
			tv := rs.touch(v)
			p.an.variants = append(p.an.variants, variant{glob: rs.glob(v), touch: tv, method: i == 0})
			p.an.full = p.an.full.or(tv)
		}
	})
	return &p.an
}

// patterns returns the Allow patterns for route r: its own pattern, or for
// an ANY route whose '*' method would reach, through deeper paths, requests
// of a route the caller is not entitled to that cannot be denied without
// refusing entitled ones, one pattern per method, which have no such reach.
func (rs *Rules) patterns(r *route, entitled, active rset, room int) []*pattern {
	if r.method != "ANY" {
		return []*pattern{r.pat}
	}
	var none rset
	none.add(unmatched)
	for _, v := range rs.analyse(r.pat).variants {
		if v.method && !v.touch.andNot(entitled).andNot(none).empty() && !(v.touch.and(active).empty() && len(v.glob) <= room) {
			var out []*pattern
			for _, p := range r.perM {
				if p != nil {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return []*pattern{r.pat}
}

// tryPlan plans with Allows for the active routes (entitled, minus those
// dropped so far) and returns the routes whose Allows must be dropped
// because a resource would not fit in room.
func (rs *Rules) tryPlan(entitled, active rset, room int) (plan, rset) {
	var p plan
	var tooLong rset
	denied := map[string]bool{}
	deny := func(glob string) {
		if !denied[glob] {
			denied[glob] = true
			p.deny = append(p.deny, glob)
		}
	}
	need := map[int]rset{} // route to deny -> the Allows that reach it
	wildcard := false
	var roots uint8
	for _, r := range rs.routes {
		if !active.has(r.index) {
			continue
		}
		pats := rs.patterns(r, entitled, active, room)
		if slices.ContainsFunc(pats, func(x *pattern) bool { return len(x.glob) > room }) {
			tooLong.add(r.index)
			continue
		}
		var by rset
		by.add(r.index)
		for _, pt := range pats {
			p.allow = append(p.allow, pt.glob)
			roots |= pt.roots
			wildcard = wildcard || strings.Contains(pt.glob, "*")
			if r.isDefault() {
				continue // an exact resource no other pattern reaches
			}
			an := rs.analyse(pt)
			for _, q := range an.exact.andNot(entitled).members() {
				if q != unmatched && !rs.routes[q].isRoot() {
					need[q] = need[q].or(by)
				}
			}
			for _, v := range an.variants {
				bad := v.touch.andNot(entitled)
				if bad.empty() {
					continue
				}
				if v.touch.and(active).empty() && len(v.glob) <= room {
					deny(v.glob)
					continue
				}
				for _, q := range bad.members() {
					switch {
					case q == unmatched:
						p.tolerated.add(r.index)
					case !rs.routes[q].isRoot():
						need[q] = need[q].or(by)
					}
				}
			}
		}
	}

	qs := make([]int, 0, len(need))
	for q := range need {
		qs = append(qs, q)
	}
	slices.Sort(qs)
	for _, q := range qs {
		r := rs.routes[q]
		full := rs.analyse(r.pat).full
		if full.and(active).empty() && len(r.pat.glob) <= room {
			deny(r.pat.glob)
			continue
		}
		if r.method == "ANY" && !slices.ContainsFunc(r.perM[:], func(x *pattern) bool { return x != nil && len(x.glob) > room }) {
			// Per method, the deny does not reach deeper paths through '*'.
			for _, pm := range r.perM {
				if pm != nil {
					deny(pm.glob)
					p.hurt = p.hurt.or(rs.analyse(pm).full.and(active))
				}
			}
			continue
		}
		if len(r.pat.glob) > room {
			tooLong = tooLong.or(need[q])
			continue
		}
		deny(r.pat.glob)
		p.hurt = p.hurt.or(full.and(active))
	}

	// The root path: '*' may match the empty segment, so GET/* covers "GET/".
	for m, name := range methods {
		if roots&(1<<m) == 0 {
			continue
		}
		if o := rs.matchPath(name, "/"); o == noRoute || !entitled.has(o) {
			deny(name + "/")
		}
	}
	// Requests with empty segments match no route; '*' could cover them.
	if wildcard {
		deny("*//*")
		deny("*/*/")
	}
	p.hurt = p.hurt.and(active)
	return p, tooLong
}
