package validate

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
)

var (
	errDigestSyntax      = errors.New("content-digest: not a structured-field dictionary of byte sequences")
	errDigestUnsupported = errors.New("content-digest: no sha-256 or sha-512 member")
	errDigestMismatch    = errors.New("content-digest: body does not match")
)

// maxDigestHeader bounds the header we parse; real ones are under 200 bytes.
const maxDigestHeader = 4096

// verifyContentDigest checks body against a Content-Digest field value (RFC
// 9530). Every sha-256 and sha-512 member must match; members for other
// algorithms, including the insecure ones the registry deprecates (md5, sha,
// unixsum, crc32c, ...), are ignored, and a header with neither sha-256 nor
// sha-512 is rejected, as is any header that is not a valid dictionary whose
// values are byte sequences. A repeated key is rejected rather than resolved
// "last one wins" (RFC 8941), so that every party that reads the header (the
// request authorizer that verified a signature over it, this validator, the
// backend) reads the same digests.
func verifyContentDigest(field string, body []byte) error {
	members, err := parseDigestDictionary(field)
	if err != nil {
		return err
	}
	checked := false
	for _, m := range members {
		var sum []byte
		switch m.key {
		case "sha-256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "sha-512":
			s := sha512.Sum512(body)
			sum = s[:]
		default:
			continue
		}
		checked = true
		if subtle.ConstantTimeCompare(sum, m.value) != 1 {
			return errDigestMismatch
		}
	}
	if !checked {
		return errDigestUnsupported
	}
	return nil
}

type digestMember struct {
	key   string
	value []byte
}

// parseDigestDictionary parses an RFC 8941 (RFC 9651) Dictionary whose
// member values must all be Byte Sequences, as RFC 9530 requires. Parameters
// on a member are parsed and ignored. Unlike RFC 8941, a duplicate key is an
// error.
func parseDigestDictionary(s string) ([]digestMember, error) {
	if len(s) > maxDigestHeader {
		return nil, errDigestSyntax
	}
	p := sfParser{s: s}
	p.skipSP()
	var out []digestMember
	seen := map[string]bool{}
	for {
		key, ok := p.key()
		if !ok || seen[key] {
			return nil, errDigestSyntax
		}
		seen[key] = true
		if !p.consume('=') {
			return nil, errDigestSyntax // a bare key is Boolean true, not a digest
		}
		val, ok := p.byteSequence()
		if !ok || !p.parameters() {
			return nil, errDigestSyntax
		}
		out = append(out, digestMember{key: key, value: val})
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if !p.consume(',') {
			return nil, errDigestSyntax
		}
		p.skipOWS()
		if p.eof() {
			return nil, errDigestSyntax // trailing comma
		}
	}
}

// sfParser reads the parts of RFC 8941 structured fields Content-Digest uses.
type sfParser struct {
	s string
	i int
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }

func (p *sfParser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *sfParser) skipSP() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// key reads ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfParser) key() (string, bool) {
	start := p.i
	if p.eof() || !(isLCAlpha(p.s[p.i]) || p.s[p.i] == '*') {
		return "", false
	}
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !(isLCAlpha(c) || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], true
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }

// byteSequence reads ":" base64 ":". Padding may be omitted, as RFC 8941
// asks parsers to tolerate.
func (p *sfParser) byteSequence() ([]byte, bool) {
	if !p.consume(':') {
		return nil, false
	}
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return nil, false
	}
	enc := p.s[p.i : p.i+end]
	p.i += end + 1
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, false
		}
	}
	enc64 := base64.RawStdEncoding.Strict()
	if strings.IndexByte(enc, '=') >= 0 {
		enc64 = base64.StdEncoding.Strict()
	}
	b, err := enc64.DecodeString(enc)
	if err != nil {
		return nil, false
	}
	return b, true
}

// parameters reads *( ";" *SP key [ "=" bare-item ] ) and discards them.
func (p *sfParser) parameters() bool {
	for p.consume(';') {
		p.skipSP()
		if _, ok := p.key(); !ok {
			return false
		}
		if p.consume('=') && !p.bareItem() {
			return false
		}
	}
	return true
}

// bareItem reads (and discards) an Integer, Decimal, String, Token, Byte
// Sequence or Boolean.
func (p *sfParser) bareItem() bool {
	if p.eof() {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '-' || '0' <= c && c <= '9':
		p.consume('-')
		start := p.i
		for p.i < len(p.s) && ('0' <= p.s[p.i] && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		n := p.s[start:p.i]
		return n != "" && n[0] != '.' && n[len(n)-1] != '.' && strings.Count(n, ".") <= 1 && len(n) <= 16
	case c == '"':
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '\\':
				if p.eof() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
					return false
				}
				p.i++
			case c == '"':
				return true
			case c < 0x20 || c > 0x7e:
				return false
			}
		}
		return false
	case c == ':':
		_, ok := p.byteSequence()
		return ok
	case c == '?':
		p.i++
		return p.consume('0') || p.consume('1')
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '*':
		p.i++
		for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
			p.i++
		}
		return true
	}
	return false
}

// isTokenChar reports tchar / ":" / "/" (RFC 9110, RFC 8941 sf-token).
func isTokenChar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}
