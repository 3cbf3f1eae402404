package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func mustRules(t testing.TB, routes ...string) *Rules {
	t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i, r := range routes {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"route":%q,"scopes":["s%d"]}`, r, i)
	}
	b.WriteString("]")
	rs, err := ParseRules([]byte(b.String()))
	if err != nil {
		t.Fatalf("ParseRules(%s): %v", b.String(), err)
	}
	return rs
}

func TestParseRulesErrors(t *testing.T) {
	cases := []struct {
		name, in string
		index    int    // -1: not a RuleError
		want     string // substring of the message
	}{
		{"not json", `[{`, -1, "unexpected end"},
		{"object at top", `{"route":"GET /a"}`, -1, "want an array"},
		{"empty", `[]`, -1, "no rules"},
		{"null", `null`, -1, "want an array"},
		{"trailing data", `[{"route":"GET /a"}] x`, -1, "trailing data"},
		{"second value", `[{"route":"GET /a"}][]`, -1, "trailing data"},
		{"element not object", `[{"route":"GET /a"},"GET /b"]`, 1, "want an object"},
		{"unknown field", `[{"route":"GET /a","scope":["x"]}]`, 0, `unknown field "scope"`},
		{"field case", `[{"Route":"GET /a"}]`, 0, `unknown field "Route"`},
		{"duplicate field", `[{"route":"GET /a","route":"GET /b"}]`, 0, `duplicate member "route"`},
		{"missing route", `[{"scopes":["a"]}]`, 0, `missing "route"`},
		{"route not string", `[{"route":5}]`, 0, "want a string"},
		{"route null", `[{"route":null}]`, 0, "got null"},
		{"scopes string", `[{"route":"GET /a","scopes":"a"}]`, 0, "want an array"},
		{"scopes null", `[{"route":"GET /a","scopes":null}]`, 0, "want an array"},
		{"empty scope", `[{"route":"GET /a","scopes":[""]}]`, 0, "printable"},
		{"scope control char", `[{"route":"GET /a","groups":["a\u0001"]}]`, 0, "printable"},
		{"no space", `[{"route":"GET/a"}]`, 0, "METHOD /path"},
		{"two spaces", `[{"route":"GET  /a"}]`, 0, "leading /"},
		{"lower method", `[{"route":"get /a"}]`, 0, `method "get"`},
		{"unknown method", `[{"route":"TRACE /a"}]`, 0, `method "TRACE"`},
		{"relative path", `[{"route":"GET a"}]`, 0, "leading /"},
		{"trailing slash", `[{"route":"GET /a/"}]`, 0, "empty segment"},
		{"double slash", `[{"route":"GET /a//b"}]`, 0, "empty segment"},
		{"wildcard literal", `[{"route":"GET /a/*"}]`, 0, "not allowed"},
		{"question mark", `[{"route":"GET /a?b"}]`, 0, "not allowed"},
		{"dollar literal", `[{"route":"GET /$default"}]`, 0, "not allowed"},
		{"space in path", `[{"route":"GET /a b"}]`, 0, "not allowed"},
		{"partial param", `[{"route":"GET /a{id}"}]`, 0, "not allowed"},
		{"unclosed param", `[{"route":"GET /{id"}]`, 0, "fills the whole segment"},
		{"empty param", `[{"route":"GET /{}"}]`, 0, "fills the whole segment"},
		{"greedy not last", `[{"route":"GET /{proxy+}/a"}]`, 0, "must be the last"},
		{"bad param name", `[{"route":"GET /{a b}"}]`, 0, "parameter names"},
		{"repeated param", `[{"route":"GET /{id}/{id}"}]`, 0, "appears twice"},
		{"dot segment", `[{"route":"GET /a/../b"}]`, 0, "dot segments"},
		{"duplicate route", `[{"route":"GET /a"},{"route":"GET /b"},{"route":"GET /a"}]`, 2, `duplicate of rule 0 ("GET /a")`},
		{"duplicate param shape", `[{"route":"GET /o/{id}"},{"route":"GET /o/{orderId}"}]`, 1, "duplicate of rule 0"},
		{"star is ANY", `[{"route":"ANY /a"},{"route":"* /a"}]`, 1, "duplicate of rule 0"},
		{"duplicate default", `[{"route":"$default"},{"route":"$default"}]`, 1, "duplicate"},
		{"default with method", `[{"route":"GET $default"}]`, 0, "leading /"},
		{"too long", `[{"route":"GET /` + strings.Repeat("a", MaxRouteLength) + `"}]`, 0, "more than 400"},
		{"too deep", `[{"route":"GET ` + strings.Repeat("/a", MaxSegments+1) + `"}]`, 0, "segments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseRules([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseRules(%s) = %v, nil error; want an error", tc.in, rs)
			}
			if !errors.Is(err, ErrInvalidRules) {
				t.Errorf("error %v does not wrap ErrInvalidRules", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			var re *RuleError
			switch {
			case tc.index < 0 && errors.As(err, &re):
				t.Errorf("error is a RuleError for rule %d, want a table-level error", re.Index)
			case tc.index >= 0 && !errors.As(err, &re):
				t.Errorf("error %v is not a *RuleError", err)
			case tc.index >= 0 && re.Index != tc.index:
				t.Errorf("RuleError.Index = %d, want %d", re.Index, tc.index)
			case tc.index >= 0 && !strings.HasPrefix(err.Error(), fmt.Sprintf("rule %d", tc.index)):
				t.Errorf("error %q does not start with the rule index", err)
			}
		})
	}
}

func TestParseRulesLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i <= MaxRules; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"route":"GET /r%d"}`, i)
	}
	b.WriteString("]")
	if _, err := ParseRules([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than 256") {
		t.Errorf("ParseRules(%d rules) error = %v, want too many rules", MaxRules+1, err)
	}
	scopes := strings.Repeat(`"s",`, MaxNames) + `"s"`
	if _, err := ParseRules([]byte(`[{"route":"GET /a","scopes":[` + scopes + `]}]`)); err == nil {
		t.Errorf("ParseRules with %d scopes = nil error, want an error", MaxNames+1)
	}
}

func TestParseRulesValid(t *testing.T) {
	in := `[{"route":"GET /orders","scopes":["orders:read"]},
		{"route":"POST /admin/users","scopes":["admin"]},
		{"route":"ANY /reports/{proxy+}","groups":["analysts"]},
		{"route":"* /x/{a}/{b}"},
		{"route":"OPTIONS /"},
		{"route":"$default"},
		{"route":"GET /v1/users/{user_id}/a.b~c:d@e!f&g'h(i)j+k,l;m=n"}]`
	rs, err := ParseRules([]byte(in))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	if n := len(rs.routes); n != 7 {
		t.Fatalf("%d routes, want 7", n)
	}
	if got := rs.routes[3].method; got != "ANY" {
		t.Errorf(`method of "* /x/{a}/{b}" = %q, want ANY`, got)
	}
	if got := rs.routes[2].rule.Groups; !slices.Equal(got, []string{"analysts"}) {
		t.Errorf("groups = %v, want [analysts]", got)
	}
	if rs.dflt != 5 {
		t.Errorf("$default index = %d, want 5", rs.dflt)
	}
}

func TestEntitled(t *testing.T) {
	rs, err := ParseRules([]byte(`[
		{"route":"GET /orders","scopes":["orders:read"]},
		{"route":"POST /orders","scopes":["orders:read","orders:write"]},
		{"route":"GET /reports","groups":["analysts","admins"]},
		{"route":"GET /audit","scopes":["audit"],"groups":["admins"]},
		{"route":"GET /me"}]`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name           string
		scopes, groups []string
		want           []string
	}{
		{"nothing", nil, nil, []string{"GET /me"}},
		{"one scope", []string{"orders:read"}, nil, []string{"GET /orders", "GET /me"}},
		{"all scopes needed", []string{"orders:write"}, nil, []string{"GET /me"}},
		{"both scopes", []string{"orders:write", "orders:read"}, nil, []string{"GET /orders", "POST /orders", "GET /me"}},
		{"any group", nil, []string{"admins"}, []string{"GET /reports", "GET /me"}},
		{"scope and group", []string{"audit"}, []string{"admins"}, []string{"GET /reports", "GET /audit", "GET /me"}},
		{"scope without group", []string{"audit"}, []string{"analysts"}, []string{"GET /reports", "GET /me"}},
		{"case sensitive", []string{"Orders:Read"}, []string{"Admins"}, []string{"GET /me"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range rs.Entitled(tc.scopes, tc.groups) {
				got = append(got, r.Route)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Entitled(%v, %v) = %v, want %v", tc.scopes, tc.groups, got, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	rs := mustRules(t,
		"GET /pets/dog/1",
		"GET /pets/dog/{id}",
		"GET /pets/{proxy+}",
		"ANY /{proxy+}",
		"ANY /pets/dog",
		"POST /pets/dog",
		"GET /orders/{id}",
		"GET /orders/{id}/items",
		"GET /orders/mine",
		"ANY /orders/{id}/{x}",
		"GET /",
		"GET /a/{x}/c",
		"GET /a/b/{y}",
	)
	dflt := mustRules(t, "GET /orders", "$default")
	cases := []struct {
		name         string
		rs           *Rules
		method, path string
		want         string // "" for no match
	}{
		// The HTTP API developer guide's example of route selection.
		{"exact literal", rs, "GET", "/pets/dog/1", "GET /pets/dog/1"},
		{"param beats greedy", rs, "GET", "/pets/dog/2", "GET /pets/dog/{id}"},
		{"greedy", rs, "GET", "/pets/cat/1", "GET /pets/{proxy+}"},
		{"method falls to ANY greedy", rs, "POST", "/pets/dog/1", "ANY /{proxy+}"},
		{"specific method beats ANY", rs, "POST", "/pets/dog", "POST /pets/dog"},
		{"ANY for other methods", rs, "DELETE", "/pets/dog", "ANY /pets/dog"},
		{"path beats method", rs, "GET", "/pets/dog", "ANY /pets/dog"},
		{"literal beats param sibling", rs, "GET", "/orders/mine", "GET /orders/mine"},
		{"param", rs, "GET", "/orders/42", "GET /orders/{id}"},
		{"deeper literal", rs, "GET", "/orders/42/items", "GET /orders/{id}/items"},
		{"deeper param", rs, "PUT", "/orders/42/lines", "ANY /orders/{id}/{x}"},
		{"literal first segment wins", rs, "GET", "/a/b/c", "GET /a/b/{y}"},
		{"backtracks", rs, "GET", "/a/x/c", "GET /a/{x}/c"},
		{"many segments greedy", rs, "GET", "/pets/a/b/c/d/e/f/g", "GET /pets/{proxy+}"},
		{"root", rs, "GET", "/", "GET /"},
		{"root other method", rs, "POST", "/", ""},
		{"greedy needs a segment", rs, "POST", "/", ""},
		{"trailing slash", rs, "GET", "/orders/42/", ""},
		{"double slash", rs, "GET", "/orders//42", ""},
		{"unknown method", rs, "TRACE", "/x", ""},
		{"lower-case method", rs, "get", "/orders/42", ""},
		{"no leading slash", rs, "GET", "orders/42", ""},
		{"case-sensitive path", rs, "GET", "/Orders/mine", "ANY /{proxy+}"},
		{"default fallback", dflt, "GET", "/nope", "$default"},
		{"default not over a match", dflt, "GET", "/orders", "GET /orders"},
		{"default by method", dflt, DefaultRoute, "/", "$default"},
		{"default route arn ignores others", dflt, DefaultRoute, "/orders", "$default"},
		{"no default", rs, DefaultRoute, "/", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.rs.Match(tc.method, tc.path)
			if ok != (tc.want != "") || got.Route != tc.want {
				t.Errorf("Match(%q, %q) = %q, %v; want %q", tc.method, tc.path, got.Route, ok, tc.want)
			}
		})
	}
}
