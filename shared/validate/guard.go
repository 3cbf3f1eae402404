package validate

import (
	"maps"
	"slices"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The mass-assignment guard walks the parsed body beside the compiled schema
// and decides, for every object member, whether the schema declares it.
//
// The schemas that apply at one location are the schema reached there plus,
// transitively, everything it pulls in: $ref, $dynamicRef, $recursiveRef,
// allOf, anyOf, oneOf, if, then, else, dependentSchemas and schema-valued
// dependencies. A member is declared when any of them
//   - lists it in properties,
//   - has a patternProperties pattern that matches it,
//   - sets additionalProperties (or unevaluatedProperties) to true or to a
//     schema, which is an explicit decision to accept other members, or
//   - is the boolean schema true or a schema with no keywords at all ({}).
//
// Every other member is unknown, even when the schema never said
// additionalProperties: false: {"type": "object"} accepts only {}. Branches
// of anyOf and oneOf are united (a member declared in any branch is known);
// the schema validator still checks each branch in full. not is ignored.
//
// The members of an object reached through additionalProperties: true, or
// through a {} or true schema, are free: nothing below them is checked for
// unknown members. Privileged names and injection are checked everywhere.

// schemaSet is the closure of schemas that apply at one location.
type schemaSet []*jsonschema.Schema

func closure(roots ...*jsonschema.Schema) schemaSet {
	var out schemaSet
	seen := map[*jsonschema.Schema]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		stack = append(stack, s.Ref, s.RecursiveRef, s.If, s.Then, s.Else)
		if s.DynamicRef != nil {
			stack = append(stack, s.DynamicRef.Ref)
		}
		stack = append(stack, s.AllOf...)
		stack = append(stack, s.AnyOf...)
		stack = append(stack, s.OneOf...)
		for _, d := range s.DependentSchemas {
			stack = append(stack, d)
		}
		for _, d := range s.Dependencies {
			if ds, ok := d.(*jsonschema.Schema); ok {
				stack = append(stack, ds)
			}
		}
	}
	return out
}

// closures holds the closure of every schema reachable from a route's root
// schema, computed once by [buildClosures] so the per-request walk allocates
// nothing for it. It is read-only after construction.
type closures map[*jsonschema.Schema]schemaSet

func buildClosures(root *jsonschema.Schema) closures {
	c := closures{}
	stack := []*jsonschema.Schema{root}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s == nil {
			continue
		}
		if _, done := c[s]; done {
			continue
		}
		c[s] = closure(s)
		stack = append(stack, s.Ref, s.RecursiveRef, s.If, s.Then, s.Else, s.Contains,
			s.Items2020, s.UnevaluatedItems, s.UnevaluatedProperties)
		if s.DynamicRef != nil {
			stack = append(stack, s.DynamicRef.Ref)
		}
		stack = append(stack, s.AllOf...)
		stack = append(stack, s.AnyOf...)
		stack = append(stack, s.OneOf...)
		stack = append(stack, s.PrefixItems...)
		for _, p := range s.Properties {
			stack = append(stack, p)
		}
		for _, p := range s.PatternProperties {
			stack = append(stack, p)
		}
		for _, d := range s.DependentSchemas {
			stack = append(stack, d)
		}
		for _, d := range s.Dependencies {
			if ds, ok := d.(*jsonschema.Schema); ok {
				stack = append(stack, ds)
			}
		}
		for _, v := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
			switch x := v.(type) {
			case *jsonschema.Schema:
				stack = append(stack, x)
			case []*jsonschema.Schema:
				stack = append(stack, x...)
			}
		}
	}
	return c
}

// of returns the union of the closures of roots.
func (c closures) of(roots []*jsonschema.Schema) schemaSet {
	switch len(roots) {
	case 0:
		return nil
	case 1:
		if set, ok := c[roots[0]]; ok {
			return set
		}
	}
	var out schemaSet
	for _, r := range roots {
		set, ok := c[r]
		if !ok {
			set = closure(r)
		}
		for _, s := range set {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// empty reports whether s accepts anything: the boolean schema true or a
// schema without assertions or applicators.
func empty(s *jsonschema.Schema) bool {
	if s.Bool != nil {
		return *s.Bool
	}
	return s.Ref == nil && s.RecursiveRef == nil && s.DynamicRef == nil &&
		s.Types == nil && s.Enum == nil && s.Const == nil && s.Not == nil &&
		len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0 &&
		s.If == nil && s.Then == nil && s.Else == nil &&
		s.Properties == nil && s.PatternProperties == nil && s.AdditionalProperties == nil &&
		s.UnevaluatedProperties == nil && s.PropertyNames == nil && len(s.Required) == 0 &&
		s.MinProperties == nil && s.MaxProperties == nil &&
		s.Items == nil && s.AdditionalItems == nil && s.PrefixItems == nil && s.Items2020 == nil &&
		s.UnevaluatedItems == nil && s.Contains == nil && s.Format == nil && s.Pattern == nil
}

// free reports whether nothing below this location is checked for unknown
// members: no schema applies, or every one accepts anything.
func (set schemaSet) free() bool {
	for _, s := range set {
		if !empty(s) {
			return false
		}
	}
	return true
}

// isFalse reports whether v (an additionalProperties-like field) is false or
// the boolean schema false.
func isFalse(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case *jsonschema.Schema:
		return x == nil || x.Bool != nil && !*x.Bool
	}
	return true // nil: absent
}

// member reports whether name is declared for an object at this location,
// whether some schema names it in properties (a name the schema author
// wrote, which needs no injection check), and the schemas that apply to its
// value.
func (set schemaSet) member(name string, c closures) (known, named bool, child schemaSet) {
	var roots []*jsonschema.Schema
	for _, s := range set {
		if empty(s) {
			known = true
			continue
		}
		matched := false
		if p, ok := s.Properties[name]; ok {
			matched, named = true, true
			roots = append(roots, p)
		}
		for re, p := range s.PatternProperties {
			if re.MatchString(name) {
				matched = true
				roots = append(roots, p)
			}
		}
		if matched {
			known = true
			continue
		}
		if !isFalse(s.AdditionalProperties) {
			known = true
			if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
				roots = append(roots, ap)
			}
		} else if s.UnevaluatedProperties != nil && !isFalse(s.UnevaluatedProperties) {
			known = true
			roots = append(roots, s.UnevaluatedProperties)
		}
	}
	return known, named, c.of(roots)
}

// item returns the schemas that apply to element i of an array here.
func (set schemaSet) item(i int, c closures) schemaSet {
	var roots []*jsonschema.Schema
	for _, s := range set {
		switch items := s.Items.(type) {
		case *jsonschema.Schema:
			roots = append(roots, items)
		case []*jsonschema.Schema:
			if i < len(items) {
				roots = append(roots, items[i])
			} else if ai, ok := s.AdditionalItems.(*jsonschema.Schema); ok {
				roots = append(roots, ai)
			}
		}
		if i < len(s.PrefixItems) {
			roots = append(roots, s.PrefixItems[i])
		} else if s.Items2020 != nil {
			roots = append(roots, s.Items2020)
		}
		if s.Contains != nil {
			roots = append(roots, s.Contains)
		}
		if s.UnevaluatedItems != nil {
			roots = append(roots, s.UnevaluatedItems)
		}
	}
	return c.of(roots)
}

// finding is the first breach of one rule, and where.
type finding struct {
	rule Rule
	path []string
}

// walker checks a parsed body for privileged fields, unknown members and
// injection in one pass. Keys are visited in sorted order so the reported
// location is deterministic. Recursion depth is bounded by the route's
// maxDepth, which the pre-parser has already enforced.
type walker struct {
	rt         *route
	path       []string
	privileged *finding
	unknown    *finding
	injection  *finding
}

func (w *walker) record(dst **finding, rule Rule) {
	if *dst == nil {
		*dst = &finding{rule: rule, path: slices.Clone(w.path)}
	}
}

func (w *walker) walk(v any, set schemaSet, free bool) {
	if w.privileged != nil {
		return
	}
	switch x := v.(type) {
	case string:
		if w.injection == nil {
			if rule := inspect(x, w.rt.inspection(w.path)); rule != "" {
				w.record(&w.injection, rule)
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			w.path = append(w.path, k)
			if w.rt.isPrivileged(k) {
				w.record(&w.privileged, RulePrivilegedField)
				w.path = w.path[:len(w.path)-1]
				return
			}
			childFree := free
			var child schemaSet
			named := false
			if !free {
				var known bool
				known, named, child = set.member(k, w.rt.closures)
				if !known {
					w.record(&w.unknown, RuleUnknownMember)
				}
				childFree = !known || child.free()
			}
			if w.injection == nil && !named {
				if rule := inspect(k, w.rt.inspection(w.path)); rule != "" {
					w.record(&w.injection, rule)
				}
			}
			w.walk(x[k], child, childFree)
			w.path = w.path[:len(w.path)-1]
		}
	case []any:
		for i, e := range x {
			w.path = append(w.path, strconv.Itoa(i))
			var child schemaSet
			if !free {
				child = set.item(i, w.rt.closures)
			}
			w.walk(e, child, free || child.free())
			w.path = w.path[:len(w.path)-1]
		}
	}
}
