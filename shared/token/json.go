package token

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays in a header or claims
// set. Real tokens nest two or three levels; the bound sizes the parser's
// explicit stack.
const maxDepth = 32

// maxInput bounds what the parser accepts, so that offsets fit in a ref.
const maxInput = 1 << 20

// ref locates a string: data[off:end] of the parsed input, or, when end
// has inArena set, arena[off:end&^inArena] for a member name that had
// escapes and was decoded. Refs hold no pointers, so the parser's scratch
// can live on the stack and a Claims costs the garbage collector nothing
// to scan for them; they are 8 bytes, so a Claims stays small.
type ref struct {
	off, end uint32
}

// inArena marks a ref into the arena; offsets stay below maxInput.
const inArena = 1 << 31

func dataRef(off, end int) ref  { return ref{uint32(off), uint32(end)} }
func arenaRef(off, end int) ref { return ref{uint32(off), uint32(end) | inArena} }

// member is one top-level member of a JSON object: its decoded name and
// its value as raw JSON without surrounding whitespace.
type member struct {
	name, raw ref
}

// text is what the parsed JSON is held as: bytes while parsing, and a
// string in the [Claims], whose claim strings then alias it instead of
// being copied.
type text interface{ ~string | ~[]byte }

// object is a parsed JSON object's top-level members.
type object[T text] struct {
	data    T
	arena   T // decoded member names that had escapes
	members []member
}

func (o *object[T]) bytes(r ref) T {
	if r.end&inArena != 0 {
		return o.arena[r.off : r.end&^inArena]
	}
	return o.data[r.off:r.end]
}

// get returns the raw value of the member called name.
func (o *object[T]) get(name string) (T, bool) {
	for _, m := range o.members {
		if string(o.bytes(m.name)) == name {
			return o.bytes(m.raw), true
		}
	}
	var zero T
	return zero, false
}

// syntaxError describes why a header or claims set is not acceptable JSON.
// It carries an offset, never the offending bytes.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// parser holds the position in the input for the scanning helpers of
// parseObject.
type parser struct {
	data []byte
	pos  int
}

// linearNames is the member count up to which duplicates are found by
// comparing each new name with the object's earlier ones; past it, an
// object's names are sorted when it closes: O(n log n) for hostile input.
const linearNames = 24

// nameKey is a member name with a cheap summary of its bytes (length,
// first four and last three bytes), compared before the bytes themselves.
type nameKey struct {
	ref
	key uint64
}

func keyOf(name []byte) uint64 {
	k := uint64(len(name))
	for i := 0; i < len(name) && i < 4; i++ {
		k = k<<8 | uint64(name[i])
	}
	for i := max(4, len(name)-3); i < len(name); i++ {
		k = k<<8 | uint64(name[i])
	}
	return k
}

// frame is one open object or array.
type frame struct {
	object bool
	base   int // the object's first name in names
}

// Parser states: what nested expects next.
const (
	expectMemberOrClose = iota // after '{'
	expectMember               // after ',' in an object
	expectValueOrClose         // after '['
	expectValue                // after ':' or ',' in an array
	afterValue                 // a value ended at p.pos
)

// parseObject parses data, which must hold exactly one JSON object, and
// appends its top-level members to dst. It rejects anything encoding/json
// would reject, and also invalid UTF-8, escaped lone surrogates, nesting
// deeper than maxDepth and duplicate member names (compared after
// unescaping) in any object. The result aliases data and dst.
//
// It is one pass without recursion. The top-level object, where a token's
// claims are, has a direct loop; nested values go to [parser.nested], an
// explicit-stack machine. All scratch space (open objects' names, the
// stack) is on the caller's stack for all but very large objects.
func parseObject(data []byte, dst []member) (object[[]byte], error) {
	p := parser{data: data}
	if len(data) > maxInput {
		return object[[]byte]{}, p.fail("JSON too large")
	}
	p.skipSpace()
	if p.pos >= len(data) || data[p.pos] != '{' {
		return object[[]byte]{}, p.fail("not a JSON object")
	}
	p.pos++

	var nameBuf [64]nameKey
	names := nameBuf[:0] // the top-level names, then those of open nested objects
	var arena []byte     // decoded names that had escapes
	top := dst

	p.skipSpace()
	if p.pos < len(data) && data[p.pos] == '}' {
		p.pos++
		return p.end(object[[]byte]{data: data, members: top})
	}
	for {
		var name ref
		var err error
		if name, names, arena, err = p.memberName(names, 0, arena); err != nil {
			return object[[]byte]{}, err
		}
		p.skipSpace()
		start := p.pos
		if p.pos >= len(data) {
			return object[[]byte]{}, p.fail("unexpected end of JSON")
		}
		switch c := data[p.pos]; {
		case c == '"':
			_, _, err = p.str()
		case c == '-' || (c >= '0' && c <= '9'):
			err = p.number()
		case c == '{' || c == '[':
			arena, err = p.nested(names, arena)
		case c == 't':
			err = p.literal("true")
		case c == 'f':
			err = p.literal("false")
		case c == 'n':
			err = p.literal("null")
		default:
			err = p.fail("invalid character")
		}
		if err != nil {
			return object[[]byte]{}, err
		}
		top = append(top, member{name: name, raw: dataRef(start, p.pos)})
		p.skipSpace()
		if p.pos >= len(data) {
			return object[[]byte]{}, p.fail("unexpected end of JSON")
		}
		switch data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
		default:
			return object[[]byte]{}, p.fail("expected comma or closing bracket or brace")
		}
		if err := checkManyNames(&p, names, arena); err != nil {
			return object[[]byte]{}, err
		}
		p.pos++
		return p.end(object[[]byte]{data: data, arena: arena, members: top})
	}
}

// end checks that only whitespace follows the top-level object.
func (p *parser) end(o object[[]byte]) (object[[]byte], error) {
	p.skipSpace()
	if p.pos != len(p.data) {
		return object[[]byte]{}, p.fail("data after the JSON object")
	}
	return o, nil
}

// memberName parses a member name and its colon, at p.pos after optional
// whitespace, for the object whose names start at names[base:]. Small
// objects are checked for duplicates as each name arrives; larger ones
// are sorted when they close (checkManyNames). Names with escapes are
// decoded into the arena, which the returned ref then points into.
//
// It returns names and arena grown; they are passed and returned by value
// so that the caller's stack buffers stay on the stack.
func (p *parser) memberName(names []nameKey, base int, arena []byte) (ref, []nameKey, []byte, error) {
	p.skipSpace()
	data := p.data
	if p.pos >= len(data) || data[p.pos] != '"' {
		return ref{}, nil, nil, p.fail("expected member name")
	}
	start := p.pos + 1
	inner, escaped, err := p.str()
	if err != nil {
		return ref{}, nil, nil, err
	}
	name := dataRef(start, start+len(inner))
	if escaped {
		n := len(arena)
		arena = appendUnescaped(arena, inner)
		name = arenaRef(n, len(arena))
		inner = arena[n:]
	}
	k := nameKey{ref: name, key: keyOf(inner)}
	if own := names[base:]; len(own) < linearNames {
		for _, n := range own {
			if n.key != k.key {
				continue
			}
			if o := (object[[]byte]{data: data, arena: arena}); bytes.Equal(o.bytes(n.ref), inner) {
				p.pos = start - 1
				return ref{}, nil, nil, p.fail("duplicate member name")
			}
		}
	}
	names = append(names, k)
	p.skipSpace()
	if p.pos >= len(data) || data[p.pos] != ':' {
		return ref{}, nil, nil, p.fail("expected colon")
	}
	p.pos++
	return name, names, arena, nil
}

// checkManyNames finds duplicates among the names of an object that is
// closing, if it had too many for the check as each name arrived: sorted,
// duplicates are neighbours, so hostile input costs O(n log n).
func checkManyNames(p *parser, own []nameKey, arena []byte) error {
	if len(own) <= linearNames {
		return nil
	}
	o := object[[]byte]{data: p.data, arena: arena}
	slices.SortFunc(own, func(a, b nameKey) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return bytes.Compare(o.bytes(a.ref), o.bytes(b.ref))
	})
	for i := 1; i < len(own); i++ {
		if own[i-1].key == own[i].key && bytes.Equal(o.bytes(own[i-1].ref), o.bytes(own[i].ref)) {
			return p.fail("duplicate member name in the object ending")
		}
	}
	return nil
}

// nested parses the object or array at p.pos, a top-level member's value,
// with an explicit stack of at most maxDepth-1 open containers (the
// top-level object is the first of maxDepth). Names of its objects go
// after the top-level names and are dropped as each object closes; it
// returns the arena, grown by any escaped names.
func (p *parser) nested(names []nameKey, arena []byte) ([]byte, error) {
	data := p.data
	var stack [maxDepth - 1]frame
	depth := 0
	state := expectValue
	for {
		switch state {
		case expectMemberOrClose:
			p.skipSpace()
			state = expectMember
			if p.pos < len(data) && data[p.pos] == '}' {
				state = afterValue // the close is handled there
			}
		case expectValueOrClose:
			p.skipSpace()
			state = expectValue
			if p.pos < len(data) && data[p.pos] == ']' {
				state = afterValue
			}
		case expectMember:
			var err error
			if _, names, arena, err = p.memberName(names, stack[depth-1].base, arena); err != nil {
				return nil, err
			}
			state = expectValue
		case expectValue:
			p.skipSpace()
			if p.pos >= len(data) {
				return nil, p.fail("unexpected end of JSON")
			}
			state = afterValue
			var err error
			switch c := data[p.pos]; {
			case c == '{' || c == '[':
				if depth == len(stack) {
					return nil, p.fail("nested too deeply")
				}
				stack[depth] = frame{object: c == '{', base: len(names)}
				depth++
				p.pos++
				state = expectMemberOrClose
				if c == '[' {
					state = expectValueOrClose
				}
			case c == '"':
				_, _, err = p.str()
			case c == 't':
				err = p.literal("true")
			case c == 'f':
				err = p.literal("false")
			case c == 'n':
				err = p.literal("null")
			case c == '-' || (c >= '0' && c <= '9'):
				err = p.number()
			default:
				err = p.fail("invalid character")
			}
			if err != nil {
				return nil, err
			}
		case afterValue:
			// A value ended at p.pos, or an open container is about to
			// close (possibly empty).
			f := &stack[depth-1]
			p.skipSpace()
			if p.pos >= len(data) {
				return nil, p.fail("unexpected end of JSON")
			}
			switch c := data[p.pos]; {
			case c == ',':
				p.pos++
				state = expectValue
				if f.object {
					state = expectMember
				}
				continue
			case c == '}' && f.object:
				if err := checkManyNames(p, names[f.base:], arena); err != nil {
					return nil, err
				}
				names = names[:f.base]
			case c == ']' && !f.object:
			default:
				return nil, p.fail("expected comma or closing bracket or brace")
			}
			p.pos++
			depth--
			if depth == 0 {
				return arena, nil
			}
		}
	}
}

func (p *parser) fail(msg string) error { return &syntaxError{msg: msg, off: p.pos} }

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) digits() int {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}

func (p *parser) number() error {
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos >= len(p.data):
		return p.fail("invalid number")
	case p.data[p.pos] == '0':
		p.pos++
	case p.data[p.pos] >= '1' && p.data[p.pos] <= '9':
		p.digits()
	default:
		return p.fail("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return p.fail("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return p.fail("invalid number")
		}
	}
	return nil
}

// plain reports the bytes that may appear unescaped in a JSON string and
// need no further check: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses a string at p.pos and returns its raw contents (between the
// quotes) and whether they contain escapes.
//
// It works on local copies of the input and position, which the compiler
// keeps in registers, and skips plain bytes eight at a time: the masks
// below flag every byte that is below 0x20, '"', '\\' or from 0x80, and
// the lowest flag is exact (a borrow only ever flags bytes above a flagged
// one), so the scan jumps straight to the first byte that needs a look.
func (p *parser) str() (inner []byte, escaped bool, err error) {
	data := p.data
	start := p.pos + 1 // after the opening quote
	pos := start
	for {
		for pos+8 <= len(data) {
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			x := binary.LittleEndian.Uint64(data[pos:])
			q, b := x^('"'*ones), x^('\\'*ones)
			m := ((x-0x20*ones)&^x | (q-ones)&^q | (b-ones)&^b | x) & highs
			if m != 0 {
				pos += bits.TrailingZeros64(m) >> 3
				break
			}
			pos += 8
		}
		// Past the fast loop, or near the end: one byte at a time until a
		// byte that needs a look.
		for pos < len(data) && plain[data[pos]] {
			pos++
		}
		if pos >= len(data) {
			p.pos = pos
			return nil, false, p.fail("unterminated string")
		}
		switch c := data[pos]; {
		case c == '"':
			p.pos = pos + 1
			return data[start:pos], escaped, nil
		case c == '\\':
			escaped = true
			p.pos = pos
			if err := p.escape(); err != nil {
				return nil, false, err
			}
			pos = p.pos
		case c < 0x20:
			p.pos = pos
			return nil, false, p.fail("control character in string")
		default:
			r, size := utf8.DecodeRune(data[pos:])
			if r == utf8.RuneError && size == 1 {
				p.pos = pos
				return nil, false, p.fail("invalid UTF-8 in string")
			}
			pos += size
		}
	}
}

// escape validates one escape sequence at p.pos (at the backslash),
// including the low half that must follow an escaped high surrogate.
func (p *parser) escape() error {
	if p.pos+1 >= len(p.data) {
		return p.fail("unterminated string")
	}
	switch p.data[p.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.pos += 2
		return nil
	case 'u':
	default:
		return p.fail("invalid escape")
	}
	r, ok := hex4(p.data[p.pos+2:])
	if !ok {
		return p.fail("invalid escape")
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return p.fail("lone surrogate escape")
	case r >= 0xD800 && r <= 0xDBFF:
		rest := p.data[p.pos+6:]
		if len(rest) < 2 || rest[0] != '\\' || rest[1] != 'u' {
			return p.fail("lone surrogate escape")
		}
		lo, ok := hex4(rest[2:])
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return p.fail("lone surrogate escape")
		}
		p.pos += 12
	default:
		p.pos += 6
	}
	return nil
}

func hex4[T text](b T) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for i := range 4 {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the decoded form of inner, the contents of a JSON
// string that the parser has already validated, to dst.
func appendUnescaped[T text](dst []byte, inner T) []byte {
	for i := 0; i < len(inner); {
		c := inner[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch inner[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(inner[i+2:])
			i += 6
			if r >= 0xD800 && r <= 0xDBFF {
				lo, _ := hex4(inner[i+2:])
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, inner[i+1])
		}
		i += 2
	}
	return dst
}

// hasBackslash reports whether b holds a backslash, that is, whether a
// validated string's contents have escapes.
func hasBackslash[T text](b T) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			return true
		}
	}
	return false
}

// errNotString and its siblings describe a registered claim or header
// parameter of the wrong JSON type.
var (
	errNotString  = errors.New("not a JSON string")
	errNotStrings = errors.New("not a JSON string or array of strings")
	errNotDate    = errors.New("not a JSON number of seconds in range")
	errNotBool    = errors.New("not a JSON boolean")
)

// stringBytes returns the decoded contents of raw, a validated JSON value,
// if it is a string. It allocates only when the string has escapes;
// otherwise the result aliases raw.
func stringBytes[T text](raw T) (T, error) {
	if len(raw) < 2 || raw[0] != '"' {
		var zero T
		return zero, errNotString
	}
	inner := raw[1 : len(raw)-1]
	if !hasBackslash(inner) {
		return inner, nil
	}
	return T(appendUnescaped(make([]byte, 0, len(inner)), inner)), nil
}

// eachString calls fn with the contents of raw, a validated JSON value,
// if it is a string, or of each of its elements if it is an array of
// strings; escaped reports whether contents need appendUnescaped. Any
// other value, or an array with a non-string element, yields errNotStrings
// (possibly after fn has seen some elements).
func eachString[T text](raw T, fn func(inner T, escaped bool)) error {
	if len(raw) == 0 || (raw[0] != '"' && raw[0] != '[') {
		return errNotStrings
	}
	if raw[0] == '"' {
		inner := raw[1 : len(raw)-1]
		fn(inner, hasBackslash(inner))
		return nil
	}
	// raw is a validated array: between elements there is only
	// whitespace and commas, and a string ends at the first quote that no
	// backslash escapes.
	for i := 1; i < len(raw); i++ {
		switch raw[i] {
		case ' ', '\t', '\n', '\r', ',', ']':
			continue
		case '"':
		default:
			return errNotStrings
		}
		start, escaped := i+1, false
		for i = start; raw[i] != '"'; i++ {
			if raw[i] == '\\' {
				escaped = true
				i++
			}
		}
		fn(raw[start:i], escaped)
	}
	return nil
}

// boolValue decodes raw, a validated JSON value, as a boolean.
func boolValue[T text](raw T) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errNotBool
}

// maxDateSeconds bounds numeric dates to what time.Time and float64
// arithmetic represent exactly enough: about 285 million years.
const maxDateSeconds = 1 << 53

// numericDate decodes raw, a validated JSON value, as an RFC 7519
// NumericDate: a JSON number of seconds since the epoch, possibly
// fractional or in exponent form. Strings and other types are refused.
func numericDate[T text](raw T) (time.Time, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, errNotDate
	}
	// Integers, the usual form, are read exactly without strconv.
	neg := raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	var n int64
	integer := true
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			integer = false // a fraction or exponent
			break
		}
		n = n*10 + int64(c-'0')
		if n > maxDateSeconds {
			return time.Time{}, errNotDate
		}
	}
	if integer {
		if neg {
			n = -n
		}
		return time.Unix(n, 0), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f > maxDateSeconds || f < -maxDateSeconds {
		return time.Time{}, errNotDate
	}
	sec := int64(f)
	if float64(sec) > f { // truncation rounded a negative value up
		sec--
	}
	nsec := int64((f - float64(sec)) * 1e9)
	return time.Unix(sec, nsec), nil
}
