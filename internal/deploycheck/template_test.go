package deploycheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// root is the repository root, relative to this package.
var root = filepath.Join("..", "..")

// tmpl is template.yaml as goformation's intrinsics processor reads it,
// with every intrinsic function in long form ({"Ref": "X"},
// {"Fn::GetAtt": "X.Arn"}, {"Fn::If": [...]}) and nothing resolved.
type tmpl map[string]any

// readTemplate reads the repository's template.yaml.
func readTemplate(t *testing.T) tmpl {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("goformation cannot read template.yaml: %v", err)
	}
	var out tmpl
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.resources()) == 0 {
		t.Fatal("template.yaml has no Resources")
	}
	return out
}

// clone returns a deep copy, for the tests that break a template on purpose.
func (tp tmpl) clone(t *testing.T) tmpl {
	t.Helper()
	b, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	var out tmpl
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (tp tmpl) resources() map[string]any { return obj(tp["Resources"]) }

// resource returns the resource's mapping (Type, Properties, ...), or nil.
func (tp tmpl) resource(id string) map[string]any { return obj(tp.resources()[id]) }

// props returns a resource's Properties, or nil.
func (tp tmpl) props(id string) map[string]any { return obj(tp.resource(id)["Properties"]) }

// ofType returns the logical ids of the resources of type typ, sorted.
func (tp tmpl) ofType(typ string) []string {
	var ids []string
	for id, r := range tp.resources() {
		if obj(r)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// parameters decodes the Parameters section into goformation's type.
func (tp tmpl) parameters(t *testing.T) cloudformation.Parameters {
	t.Helper()
	b, err := json.Marshal(tp["Parameters"])
	if err != nil {
		t.Fatal(err)
	}
	var p cloudformation.Parameters
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("Parameters: %v", err)
	}
	return p
}

// resolved decodes resource id into out (a goformation resource type such
// as *wafv2.WebACL) after goformation resolved the template's intrinsic
// functions with the parameters' defaults, overridden by params.
func (tp tmpl) resolved(t *testing.T, id string, params map[string]any, out any) {
	t.Helper()
	b, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := intrinsics.ProcessJSON(b, &intrinsics.ProcessorOptions{ParameterOverrides: params})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Resources map[string]json.RawMessage }
	if err := json.Unmarshal(res, &doc); err != nil {
		t.Fatal(err)
	}
	r, ok := doc.Resources[id]
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	if err := json.Unmarshal(r, out); err != nil {
		t.Fatalf("%s as %T: %v", id, out, err)
	}
}

// functionProps returns a function's Properties with Globals.Function
// merged in the way SAM merges them: maps key by key (the function wins),
// anything else the function's own value when it has one.
func (tp tmpl) functionProps(id string) map[string]any {
	return merge(obj(obj(tp["Globals"])["Function"]), tp.props(id))
}

func merge(global, local map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range global {
		out[k] = v
	}
	for k, v := range local {
		g, l := obj(global[k]), obj(v)
		if g != nil && l != nil && !isIntrinsic(v) && !isIntrinsic(global[k]) {
			out[k] = merge(g, l)
			continue
		}
		out[k] = v
	}
	return out
}

// obj returns v as a mapping, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// list returns v as a list, or nil.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// isIntrinsic reports whether v is a long-form intrinsic function call.
func isIntrinsic(v any) bool {
	m := obj(v)
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// refOf returns X for {"Ref": "X"}.
func refOf(v any) (string, bool) {
	m := obj(v)
	s, ok := m["Ref"].(string)
	return s, ok && len(m) == 1
}

// getAttOf returns X and A for {"Fn::GetAtt": "X.A"} or {"Fn::GetAtt": ["X", "A"]}.
func getAttOf(v any) (string, string, bool) {
	switch a := obj(v)["Fn::GetAtt"].(type) {
	case string:
		id, attr, ok := strings.Cut(a, ".")
		return id, attr, ok
	case []any:
		if len(a) == 2 {
			id, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			return id, attr, ok1 && ok2
		}
	}
	return "", "", false
}

// refs returns every Ref, GetAtt and ${X} of a Sub inside v.
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := refOf(x); ok {
				out = append(out, r)
				return
			}
			if id, _, ok := getAttOf(x); ok {
				out = append(out, id)
				return
			}
			if s, ok := x["Fn::Sub"].(string); ok {
				for _, part := range strings.Split(s, "${")[1:] {
					name, _, _ := strings.Cut(part, "}")
					name, _, _ = strings.Cut(name, ".")
					out = append(out, name)
				}
				return
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// stringValues returns the literal strings v can take: v itself, the items of a
// list, both branches of an Fn::If. computed is true when some value is
// another intrinsic function, whose value a check cannot know.
func stringValues(v any) (vals []string, computed bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, false
	case []any:
		for _, c := range x {
			s, comp := stringValues(c)
			vals, computed = append(vals, s...), computed || comp
		}
		return vals, computed
	case map[string]any:
		if r, ok := refOf(x); ok && r == "AWS::NoValue" {
			return nil, false
		}
		if branches := list(x["Fn::If"]); len(branches) == 3 {
			return stringValues(branches[1:])
		}
		return nil, true
	}
	return nil, v != nil
}

// number returns v as a float64 when it is a literal number.
func number(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

// paramDefault returns parameter name's Default and whether it has one.
func paramDefault(params cloudformation.Parameters, name string) (any, bool) {
	p, ok := params[name]
	if !ok || p.Default == nil {
		return nil, false
	}
	return p.Default, true
}

// expectProblem fails unless one of problems contains want.
func expectProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; problems: %q", want, problems)
}

// expectNone fails with every problem.
func expectNone(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}
