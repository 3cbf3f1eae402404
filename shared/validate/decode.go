package validate

import (
	"html"
	"strings"
	"unicode/utf8"
)

// maxDecodeRounds bounds how many layers of encoding are peeled off a value
// before it is inspected. Three rounds undo double encoding (%253C) plus one
// layer of HTML entities, the deepest nesting seen in real payload lists.
const maxDecodeRounds = 3

// percentDecode decodes %XX escapes and the non-standard %uXXXX escapes that
// some servers still honour. It is lenient: a malformed escape is kept as it
// is, because the goal is to see what a permissive backend would see, not to
// judge the encoding. With plusSpace, '+' becomes a space (query strings and
// form bodies). The result may be invalid UTF-8; callers inspect bytes.
func percentDecode(s string, plusSpace bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plusSpace || strings.IndexByte(s, '+') < 0) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plusSpace:
			b.WriteByte(' ')
		case c != '%':
			b.WriteByte(c)
		case i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') &&
			isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
			r := rune(unhex(s[i+2]))<<12 | rune(unhex(s[i+3]))<<8 | rune(unhex(s[i+4]))<<4 | rune(unhex(s[i+5]))
			b.WriteRune(r) // surrogates become U+FFFD, as utf8 requires
			i += 5
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// htmlDecode replaces HTML character references (&lt; &#60; &#x3c; and the
// legacy forms without a semicolon) with the characters they stand for, as a
// browser's tokenizer would inside text or an attribute value.
func htmlDecode(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return html.UnescapeString(s)
}

// foldWidth maps fullwidth ASCII variants (U+FF01..U+FF5E, such as ＜ and ＞)
// to ASCII. Backends that apply Unicode NFKC normalisation turn them into
// markup after validation has run.
func foldWidth(s string) string {
	if !hasFullwidth(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if 0xFF01 <= r && r <= 0xFF5E {
			b.WriteByte(byte(r - 0xFF01 + 0x21))
		} else {
			b.WriteString(s[i : i+size]) // invalid bytes are kept as they are
		}
		i += size
	}
	return b.String()
}

func hasFullwidth(s string) bool {
	for i := 0; i < len(s); i++ {
		// Every rune in U+FF01..U+FF5E is encoded as EF BC xx or EF BD xx.
		if s[i] == 0xEF && i+1 < len(s) && (s[i+1] == 0xBC || s[i+1] == 0xBD) {
			return true
		}
	}
	return false
}

// decodedForms returns s followed by each distinct result of peeling one more
// layer of percent-encoding, HTML character references and fullwidth
// characters, at most maxDecodeRounds layers. Every form is inspected: an
// attacker chooses how many layers the backend will undo.
func decodedForms(s string) []string {
	forms := []string{s}
	cur := s
	for range maxDecodeRounds {
		next := foldWidth(htmlDecode(percentDecode(cur, false)))
		if next == cur {
			break
		}
		forms = append(forms, next)
		cur = next
	}
	return forms
}
