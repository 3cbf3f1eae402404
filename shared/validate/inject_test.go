package validate

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readCorpus reads a testdata corpus: one JSON string per line, '#' comments.
func readCorpus(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corpusValidator takes the payloads in a JSON body field, a query parameter
// and a header, so every input path is measured.
func corpusValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New([]byte(`{
	  "defaults": {"inspectHeaders": ["referer"]},
	  "routes": {
	    "POST /search": {
	      "schema": {"type": "object", "properties": {"q": {"type": "string"}, "description": {"type": "string"}}},
	      "query": {"q": {}},
	      "inspect": {"/description": "text"}
	    },
	    "POST /search/{term}": {
	      "schema": {"type": "object"},
	      "path": {"term": {}}
	    }
	  }
	}`), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type corpusChannel struct {
	name  string
	build func(value string) *Request
}

func corpusChannels(field string) []corpusChannel {
	body := func(v string) *Request {
		b, _ := json.Marshal(map[string]string{field: v})
		return &Request{Method: "POST", Resource: "/search",
			Header: map[string][]string{"content-type": {"application/json"}}, Body: string(b)}
	}
	chans := []corpusChannel{{"body", body}}
	if field == "q" {
		chans = append(chans,
			corpusChannel{"query", func(v string) *Request {
				r := body("")
				r.Body = `{}`
				// As API Gateway 2.0 passes it: rawQueryString, percent-encoded once.
				r.Query = parseQuery("q=" + url.QueryEscape(v))
				return r
			}},
			corpusChannel{"header", func(v string) *Request {
				r := body("")
				r.Body = `{}`
				r.Header["referer"] = []string{v}
				return r
			}},
			corpusChannel{"path", func(v string) *Request {
				r := body("")
				r.Body = `{}`
				r.Resource = "/search/{term}"
				r.PathParameters = map[string]string{"term": v}
				return r
			}})
	}
	return chans
}

// TestInjectionCorpus runs real SQL injection and XSS payloads (which must be
// rejected) and ordinary inputs (which must pass) through the validator on
// every input path, and reports the false-negative and false-positive rates.
func TestInjectionCorpus(t *testing.T) {
	v := corpusValidator(t)
	ctx := context.Background()

	type tally struct{ total, wrong int }
	rate := func(x tally) float64 { return 100 * float64(x.wrong) / float64(x.total) }

	attacks := map[string][]string{
		string(RuleSQLi): readCorpus(t, "sqli.txt"),
		string(RuleXSS):  readCorpus(t, "xss.txt"),
	}
	if n := len(attacks[string(RuleSQLi)]); n < 40 {
		t.Fatalf("sqli corpus has %d payloads, want at least 40", n)
	}
	if n := len(attacks[string(RuleXSS)]); n < 40 {
		t.Fatalf("xss corpus has %d payloads, want at least 40", n)
	}
	var fn tally
	for kind, payloads := range attacks {
		for _, p := range payloads {
			for _, ch := range corpusChannels("q") {
				fn.total++
				err := v.Validate(ctx, ch.build(p))
				prob, ok := err.(*Problem)
				if !ok || (prob.Rule != RuleSQLi && prob.Rule != RuleXSS) {
					fn.wrong++
					t.Errorf("%s payload %q via %s: got %v, want an injection rejection", kind, p, ch.name, err)
				}
			}
		}
	}

	benign := readCorpus(t, "benign.txt")
	prose := readCorpus(t, "benign-description.txt")
	if n := len(benign) + len(prose); n < 60 {
		t.Fatalf("benign corpora have %d inputs, want at least 60", n)
	}
	var fp tally
	check := func(field string, inputs []string) {
		for _, s := range inputs {
			for _, ch := range corpusChannels(field) {
				fp.total++
				if err := v.Validate(ctx, ch.build(s)); err != nil {
					fp.wrong++
					t.Errorf("benign %s %q via %s: got %v, want nil", field, s, ch.name, err)
				}
			}
		}
	}
	check("q", benign)
	check("description", prose)

	t.Logf("false negatives: %d of %d attack checks (%.1f%%)", fn.wrong, fn.total, rate(fn))
	t.Logf("false positives: %d of %d benign checks (%.1f%%)", fp.wrong, fp.total, rate(fp))
	if r := rate(fn); r > 0 {
		t.Errorf("false-negative rate = %.1f%%, want 0%% on this corpus", r)
	}
	if r := rate(fp); r > 0 {
		t.Errorf("false-positive rate = %.1f%%, want 0%% on this corpus", r)
	}
}

// TestLibinjectionAlone documents what the extra rules add: it measures
// libinjection by itself on the decoded attack corpus.
func TestLibinjectionAlone(t *testing.T) {
	var missed []string
	total := 0
	for _, name := range []string{"sqli.txt", "xss.txt"} {
		for _, p := range readCorpus(t, name) {
			total++
			caught := false
			for _, f := range decodedForms(p) {
				if sq, _ := libinjectionSQLi(f); sq || libinjectionXSS(f) {
					caught = true
				}
			}
			if !caught {
				missed = append(missed, p)
			}
		}
	}
	t.Logf("libinjection alone misses %d of %d payloads: %q", len(missed), total, missed)
	if len(missed) == 0 {
		t.Errorf("libinjection alone caught everything; the extra rules have no test that can fail")
	}
}

func TestExtraRules(t *testing.T) {
	tests := []struct {
		in   string
		mode inspection
		want Rule
	}{
		{"javascript:alert(1)", inspectStrict, RuleXSS},
		{"  JAVASCRIPT:alert`1`", inspectStrict, RuleXSS},
		{"\x01javascript:alert(1)", inspectStrict, RuleXSS},
		{"jav\r\nascript:x=1", inspectStrict, RuleXSS},
		{"vbscript:msgbox(1)", inspectStrict, RuleXSS},
		{"JavaScript: the good parts", inspectStrict, ""},
		{"javascript:", inspectStrict, ""},
		{"see url(javascript:alert(1))", inspectStrict, RuleXSS},
		{"DATA:text/html,<b>", inspectStrict, RuleXSS},
		{"data:image/png;base64,iVBORw0KGgo=", inspectStrict, ""},
		{`<a href = 'data:text/html;base64,PHN2Zz4='>`, inspectStrict, RuleXSS},
		{"<scr<script>ipt>", inspectStrict, RuleXSS},
		{"</script", inspectStrict, RuleXSS},
		{"<iframe", inspectStrict, RuleXSS},
		{"I <3 scripts", inspectStrict, ""},
		{`" onpointerenter="x`, inspectStrict, RuleXSS},
		{"<x onnewevent=1>", inspectStrict, RuleXSS},
		{"online = yes", inspectStrict, ""},
		{"element.onclick = handler", inspectStrict, ""},
		{"admin' #", inspectStrict, RuleSQLi},
		{"admin'/*", inspectStrict, RuleSQLi},
		{"He said 'no' --", inspectStrict, ""},
		{"James' #1 fan", inspectStrict, ""},
		{"or 1=1", inspectStrict, RuleSQLi},
		{"x' or 'a'='a", inspectStrict, RuleSQLi},
		{"or 1=2", inspectStrict, ""},
		{"Order 66 or Order 67?", inspectStrict, ""},
		{"or 1=1", inspectText, ""},
		{"<script>", inspectText, RuleXSS},
		{"<script>", inspectOff, ""},
	}
	for _, tt := range tests {
		if got := inspect(tt.in, tt.mode); got != tt.want {
			t.Errorf("inspect(%q, %d) = %q, want %q", tt.in, tt.mode, got, tt.want)
		}
	}
}

// TestKnownLimits records inputs on which detection is known to be wrong, so
// the documentation stays honest: if one of these changes, update the
// package documentation and the README.
func TestKnownLimits(t *testing.T) {
	falsePositives := []struct{ in, why string }{
		{"50% off -- today only!", "libinjection: a number followed by a SQL comment (fingerprint 1c)"},
		{"5 > 3 and 2 < 4", "libinjection: comparisons joined by AND"},
		{"SELECT name FROM users WHERE id = 1;", "libinjection: quoted SQL is SQL; use text mode for fields that may hold it"},
		{"if (a < b && c > d) { return x; }", "libinjection: code reads as SQL; use text mode"},
		{"JavaScript: The Good Parts (2008)", "extra rule: a javascript: prefix followed by a call-like parenthesis"},
		{"Use the <script> tag carefully", "extra rule: any <script tag, even in prose"},
		{"onload=init()", "extra rule: an event-handler assignment, even in a code sample"},
		{"1 or 1=1 is a tautology", "extra rule: a bare tautology, even in prose"},
	}
	for _, fp := range falsePositives {
		if inspect(fp.in, inspectStrict) == "" {
			t.Errorf("known false positive %q (%s) now passes: update the documentation", fp.in, fp.why)
		}
	}
	falseNegatives := []struct{ in, why string }{
		{"admin'#foo", "comment-out followed by text: neither libinjection nor the extra rule"},
		{"'; shutdown --", "libinjection does not know SHUTDOWN"},
		{"';alert(1);//", "JavaScript-string context: libinjection models HTML contexts only"},
		{"{{constructor.constructor('alert(1)')()}}", "client-side template injection is out of scope"},
		{"${alert(1)}", "template-literal injection is out of scope"},
		{"expression(alert(1))", "legacy IE CSS expressions are not modelled"},
		{`{"$gt": ""}`, "NoSQL operators: the schema's types are the defence"},
	}
	for _, fn := range falseNegatives {
		if got := inspect(fn.in, inspectStrict); got != "" {
			t.Errorf("known false negative %q (%s) is now caught as %s: update the documentation", fn.in, fn.why, got)
		}
	}
}

// FuzzXSSPrefilter checks the claim behind mayBeXSS: libinjection never
// reports XSS in input without '<' or '='.
func FuzzXSSPrefilter(f *testing.F) {
	for _, s := range []string{"x onerror y", "javascript:alert(1)", "' onfocus 'x", "`x`", "&lt;script", "\x00onload", "style expression(x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !mayBeXSS(s) && libinjectionXSS(s) {
			t.Fatalf("libinjection.IsXSS(%q) = true without '<' or '='", s)
		}
	})
}
