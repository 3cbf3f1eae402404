package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseObject(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		wantErr string   // substring of the error; "" means accepted
		names   []string // top-level names, when accepted
	}{
		{"empty object", `{}`, "", nil},
		{"whitespace", " \t\r\n{ \"a\" : 1 , \"b\":[ ] }\n", "", []string{"a", "b"}},
		{"all value kinds", `{"s":"x","n":-1.5e+3,"z":0,"t":true,"f":false,"u":null,"a":[1,"2",{}],"o":{"k":[]}}`, "", []string{"s", "n", "z", "t", "f", "u", "a", "o"}},
		{"escaped name", `{"\u0061\n":1}`, "", []string{"a\n"}},
		{"surrogate pair", `{"\ud83d\ude00":1}`, "", []string{"😀"}},
		{"utf-8 name", `{"é😀":1}`, "", []string{"é😀"}},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":2},"x":3}`, "", []string{"a", "b", "x"}},
		{"same name at different depths", `{"x":{"x":{"x":1}}}`, "", []string{"x"}},
		{"many members", manyMembers(100, false), "", nil},

		{"empty input", ``, "not a JSON object", nil},
		{"array", `[]`, "not a JSON object", nil},
		{"string", `"x"`, "not a JSON object", nil},
		{"trailing data", `{} {}`, "data after", nil},
		{"trailing comma", `{"a":1,}`, "expected member name", nil},
		{"missing colon", `{"a" 1}`, "expected colon", nil},
		{"unquoted name", `{a:1}`, "expected member name", nil},
		{"single quotes", `{'a':1}`, "expected member name", nil},
		{"unterminated", `{"a":1`, "end of JSON", nil},
		{"unterminated string", `{"a":"x`, "unterminated string", nil},
		{"array trailing comma", `{"a":[1,]}`, "invalid character", nil},
		{"leading zero", `{"a":01}`, "expected comma", nil},
		{"bare minus", `{"a":-}`, "invalid number", nil},
		{"dot without digits", `{"a":1.}`, "invalid number", nil},
		{"exponent without digits", `{"a":1e+}`, "invalid number", nil},
		{"plus sign", `{"a":+1}`, "invalid character", nil},
		{"NaN", `{"a":NaN}`, "invalid character", nil},
		{"bad literal", `{"a":tru}`, "invalid literal", nil},
		{"literal with suffix", `{"a":truex}`, "expected comma", nil},
		{"control character", "{\"a\":\"x\x01\"}", "control character", nil},
		{"raw newline in string", "{\"a\":\"x\ny\"}", "control character", nil},
		{"bad escape", `{"a":"\x"}`, "invalid escape", nil},
		{"short unicode escape", `{"a":"\u12"}`, "invalid escape", nil},
		{"non-hex unicode escape", `{"a":"\u12G4"}`, "invalid escape", nil},
		{"lone high surrogate", `{"a":"\ud800"}`, "lone surrogate", nil},
		{"high surrogate then letter", `{"a":"\ud800x"}`, "lone surrogate", nil},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, "lone surrogate", nil},
		{"lone low surrogate", `{"a":"\udc00"}`, "lone surrogate", nil},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "invalid UTF-8", nil},
		{"truncated UTF-8", "{\"a\":\"\xe2\x82\"}", "invalid UTF-8", nil},
		{"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8", nil},
		{"UTF-8 surrogate", "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8", nil},
		{"invalid UTF-8 outside strings", "{\"a\":1\xff}", "expected comma", nil},
		{"byte order mark", "\xef\xbb\xbf{}", "not a JSON object", nil},
		{"duplicate", `{"a":1,"a":2}`, "duplicate member name", nil},
		{"duplicate after escape", `{"a":1,"\u0061":2}`, "duplicate member name", nil},
		{"duplicate surrogate pair", `{"😀":1,"\ud83d\ude00":2}`, "duplicate member name", nil},
		{"duplicate nested", `{"o":{"a":1,"a":2}}`, "duplicate member name", nil},
		{"duplicate in array", `{"a":[{"b":1},{"b":2,"b":3}]}`, "duplicate member name", nil},
		{"duplicate in large object", manyMembers(100, true), "duplicate member name", nil},
		{"depth at limit", `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, "", []string{"a"}},
		{"depth over limit", `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, "nested too deeply", nil},
		{"deep objects", strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000), "nested too deeply", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			members, err := parseObject([]byte(tc.in), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				var se *syntaxError
				if !errors.As(err, &se) {
					t.Errorf("err is %T, want *syntaxError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tc.names == nil {
				return
			}
			var got []string
			for _, m := range pairs(members) {
				got = append(got, string(m.name))
			}
			if strings.Join(got, "|") != strings.Join(tc.names, "|") {
				t.Errorf("names = %q, want %q", got, tc.names)
			}
		})
	}
}

type pair struct{ name, raw []byte }

// pairs resolves an object's members.
func pairs(o object[[]byte]) []pair {
	var out []pair
	for _, m := range o.members {
		out = append(out, pair{o.bytes(m.name), o.bytes(m.raw)})
	}
	return out
}

// manyMembers builds an object of n members, large enough for the
// map-based duplicate check, with the last one repeating the first if dup.
func manyMembers(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		name := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		if dup && i == n-1 {
			name = "a"
		}
		b.WriteString(`"` + name + `":` + "1")
	}
	return b.String() + "}"
}

func TestParseObjectRaw(t *testing.T) {
	in := `{ "a" : [1, 2] , "b":"x\"y", "c" :{"d":null}}`
	members, err := parseObject([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`[1, 2]`, `"x\"y"`, `{"d":null}`}
	for i, m := range pairs(members) {
		if string(m.raw) != want[i] {
			t.Errorf("raw %d = %q, want %q", i, m.raw, want[i])
		}
	}
}

func TestStringValues(t *testing.T) {
	cases := []struct {
		raw     string
		want    string
		wantErr bool
	}{
		{`"plain"`, "plain", false},
		{`""`, "", false},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t", false},
		{`"\u00e9\u20AC\ud83d\ude00x"`, "é€😀x", false},
		{`"é"`, "é", false},
		{`1`, "", true},
		{`null`, "", true},
		{`["a"]`, "", true},
	}
	for _, tc := range cases {
		got, err := stringValue([]byte(tc.raw))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("stringValue(%s) = %q, %v; want %q, error %v", tc.raw, got, err, tc.want, tc.wantErr)
		}
	}

	lists := []struct {
		raw     string
		want    string
		wantErr bool
	}{
		{`"one"`, "[one]", false},
		{`[]`, "[]", false},
		{`[ "a" , "b\u0021" ]`, "[a b!]", false},
		{`["a",1]`, "", true},
		{`[["a"]]`, "", true},
		{`[null]`, "", true},
		{`{}`, "", true},
		{`1`, "", true},
	}
	for _, tc := range lists {
		got, err := stringList([]byte(tc.raw))
		if err == nil && got == nil {
			got = []string{}
		}
		if (err != nil) != tc.wantErr || (err == nil && fmtList(got) != tc.want) {
			t.Errorf("stringList(%s) = %q, %v; want %s, error %v", tc.raw, got, err, tc.want, tc.wantErr)
		}
	}
}

// stringValue is stringBytes as a string.
func stringValue(raw []byte) (string, error) {
	b, err := stringBytes(raw)
	return string(b), err
}

// stringList collects what eachString reports, decoded.
func stringList(raw []byte) ([]string, error) {
	var out []string
	err := eachString(raw, func(inner []byte, escaped bool) {
		if escaped {
			inner = appendUnescaped(nil, inner)
		}
		out = append(out, string(inner))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func fmtList(l []string) string { return "[" + strings.Join(l, " ") + "]" }

func TestNumericDate(t *testing.T) {
	cases := []struct {
		raw     string
		want    time.Time
		wantErr bool
	}{
		{`0`, time.Unix(0, 0), false},
		{`1800000000`, time.Unix(1800000000, 0), false},
		{`-5`, time.Unix(-5, 0), false},
		{`1800000000.5`, time.Unix(1800000000, 5e8), false},
		{`1.8e9`, time.Unix(1800000000, 0), false},
		{`18E8`, time.Unix(1800000000, 0), false},
		{`-1.5`, time.Unix(-2, 5e8), false},
		{`9007199254740992`, time.Unix(1<<53, 0), false},
		{`9007199254740993`, time.Time{}, true},
		{`99999999999999999999999`, time.Time{}, true},
		{`1e300`, time.Time{}, true},
		{`-1e300`, time.Time{}, true},
		{`1e999`, time.Time{}, true},
		{`"1800000000"`, time.Time{}, true},
		{`null`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`[1]`, time.Time{}, true},
	}
	for _, tc := range cases {
		got, err := numericDate([]byte(tc.raw))
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("numericDate(%s) = %v, %v; want %v, error %v", tc.raw, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestAppendDERSignature(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		size := (curve.Params().BitSize + 7) / 8
		for _, rs := range [][2]*big.Int{
			{big.NewInt(1), big.NewInt(0x80)},
			{big.NewInt(0), big.NewInt(0)},
			{new(big.Int).Sub(curve.Params().N, big.NewInt(1)), big.NewInt(0x7f)},
			{new(big.Int).Lsh(big.NewInt(1), uint(8*size-1)), new(big.Int).Lsh(big.NewInt(1), uint(8*size-9))},
		} {
			raw := make([]byte, 2*size)
			rs[0].FillBytes(raw[:size])
			rs[1].FillBytes(raw[size:])
			var got struct{ R, S *big.Int }
			der := appendDERSignature(nil, raw[:size], raw[size:])
			rest, err := asn1.Unmarshal(der, &got)
			if err != nil || len(rest) != 0 {
				t.Fatalf("%s: asn1.Unmarshal(%x) = %v, rest %d", curve.Params().Name, der, err, len(rest))
			}
			if got.R.Cmp(rs[0]) != 0 || got.S.Cmp(rs[1]) != 0 {
				t.Errorf("%s: decoded (%v, %v), want (%v, %v)", curve.Params().Name, got.R, got.S, rs[0], rs[1])
			}
			want, err := asn1.Marshal(struct{ R, S *big.Int }{rs[0], rs[1]})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(der, want) {
				t.Errorf("%s: DER = %x, want %x", curve.Params().Name, der, want)
			}
		}
		// A real signature round-trips.
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256([]byte("input"))
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, 2*size)
		r.FillBytes(raw[:size])
		s.FillBytes(raw[size:])
		if !ecdsa.VerifyASN1(&k.PublicKey, d[:], appendDERSignature(nil, raw[:size], raw[size:])) {
			t.Errorf("%s: converted signature does not verify", curve.Params().Name)
		}
	}
}

func TestIsNone(t *testing.T) {
	for _, s := range []string{"none", "NONE", "nOnE", "None"} {
		if !isNone([]byte(s)) {
			t.Errorf("isNone(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "non", "nonee", "n0ne", "HS256", "nOn\x05"} {
		if isNone([]byte(s)) {
			t.Errorf("isNone(%q) = true, want false", s)
		}
	}
}

// loneSurrogate matches an escaped UTF-16 surrogate, which parseObject
// may refuse where encoding/json would substitute U+FFFD.
var loneSurrogate = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

// FuzzParseObject checks parseObject against encoding/json: it accepts
// exactly the JSON objects that encoding/json accepts which are valid
// UTF-8, have no duplicate names, nest at most maxDepth deep and (possibly)
// no surrogate escapes; and it reports the same top-level members.
func FuzzParseObject(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":null,"c":true}]}}`,
		`{"iss":"https://x","sub":"u","aud":["a","b"],"exp":1.8e9,"scope":"a b"}`,
		`{"\u0061":1,"a":2}`, `{"\ud83d\ude00":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":-0.0e-0}`,
		`[1]`, `{"a":1}x`, manyMembers(40, true), manyMembers(40, false),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := parseObject(data, nil)
		refNames, refErr := referenceParse(data)
		if err != nil {
			if refErr == nil && !loneSurrogate.Match(data) {
				t.Fatalf("parseObject(%q) = %v; encoding/json accepts it", data, err)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("parseObject(%q) accepted; reference: %v", data, refErr)
		}
		if len(members.members) != len(refNames) {
			t.Fatalf("parseObject(%q) = %d members, want %d", data, len(members.members), len(refNames))
		}
		for i, m := range pairs(members) {
			if string(m.name) != refNames[i] {
				t.Fatalf("member %d name = %q, want %q", i, m.name, refNames[i])
			}
			var want any
			if err := json.Unmarshal(m.raw, &want); err != nil {
				t.Fatalf("member %q raw %q does not decode: %v", m.name, m.raw, err)
			}
			if s, ok := want.(string); ok {
				if got, err := stringValue(m.raw); err != nil || got != s {
					t.Fatalf("stringValue(%q) = %q, %v; want %q", m.raw, got, err, s)
				}
			}
			if l, ok := want.([]any); ok {
				got, err := stringList(m.raw)
				allStrings := true
				for _, e := range l {
					_, isStr := e.(string)
					allStrings = allStrings && isStr
				}
				if allStrings != (err == nil) {
					t.Fatalf("stringList(%q) err = %v; all strings: %v", m.raw, err, allStrings)
				}
				for j := range got {
					if got[j] != l[j] {
						t.Fatalf("stringList(%q)[%d] = %q, want %q", m.raw, j, got[j], l[j])
					}
				}
			}
			if n, ok := want.(float64); ok {
				if tm, err := numericDate(m.raw); err == nil {
					if d := float64(tm.UnixNano())/1e9 - n; n > -1e9 && n < 1e9 && (d > 1e-6 || d < -1e-6) {
						t.Fatalf("numericDate(%q) = %v, want %v s", m.raw, tm, n)
					}
				}
			}
		}
	})
}

// referenceParse validates data with encoding/json and a Decoder.Token
// stream, returning the top-level names.
func referenceParse(data []byte) ([]string, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	type frame struct {
		object    bool
		expectKey bool
		names     map[string]bool
	}
	var stack []*frame
	var top []string
	d := json.NewDecoder(bytes.NewReader(data))
	for first := true; ; first = false {
		tok, err := d.Token()
		if err == io.EOF {
			return top, nil
		}
		if err != nil {
			return nil, err
		}
		if first && tok != json.Delim('{') {
			return nil, errors.New("not an object")
		}
		var parent *frame
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		if parent != nil && parent.object && parent.expectKey {
			if delim, ok := tok.(json.Delim); ok && delim == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if parent.names[name] {
				return nil, errors.New("duplicate")
			}
			parent.names[name] = true
			if len(stack) == 1 {
				top = append(top, name)
			}
			parent.expectKey = false
			continue
		}
		if parent != nil && parent.object {
			parent.expectKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, expectKey: true, names: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			// The array was the value the enclosing object waited for.
		}
		if len(stack) > maxDepth {
			return nil, errors.New("too deep")
		}
	}
}

// cognitoClaims is a typical Cognito access token's claims set.
const cognitoClaims = `{"sub":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","cognito:groups":["admin","ops"],` +
	`"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example","version":2,` +
	`"client_id":"6a7b8c9d0e1f2g3h4i5j6k7l8m","origin_jti":"0f1e2d3c-4b5a-6978-8796-abcdefabcdef",` +
	`"event_id":"11111111-2222-3333-4444-555555555555","token_use":"access","scope":"aws.cognito.signin.user.admin read write",` +
	`"auth_time":1799996400,"exp":1800003600,"iat":1799999940,"jti":"99999999-8888-7777-6666-555555555555","username":"user-1"}`

// BenchmarkParseObject compares the single-pass parser with what it
// replaces: encoding/json into a map (no duplicate check) and a
// Decoder.Token stream with a duplicate check.
func BenchmarkParseObject(b *testing.B) {
	data := []byte(cognitoClaims)
	b.Run("single-pass", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var dst [16]member
		for b.Loop() {
			if _, err := parseObject(data, dst[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal-map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decoder.Token-dupcheck", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := referenceParse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
