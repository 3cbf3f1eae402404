package samtemplate

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// maxTemplateSize bounds what Parse reads; CloudFormation's own limit for a
// template body is 1 MB.
const maxTemplateSize = 1 << 20

// Parse reads a SAM template (YAML or JSON) into a [Template]. Every error is
// an [*Error] naming the resource and property; constructs the local gateway
// cannot serve also match [ErrUnsupported].
func Parse(data []byte, opts ...Option) (*Template, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(data) > maxTemplateSize {
		return nil, &Error{File: o.fileName, Err: fmt.Errorf("template is larger than %d bytes", maxTemplateSize)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: o.fileName, Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	if len(root.Content) == 0 || deref(root.Content[0]).Kind != yaml.MappingNode {
		return nil, &Error{File: o.fileName, Err: errors.New("template is not a YAML mapping")}
	}
	top := deref(root.Content[0])
	d := &doc{file: o.fileName, resources: map[string]*resource{}, globals: map[string]*yaml.Node{}, resolving: map[string]bool{}, condValues: map[string]bool{}}
	if err := d.readParams(get(top, "Parameters"), o.params); err != nil {
		return nil, err
	}
	d.mappings = get(top, "Mappings")
	d.conditions = get(top, "Conditions")
	if err := pairs(get(top, "Globals"), func(k string, _, v *yaml.Node) error {
		d.globals[k] = v
		return nil
	}); err != nil {
		return nil, err
	}
	res := get(top, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, &Error{File: d.file, Property: "Resources", Err: errors.New("missing or not a mapping")}
	}
	err := pairs(res, func(id string, kn, v *yaml.Node) error {
		if v.Kind != yaml.MappingNode {
			return d.errf(kn, id, "", "resource is not a mapping")
		}
		t := get(v, "Type")
		if t == nil || t.Value == "" {
			return d.errf(kn, id, "Type", "missing")
		}
		r := &resource{id: id, typ: t.Value, node: kn, body: v, props: get(v, "Properties")}
		if r.props != nil && r.props.Kind != yaml.MappingNode {
			return d.errf(r.props, id, "Properties", "not a mapping")
		}
		var global *yaml.Node
		switch r.typ {
		case "AWS::Serverless::Function":
			global = d.globals["Function"]
		case "AWS::Serverless::Api":
			global = d.globals["Api"]
		case "AWS::Serverless::HttpApi":
			global = d.globals["HttpApi"]
		}
		r.props = mergeGlobals(global, r.props)
		if r.props == nil {
			r.props = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		if c := get(v, "Condition"); c != nil && servable(r.typ) {
			// Served only when CloudFormation would create it with the local
			// parameters; otherwise it does not exist, as in the stack.
			if c.Kind != yaml.ScalarNode {
				return d.errf(c, id, "Condition", "not a condition name")
			}
			create, err := d.condition(c.Value, c, id, "Condition")
			if err != nil {
				return err
			}
			if !create {
				return nil
			}
		}
		d.resources[id] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d.build()
}

func servable(typ string) bool {
	switch typ {
	case "AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::HttpApi":
		return true
	}
	return false
}

func (d *doc) sortedIDs(typ ...string) []string {
	var ids []string
	for id, r := range d.resources {
		for _, t := range typ {
			if r.typ == t {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

func (d *doc) build() (*Template, error) {
	t := &Template{Functions: map[string]*Function{}}
	for _, id := range d.sortedIDs("AWS::Lambda::Function", "AWS::Serverless::Application", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api") {
		r := d.resources[id]
		return nil, d.errAt(r.node, id, "Type", unsupported("%s resources (declare AWS::Serverless::Function / Api / HttpApi instead)", r.typ))
	}
	for _, id := range d.sortedIDs("AWS::Serverless::Function") {
		f, err := d.function(d.resources[id])
		if err != nil {
			return nil, err
		}
		t.Functions[id] = f
	}
	apis := map[string]*API{}
	for _, id := range d.sortedIDs("AWS::Serverless::Api", "AWS::Serverless::HttpApi") {
		a, err := d.api(d.resources[id], false)
		if err != nil {
			return nil, err
		}
		apis[id] = a
	}
	for _, fid := range d.sortedIDs("AWS::Serverless::Function") {
		if err := d.events(d.resources[fid], apis); err != nil {
			return nil, err
		}
	}
	ids := map[string]string{}
	for _, a := range apis {
		if other, dup := ids[a.ID]; dup {
			return nil, d.errf(d.resources[a.LogicalID].node, a.LogicalID, "", "local API id %q is also %s's; rename one", a.ID, other)
		}
		ids[a.ID] = a.LogicalID
		for _, az := range a.Authorizers {
			if _, ok := t.Functions[az.Function]; !ok {
				return nil, d.errf(d.resources[a.LogicalID].node, a.LogicalID, "Properties.Auth.Authorizers."+az.Name+".FunctionArn",
					"function %s is not an AWS::Serverless::Function of this template", az.Function)
			}
		}
		t.APIs = append(t.APIs, a)
	}
	sort.Slice(t.APIs, func(i, j int) bool { return t.APIs[i].LogicalID < t.APIs[j].LogicalID })
	tables, err := d.tables()
	if err != nil {
		return nil, err
	}
	t.Tables = tables
	return t, nil
}

var goRuntimes = map[string]bool{"provided.al2023": true, "provided.al2": true, "provided": true}

func (d *doc) function(r *resource) (*Function, error) {
	id := r.id
	name, err := d.functionName(r)
	if err != nil {
		return nil, err
	}
	f := &Function{LogicalID: id, Name: name, ARN: FunctionARN(name), Env: map[string]string{}, Timeout: 3 * time.Second}
	if pt := get(r.props, "PackageType"); pt != nil && pt.Value == "Image" {
		return nil, d.errAt(pt, id, "Properties.PackageType", unsupported("container image functions"))
	}
	if rt := get(r.props, "Runtime"); rt != nil {
		if f.Runtime, err = d.str(rt, id, "Properties.Runtime"); err != nil {
			return nil, err
		}
		if !goRuntimes[f.Runtime] {
			return nil, d.errAt(rt, id, "Properties.Runtime", unsupported("runtime %s (the local gateway runs bootstrap binaries on provided.al2023 or provided.al2)", f.Runtime))
		}
	}
	if h := get(r.props, "Handler"); h != nil {
		if f.Handler, err = d.str(h, id, "Properties.Handler"); err != nil {
			return nil, err
		}
	}
	if cu := get(r.props, "CodeUri"); cu != nil && cu.Kind == yaml.ScalarNode {
		if f.CodeURI, err = d.str(cu, id, "Properties.CodeUri"); err != nil {
			return nil, err
		}
	}
	if to := get(r.props, "Timeout"); to != nil {
		s, err := d.str(to, id, "Properties.Timeout")
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 900 {
			return nil, d.errf(to, id, "Properties.Timeout", "%q is not a number of seconds in 1..900", s)
		}
		f.Timeout = time.Duration(n) * time.Second
	}
	if vars := get(get(r.props, "Environment"), "Variables"); vars != nil {
		if vars.Kind != yaml.MappingNode {
			if name, _ := intrinsicName(vars); name != "" {
				return nil, d.errAt(vars, id, "Properties.Environment.Variables", unsupported("computed Environment.Variables"))
			}
			return nil, d.errf(vars, id, "Properties.Environment.Variables", "not a mapping")
		}
		err := pairs(vars, func(k string, _, v *yaml.Node) error {
			prop := "Properties.Environment.Variables." + k
			rv, err := d.resolve(v, id, prop)
			if err != nil {
				return err
			}
			if rv == noValue {
				return nil
			}
			s, err := scalarString(rv)
			if err != nil {
				return d.errAt(v, id, prop, err)
			}
			f.Env[k] = s
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if bm := get(get(r.body, "Metadata"), "BuildMethod"); bm != nil {
		f.BuildMethod = bm.Value
	}
	if f.Logging, err = d.logging(id, r.props); err != nil {
		return nil, err
	}
	return f, nil
}
