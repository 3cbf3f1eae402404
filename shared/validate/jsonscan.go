package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// jsonLimits bound what parseJSON accepts. Every field must be positive.
type jsonLimits struct {
	maxBytes   int // body length in bytes
	maxDepth   int // nesting of objects and arrays; a scalar document has depth 0
	maxMembers int // object members plus array elements, over the whole document
}

// parseError is a pre-parse failure: the rule the document breaks and the
// location (unescaped JSON pointer segments) where it broke it.
type parseError struct {
	rule Rule
	path []string
}

func (e *parseError) Error() string { return string(e.rule) + " at " + pointerString(e.path) }

// frame is one open object or array.
type frame struct {
	isObj  bool
	obj    map[string]any
	folded map[string]struct{} // case-folded names seen, for duplicate detection
	key    string              // the member whose value is being parsed
	arr    []any
}

type jsonParser struct {
	b     []byte
	i     int
	lim   jsonLimits
	stack []frame
	count int
}

// parseJSON checks b in one iterative pass, with an explicit stack and no
// recursion, and returns its value as map[string]any, []any, string,
// json.Number, bool or nil. It rejects, with a *parseError:
//   - a body longer than maxBytes (RuleBodyTooLarge), before reading it;
//   - anything that is not one RFC 8259 JSON text (RuleInvalidJSON);
//   - invalid UTF-8 or an unpaired UTF-16 surrogate escape (RuleInvalidUTF8);
//   - a member name repeated in one object, compared after unescaping and
//     Unicode simple case folding, because decoders disagree on which copy
//     wins and Go's encoding/json matches struct fields case-insensitively
//     (RuleDuplicateMember);
//   - a number a float64 cannot hold exactly (RuleNumberPrecision, see
//     exactNumber);
//   - nesting deeper than maxDepth (RuleMaxDepth), as soon as the opening
//     bracket is read, so 1e6 '[' cost a few dozen steps;
//   - more than maxMembers members and elements (RuleMaxMembers).
//
// Memory is bounded by the body size (already bounded by maxBytes) plus
// maxDepth frames.
func parseJSON(b []byte, lim jsonLimits) (any, error) {
	if len(b) > lim.maxBytes {
		return nil, &parseError{rule: RuleBodyTooLarge}
	}
	p := &jsonParser{b: b, lim: lim}
	return p.run()
}

func (p *jsonParser) fail(rule Rule) error {
	return &parseError{rule: rule, path: p.path()}
}

// path is the location of the value being parsed.
func (p *jsonParser) path() []string {
	segs := make([]string, 0, len(p.stack))
	for _, f := range p.stack {
		if f.isObj {
			segs = append(segs, f.key)
		} else {
			segs = append(segs, strconv.Itoa(len(f.arr)))
		}
	}
	return segs
}

func (p *jsonParser) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) run() (any, error) {
	for {
		// Read one value, or open a container and go round for its first value.
		p.skipWS()
		if p.i >= len(p.b) {
			return nil, p.fail(RuleInvalidJSON)
		}
		var v any
		switch c := p.b[p.i]; {
		case c == '{' || c == '[':
			if len(p.stack) >= p.lim.maxDepth {
				return nil, p.fail(RuleMaxDepth)
			}
			p.i++
			p.skipWS()
			if c == '{' {
				if p.i < len(p.b) && p.b[p.i] == '}' {
					p.i++
					v = map[string]any{}
					break
				}
				p.stack = append(p.stack, frame{isObj: true, obj: map[string]any{}, folded: map[string]struct{}{}})
				if err := p.readKey(); err != nil {
					return nil, err
				}
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				v = []any{}
				break
			}
			p.stack = append(p.stack, frame{})
			continue
		case c == '"':
			s, err := p.readString()
			if err != nil {
				return nil, err
			}
			v = s
		case c == 't':
			if !bytes.HasPrefix(p.b[p.i:], []byte("true")) {
				return nil, p.fail(RuleInvalidJSON)
			}
			p.i += 4
			v = true
		case c == 'f':
			if !bytes.HasPrefix(p.b[p.i:], []byte("false")) {
				return nil, p.fail(RuleInvalidJSON)
			}
			p.i += 5
			v = false
		case c == 'n':
			if !bytes.HasPrefix(p.b[p.i:], []byte("null")) {
				return nil, p.fail(RuleInvalidJSON)
			}
			p.i += 4
			v = nil
		case c == '-' || '0' <= c && c <= '9':
			n, err := p.readNumber()
			if err != nil {
				return nil, err
			}
			v = n
		default:
			return nil, p.fail(RuleInvalidJSON)
		}

		// Attach the value, closing every container it completes.
		for {
			if len(p.stack) == 0 {
				p.skipWS()
				if p.i != len(p.b) {
					return nil, p.fail(RuleInvalidJSON)
				}
				return v, nil
			}
			p.count++
			if p.count > p.lim.maxMembers {
				return nil, p.fail(RuleMaxMembers)
			}
			top := &p.stack[len(p.stack)-1]
			if top.isObj {
				top.obj[top.key] = v
			} else {
				top.arr = append(top.arr, v)
			}
			p.skipWS()
			if p.i >= len(p.b) {
				return nil, p.fail(RuleInvalidJSON)
			}
			c := p.b[p.i]
			if c == ',' {
				p.i++
				if top.isObj {
					if err := p.readKey(); err != nil {
						return nil, err
					}
				}
				break // read the next value
			}
			if top.isObj && c == '}' {
				v = top.obj
			} else if !top.isObj && c == ']' {
				v = top.arr
			} else {
				return nil, p.fail(RuleInvalidJSON)
			}
			p.i++
			p.stack = p.stack[:len(p.stack)-1]
		}
	}
}

// readKey reads `"name":` into the top frame, rejecting duplicates. A
// malformed name is reported at the object, a duplicate at the name.
func (p *jsonParser) readKey() error {
	top := &p.stack[len(p.stack)-1]
	top.key = ""
	atObject := func(rule Rule) error {
		path := p.path()
		return &parseError{rule: rule, path: path[:len(path)-1]}
	}
	p.skipWS()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return atObject(RuleInvalidJSON)
	}
	name, err := p.readString()
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return atObject(pe.rule)
		}
		return err
	}
	f := foldName(name)
	if _, dup := top.folded[f]; dup {
		path := p.path()
		return &parseError{rule: RuleDuplicateMember, path: append(path[:len(path)-1], name)}
	}
	top.folded[f] = struct{}{}
	p.skipWS()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return atObject(RuleInvalidJSON)
	}
	p.i++
	top.key = name
	return nil
}

// foldName maps name to a canonical case-folded form, so that names equal
// under Unicode simple case folding (as decoders that ignore case compare
// them) map to the same string: "role", "ROLE", and "Role" all become "role",
// and so do spellings with the Kelvin sign K or the long s ſ, which fold to
// ASCII letters. Each rune becomes the lower-case ASCII letter of its folding
// orbit if there is one, else the orbit's smallest rune. An all-ASCII name
// that is already lower case is returned without allocating.
func foldName(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(name)
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	m, asciiLetter := r, rune(-1)
	if r < utf8.RuneSelf {
		asciiLetter = r
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
		if f < utf8.RuneSelf {
			asciiLetter = f
		}
	}
	if asciiLetter >= 0 {
		return unicode.ToLower(asciiLetter)
	}
	return m
}

// readString reads a JSON string starting at the opening quote.
func (p *jsonParser) readString() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := string(p.b[start:p.i])
			p.i++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.i++
	}
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.fail(RuleInvalidJSON)
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return "", p.fail(RuleInvalidJSON)
			}
			switch e := p.b[p.i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4(p.i + 2)
				if !ok {
					return "", p.fail(RuleInvalidJSON)
				}
				switch {
				case 0xD800 <= r && r < 0xDC00:
					if p.i+7 >= len(p.b) || p.b[p.i+6] != '\\' || p.b[p.i+7] != 'u' {
						return "", p.fail(RuleInvalidUTF8)
					}
					lo, ok := p.hex4(p.i + 8)
					if !ok {
						return "", p.fail(RuleInvalidJSON)
					}
					if lo < 0xDC00 || lo > 0xDFFF {
						return "", p.fail(RuleInvalidUTF8)
					}
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					p.i += 6
				case 0xDC00 <= r && r <= 0xDFFF:
					return "", p.fail(RuleInvalidUTF8)
				}
				buf = utf8.AppendRune(buf, r)
				p.i += 4
			default:
				return "", p.fail(RuleInvalidJSON)
			}
			p.i += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.fail(RuleInvalidUTF8)
			}
			buf = append(buf, p.b[p.i:p.i+size]...)
			p.i += size
		}
	}
	return "", p.fail(RuleInvalidJSON)
}

func (p *jsonParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[at : at+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// readNumber reads an RFC 8259 number and checks exactNumber.
func (p *jsonParser) readNumber() (json.Number, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case digits() == 0:
		return "", p.fail(RuleInvalidJSON)
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", p.fail(RuleInvalidJSON)
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", p.fail(RuleInvalidJSON)
		}
	}
	s := string(p.b[start:p.i])
	if !exactNumber(s) {
		return "", p.fail(RuleNumberPrecision)
	}
	return json.Number(s), nil
}

// maxSafeInteger is 2^53, the largest integer below which every integer has
// an exact float64 (and JavaScript number).
const maxSafeInteger = "9007199254740992"

// exactNumber reports whether the JSON number s (grammar already checked)
// survives a float64 unchanged, which is what most JSON decoders and every
// JavaScript backend turn it into:
//   - a number whose value is an integer (whatever its notation: 12, 1.2e1)
//     must lie within ±2^53 (RFC 7493, I-JSON); larger identifiers belong in
//     strings;
//   - any other number must be the shortest decimal that round-trips through
//     float64, so 0.1 and 3.14159 pass but 0.10000000000000001 (17
//     significant digits that parse to the same float as 0.1) and 1e-400
//     (underflows to 0) fail, as does anything beyond ±1.8e308.
func exactNumber(s string) bool {
	mant, exp, ok := decimalParts(s)
	if !ok {
		return false
	}
	if mant == "" {
		return true // zero
	}
	if exp >= 0 {
		n := len(mant) + exp
		switch {
		case n < len(maxSafeInteger):
			return true
		case n > len(maxSafeInteger):
			return false
		}
		return mant+strings.Repeat("0", exp) <= maxSafeInteger
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f == 0 {
		return false
	}
	m2, e2, ok := decimalParts(strconv.FormatFloat(math.Abs(f), 'e', -1, 64))
	return ok && m2 == mant && e2 == exp
}

// decimalParts writes the absolute value of the decimal number s as
// mant × 10^exp, with mant free of leading and trailing zeros ("" for zero).
// It reports false when the exponent is too large to be meaningful.
func decimalParts(s string) (mant string, exp int, ok bool) {
	s = strings.TrimPrefix(s, "-")
	num, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(num, ".")
	if hasExp {
		expPart = strings.TrimPrefix(expPart, "+")
		e, err := strconv.Atoi(expPart)
		if err != nil || e > 1_000_000 || e < -1_000_000 {
			// Zero with any exponent is still zero; anything else is out of
			// float64 range either way.
			if strings.Trim(intPart+frac, "0") == "" {
				return "", 0, true
			}
			return "", 0, false
		}
		exp = e
	}
	mant = strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	if mant == "" {
		return "", 0, true
	}
	trimmed := strings.TrimRight(mant, "0")
	exp += len(mant) - len(trimmed)
	return trimmed, exp, true
}
