package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchRoutes returns a realistic table of n rules: resources with
// collection, item, sub-collection and sub-item routes under read and
// write scopes, an admin area, and a reports proxy.
func benchRoutes(n int) string {
	var rules []string
	add := func(route, scope string) {
		if len(rules) < n {
			rules = append(rules, fmt.Sprintf(`{"route":%q,"scopes":[%q]}`, route, scope))
		}
	}
	add("ANY /reports/{proxy+}", "reports")
	add("POST /admin/users", "admin")
	add("DELETE /admin/users/{id}", "admin")
	for i := 0; len(rules) < n; i++ {
		res := fmt.Sprintf("res%d", i)
		add("GET /"+res, res+":read")
		add("POST /"+res, res+":write")
		add("GET /"+res+"/{id}", res+":read")
		add("PUT /"+res+"/{id}", res+":write")
		add("DELETE /"+res+"/{id}", res+":write")
		add("GET /"+res+"/{id}/items", res+":read")
		add("GET /"+res+"/{id}/items/{item}", res+":read")
		add("GET /"+res+"/mine", res+":read")
	}
	return "[" + strings.Join(rules, ",") + "]"
}

// readScopes entitles the caller to every read route and the reports.
func readScopes(n int) []string {
	s := []string{"reports"}
	for i := range n {
		s = append(s, fmt.Sprintf("res%d:read", i))
	}
	return s
}

func BenchmarkPolicy(b *testing.B) {
	for _, n := range []int{10, 50} {
		rs, err := ParseRules([]byte(benchRoutes(n)))
		if err != nil {
			b.Fatal(err)
		}
		allowed := rs.Entitled(readScopes(n), nil)
		rs.Policy(testArn, allowed) // the first call runs the searches
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs.Policy(testArn, allowed)
			}
		})
	}
}

// BenchmarkPolicyCold measures ParseRules plus the first Policy, which runs
// the searches for the entitled routes: the cost of the first request.
func BenchmarkPolicyCold(b *testing.B) {
	for _, n := range []int{10, 50} {
		table := []byte(benchRoutes(n))
		scopes := readScopes(n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs, err := ParseRules(table)
				if err != nil {
					b.Fatal(err)
				}
				rs.Policy(testArn, rs.Entitled(scopes, nil))
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	rs, err := ParseRules([]byte(benchRoutes(50)))
	if err != nil {
		b.Fatal(err)
	}
	doc := rs.Policy(testArn, rs.Entitled(readScopes(50), nil))
	for name, arn := range map[string]string{
		"allowed": testBase + "GET/res3/42/items/7",
		"denied":  testBase + "PUT/res3/42",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(doc, arn)
			}
		})
	}
}
