package deploycheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// checkDocumented: every parameter is in exactly one parameter group (what
// sam deploy --guided and the console show), and every parameter and
// output is named in the deploy guide.
func checkDocumented(tp tmpl, guide string) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	grouped := map[string]int{}
	iface := obj(obj(tp["Metadata"])["AWS::CloudFormation::Interface"])
	for _, g := range list(iface["ParameterGroups"]) {
		for _, p := range list(obj(g)["Parameters"]) {
			if s, ok := p.(string); ok {
				grouped[s]++
			}
		}
	}
	var params []string
	for name := range obj(tp["Parameters"]) {
		params = append(params, name)
	}
	sort.Strings(params)
	for _, name := range params {
		if grouped[name] != 1 {
			bad("parameter %s is in %d parameter groups, want 1", name, grouped[name])
		}
		if !strings.Contains(guide, "`"+name+"`") {
			bad("docs/deploy.md does not explain parameter %s", name)
		}
	}
	for name := range grouped {
		if obj(tp["Parameters"])[name] == nil {
			bad("parameter group lists %s, which is not a parameter", name)
		}
	}
	var outputs []string
	for name := range obj(tp["Outputs"]) {
		outputs = append(outputs, name)
	}
	sort.Strings(outputs)
	for _, name := range outputs {
		if !strings.Contains(guide, "`"+name+"`") {
			bad("docs/deploy.md does not explain output %s", name)
		}
	}
	return problems
}

func TestParametersAndOutputsDocumented(t *testing.T) {
	tp := readTemplate(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	expectNone(t, checkDocumented(tp, guide))

	t.Run("undocumented parameter", func(t *testing.T) {
		expectProblem(t, checkDocumented(tp, strings.ReplaceAll(guide, "`WafRateLimit`", "WafRateLimit")), "does not explain parameter WafRateLimit")
	})
	t.Run("ungrouped parameter", func(t *testing.T) {
		c := tp.clone(t)
		obj(c["Parameters"])["Extra"] = map[string]any{"Type": "String", "Default": ""}
		expectProblem(t, checkDocumented(c, guide+"`Extra`"), "parameter Extra is in 0 parameter groups")
	})
	t.Run("undocumented output", func(t *testing.T) {
		expectProblem(t, checkDocumented(tp, strings.ReplaceAll(guide, "`WebhookUrl`", "")), "does not explain output WebhookUrl")
	})
}
