package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestVerifyContentDigest(t *testing.T) {
	body := []byte(`{"hello": "world"}`)
	// From RFC 9530 section 2, Figure 2 and Appendix D for this body.
	const rfc256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
	const rfc512 = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
	tests := []struct {
		name, field string
		want        error
	}{
		{"RFC sha-256", rfc256, nil},
		{"RFC sha-512", rfc512, nil},
		{"both", rfc256 + ", " + rfc512, nil},
		{"both, tab after comma", rfc256 + ",\t" + rfc512, nil},
		{"leading spaces", "  " + rfc256, nil},
		{"unpadded base64", strings.TrimSuffix(strings.TrimSuffix(rfc256, ":"), "=") + ":", nil},
		{"parameters ignored", rfc256 + `;note="x";n=1;ok;t=tok/en;b=?1;d=1.5`, nil},
		{"insecure extra member ignored", "md5=:mZFLkyvTelC5g8XnyQrpOw==:, " + rfc256, nil},
		{"mismatch", "sha-256=:" + strings.Repeat("A", 43) + "=:", errDigestMismatch},
		{"wrong length digest", "sha-256=:AAAA:", errDigestMismatch},
		{"one good one bad", rfc256 + ", sha-512=:AAAA:", errDigestMismatch},
		{"only insecure", "md5=:mZFLkyvTelC5g8XnyQrpOw==:", errDigestUnsupported},
		{"unknown algorithm only", "sha-1024=:AAAA:", errDigestUnsupported},
		{"empty", "", errDigestSyntax},
		{"token, not bytes", "sha-256=abc", errDigestSyntax},
		{"string, not bytes", `sha-256="abc"`, errDigestSyntax},
		{"bare key", "sha-256", errDigestSyntax},
		{"upper-case key", "SHA-256=:AAAA:", errDigestSyntax},
		{"duplicate key", rfc256 + ", " + rfc256, errDigestSyntax},
		{"trailing comma", rfc256 + ",", errDigestSyntax},
		{"unterminated bytes", "sha-256=:AAAA", errDigestSyntax},
		{"bad base64", "sha-256=:A*AA:", errDigestSyntax},
		{"inner padding", "sha-256=:AA=A:", errDigestSyntax},
		{"garbage after member", rfc256 + " x", errDigestSyntax},
		{"bad parameter", rfc256 + ";=1", errDigestSyntax},
		{"too long", strings.Repeat(" ", maxDigestHeader) + rfc256, errDigestSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifyContentDigest(tt.field, body); !errors.Is(err, tt.want) {
				t.Errorf("verifyContentDigest(%q) = %v, want %v", tt.field, err, tt.want)
			}
		})
	}
}

func FuzzContentDigest(f *testing.F) {
	for _, s := range []string{
		"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
		"sha-512=:AAAA:, sha-256=:AAAA:;a=1",
		`a=:b:;c="d\"e";f=?0;g=-1.5;h=tok:en/x, *i=:=:`,
		"", ",", "a=", "a=:", ";", "sha-256=:AAAA:,\t",
	} {
		f.Add(s, []byte(`{"hello": "world"}`))
	}
	f.Fuzz(func(t *testing.T, field string, body []byte) {
		members, err := parseDigestDictionary(field)
		if err != nil {
			if !errors.Is(err, errDigestSyntax) {
				t.Fatalf("parseDigestDictionary(%q) = %v, want errDigestSyntax", field, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, m := range members {
			if m.key == "" || seen[m.key] {
				t.Fatalf("parseDigestDictionary(%q) returned key %q twice or empty", field, m.key)
			}
			seen[m.key] = true
		}
		err = verifyContentDigest(field, body)
		if err == nil && !seen["sha-256"] && !seen["sha-512"] {
			t.Fatalf("verifyContentDigest(%q) accepted a field without sha-256 or sha-512", field)
		}
	})
}
