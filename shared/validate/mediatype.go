package validate

import (
	"fmt"
	"mime"
	"strings"
)

// bodyKind is how a body of an accepted media type is checked.
type bodyKind uint8

const (
	bodyBinary bodyKind = iota // size and digest only
	bodyJSON                   // pre-parser, mass-assignment guard, schema, injection
	bodyForm                   // application/x-www-form-urlencoded: names and values
	bodyText                   // text/*: UTF-8 and injection over the whole text
)

// mediaRange is one accepted media type from a route's contentTypes:
// "type/subtype", "type/*" or a structured-suffix range such as
// "application/*+json".
type mediaRange struct {
	typ, sub string // lower case; sub is "*" or "*+suffix" for ranges
}

func parseMediaRange(s string) (mediaRange, error) {
	typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "/")
	if !ok || !isRestrictedName(typ) || typ == "*" {
		return mediaRange{}, fmt.Errorf("content type %q: want type/subtype, type/* or type/*+suffix", s)
	}
	switch {
	case sub == "*":
	case strings.HasPrefix(sub, "*+") && isRestrictedName(sub[2:]):
	case isRestrictedName(sub):
	default:
		return mediaRange{}, fmt.Errorf("content type %q: want type/subtype, type/* or type/*+suffix", s)
	}
	return mediaRange{typ: typ, sub: sub}, nil
}

// isRestrictedName checks RFC 6838 restricted-name characters.
func isRestrictedName(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&-^_.+", c) >= 0) {
			return false
		}
	}
	return true
}

func (m mediaRange) matches(typ, sub string) bool {
	if m.typ != typ {
		return false
	}
	switch {
	case m.sub == "*":
		return true
	case strings.HasPrefix(m.sub, "*+"):
		return strings.HasSuffix(sub, m.sub[1:]) && len(sub) > len(m.sub)-1
	}
	return m.sub == sub
}

func (m mediaRange) kind() bodyKind {
	return kindOf(m.typ, m.sub)
}

// kindOf classifies a concrete (or range) media type.
func kindOf(typ, sub string) bodyKind {
	switch {
	case typ == "application" && sub == "json", strings.HasSuffix(sub, "+json"):
		return bodyJSON
	case typ == "application" && sub == "x-www-form-urlencoded":
		return bodyForm
	case typ == "text":
		return bodyText
	}
	return bodyBinary
}

// matchContentType parses a Content-Type value (mime.ParseMediaType: case-
// insensitive names, quoted parameters, duplicate parameters rejected) and
// returns the kind of the first accepted range it matches. JSON, form and
// text bodies must be UTF-8: a charset parameter other than utf-8 (or, for
// text, us-ascii) is not accepted.
func matchContentType(value string, accepted []mediaRange) (bodyKind, bool) {
	if value == "" {
		return 0, false
	}
	mt, params, err := mime.ParseMediaType(value)
	if err != nil {
		return 0, false
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "*" || sub == "*" || strings.HasPrefix(sub, "*") {
		return 0, false // a range is not a content type
	}
	for _, m := range accepted {
		if !m.matches(typ, sub) {
			continue
		}
		k := kindOf(typ, sub)
		if cs, ok := params["charset"]; ok && k != bodyBinary {
			cs = strings.ToLower(cs)
			if cs != "utf-8" && !(k == bodyText && cs == "us-ascii") {
				return 0, false
			}
		}
		return k, true
	}
	return 0, false
}
