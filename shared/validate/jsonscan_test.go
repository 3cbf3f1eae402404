package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var testLimits = jsonLimits{maxBytes: 1 << 20, maxDepth: 32, maxMembers: 10_000}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		in      string
		rule    Rule // "" means accepted
		pointer string
	}{
		{`{}`, "", ""},
		{`[]`, "", ""},
		{` {"a" : [1, 2.5, -0, 1e2, true, false, null, "s"]} `, "", ""},
		{`"top-level string"`, "", ""},
		{`0`, "", ""},
		{`{"a":{"b":[{"c":"\u00e9\ud83d\ude00\n\/"}]}}`, "", ""},
		{``, RuleInvalidJSON, ""},
		{`   `, RuleInvalidJSON, ""},
		{`{`, RuleInvalidJSON, ""},
		{`{"a"}`, RuleInvalidJSON, ""},
		{`{"a":1,}`, RuleInvalidJSON, ""},
		{`[1,]`, RuleInvalidJSON, "/1"},
		{`[1 2]`, RuleInvalidJSON, "/1"},
		{`{'a':1}`, RuleInvalidJSON, ""},
		{`{"a":01}`, RuleInvalidJSON, "/a"},
		{`{"a":1.}`, RuleInvalidJSON, "/a"},
		{`{"a":.5}`, RuleInvalidJSON, "/a"},
		{`{"a":+1}`, RuleInvalidJSON, "/a"},
		{`{"a":1e}`, RuleInvalidJSON, "/a"},
		{`{"a":NaN}`, RuleInvalidJSON, "/a"},
		{`{"a":tru}`, RuleInvalidJSON, "/a"},
		{`{"a":"\x"}`, RuleInvalidJSON, "/a"},
		{`{"a":"\u12"}`, RuleInvalidJSON, "/a"},
		{"{\"a\":\"tab\there\"}", RuleInvalidJSON, "/a"},
		{`{"a":"unterminated}`, RuleInvalidJSON, "/a"},
		{`{} {}`, RuleInvalidJSON, ""},
		{"\xef\xbb\xbf{}", RuleInvalidJSON, ""},
		{"{\"a\":\"\xc3\x28\"}", RuleInvalidUTF8, "/a"},
		{"{\"\xff\":1}", RuleInvalidUTF8, ""},
		{"[\"\xed\xa0\x80\"]", RuleInvalidUTF8, "/0"}, // a surrogate encoded in UTF-8
		{`["\udc00"]`, RuleInvalidUTF8, "/0"},
		{`["\ud800x"]`, RuleInvalidUTF8, "/0"},
		{`["\ud800\u0041"]`, RuleInvalidUTF8, "/0"},
		{`{"a":1,"a":2}`, RuleDuplicateMember, "/a"},
		{`{"a":{"x":1,"y":{"z":1,"z":2}}}`, RuleDuplicateMember, "/a/y/z"},
		{`[{"k":1},{"k":1,"K":2}]`, RuleDuplicateMember, "/1/K"},
		{`{"a~b/c":1,"A~B/C":2}`, RuleDuplicateMember, "/A~0B~1C"},
		{`{"\u212a":1,"k":2}`, RuleDuplicateMember, "/k"}, // Kelvin sign folds to k
		{`{"é":1,"É":2}`, RuleDuplicateMember, "/É"},
		{`{"a":1,"b":2}`, "", ""},
		{`[9007199254740992, -9007199254740992]`, "", ""},
		{`[9007199254740993]`, RuleNumberPrecision, "/0"},
		{`[-9007199254740993]`, RuleNumberPrecision, "/0"},
		{`[1e16]`, RuleNumberPrecision, "/0"},
		{`[1.5e300]`, RuleNumberPrecision, "/0"},
		{`[1e400]`, RuleNumberPrecision, "/0"},
		{`[1e-400]`, RuleNumberPrecision, "/0"},
		{`[0.1, 3.14159, 1e-7, 2.5e-300, 5e-324, 1.7976931348623157e308]`, RuleNumberPrecision, "/5"},
		{`[0.1, 3.14159, 1e-7, 2.5e-300, 5e-324, 123456.789]`, "", ""},
		{`[0.10000000000000001]`, RuleNumberPrecision, "/0"},
		{`[0e999999999999, -0.0e-5, 12.50, 1200e-2]`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := parseJSON([]byte(tt.in), testLimits)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("parseJSON = %v, want nil", err)
				}
				// The tree must equal encoding/json's (with UseNumber).
				dec := json.NewDecoder(strings.NewReader(tt.in))
				dec.UseNumber()
				var want any
				if err := dec.Decode(&want); err != nil {
					t.Fatalf("encoding/json rejects what parseJSON accepted: %v", err)
				}
				if !reflect.DeepEqual(v, want) {
					t.Errorf("parseJSON = %#v, want %#v", v, want)
				}
				return
			}
			var pe *parseError
			if !errors.As(err, &pe) {
				t.Fatalf("parseJSON = %v, want a *parseError", err)
			}
			if pe.rule != tt.rule {
				t.Errorf("rule = %q, want %q", pe.rule, tt.rule)
			}
			if got := pointerString(pe.path); got != tt.pointer {
				t.Errorf("pointer = %q, want %q", got, tt.pointer)
			}
		})
	}
}

func TestExactNumber(t *testing.T) {
	tests := map[string]bool{
		"0": true, "-0": true, "1": true, "-1": true, "10": true, "1e3": true, "1E+3": true,
		"9007199254740991": true, "9007199254740992": true, "9007199254740993": false,
		"90071992547409920": false, "12345678901234567890": false, "1e15": true, "1e16": false,
		"0.5": true, "0.1": true, "0.3": true, "123.456": true, "1.25e-3": true,
		"0.1000000000000000055511151231257827": false, "0.30000000000000004": true,
		"3.141592653589793": true, "3.1415926535897932": false, "1e-320": true, "1e-400": false,
		"2.2250738585072014e-308": true, "1.8e308": false, "0.0000": true, "0e-10": true,
		"1.0": true, "100.00": true, "1.5e1": true, "1.55e1": true,
	}
	for in, want := range tests {
		if got := exactNumber(in); got != want {
			t.Errorf("exactNumber(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestParseJSONLimits(t *testing.T) {
	lim := jsonLimits{maxBytes: 100, maxDepth: 2, maxMembers: 3}
	tests := []struct {
		in      string
		rule    Rule
		pointer string
	}{
		{`[[1]]`, "", ""},
		{`[[[1]]]`, RuleMaxDepth, "/0/0"},
		{`{"a":{"b":{}}}`, RuleMaxDepth, "/a/b"},
		{`{"a":{"b":[]}}`, RuleMaxDepth, "/a/b"},
		{`[1,2,3]`, "", ""},
		{`[1,2,3,4]`, RuleMaxMembers, "/3"},
		{`{"a":[1,2]}`, "", ""},
		{`{"a":[1,2],"b":1}`, RuleMaxMembers, "/b"},
		{`"` + strings.Repeat("a", 100) + `"`, RuleBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseJSON([]byte(tt.in), lim)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("parseJSON = %v, want nil", err)
				}
				return
			}
			var pe *parseError
			if !errors.As(err, &pe) || pe.rule != tt.rule || pointerString(pe.path) != tt.pointer {
				t.Errorf("parseJSON = %v, want %s at %q", err, tt.rule, tt.pointer)
			}
		})
	}
}

// allocated runs f and returns the bytes allocated meanwhile. The count is
// process-wide, so the runtime adds a few kilobytes of noise; the bounds
// below are far under the inputs' sizes, which is what they must prove.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileDocuments feeds the pre-parser a million '[' and a 50 MB body.
// Both must be rejected without recursion (no stack overflow is possible in
// an iterative parser, and this proves it runs) and with a small, fixed
// amount of memory: the depth check fires at maxDepth+1 brackets, and the
// size check before the first byte is read.
func TestHostileDocuments(t *testing.T) {
	deep := bytes.Repeat([]byte("["), 1_000_000)
	huge := bytes.Repeat([]byte(`{"a":"b"},`), 5_000_000) // 50 MB
	tests := []struct {
		name     string
		in       []byte
		lim      jsonLimits
		rule     Rule
		maxAlloc uint64
	}{
		{"1e6 open brackets", deep, testLimits, RuleMaxDepth, 64 << 10},
		{"1e6 open brackets, deepest allowed config", deep, jsonLimits{maxBytes: 10 << 20, maxDepth: capDepth, maxMembers: capMembers}, RuleMaxDepth, 1 << 20},
		{"50 MB body", huge, testLimits, RuleBodyTooLarge, 64 << 10},
		{"50 MB body, largest allowed config", huge, jsonLimits{maxBytes: capBodyBytes, maxDepth: capDepth, maxMembers: capMembers}, RuleBodyTooLarge, 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = parseJSON(tt.in, tt.lim) })
			var pe *parseError
			if !errors.As(err, &pe) || pe.rule != tt.rule {
				t.Fatalf("parseJSON = %v, want %s", err, tt.rule)
			}
			if n > tt.maxAlloc {
				t.Errorf("parseJSON allocated %d bytes, want at most %d", n, tt.maxAlloc)
			}
		})
	}
}

// TestHostileRequests sends the same documents through a Validator.
func TestHostileRequests(t *testing.T) {
	v := testValidator(t)
	deep := strings.Repeat("[", 1_000_000)
	huge := strings.Repeat(`{"a":"b"},`, 5_000_000)
	for _, tt := range []struct {
		name   string
		req    *Request
		status int
		rule   Rule
	}{
		{"1e6 open brackets", jsonPost("/small", deep), 400, RuleMaxDepth},
		{"1e6 open brackets in a field", jsonPost("/orders", `{"tags":`+deep), 400, RuleMaxDepth},
		{"50 MB body", jsonPost("/orders", huge), 413, RuleBodyTooLarge},
		{"50 MB base64 body", &Request{Method: "POST", Resource: "/orders", IsBase64Encoded: true,
			Header: map[string][]string{"content-type": {"application/json"}}, Body: huge[:len(huge)/4*4]}, 413, RuleBodyTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = v.Validate(context.Background(), tt.req) })
			p, ok := err.(*Problem)
			if !ok || p.Status != tt.status || p.Rule != tt.rule {
				t.Fatalf("Validate = %v, want %d %s", err, tt.status, tt.rule)
			}
			// The JSON body is copied to []byte once (1 MB here); nothing
			// grows with the attacker's input beyond that.
			if n > 4<<20 {
				t.Errorf("Validate allocated %d bytes, want at most 4 MiB", n)
			}
		})
	}
}

// FuzzParseJSON checks the pre-parser against encoding/json: whatever it
// accepts must be valid JSON that decodes to the same tree, and it must never
// panic. (It may reject valid JSON: duplicates, precision, limits.)
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00"`, `{"a":1,"A":2}`, `[9007199254740993]`,
		`[0.1,1e-400]`, `[[[[[[[[[[`, `{"a":"\u0000"}`, "\"\xff\"", `-0.0e+0`, `{"":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseJSON(b, jsonLimits{maxBytes: 1 << 16, maxDepth: 16, maxMembers: 1000})
		if err != nil {
			var pe *parseError
			if !errors.As(err, &pe) {
				t.Fatalf("parseJSON error %v is not a *parseError", err)
			}
			if json.Valid(b) && pe.rule == RuleInvalidJSON {
				t.Fatalf("parseJSON(%q) = invalid-json, but encoding/json accepts it", b)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("parseJSON(%q) accepted invalid JSON", b)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("parseJSON(%q) = %#v, encoding/json = %#v", b, v, want)
		}
	})
}
