package policy

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// This file decides, for a resource pattern the policy might use, which
// requests it covers in terms of the route table: the set of routes that
// own at least one request the pattern matches ("regions"), plus
// "unmatched" when it matches a request no route owns.
//
// The model. Every resource of a generated policy starts with the same
// literal "arn:…:{apiId}/{stage}/", so only the rest matters: a request is
// the list of its "/"-separated segments, method first ("GET/orders/42" is
// [GET orders 42]; the root path "GET/" is [GET ""]; the HTTP API $default
// route is [$default]). Every '*' in a generated pattern fills whole
// segments, because each is bounded by '/' or the ends of the string, so
// the IAM glob match is the same as matching a token list in which '*'
// takes one or more whole segments. Routing and pattern matching then
// depend on a segment only through which route literal, method or
// "$default" it equals, or whether it is empty; all other values behave
// alike. That gives a finite alphabet; every pattern and route shape is a
// small linear automaton over it, and a breadth-first search of their
// product visits every distinct behaviour. The search is exact, not a
// sampling, within a work budget (see searchWork) past which it answers a
// safe superset.

// Symbols of the abstract alphabet.
const (
	symOther   = 0 // a non-empty segment equal to no literal, method or "$default"
	symEmpty   = 1 // the empty segment
	symDefault = 2 // "$default"
	symMethod0 = 3 // methods[i] is symMethod0+i
	symLit0    = symMethod0 + len(methods)
)

func isMethodSym(s int) bool { return s >= symMethod0 && s < symLit0 }

// buildAlphabet gives every distinct literal path segment a symbol.
func (rs *Rules) buildAlphabet() {
	for _, r := range rs.routes {
		for _, s := range r.segs {
			if s.kind == segLit && methodIndex(s.lit) < 0 {
				if _, ok := rs.alpha[s.lit]; !ok {
					rs.alpha[s.lit] = symLit0 + len(rs.lits)
					rs.lits = append(rs.lits, s.lit)
				}
			}
		}
	}
}

func (rs *Rules) symOf(s string) int {
	switch {
	case s == "":
		return symEmpty
	case s == DefaultRoute:
		return symDefault
	case methodIndex(s) >= 0:
		return symMethod0 + methodIndex(s)
	}
	if v, ok := rs.alpha[s]; ok {
		return v
	}
	return symOther
}

type tokKind uint8

const (
	tLit    tokKind = iota // exactly one segment equal to sym
	tStar                  // IAM '*': one or more segments, any value
	tOneAny                // exactly one segment, any value
	tParam                 // {param}: exactly one non-empty segment
	tGreedy                // {proxy+}: one or more non-empty segments
	tMethod                // ANY: exactly one segment that is an HTTP method
)

type tok struct {
	kind tokKind
	sym  int
}

func (t tok) accepts(s int) bool {
	switch t.kind {
	case tLit:
		return s == t.sym
	case tStar, tOneAny:
		return true
	case tParam, tGreedy:
		return s != symEmpty
	case tMethod:
		return isMethodSym(s)
	}
	return false
}

func (t tok) repeats() bool { return t.kind == tStar || t.kind == tGreedy }

// nfa is a linear automaton: state j means the first j tokens are consumed,
// the last of them possibly still absorbing segments if it repeats. Sets of
// states are bitmasks; routes have at most MaxSegments+2 tokens.
type nfa []tok

func (n nfa) step(set uint64, s int) uint64 {
	var out uint64
	for set != 0 {
		j := bits.TrailingZeros64(set)
		set &= set - 1
		if j < len(n) && n[j].accepts(s) {
			out |= 1 << (j + 1)
		}
		if j > 0 && n[j-1].repeats() && n[j-1].accepts(s) {
			out |= 1 << j
		}
	}
	return out
}

func (n nfa) final(set uint64) bool { return set&(1<<len(n)) != 0 }

// glob renders a pattern automaton (tLit and tStar tokens) as the resource
// suffix it stands for.
func (rs *Rules) glob(n nfa) string {
	var b strings.Builder
	for i, t := range n {
		if i > 0 {
			b.WriteByte('/')
		}
		switch {
		case t.kind == tStar:
			b.WriteByte('*')
		case t.sym == symDefault:
			b.WriteString(DefaultRoute)
		case isMethodSym(t.sym):
			b.WriteString(methods[t.sym-symMethod0])
		case t.sym != symEmpty:
			b.WriteString(rs.literal(t.sym))
		}
	}
	return b.String()
}

func (rs *Rules) literal(sym int) string { return rs.lits[sym-symLit0] }

// Well-formed requests: [method] followed by [""] (the root) or by
// non-empty segments, or [$default] alone. Other shapes ("//", a trailing
// "/") are handled by two fixed Deny patterns instead (see plan).
const (
	wfStart uint8 = iota
	wfMethod
	wfRoot
	wfPath
	wfDefault
	wfDead
)

func wfStep(st uint8, s int) uint8 {
	switch st {
	case wfStart:
		if isMethodSym(s) {
			return wfMethod
		}
		if s == symDefault {
			return wfDefault
		}
	case wfMethod:
		if s == symEmpty {
			return wfRoot
		}
		return wfPath
	case wfPath:
		if s != symEmpty {
			return wfPath
		}
	}
	return wfDead
}

func wfAccepts(st uint8) bool { return st == wfRoot || st == wfPath || st == wfDefault }

// rset is a set of regions: route indices, and unmatched.
type rset [(MaxRules + 1 + 63) / 64]uint64

const unmatched = MaxRules // the region of requests no route owns

func (s *rset) add(i int)         { s[i/64] |= 1 << (i % 64) }
func (s rset) has(i int) bool     { return s[i/64]&(1<<(i%64)) != 0 }
func (s rset) and(t rset) rset    { return s.op(t, func(a, b uint64) uint64 { return a & b }) }
func (s rset) or(t rset) rset     { return s.op(t, func(a, b uint64) uint64 { return a | b }) }
func (s rset) andNot(t rset) rset { return s.op(t, func(a, b uint64) uint64 { return a &^ b }) }
func (s rset) op(t rset, f func(a, b uint64) uint64) rset {
	for i := range s {
		s[i] = f(s[i], t[i])
	}
	return s
}
func (s rset) empty() bool { return s == rset{} }

// members returns the set's elements in increasing order.
func (s rset) members() []int {
	var out []int
	for w, x := range s {
		for x != 0 {
			out = append(out, w*64+bits.TrailingZeros64(x))
			x &= x - 1
		}
	}
	return out
}

// searchWork bounds the automaton steps of all the searches a table can
// need together (under a second of CPU measured for a pathological table of
// 256 parameter-heavy routes); each search gets an equal share, fixed by the
// table alone so results never depend on the order of requests. Realistic
// tables stay well inside their share (none of 263 patterns of a 256-rule
// REST-style table ran out).
// A search that runs out answers every region its pattern intersects (plus
// unmatched): a superset of the truth, which only makes the policy more
// cautious (more Deny, more false 403s), never more permissive.
const searchWork = 30_000_000

// setBudget fixes the work each search may do.
func (rs *Rules) setBudget() {
	searches := 0
	for _, r := range rs.routes {
		searches += len(r.pat.toks) + 1 // the exact part and at most one variant per '*'
		for _, p := range r.perM {
			if p != nil {
				searches += len(p.toks) + 1
			}
		}
	}
	rs.budget = searchWork / max(searches, 1)
}

// touch returns the regions of the well-formed requests c accepts.
func (rs *Rules) touch(c nfa) rset {
	var rel []*route
	var bound rset // the regions c could touch at most
	bound.add(unmatched)
	for _, r := range rs.routes {
		if intersects(c, r.shape) {
			rel = append(rel, r)
			bound.add(r.index)
		}
	}
	// Highest precedence first: the first accepting route owns the request.
	slices.SortFunc(rel, func(a, b *route) int { return b.rank - a.rank })
	alpha := rs.symbols(c, rel)
	width := len(rel) + 1 // sets[0] is c, sets[k+1] is rel[k]
	work, perState := 0, len(alpha)*width

	type node struct {
		wf   uint8
		sets []uint64
	}
	start := node{wf: wfStart, sets: make([]uint64, width)}
	for i := range start.sets {
		start.sets[i] = 1
	}
	var out rset
	seen := map[string]bool{}
	queue := []node{start}
	buf := make([]uint64, width)
	var key []byte
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if work += perState; work > rs.budget {
			return bound
		}
		for _, s := range alpha {
			wf := wfStep(n.wf, s)
			if wf == wfDead {
				continue
			}
			cs := c.step(n.sets[0], s)
			if cs == 0 {
				continue
			}
			buf[0] = cs
			for k, r := range rel {
				buf[k+1] = 0
				if n.sets[k+1] != 0 {
					buf[k+1] = r.shape.step(n.sets[k+1], s)
				}
			}
			if wfAccepts(wf) && c.final(cs) {
				owner := unmatched
				for k, r := range rel {
					if r.shape.final(buf[k+1]) {
						owner = r.index
						break
					}
				}
				out.add(owner)
			}
			if wf == wfRoot || wf == wfDefault {
				continue // nothing may follow
			}
			key = append(key[:0], wf)
			for k, x := range buf {
				if x != 0 {
					key = binary.AppendUvarint(key, uint64(k))
					key = binary.AppendUvarint(key, x)
				}
			}
			if !seen[string(key)] {
				seen[string(key)] = true
				queue = append(queue, node{wf: wf, sets: slices.Clone(buf)})
			}
		}
	}
	return out
}

// symbols is the alphabet one search needs: the three fixed symbols, the
// methods, and the literals c and the relevant routes mention. Literals
// nobody mentions behave like symOther.
func (rs *Rules) symbols(c nfa, rel []*route) []int {
	out := []int{symOther, symEmpty, symDefault}
	for i := range methods {
		out = append(out, symMethod0+i)
	}
	seen := map[int]bool{}
	add := func(n nfa) {
		for _, t := range n {
			if t.kind == tLit && t.sym >= symLit0 && !seen[t.sym] {
				seen[t.sym] = true
				out = append(out, t.sym)
			}
		}
	}
	add(c)
	for _, r := range rel {
		add(r.shape)
	}
	return out
}

// intersects reports whether some segment list could be accepted by both a
// and b (ignoring well-formedness, so it may say yes too often, never too
// rarely). It walks pairs of states, so it needs no alphabet.
func intersects(a, b nfa) bool {
	w := len(b) + 1
	seen := make([]bool, (len(a)+1)*w)
	stack := []int{0}
	seen[0] = true
	moves := func(n nfa, j int, f func(t tok, to int)) {
		if j < len(n) {
			f(n[j], j+1)
		}
		if j > 0 && n[j-1].repeats() {
			f(n[j-1], j)
		}
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := p/w, p%w
		if i == len(a) && j == len(b) {
			return true
		}
		moves(a, i, func(ta tok, ni int) {
			moves(b, j, func(tb tok, nj int) {
				if q := ni*w + nj; !seen[q] && compatible(ta, tb) {
					seen[q] = true
					stack = append(stack, q)
				}
			})
		})
	}
	return false
}

// compatible reports whether one segment exists that both tokens accept.
func compatible(a, b tok) bool {
	if a.kind == tLit {
		return b.accepts(a.sym)
	}
	if b.kind == tLit {
		return a.accepts(b.sym)
	}
	for _, s := range [...]int{symOther, symEmpty, symDefault, symMethod0} {
		if a.accepts(s) && b.accepts(s) {
			return true
		}
	}
	return false
}
