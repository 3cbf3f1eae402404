package policy

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestParseDocument(t *testing.T) {
	cases := []struct {
		name, in string
		want     Document
	}{
		{"api gateway shape", `{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["a","b"]}]}`,
			Document{Version: Version2012, Statement: []Statement{{Effect: "Allow", Action: StringOrList{ActionInvoke}, Resource: StringOrList{"a", "b"}}}}},
		{"strings and lists", `{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke","x:y"],"Effect":"Deny","Resource":"a"}]}`,
			Document{Version: Version2012, Statement: []Statement{{Effect: "Deny", Action: StringOrList{ActionInvoke, "x:y"}, Resource: StringOrList{"a"}}}}},
		{"statement object", `{"Version":"2012-10-17","Statement":{"Action":"*","Effect":"allow","Resource":"*"}}`,
			Document{Version: Version2012, Statement: []Statement{{Effect: "allow", Action: StringOrList{"*"}, Resource: StringOrList{"*"}}}}},
		{"no version, sid and id", `{"Id":"p1","Statement":[{"Sid":"s1","Action":"*","Effect":"Allow","Resource":"*"}]}`,
			Document{Statement: []Statement{{Effect: "Allow", Action: StringOrList{"*"}, Resource: StringOrList{"*"}}}}},
		{"old version", `{"Version":"2008-10-17","Statement":[]}`, Document{Version: Version2008, Statement: []Statement{}}},
		{"whitespace", " {\n\"Version\" : \"2012-10-17\" , \"Statement\" : [ ] }\n", Document{Version: Version2012, Statement: []Statement{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDocument([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseDocument(%s): %v", tc.in, err)
			}
			if !docEqual(got, tc.want) {
				t.Errorf("ParseDocument(%s) = %+v, want %+v", tc.in, got, tc.want)
			}
			var viaJSON Document
			if err := json.Unmarshal([]byte(tc.in), &viaJSON); err != nil || !docEqual(viaJSON, tc.want) {
				t.Errorf("json.Unmarshal = %+v, %v; want %+v", viaJSON, err, tc.want)
			}
		})
	}
}

func docEqual(a, b Document) bool {
	return a.Version == b.Version && slices.EqualFunc(a.Statement, b.Statement, func(x, y Statement) bool {
		return x.Effect == y.Effect && slices.Equal(x.Action, y.Action) && slices.Equal(x.Resource, y.Resource)
	})
}

func TestParseDocumentErrors(t *testing.T) {
	st := `{"Action":"*","Effect":"Allow","Resource":"*"}`
	cases := []struct{ name, in, want string }{
		{"not json", `{`, "unexpected end"},
		{"array", `[]`, "want an object"},
		{"null", `null`, "want an object"},
		{"trailing", `{"Statement":[]} {}`, "trailing data"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"unknown version", `{"Version":"2012-10-18","Statement":[]}`, "Version"},
		{"version number", `{"Version":2012,"Statement":[]}`, "want a string"},
		{"lower-case member", `{"version":"2012-10-17","Statement":[]}`, `unknown member "version"`},
		{"duplicate member", `{"Statement":[],"Statement":[]}`, "duplicate member"},
		{"statement string", `{"Statement":"x"}`, "want an object or an array"},
		{"statement null", `{"Statement":null}`, "want an object or an array"},
		{"statement element string", `{"Statement":["x"]}`, "Statement[0]"},
		{"duplicate effect", `{"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}]}`, "duplicate member"},
		{"lower-case effect member", `{"Statement":[{"effect":"Allow","Action":"*","Resource":"*"}]}`, `unknown member "effect"`},
		{"no effect", `{"Statement":[{"Action":"*","Resource":"*"}]}`, "no Effect"},
		{"bad effect", `{"Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}`, `Effect "Permit"`},
		{"effect not string", `{"Statement":[{"Effect":true,"Action":"*","Resource":"*"}]}`, "want a string"},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "no Action"},
		{"empty action list", `{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "no Action"},
		{"null action", `{"Statement":[{"Effect":"Allow","Action":null,"Resource":"*"}]}`, "Action"},
		{"number in action", `{"Statement":[{"Effect":"Allow","Action":["*",1],"Resource":"*"}]}`, "Action"},
		{"no resource", `{"Statement":[{"Effect":"Allow","Action":"*"}]}`, "no Resource"},
		{"empty resource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":""}]}`, "empty pattern"},
		{"long resource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"` + strings.Repeat("a", 513) + `"}]}`, "more than 512"},
		{"not resource", `{"Statement":[{"Effect":"Allow","Action":"*","NotResource":"*"}]}`, "NotResource is not supported"},
		{"not action", `{"Statement":[{"Effect":"Allow","NotAction":"*","Resource":"*"}]}`, "NotAction is not supported"},
		{"condition", `{"Statement":[` + strings.TrimSuffix(st, "}") + `,"Condition":{}}]}`, "Condition is not supported"},
		{"principal", `{"Statement":[` + strings.TrimSuffix(st, "}") + `,"Principal":"*"}]}`, "Principal is not supported"},
		{"unknown statement member", `{"Statement":[` + strings.TrimSuffix(st, "}") + `,"Foo":1}]}`, `unknown member "Foo"`},
		{"too many patterns", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":[` + strings.TrimSuffix(strings.Repeat(`"a",`, maxPatterns), ",") + `]}]}`, "patterns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDocument([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseDocument(%s) = %+v, nil error; want an error", tc.in, d)
			}
			if !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("error %v does not wrap ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if err := json.Unmarshal([]byte(tc.in), &d); err == nil {
				t.Errorf("json.Unmarshal accepted %s", tc.in)
			}
		})
	}
}

func TestDocumentMarshal(t *testing.T) {
	doc := Document{Version: Version2012, Statement: []Statement{
		{Effect: EffectAllow, Action: StringOrList{ActionInvoke}, Resource: StringOrList{"arn:a"}},
		{Effect: EffectDeny, Action: StringOrList{ActionInvoke, "x:y"}, Resource: StringOrList{"arn:b", "arn:c"}},
	}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["arn:a"]},` +
		`{"Action":["execute-api:Invoke","x:y"],"Effect":"Deny","Resource":["arn:b","arn:c"]}]}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	back, err := ParseDocument(b)
	if err != nil || !docEqual(back, doc) {
		t.Errorf("ParseDocument(Marshal(doc)) = %+v, %v; want %+v", back, err, doc)
	}
}

// The token authorizer converts a Document to aws-lambda-go's event type,
// which marshals Action and Resource as arrays; that shape must parse.
func TestDocumentThroughLambdaEvents(t *testing.T) {
	ev := events.APIGatewayCustomAuthorizerPolicy{Version: Version2012, Statement: []events.IAMPolicyStatement{
		{Action: []string{ActionInvoke}, Effect: EffectAllow, Resource: []string{"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/*"}},
	}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument(%s): %v", b, err)
	}
	if got := Evaluate(doc, testARN); got != Allow {
		t.Errorf("Evaluate = %v, want Allow", got)
	}
}

func TestStringOrList(t *testing.T) {
	var l StringOrList
	for in, want := range map[string][]string{`"a"`: {"a"}, `["a","b"]`: {"a", "b"}, `[]`: {}} {
		if err := json.Unmarshal([]byte(in), &l); err != nil || !slices.Equal(l, want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, l, err, want)
		}
	}
	for _, in := range []string{`null`, `1`, `{}`, `["a",null]`, `[["a"]]`} {
		if err := json.Unmarshal([]byte(in), &l); err == nil {
			t.Errorf("Unmarshal(%s) = %v, nil error; want an error", in, l)
		}
	}
	for _, c := range []struct {
		in   StringOrList
		want string
	}{{StringOrList{"a"}, `"a"`}, {StringOrList{"a", "b"}, `["a","b"]`}, {StringOrList{}, `[]`}} {
		if b, _ := json.Marshal(c.in); string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, want %s", c.in, b, c.want)
		}
	}
}
