package httpsig

import (
	"strings"
	"testing"
)

// serializeDictionary is the RFC 8941 serialization of parsed members, for
// the round-trip property.
func serializeDictionary(ms []member) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.key)
		switch {
		case m.inner:
			b.WriteByte('=')
			writeInnerList(&b, m.list, m.params)
		case m.item.bare.kind == kindBool && m.item.bare.flag:
			writeParams(&b, m.item.params)
		default:
			b.WriteByte('=')
			writeBareItem(&b, m.item.bare)
			writeParams(&b, m.item.params)
		}
	}
	return b.String()
}

// FuzzParseDictionary checks that the strict parser never panics, and that
// whatever it accepts serializes to a form it parses back to the same
// serialization (so the @signature-params line is well defined).
func FuzzParseDictionary(f *testing.F) {
	for _, s := range []string{
		`sig1=("@method" "@authority" "@path" "content-digest");created=1618884473;keyid="test-key";alg="hmac-sha256"`,
		`sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:`,
		`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:`,
		`a=?0, b, c;foo=bar, d=-12.345;x, e=tok/en:1`,
		`a=(1 2.5 "x\"y" ?1 :AA==:);p, b=()`,
		`a=1, a=2`,
		`sig1=("@method";sf "x");created=1;created=2`,
		` a=1 ,	b=2 `,
		`a=1,`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseDictionary(s)
		if err != nil {
			return
		}
		out := serializeDictionary(ms)
		again, err := parseDictionary(out)
		if err != nil {
			t.Fatalf("parse(%q) ok, but its serialization %q does not parse: %v", s, out, err)
		}
		if out2 := serializeDictionary(again); out2 != out {
			t.Fatalf("serialization not stable: %q then %q", out, out2)
		}
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.key] {
				t.Fatalf("parse(%q) kept repeated key %q", s, m.key)
			}
			seen[m.key] = true
		}
	})
}
