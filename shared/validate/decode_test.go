package validate

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPercentDecode(t *testing.T) {
	tests := []struct {
		in        string
		plusSpace bool
		want      string
	}{
		{"plain", false, "plain"},
		{"%3Cscript%3E", false, "<script>"},
		{"%3cscript%3e", false, "<script>"},
		{"a+b", false, "a+b"},
		{"a+b", true, "a b"},
		{"100%", false, "100%"},
		{"50% off", false, "50% off"},
		{"%zz%4", false, "%zz%4"},
		{"%u003Cx%u003e", false, "<x>"},
		{"%uD800", false, "\uFFFD"},
		{"%u12", false, "%u12"},
		{"%253C", false, "%3C"},
		{"%E2%82%AC", false, "€"},
		{"%C0%BC", false, "\xc0\xbc"}, // overlong '<' stays bytes; libinjection sees bytes
		{"", false, ""},
	}
	for _, tt := range tests {
		if got := percentDecode(tt.in, tt.plusSpace); got != tt.want {
			t.Errorf("percentDecode(%q, %v) = %q, want %q", tt.in, tt.plusSpace, got, tt.want)
		}
	}
}

func TestDecodedForms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"O'Brien", []string{"O'Brien"}},
		{"%3Cb%3E", []string{"%3Cb%3E", "<b>"}},
		{"%253Cb%253E", []string{"%253Cb%253E", "%3Cb%3E", "<b>"}},
		{"&lt;b&gt;", []string{"&lt;b&gt;", "<b>"}},
		{"%26lt%3Bb%26gt%3B", []string{"%26lt%3Bb%26gt%3B", "<b>"}},
		{"&amp;lt;b&amp;gt;", []string{"&amp;lt;b&amp;gt;", "&lt;b&gt;", "<b>"}},
		{"java&#x09;script:", []string{"java&#x09;script:", "java\tscript:"}},
		{"＜b＞", []string{"＜b＞", "<b>"}},
		{"AT&T", []string{"AT&T"}},
		// Four layers: the fourth is never peeled.
		{"%25252525", []string{"%25252525", "%252525", "%2525", "%25"}},
	}
	for _, tt := range tests {
		if got := decodedForms(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("decodedForms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzPercentDecode(f *testing.F) {
	for _, s := range []string{"%3C", "%u003c", "%", "%%", "%u", "%uD83D%uDE00", "a+b", "%zz", "%E2%82"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, plusSpace bool) {
		got := percentDecode(s, plusSpace)
		if len(got) > len(s) {
			t.Fatalf("percentDecode(%q) = %q grew the input", s, got)
		}
		if !strings.ContainsAny(s, "%+") && got != s {
			t.Fatalf("percentDecode(%q) = %q changed a string without escapes", s, got)
		}
	})
}

// FuzzDecodedForms covers the HTML-entity and fullwidth decoders through the
// function that chains them.
func FuzzDecodedForms(f *testing.F) {
	for _, s := range []string{"&lt;", "&#60;", "&#x3c;", "&#x3c", "&lt", "&amp;amp;lt;", "&#1114112;", "&#0;", "＜", "%26%2360%3B", "&NotNestedGreaterGreater;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		forms := decodedForms(s)
		if len(forms) == 0 || forms[0] != s {
			t.Fatalf("decodedForms(%q) = %q, want it to start with the input", s, forms)
		}
		if len(forms) > maxDecodeRounds+1 {
			t.Fatalf("decodedForms(%q) returned %d forms, want at most %d", s, len(forms), maxDecodeRounds+1)
		}
		for i := 1; i < len(forms); i++ {
			if forms[i] == forms[i-1] {
				t.Fatalf("decodedForms(%q) repeats a form: %q", s, forms)
			}
			// Entities can expand a little (&nGt; is 5 bytes, ≫⃒ is 6) but
			// never without bound.
			if len(forms[i]) > 2*len(forms[i-1])+8 {
				t.Fatalf("decodedForms(%q): form %q grew too much", s, forms[i])
			}
		}
		if utf8.ValidString(s) && !strings.ContainsAny(s, "%&") && !hasFullwidth(s) && len(forms) != 1 {
			t.Fatalf("decodedForms(%q) = %q, want only the input", s, forms)
		}
	})
}
