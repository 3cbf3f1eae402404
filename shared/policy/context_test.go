package policy

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestContext(t *testing.T) {
	in := map[string]any{
		"sub":      "alice",
		"admin":    true,
		"n64":      int64(-7),
		"f64":      1.5,
		"num":      json.Number("12.5e3"),
		"int":      42,
		"i8":       int8(-8),
		"u32":      uint32(32),
		"u64":      uint64(64),
		"f32":      float32(0.5),
		"groups":   []any{"a", "b", 3, true, 1.25, json.Number("9"), nil, map[string]any{"x": 1}, []any{"y"}},
		"scopes":   []string{"read", "write"},
		"empty":    []any{},
		"map":      map[string]any{"a": "b"},
		"nil":      nil,
		"struct":   struct{}{},
		"bytes":    []byte("x"),
		"nan":      math.NaN(),
		"inf":      math.Inf(1),
		"badnum":   json.Number("1.2.3"),
		"nullnum":  json.Number("null"),
		"hugeuint": uint64(math.MaxUint64),
		"ptr":      new(string),
	}
	want := map[string]any{
		"sub": "alice", "admin": true, "n64": int64(-7), "f64": 1.5, "num": json.Number("12.5e3"),
		"int": int64(42), "i8": int64(-8), "u32": int64(32), "u64": int64(64), "f32": 0.5,
		"groups": "a,b,3,true,1.25,9", "scopes": "read,write", "empty": "",
	}
	got := Context(in)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Context =\n%#v\nwant\n%#v", got, want)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("the context does not marshal: %v", err)
	}
	if len(in) != 23 || in["map"] == nil {
		t.Errorf("Context modified its input")
	}
	if c := Context(nil); c == nil || len(c) != 0 {
		t.Errorf("Context(nil) = %#v, want an empty non-nil map", c)
	}
}

func TestValidNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "-1.5e10": true, "1E+2": true, "1e-2": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "+1": false,
		"null": false, "NaN": false, " 1": false, "1 ": false, "0x10": false, "1.2.3": false,
	} {
		if got := validNumber(s); got != want {
			t.Errorf("validNumber(%q) = %v, want %v", s, got, want)
		}
	}
}
