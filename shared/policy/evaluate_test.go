package policy

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const testARN = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/42"

func TestEvaluate(t *testing.T) {
	cases := []struct {
		name, policy, arn string
		want              Decision
	}{
		{"exact allow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"` + testARN + `"}]}`,
			testARN, Allow},
		{"no statement matches", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders"}]}`,
			testARN, NotAllowed},
		{"star spans slashes", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/*"}]}`,
			testARN, Allow},
		{"star spans colons", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:*/GET/orders/42"}]}`,
			testARN, Allow},
		{"star in the middle", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:123456789012:abc/*/GET/*"}]}`,
			testARN, Allow},
		{"star matches empty", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/42*"}]}`,
			testARN, Allow},
		{"lone star", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, testARN, Allow},
		{"question mark one char", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/4?"}]}`,
			testARN, Allow},
		{"question mark not zero chars", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/42?"}]}`,
			testARN, NotAllowed},
		{"question mark not two chars", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/?"}]}`,
			testARN, NotAllowed},
		{"question mark one rune", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/caf?"}]}`,
			"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/café", Allow},
		{"resource case-sensitive", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/get/orders/42"}]}`,
			testARN, NotAllowed},
		{"prefix is not a match", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/orders/4"}]}`,
			testARN, NotAllowed},
		{"deny beats allow", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"` + testARN + `"}]}`,
			testARN, Deny},
		{"deny first beats allow", `{"Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*/orders/*"},{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}`,
			testARN, Deny},
		{"deny elsewhere", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*/POST/*"}]}`,
			testARN, Allow},
		{"deny alone", `{"Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"}]}`, testARN, Deny},
		{"deny of another action", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Action":"execute-api:ManageConnections","Resource":"*"}]}`,
			testARN, Allow},
		{"action wildcard", `{"Statement":[{"Effect":"Allow","Action":"execute-api:*","Resource":"*"}]}`, testARN, Allow},
		{"action partial wildcard", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Inv*","Resource":"*"}]}`, testARN, Allow},
		{"action case-insensitive", `{"Statement":[{"Effect":"Allow","Action":"Execute-API:invoke","Resource":"*"}]}`, testARN, Allow},
		{"other action", `{"Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"*"}]}`, testARN, NotAllowed},
		{"other service", `{"Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"}]}`, testARN, NotAllowed},
		{"action list", `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","execute-api:Invoke"],"Resource":"*"}]}`, testARN, Allow},
		{"resource list", `{"Statement":[{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["arn:x","` + testARN + `"]}]}`, testARN, Allow},
		{"effect lower case", `{"Statement":[{"Effect":"allow","Action":"execute-api:Invoke","Resource":"*"}]}`, testARN, Allow},
		{"effect upper case deny", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"DENY","Action":"execute-api:Invoke","Resource":"*"}]}`, testARN, Deny},
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}}`, testARN, Allow},
		{"empty statement list", `{"Version":"2012-10-17","Statement":[]}`, testARN, NotAllowed},
		{"other api", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/*"}]}`,
			"arn:aws:execute-api:us-east-1:123456789012:abd/dev/GET/orders/42", NotAllowed},
		{"other stage", `{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/*"}]}`,
			"arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders/42", NotAllowed},
		{"arn too long", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, testARN + strings.Repeat("a", MaxARNLength), NotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseDocument([]byte(tc.policy))
			if err != nil {
				t.Fatalf("ParseDocument: %v", err)
			}
			if got := Evaluate(doc, tc.arn); got != tc.want {
				t.Errorf("Evaluate(%s, %q) = %v, want %v", tc.policy, tc.arn, got, tc.want)
			}
		})
	}
}

func TestEvaluateInvalidDocument(t *testing.T) {
	docs := map[string]Document{
		"bad effect":     {Statement: []Statement{{Effect: "Permit", Action: StringOrList{"*"}, Resource: StringOrList{"*"}}}},
		"no action":      {Statement: []Statement{{Effect: "Allow", Resource: StringOrList{"*"}}}},
		"no resource":    {Statement: []Statement{{Effect: "Allow", Action: StringOrList{"*"}}}},
		"long resource":  {Statement: []Statement{{Effect: "Allow", Action: StringOrList{"*"}, Resource: StringOrList{"*" + strings.Repeat("a", MaxResourceLength)}}}},
		"bad version":    {Version: "2020-01-01", Statement: []Statement{{Effect: "Allow", Action: StringOrList{"*"}, Resource: StringOrList{"*"}}}},
		"one bad of two": {Statement: []Statement{{Effect: "Allow", Action: StringOrList{"*"}, Resource: StringOrList{"*"}}, {Effect: "Deny"}}},
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if got := Evaluate(doc, testARN); got != NotAllowed {
				t.Errorf("Evaluate = %v, want NotAllowed for an invalid document", got)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{Allow: "Allow", Deny: "Deny", NotAllowed: "NotAllowed", Decision(9): "Decision(invalid)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
	var zero Decision
	if zero != NotAllowed {
		t.Errorf("zero Decision = %v, want NotAllowed", zero)
	}
}

// refGlob is a slow, obviously correct matcher: dynamic programming over
// runes. The fast matcher must agree with it.
func refGlob(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	m := make([][]bool, len(pr)+1)
	for i := range m {
		m[i] = make([]bool, len(sr)+1)
	}
	m[len(pr)][len(sr)] = true
	for i := len(pr) - 1; i >= 0; i-- {
		for j := len(sr); j >= 0; j-- {
			switch {
			case pr[i] == '*':
				m[i][j] = m[i+1][j] || j < len(sr) && m[i][j+1]
			case j < len(sr) && (pr[i] == '?' || pr[i] == sr[j]):
				m[i][j] = m[i+1][j+1]
			}
		}
	}
	return m[0][0]
}

func TestGlobMatchAgreesWithReference(t *testing.T) {
	cases := [][2]string{
		{"", ""}, {"*", ""}, {"?", ""}, {"a", "a"}, {"a*", "a"}, {"*a", "ba"}, {"*a*b", "xaxxb"},
		{"a*b*c", "abbbc"}, {"a*b*c", "acb"}, {"**", "x"}, {"*?", ""}, {"?*?", "ab"},
		{"a/*/c", "a/b/x/c"}, {"*/orders/*", "GET/x/orders/1"}, {"ü?", "üé"}, {"?", "é"},
	}
	for _, c := range cases {
		if got, want := globMatch(c[0], c[1]), refGlob(c[0], c[1]); got != want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c[0], c[1], got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := []rune("ab/*?é")
	gen := func(n int, wild bool) string {
		var b strings.Builder
		for range rng.IntN(n) {
			r := alpha[rng.IntN(len(alpha))]
			if !wild && (r == '*' || r == '?') {
				r = 'a'
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	for range 20000 {
		p, s := gen(8, true), gen(10, false)
		if got, want := globMatch(p, s), refGlob(p, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, want %v", p, s, got, want)
		}
	}
}
