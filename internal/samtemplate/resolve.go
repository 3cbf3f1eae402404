package samtemplate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// doc is a parsed template on its way to a [Template].
type doc struct {
	file      string
	params    map[string]*param
	resources map[string]*resource
	globals   map[string]*yaml.Node // "Function", "Api", "HttpApi"
	mappings  *yaml.Node
	// conditions is the Conditions section; condValues memoises evaluated ones.
	conditions *yaml.Node
	condValues map[string]bool
	resolving  map[string]bool // resources (and "Conditions.X") being resolved (cycle guard)
	depth      int
}

type param struct {
	name  string
	typ   string
	value *string // override, else Default; nil when neither
	line  int
}

type resource struct {
	id    string
	typ   string
	node  *yaml.Node // the logical id's key node, for line numbers
	body  *yaml.Node // the resource's mapping
	props *yaml.Node // Properties, Globals merged; never nil (maybe empty)
}

// noValue is what Ref AWS::NoValue resolves to: the property is dropped.
type noValueType struct{}

var noValue = noValueType{}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

func (d *doc) errAt(n *yaml.Node, res, prop string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e // already placed
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Resource: res, Property: prop, Err: err}
}

func (d *doc) errf(n *yaml.Node, res, prop, format string, args ...any) *Error {
	return d.errAt(n, res, prop, fmt.Errorf(format, args...))
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// pairs calls fn for each key and value of mapping m, in order.
func pairs(m *yaml.Node, fn func(k string, kn, v *yaml.Node) error) error {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if err := fn(m.Content[i].Value, m.Content[i], deref(m.Content[i+1])); err != nil {
			return err
		}
	}
	return nil
}

// intrinsicName returns the long name of the intrinsic that n is ("Ref",
// "Fn::Sub", ...) and the node holding its argument, or "" if n is not one.
func intrinsicName(n *yaml.Node) (string, *yaml.Node) {
	n = deref(n)
	if n == nil {
		return "", nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		switch t := n.Tag[1:]; t {
		case "Ref", "Condition":
			return t, n
		default:
			return "Fn::" + t, n
		}
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, deref(n.Content[1])
		}
	}
	return "", nil
}

// resolve turns n into a plain Go value (string, bool, int, float64, nil,
// []any, map[string]any) with every intrinsic function resolved.
func (d *doc) resolve(n *yaml.Node, res, prop string) (any, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 64 {
		return nil, d.errf(n, res, prop, "intrinsic functions nested too deeply")
	}
	if name, arg := intrinsicName(n); name != "" {
		return d.intrinsic(name, arg, res, prop)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, d.errAt(n, res, prop, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := d.resolve(c, res, fmt.Sprintf("%s[%d]", prop, i))
			if err != nil {
				return nil, err
			}
			if v != noValue {
				out = append(out, v)
			}
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		err := pairs(n, func(k string, _, v *yaml.Node) error {
			rv, err := d.resolve(v, res, join(prop, k))
			if err != nil {
				return err
			}
			if rv != noValue {
				out[k] = rv
			}
			return nil
		})
		return out, err
	}
	return nil, d.errf(n, res, prop, "unexpected YAML node")
}

func join(prop, key string) string {
	if prop == "" {
		return key
	}
	return prop + "." + key
}

// scalarString renders a resolved scalar the way CloudFormation passes it to
// a string property.
func scalarString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case nil:
		return "", errors.New("is null")
	default:
		return "", fmt.Errorf("is a %s, want a string", kindOf(v))
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "map"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// str resolves n to a string.
func (d *doc) str(n *yaml.Node, res, prop string) (string, error) {
	v, err := d.resolve(n, res, prop)
	if err != nil {
		return "", err
	}
	s, err := scalarString(v)
	if err != nil {
		return "", d.errAt(n, res, prop, err)
	}
	return s, nil
}

func (d *doc) intrinsic(name string, arg *yaml.Node, res, prop string) (any, error) {
	if v, ok, err := d.conditionIntrinsic(name, arg, res, prop); ok {
		return v, err
	}
	switch name {
	case "Ref":
		if arg.Kind != yaml.ScalarNode {
			return nil, d.errf(arg, res, prop, "Ref takes a logical id")
		}
		return d.ref(arg.Value, arg, res, prop)
	case "Fn::GetAtt":
		id, attr, err := getAttArgs(arg)
		if err != nil {
			return nil, d.errAt(arg, res, prop, err)
		}
		return d.getAtt(id, attr, arg, res, prop)
	case "Fn::Sub":
		return d.sub(arg, res, prop)
	case "Fn::Join":
		return d.join(arg, res, prop)
	case "Fn::Select":
		return d.selectFn(arg, res, prop)
	case "Fn::Split":
		return d.split(arg, res, prop)
	case "Fn::FindInMap":
		return d.findInMap(arg, res, prop)
	case "Fn::Base64":
		s, err := d.str(untagged(arg), res, prop)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	default:
		return nil, d.errAt(arg, res, prop, unsupported("intrinsic function %s", name))
	}
}

// untagged returns a copy of a short-form intrinsic's node without its tag,
// so that resolving it yields the argument rather than the call again.
func untagged(n *yaml.Node) *yaml.Node {
	if n == nil || !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return n
	}
	c := *n
	c.Tag = ""
	switch c.Kind {
	case yaml.ScalarNode:
		c.Tag = "!!str"
	case yaml.SequenceNode:
		c.Tag = "!!seq"
	case yaml.MappingNode:
		c.Tag = "!!map"
	}
	return &c
}

// args returns the items of a list argument, which must have want items.
func args(n *yaml.Node, fn string, want int) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) != want {
		return nil, fmt.Errorf("%s takes a list of %d items", fn, want)
	}
	out := make([]*yaml.Node, want)
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, nil
}

func getAttArgs(n *yaml.Node) (id, attr string, err error) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		id, attr, ok := strings.Cut(n.Value, ".")
		if !ok || id == "" || attr == "" {
			return "", "", fmt.Errorf("Fn::GetAtt %q: want LogicalId.Attribute", n.Value)
		}
		return id, attr, nil
	case yaml.SequenceNode:
		a, err := args(n, "Fn::GetAtt", 2)
		if err != nil {
			return "", "", err
		}
		if a[0].Kind != yaml.ScalarNode || a[1].Kind != yaml.ScalarNode || a[1].Tag != "!!str" && a[1].Tag != "" {
			return "", "", unsupported("Fn::GetAtt with computed arguments")
		}
		return a[0].Value, a[1].Value, nil
	}
	return "", "", errors.New("Fn::GetAtt takes LogicalId.Attribute")
}

// ref resolves Ref name.
func (d *doc) ref(name string, n *yaml.Node, res, prop string) (any, error) {
	switch name {
	case "AWS::StackName":
		return StackName, nil
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return AccountID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, d.errAt(n, res, prop, unsupported("pseudo parameter %s", name))
	}
	if p, ok := d.params[name]; ok {
		if p.value == nil {
			return nil, d.errf(n, res, prop, "parameter %s has no Default and no override", name)
		}
		if strings.HasPrefix(p.typ, "List<") || p.typ == "CommaDelimitedList" {
			var out []any
			for _, s := range strings.Split(*p.value, ",") {
				out = append(out, strings.TrimSpace(s))
			}
			return out, nil
		}
		return *p.value, nil
	}
	r, ok := d.resources[name]
	if id, attr, dotted := strings.Cut(name, "."); !ok && dotted {
		return d.dottedRef(id, attr, n, res, prop)
	}
	if !ok {
		return nil, d.errf(n, res, prop, "Ref %s: no such parameter or resource", name)
	}
	if d.resolving[name] {
		return nil, d.errf(n, res, prop, "Ref %s: circular reference", name)
	}
	d.resolving[name] = true
	defer delete(d.resolving, name)
	v, err := d.resourceRef(r)
	if err != nil {
		return nil, d.errAt(n, res, prop, err)
	}
	return v, nil
}

// dottedRef resolves SAM's Ref F.Alias: the ARN of the alias that
// AutoPublishAlias gives function F (locally the same code as F).
func (d *doc) dottedRef(id, attr string, n *yaml.Node, res, prop string) (any, error) {
	r, ok := d.resources[id]
	if !ok || r.typ != "AWS::Serverless::Function" || attr != "Alias" {
		return nil, d.errAt(n, res, prop, unsupported("Ref %s.%s (only Ref <Function>.Alias)", id, attr))
	}
	an := get(r.props, "AutoPublishAlias")
	if an == nil {
		return nil, d.errf(n, res, prop, "Ref %s.Alias: %s has no AutoPublishAlias", id, id)
	}
	alias, err := d.str(an, id, "Properties.AutoPublishAlias")
	if err != nil {
		return nil, err
	}
	name, err := d.functionName(r)
	if err != nil {
		return nil, d.errAt(n, res, prop, err)
	}
	return FunctionARN(name) + ":" + alias, nil
}

// resourceRef is what Ref of a resource resolves to locally.
func (d *doc) resourceRef(r *resource) (string, error) {
	switch r.typ {
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return d.functionName(r)
	case "AWS::SecretsManager::Secret":
		name := get(r.props, "Name")
		if name == nil {
			return "", d.errAt(r.node, r.id, "Properties.Name",
				unsupported("Ref to a secret needs its Name property locally (the secret is created under that name)"))
		}
		return d.str(name, r.id, "Properties.Name")
	case "AWS::Serverless::Api", "AWS::Serverless::HttpApi":
		return localID(r.id), nil
	case "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable":
		return d.tableName(r)
	}
	return "", unsupported("Ref to a %s resource (%s)", r.typ, r.id)
}

func (d *doc) functionName(r *resource) (string, error) {
	if n := get(r.props, "FunctionName"); n != nil {
		return d.str(n, r.id, "Properties.FunctionName")
	}
	return r.id, nil
}

func (d *doc) tableName(r *resource) (string, error) {
	if n := get(r.props, "TableName"); n != nil {
		return d.str(n, r.id, "Properties.TableName")
	}
	return StackName + "-" + r.id, nil
}

func (d *doc) getAtt(id, attr string, n *yaml.Node, res, prop string) (any, error) {
	r, ok := d.resources[id]
	if !ok {
		return nil, d.errf(n, res, prop, "Fn::GetAtt %s.%s: no such resource", id, attr)
	}
	if d.resolving[id] {
		return nil, d.errf(n, res, prop, "Fn::GetAtt %s.%s: circular reference", id, attr)
	}
	d.resolving[id] = true
	defer delete(d.resolving, id)
	switch {
	case (r.typ == "AWS::Serverless::Function" || r.typ == "AWS::Lambda::Function") && attr == "Arn":
		name, err := d.functionName(r)
		if err != nil {
			return nil, d.errAt(n, res, prop, err)
		}
		return FunctionARN(name), nil
	case (r.typ == "AWS::DynamoDB::Table" || r.typ == "AWS::Serverless::SimpleTable") && attr == "Arn":
		name, err := d.tableName(r)
		if err != nil {
			return nil, d.errAt(n, res, prop, err)
		}
		return "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + name, nil
	}
	return nil, d.errAt(n, res, prop, unsupported("Fn::GetAtt %s.%s (a %s)", id, attr, r.typ))
}

// FunctionARN returns the local ARN of the function named name.
func FunctionARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + name
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (d *doc) sub(arg *yaml.Node, res, prop string) (any, error) {
	arg = untagged(deref(arg))
	var tmpl string
	vars := map[string]any{}
	switch arg.Kind {
	case yaml.ScalarNode:
		tmpl = arg.Value
	case yaml.SequenceNode:
		a, err := args(arg, "Fn::Sub", 2)
		if err != nil {
			return nil, d.errAt(arg, res, prop, err)
		}
		if a[0].Kind != yaml.ScalarNode {
			return nil, d.errf(arg, res, prop, "Fn::Sub: the first item must be a string")
		}
		tmpl = a[0].Value
		v, err := d.resolve(a[1], res, prop)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, d.errf(arg, res, prop, "Fn::Sub: the second item must be a map")
		}
		vars = m
	default:
		return nil, d.errf(arg, res, prop, "Fn::Sub takes a string or [string, map]")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		name = strings.TrimSpace(name)
		var v any
		var err error
		if val, ok := vars[name]; ok {
			v = val
		} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = d.getAtt(id, attr, arg, res, prop)
		} else {
			v, err = d.ref(name, arg, res, prop)
		}
		if err == nil {
			var s string
			if s, err = scalarString(v); err == nil {
				return s
			}
			err = d.errf(arg, res, prop, "Fn::Sub ${%s} %v", name, err)
		}
		if firstErr == nil {
			firstErr = err
		}
		return ""
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func (d *doc) join(arg *yaml.Node, res, prop string) (any, error) {
	a, err := args(untagged(arg), "Fn::Join", 2)
	if err != nil {
		return nil, d.errAt(arg, res, prop, err)
	}
	delim, err := d.str(a[0], res, prop)
	if err != nil {
		return nil, err
	}
	v, err := d.resolve(a[1], res, prop)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, d.errf(arg, res, prop, "Fn::Join: the second item must be a list")
	}
	parts := make([]string, len(list))
	for i, item := range list {
		if parts[i], err = scalarString(item); err != nil {
			return nil, d.errf(arg, res, prop, "Fn::Join item %d %v", i, err)
		}
	}
	return strings.Join(parts, delim), nil
}

func (d *doc) selectFn(arg *yaml.Node, res, prop string) (any, error) {
	a, err := args(untagged(arg), "Fn::Select", 2)
	if err != nil {
		return nil, d.errAt(arg, res, prop, err)
	}
	is, err := d.str(a[0], res, prop)
	if err != nil {
		return nil, err
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return nil, d.errf(arg, res, prop, "Fn::Select: index %q is not a number", is)
	}
	v, err := d.resolve(a[1], res, prop)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok || i < 0 || i >= len(list) {
		return nil, d.errf(arg, res, prop, "Fn::Select: index %d out of range", i)
	}
	return list[i], nil
}

func (d *doc) split(arg *yaml.Node, res, prop string) (any, error) {
	a, err := args(untagged(arg), "Fn::Split", 2)
	if err != nil {
		return nil, d.errAt(arg, res, prop, err)
	}
	delim, err := d.str(a[0], res, prop)
	if err != nil {
		return nil, err
	}
	if delim == "" {
		return nil, d.errf(arg, res, prop, "Fn::Split: empty delimiter")
	}
	s, err := d.str(a[1], res, prop)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out, nil
}

func (d *doc) findInMap(arg *yaml.Node, res, prop string) (any, error) {
	a, err := args(untagged(arg), "Fn::FindInMap", 3)
	if err != nil {
		return nil, d.errAt(arg, res, prop, err)
	}
	var keys [3]string
	for i := range keys {
		if keys[i], err = d.str(a[i], res, prop); err != nil {
			return nil, err
		}
	}
	n := get(get(get(d.mappings, keys[0]), keys[1]), keys[2])
	if n == nil {
		return nil, d.errf(arg, res, prop, "Fn::FindInMap: Mappings.%s.%s.%s not found", keys[0], keys[1], keys[2])
	}
	return d.resolve(n, res, prop)
}

// localID is the local API id of an API's logical id.
func localID(logicalID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(logicalID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mergeGlobals merges a Globals section into a resource's Properties the way
// SAM does: maps merge key by key (the resource wins), lists concatenate
// (globals first), anything else is the resource's.
func mergeGlobals(global, local *yaml.Node) *yaml.Node {
	global, local = deref(global), deref(local)
	switch {
	case global == nil:
		return local
	case local == nil:
		return global
	}
	gi, _ := intrinsicName(global)
	li, _ := intrinsicName(local)
	if gi != "" || li != "" || global.Kind != local.Kind {
		return local
	}
	switch local.Kind {
	case yaml.SequenceNode:
		out := *local
		out.Content = append(append([]*yaml.Node{}, global.Content...), local.Content...)
		return &out
	case yaml.MappingNode:
		out := *local
		out.Content = nil
		seen := map[string]bool{}
		for i := 0; i+1 < len(global.Content); i += 2 {
			k := global.Content[i].Value
			seen[k] = true
			v := global.Content[i+1]
			if lv := get(local, k); lv != nil {
				v = mergeGlobals(v, lv)
			}
			out.Content = append(out.Content, global.Content[i], v)
		}
		for i := 0; i+1 < len(local.Content); i += 2 {
			if !seen[local.Content[i].Value] {
				out.Content = append(out.Content, local.Content[i], local.Content[i+1])
			}
		}
		return &out
	}
	return local
}

// readParams reads Parameters and applies overrides, checking each value
// against the parameter's constraints.
func (d *doc) readParams(n *yaml.Node, overrides map[string]string) error {
	d.params = map[string]*param{}
	err := pairs(n, func(name string, kn, v *yaml.Node) error {
		p := &param{name: name, line: kn.Line, typ: "String"}
		if t := get(v, "Type"); t != nil {
			p.typ = t.Value
		}
		if def := get(v, "Default"); def != nil {
			if def.Kind != yaml.ScalarNode {
				return d.errf(def, name, "Default", "must be a scalar")
			}
			s := def.Value
			p.value = &s
		}
		if o, ok := overrides[name]; ok {
			p.value = &o
		}
		if p.value != nil {
			if err := checkParam(v, *p.value, p.typ); err != nil {
				return d.errAt(v, name, "", err)
			}
		}
		d.params[name] = p
		return nil
	})
	if err != nil {
		return err
	}
	var unknown []string
	for name := range overrides {
		if _, ok := d.params[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return &Error{File: d.file, Property: "Parameters", Err: fmt.Errorf("override for undeclared parameter %s", strings.Join(unknown, ", "))}
	}
	return nil
}

func checkParam(def *yaml.Node, value, typ string) error {
	if av := get(def, "AllowedValues"); av != nil && av.Kind == yaml.SequenceNode {
		ok := false
		for _, c := range av.Content {
			if c.Value == value {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("value %q is not one of AllowedValues", value)
		}
	}
	if ap := get(def, "AllowedPattern"); ap != nil {
		re, err := regexp.Compile(`^(?:` + ap.Value + `)$`)
		if err != nil {
			return fmt.Errorf("AllowedPattern: %w", err)
		}
		if !re.MatchString(value) {
			return fmt.Errorf("value %q does not match AllowedPattern %s", value, ap.Value)
		}
	}
	if typ == "Number" {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("value %q is not a Number", value)
		}
		if mn := get(def, "MinValue"); mn != nil {
			if m, err := strconv.ParseFloat(mn.Value, 64); err == nil && f < m {
				return fmt.Errorf("value %s is below MinValue %s", value, mn.Value)
			}
		}
		if mx := get(def, "MaxValue"); mx != nil {
			if m, err := strconv.ParseFloat(mx.Value, 64); err == nil && f > m {
				return fmt.Errorf("value %s is above MaxValue %s", value, mx.Value)
			}
		}
	}
	if mn := get(def, "MinLength"); mn != nil {
		if m, err := strconv.Atoi(mn.Value); err == nil && len(value) < m {
			return fmt.Errorf("value is shorter than MinLength %d", m)
		}
	}
	if mx := get(def, "MaxLength"); mx != nil {
		if m, err := strconv.Atoi(mx.Value); err == nil && len(value) > m {
			return fmt.Errorf("value is longer than MaxLength %d", m)
		}
	}
	return nil
}
