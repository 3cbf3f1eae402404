package samtemplate

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Conditions: the template's Conditions section is evaluated with the local
// parameter values, so that Fn::If in a property the gateway reads picks the
// branch CloudFormation would pick for the same parameters. A function or API
// with a Condition exists locally only when its condition holds (see Parse).

// condition evaluates the named condition of the Conditions section.
func (d *doc) condition(name string, n *yaml.Node, res, prop string) (bool, error) {
	if v, ok := d.condValues[name]; ok {
		return v, nil
	}
	def := get(d.conditions, name)
	if def == nil {
		return false, d.errf(n, res, prop, "condition %s is not in Conditions", name)
	}
	if d.resolving["Conditions."+name] {
		return false, d.errf(n, res, prop, "condition %s refers to itself", name)
	}
	d.resolving["Conditions."+name] = true
	defer delete(d.resolving, "Conditions."+name)
	v, err := d.resolve(def, "Conditions", name)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, d.errf(def, "Conditions", name, "is a %s, want Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition", kindOf(v))
	}
	d.condValues[name] = b
	return b, nil
}

// conditionArg evaluates one operand of Fn::Not, Fn::And or Fn::Or: a
// condition function or {Condition: name}.
func (d *doc) conditionArg(n *yaml.Node, fn, res, prop string) (bool, error) {
	v, err := d.resolve(n, res, prop)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, d.errf(n, res, prop, "%s: operand is a %s, want a condition", fn, kindOf(v))
	}
	return b, nil
}

// conditionIntrinsic evaluates Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or
// and Condition; ok is false for any other name.
func (d *doc) conditionIntrinsic(name string, arg *yaml.Node, res, prop string) (v any, ok bool, err error) {
	switch name {
	case "Condition":
		if arg.Kind != yaml.ScalarNode || arg.Tag != "" && arg.Tag != "!!str" && arg.Tag != "!Condition" {
			return nil, true, d.errf(arg, res, prop, "Condition takes a condition name")
		}
		b, err := d.condition(arg.Value, arg, res, prop)
		return b, true, err
	case "Fn::If":
		a, err := args(untagged(arg), "Fn::If", 3)
		if err != nil {
			return nil, true, d.errAt(arg, res, prop, err)
		}
		if a[0].Kind != yaml.ScalarNode || a[0].Tag != "" && a[0].Tag != "!!str" {
			return nil, true, d.errf(arg, res, prop, "Fn::If: the first item must be a condition name")
		}
		b, err := d.condition(a[0].Value, a[0], res, prop)
		if err != nil {
			return nil, true, err
		}
		branch := a[2]
		if b {
			branch = a[1]
		}
		v, err := d.resolve(branch, res, prop)
		return v, true, err
	case "Fn::Equals":
		a, err := args(untagged(arg), "Fn::Equals", 2)
		if err != nil {
			return nil, true, d.errAt(arg, res, prop, err)
		}
		var vals [2]any
		for i := range a {
			if vals[i], err = d.resolve(a[i], res, prop); err != nil {
				return nil, true, err
			}
			// CloudFormation compares values as strings: 0 equals "0".
			if s, err := scalarString(vals[i]); err == nil {
				vals[i] = s
			}
		}
		return reflect.DeepEqual(vals[0], vals[1]), true, nil
	case "Fn::Not":
		a, err := args(untagged(arg), "Fn::Not", 1)
		if err != nil {
			return nil, true, d.errAt(arg, res, prop, err)
		}
		b, err := d.conditionArg(a[0], name, res, prop)
		return !b, true, err
	case "Fn::And", "Fn::Or":
		list := deref(untagged(arg))
		if list.Kind != yaml.SequenceNode || len(list.Content) < 2 || len(list.Content) > 10 {
			return nil, true, d.errf(arg, res, prop, "%s takes a list of 2 to 10 conditions", name)
		}
		and := name == "Fn::And"
		out := and
		for i, c := range list.Content {
			b, err := d.conditionArg(c, name, res, fmt.Sprintf("%s[%d]", prop, i))
			if err != nil {
				return nil, true, err
			}
			if and {
				out = out && b
			} else {
				out = out || b
			}
		}
		return out, true, nil
	}
	return nil, false, nil
}
