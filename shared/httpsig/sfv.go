package httpsig

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is a strict parser and serializer for the part of Structured
// Field Values (RFC 8941) that Signature-Input, Signature and Content-Digest
// use: dictionaries whose members are items or inner lists, with
// parameters. It is strict where RFC 8941 is lenient or resolves conflicts
// silently: a repeated dictionary key or parameter key is an error (RFC
// 8941 keeps the last one, which would let two readers of one header see
// different values), byte sequences must be canonical padded base64, and
// RFC 9651's dates and display strings are refused.

// ErrStructuredField is wrapped by every structured-field parse error.
var ErrStructuredField = errors.New("invalid structured field")

// Limits that keep parsing bounded for any input.
const (
	maxFieldLength  = 8 << 10 // bytes in one field value
	maxMembers      = 16      // dictionary members
	maxInnerItems   = 64      // items in one inner list
	maxParams       = 16      // parameters on one item or inner list
	maxIntegerDigit = 15      // RFC 8941: at most 15 digits
)

type itemKind uint8

const (
	kindInteger itemKind = iota + 1
	kindDecimal
	kindString
	kindToken
	kindBytes
	kindBool
)

// bareItem is one RFC 8941 bare item.
type bareItem struct {
	kind itemKind
	num  int64  // kindInteger
	text string // kindString and kindToken values; kindDecimal as written
	data []byte // kindBytes
	flag bool   // kindBool
}

type param struct {
	key string
	val bareItem
}

// item is a bare item with its parameters.
type item struct {
	bare   bareItem
	params []param
}

// member is one dictionary member: an item, or an inner list with its own
// parameters.
type member struct {
	key    string
	inner  bool
	item   item   // when !inner
	list   []item // when inner
	params []param
}

func sfErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrStructuredField, fmt.Sprintf(format, a...))
}

// parseDictionary parses a dictionary field value (RFC 8941 Section 4.2.2).
func parseDictionary(s string) ([]member, error) {
	if len(s) > maxFieldLength {
		return nil, sfErr("%d bytes, more than %d", len(s), maxFieldLength)
	}
	p := &sfParser{s: strings.TrimLeft(s, " ")}
	p.s = strings.TrimRight(p.s, " ")
	if p.s == "" {
		return nil, sfErr("empty dictionary")
	}
	var out []member
	seen := map[string]bool{}
	for {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, sfErr("dictionary key %q repeated", key)
		}
		seen[key] = true
		m := member{key: key}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				m.inner = true
				if m.list, err = p.innerList(); err != nil {
					return nil, err
				}
				if m.params, err = p.parameters(); err != nil {
					return nil, err
				}
			} else {
				if m.item, err = p.item(); err != nil {
					return nil, err
				}
			}
		} else {
			m.item.bare = bareItem{kind: kindBool, flag: true}
			if m.item.params, err = p.parameters(); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
		if len(out) > maxMembers {
			return nil, sfErr("more than %d members", maxMembers)
		}
		p.ows()
		if p.done() {
			return out, nil
		}
		if p.peek() != ',' {
			return nil, sfErr("want ',' at byte %d", p.i)
		}
		p.i++
		p.ows()
		if p.done() {
			return nil, sfErr("trailing comma")
		}
	}
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// ows skips optional whitespace (SP and HTAB) between members.
func (p *sfParser) ows() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *sfParser) key() (string, error) {
	start := p.i
	c := p.peek()
	if !(c >= 'a' && c <= 'z' || c == '*') {
		return "", sfErr("want a key at byte %d", p.i)
	}
	for !p.done() {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) innerList() ([]item, error) {
	p.i++ // '('
	var out []item
	for {
		for p.peek() == ' ' {
			p.i++
		}
		if p.peek() == ')' {
			p.i++
			return out, nil
		}
		if p.done() {
			return nil, sfErr("unterminated inner list")
		}
		it, err := p.item()
		if err != nil {
			return nil, err
		}
		out = append(out, it)
		if len(out) > maxInnerItems {
			return nil, sfErr("more than %d items in an inner list", maxInnerItems)
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, sfErr("want ' ' or ')' at byte %d", p.i)
		}
	}
}

func (p *sfParser) item() (item, error) {
	b, err := p.bareItem()
	if err != nil {
		return item{}, err
	}
	ps, err := p.parameters()
	if err != nil {
		return item{}, err
	}
	return item{bare: b, params: ps}, nil
}

func (p *sfParser) parameters() ([]param, error) {
	var out []param
	for p.peek() == ';' {
		p.i++
		for p.peek() == ' ' {
			p.i++
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		for _, x := range out {
			if x.key == key {
				return nil, sfErr("parameter %q repeated", key)
			}
		}
		v := bareItem{kind: kindBool, flag: true}
		if p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		out = append(out, param{key: key, val: v})
		if len(out) > maxParams {
			return nil, sfErr("more than %d parameters", maxParams)
		}
	}
	return out, nil
}

func (p *sfParser) bareItem() (bareItem, error) {
	c := p.peek()
	switch {
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return p.token(), nil
	case c == ':':
		return p.bytes()
	case c == '?':
		return p.boolean()
	}
	return bareItem{}, sfErr("want an item at byte %d", p.i)
}

func (p *sfParser) number() (bareItem, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits, dot, frac := 0, false, 0
	if c := p.peek(); c < '0' || c > '9' {
		return bareItem{}, sfErr("want a digit at byte %d", p.i)
	}
loop:
	for !p.done() {
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9':
			if dot {
				frac++
			} else {
				digits++
			}
		case c == '.' && !dot:
			if digits > 12 {
				return bareItem{}, sfErr("decimal with more than 12 integer digits")
			}
			dot = true
		default:
			break loop
		}
		if !dot && digits > maxIntegerDigit {
			return bareItem{}, sfErr("integer with more than %d digits", maxIntegerDigit)
		}
		p.i++
	}
	text := p.s[start:p.i]
	if dot {
		if frac == 0 || frac > 3 {
			return bareItem{}, sfErr("decimal %q: want 1 to 3 fractional digits", text)
		}
		return bareItem{kind: kindDecimal, text: text}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return bareItem{}, sfErr("integer %q", text)
	}
	return bareItem{kind: kindInteger, num: n}, nil
}

func (p *sfParser) str() (bareItem, error) {
	p.i++ // '"'
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.done() {
				return bareItem{}, sfErr("unterminated string")
			}
			e := p.s[p.i]
			if e != '"' && e != '\\' {
				return bareItem{}, sfErr("bad escape in string")
			}
			b.WriteByte(e)
			p.i++
		case c == '"':
			return bareItem{kind: kindString, text: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return bareItem{}, sfErr("byte %#x in a string", c)
		default:
			b.WriteByte(c)
		}
	}
	return bareItem{}, sfErr("unterminated string")
}

func (p *sfParser) token() bareItem {
	start := p.i
	p.i++
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return bareItem{kind: kindToken, text: p.s[start:p.i]}
}

// isTokenChar is RFC 9110 tchar plus ':' and '/'.
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

var strictStd = base64.StdEncoding.Strict()

func (p *sfParser) bytes() (bareItem, error) {
	p.i++ // ':'
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return bareItem{}, sfErr("unterminated byte sequence")
	}
	enc := p.s[p.i : p.i+end]
	p.i += end + 1
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return bareItem{}, sfErr("byte %#x in a byte sequence", c)
		}
	}
	data, err := strictStd.DecodeString(enc)
	if err != nil {
		return bareItem{}, sfErr("byte sequence is not canonical padded base64")
	}
	return bareItem{kind: kindBytes, data: data}, nil
}

func (p *sfParser) boolean() (bareItem, error) {
	p.i++ // '?'
	switch p.peek() {
	case '0':
		p.i++
		return bareItem{kind: kindBool}, nil
	case '1':
		p.i++
		return bareItem{kind: kindBool, flag: true}, nil
	}
	return bareItem{}, sfErr("want ?0 or ?1")
}

// serialization (RFC 8941 Section 4.1), for the signature base.

func writeBareItem(b *strings.Builder, v bareItem) {
	switch v.kind {
	case kindInteger:
		b.WriteString(strconv.FormatInt(v.num, 10))
	case kindDecimal, kindToken:
		b.WriteString(v.text)
	case kindString:
		writeString(b, v.text)
	case kindBytes:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(v.data))
		b.WriteByte(':')
	case kindBool:
		if v.flag {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func writeParams(b *strings.Builder, ps []param) {
	for _, p := range ps {
		b.WriteByte(';')
		b.WriteString(p.key)
		if p.val.kind == kindBool && p.val.flag {
			continue
		}
		b.WriteByte('=')
		writeBareItem(b, p.val)
	}
}

func writeInnerList(b *strings.Builder, list []item, ps []param) {
	b.WriteByte('(')
	for i, it := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeBareItem(b, it.bare)
		writeParams(b, it.params)
	}
	b.WriteByte(')')
	writeParams(b, ps)
}
