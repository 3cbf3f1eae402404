package policy

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request",
		"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/$default/$default",
		"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/$default/GET/",
		"arn:aws-cn:execute-api:cn-north-1:123456789012:abc/v1/POST/a/b/c/d",
		"arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/x",
		"arn:aws:execute-api:::abc/dev/GET/x", "arn:", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseARN(s)
		if err != nil {
			return
		}
		if len(s) > MaxARNLength {
			t.Fatalf("accepted %d bytes", len(s))
		}
		if a.String() != s {
			t.Fatalf("ParseARN(%q).String() = %q", s, a.String())
		}
		for _, part := range []string{a.Partition, a.Region, a.Account, a.APIID, a.Stage} {
			if part == "" || strings.ContainsAny(part, "*?/:") {
				t.Fatalf("ParseARN(%q) = %+v: a field is empty or holds a wildcard or separator", s, a)
			}
		}
	})
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		`[{"route":"GET /orders","scopes":["orders:read"]},{"route":"POST /admin/users","scopes":["admin"]},{"route":"ANY /reports/{proxy+}","groups":["analysts"]}]`,
		`[{"route":"$default"},{"route":"GET /"},{"route":"* /{a}/{b}"},{"route":"GET /a/b/c"}]`,
		`[{"route":"GET /orders/{id}"},{"route":"GET /orders/mine"},{"route":"ANY /{proxy+}"},{"route":"GET /orders/{id}/items/{n}"}]`,
		`[{"route":"GET /a","route":"GET /b"}]`, `[{"Route":"GET /a"}]`, `[]`, `{}`, `[{"route":"GET /a//b"}]`,
	} {
		f.Add([]byte(s))
	}
	arn := testArn
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2048 {
			return // keep each run fast; the parser's own limit is tested elsewhere
		}
		rs, err := ParseRules(data)
		if err != nil {
			return
		}
		var all []Rule
		for _, r := range rs.routes {
			all = append(all, r.rule)
		}
		doc := rs.Policy(arn, all)
		if err := doc.Validate(); err != nil {
			t.Fatalf("Policy is invalid: %v", err)
		}
		p := rs.plan(rs.set(all), MaxResourceLength-len(arn.base()))
		if !p.hurt.empty() {
			t.Fatalf("every rule entitled, yet routes %v may be refused", p.hurt.members())
		}
		for _, r := range rs.routes {
			if got, ok := rs.Match("GET", "/"); ok && got.Route == "" {
				t.Fatalf("Match returned an empty rule")
			}
			if r.isDefault() || p.omitted.has(r.index) || strings.Contains(r.rule.Route, "{") {
				continue
			}
			m := r.method
			if m == "ANY" {
				m = "GET"
			}
			path := r.rule.Route[strings.IndexByte(r.rule.Route, ' ')+1:]
			if d := Evaluate(doc, arn.base()+m+path); d != Allow {
				t.Fatalf("every rule entitled, yet %s %s: %v", m, path, d)
			}
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	f.Add("arn:aws:execute-api:*:*:abc/*/GET/*", testARN)
	f.Add("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?b", strings.Repeat("a", 1000))
	f.Add("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 1600))
	f.Add("caf?/*", "café/x")
	f.Fuzz(func(t *testing.T, pattern, arn string) {
		if utf8.RuneCountInString(pattern) > MaxResourceLength || len(arn) > MaxARNLength || pattern == "" {
			return
		}
		got := globMatch(pattern, arn)
		if len(pattern) <= 40 && len(arn) <= 80 {
			if want := refGlob(pattern, arn); got != want {
				t.Fatalf("globMatch(%q, %q) = %v, want %v", pattern, arn, got, want)
			}
		}
		allow := Document{Version: Version2012, Statement: []Statement{{Effect: "Allow", Action: StringOrList{"execute-api:*"}, Resource: StringOrList{pattern}}}}
		if d := Evaluate(allow, arn); (d == Allow) != got || d == Deny {
			t.Fatalf("Evaluate(Allow %q, %q) = %v, glob match %v", pattern, arn, d, got)
		}
		deny := allow
		deny.Statement = append([]Statement{{Effect: "deny", Action: StringOrList{"*"}, Resource: StringOrList{pattern}}}, allow.Statement...)
		if d := Evaluate(deny, arn); (d == Deny) != got || d == Allow {
			t.Fatalf("Evaluate(Deny+Allow %q, %q) = %v, glob match %v", pattern, arn, d, got)
		}
	})
}

func FuzzParseDocument(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/*"]}]}`,
		`{"Version":"2012-10-17","Statement":{"Action":["*"],"Effect":"deny","Resource":"*","Sid":"x"}}`,
		`{"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","NotResource":"*"}]}`, `{"Statement":[]}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := ParseDocument(data)
		if err != nil {
			return
		}
		if err := doc.Validate(); err != nil {
			t.Fatalf("ParseDocument accepted a document that fails Validate: %v", err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := ParseDocument(b)
		if err != nil || !docEqual(back, doc) {
			t.Fatalf("ParseDocument(Marshal(%+v)) = %+v, %v", doc, back, err)
		}
		Evaluate(doc, testARN)
	})
}
