package validate

import "testing"

func TestMatchContentType(t *testing.T) {
	accept := func(ranges ...string) []mediaRange {
		var out []mediaRange
		for _, r := range ranges {
			m, err := parseMediaRange(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	json := accept("application/json")
	tests := []struct {
		ct     string
		ranges []mediaRange
		want   bodyKind
		ok     bool
	}{
		{"application/json", json, bodyJSON, true},
		{"APPLICATION/JSON", json, bodyJSON, true},
		{"application/json; charset=utf-8", json, bodyJSON, true},
		{`application/json; charset="UTF-8"`, json, bodyJSON, true},
		{"application/json; charset=iso-8859-1", json, 0, false},
		{"application/json; charset=utf-8; charset=utf-16", json, 0, false},
		{"application/json;", json, bodyJSON, true},
		{"application/jsonp", json, 0, false},
		{"application/json-seq", json, 0, false},
		{"text/json", json, 0, false},
		{"application/problem+json", json, 0, false},
		{"application/problem+json", accept("application/*+json"), bodyJSON, true},
		{"application/+json", accept("application/*+json"), 0, false},
		{"application/vnd.api+json", accept("application/vnd.api+json"), bodyJSON, true},
		{"application/*", accept("application/*+json"), 0, false},
		{"*/*", json, 0, false},
		{"", json, 0, false},
		{"garbage", json, 0, false},
		{"text/plain; charset=us-ascii", accept("text/plain"), bodyText, true},
		{"text/csv", accept("text/*"), bodyText, true},
		{"application/x-www-form-urlencoded", accept("application/x-www-form-urlencoded"), bodyForm, true},
		{"application/octet-stream; charset=latin1", accept("application/octet-stream"), bodyBinary, true},
	}
	for _, tt := range tests {
		got, ok := matchContentType(tt.ct, tt.ranges)
		if got != tt.want || ok != tt.ok {
			t.Errorf("matchContentType(%q) = %v, %v, want %v, %v", tt.ct, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseMediaRange(t *testing.T) {
	for _, bad := range []string{"", "json", "*/*", "application/", "application/*+", "application/a b", "text/*json"} {
		if _, err := parseMediaRange(bad); err == nil {
			t.Errorf("parseMediaRange(%q) = nil error, want one", bad)
		}
	}
}
