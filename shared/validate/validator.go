package validate

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validator checks requests against per-route rules. Build one at init with
// [New]; it is immutable and safe for concurrent use.
type Validator struct {
	routes   map[string]*route
	log      *slog.Logger
	typeBase string
}

// An Option changes one of a Validator's defaults.
type Option func(*Validator)

// WithLogger sets the logger for the one line written per rejection. The
// default is slog.Default() at the time of the call to [New].
func WithLogger(l *slog.Logger) Option { return func(v *Validator) { v.log = l } }

// WithProblemTypeBase sets the prefix of problem type URIs; the rule's name
// is appended. The default is [DefaultProblemTypeBase].
func WithProblemTypeBase(base string) Option { return func(v *Validator) { v.typeBase = base } }

// New compiles rules, the JSON configuration (see the package documentation
// for its format), and returns a Validator. Every configuration problem is
// reported at once, wrapped in [ErrConfig]; New never returns a Validator that
// would skip a rule it could not understand. Schemas are compiled here, never
// per request.
func New(rules []byte, opts ...Option) (*Validator, error) {
	v := &Validator{log: slog.Default(), typeBase: DefaultProblemTypeBase}
	for _, o := range opts {
		o(v)
	}
	routes, err := compileRules(rules)
	if err != nil {
		return nil, err
	}
	v.routes = routes
	return v, nil
}

// Validate checks r against its route's rules. It returns nil or a *Problem
// (compare with errors.As) and never another error type: anything it cannot
// check is rejected. The checks run in this order, and the first failure is
// reported:
//
//  1. the route has rules (404 otherwise);
//  2. body size, before and after base64 decoding (413);
//  3. Content-Type (415);
//  4. Content-Digest, when present or required;
//  5. path, query and header parameters;
//  6. the body: JSON pre-parse, privileged fields, unknown members, schema,
//     then SQL injection and XSS; form and text bodies get the checks that
//     apply to them.
//
// Each rejection is logged once, at warn level, with the route, rule, status
// and location, and never a value.
func (v *Validator) Validate(ctx context.Context, r *Request) error {
	rt := v.match(r)
	if rt == nil {
		return v.reject(ctx, nil, RuleUnknownRoute, nil, "", "")
	}
	p := v.check(rt, r)
	if p == nil {
		return nil
	}
	return v.reject(ctx, rt, p.rule, p.path, p.in, p.name)
}

// match finds the rules for r: "METHOD /resource", then "ANY /resource",
// then "$default".
func (v *Validator) match(r *Request) *route {
	if r.Resource != "" {
		if rt := v.routes[r.Method+" "+r.Resource]; rt != nil {
			return rt
		}
		if rt := v.routes["ANY "+r.Resource]; rt != nil {
			return rt
		}
	}
	return v.routes["$default"]
}

// failure is a rejection before it becomes a Problem.
type failure struct {
	rule     Rule
	path     []string // body location; nil for parameters
	in, name string   // parameter location
}

func (v *Validator) reject(ctx context.Context, rt *route, rule Rule, path []string, in, name string) *Problem {
	info := ruleInfos[rule]
	p := &Problem{
		Type:   v.typeBase + string(rule),
		Title:  info.title,
		Status: info.status,
		Detail: info.detail,
		Rule:   rule,
	}
	attrs := []slog.Attr{slog.String("rule", string(rule)), slog.Int("status", p.Status)}
	if rt != nil {
		attrs = append(attrs, slog.String("route", rt.key))
	}
	if in != "" {
		p.In, p.Parameter = in, safeName(name)
		attrs = append(attrs, slog.String("in", p.In), slog.String("parameter", p.Parameter))
	} else if path != nil {
		p.Pointer = fragmentPointer(path)
		attrs = append(attrs, slog.String("pointer", p.Pointer))
	}
	v.log.LogAttrs(ctx, slog.LevelWarn, "request rejected", attrs...)
	return p
}

func (v *Validator) check(rt *route, r *Request) *failure {
	body, f := decodeBody(rt, r)
	if f != nil {
		return f
	}

	var kind bodyKind
	if len(body) > 0 || rt.schema != nil {
		ct := strings.Join(r.header("content-type"), ", ")
		if len(r.header("content-type")) > 1 {
			ct = "" // two Content-Type headers: ambiguous, so not acceptable
		}
		k, ok := matchContentType(ct, rt.accept)
		if !ok {
			return &failure{rule: RuleMediaType}
		}
		kind = k
	}

	if cd := r.header("content-digest"); len(cd) > 0 {
		switch err := verifyContentDigest(strings.Join(cd, ", "), body); {
		case errors.Is(err, errDigestMismatch):
			return &failure{rule: RuleDigestMismatch}
		case err != nil:
			return &failure{rule: RuleDigestInvalid}
		}
	} else if rt.requireDigest {
		return &failure{rule: RuleDigestMissing}
	}

	if f := checkParams(rt, r); f != nil {
		return f
	}

	switch kind {
	case bodyJSON:
		return checkJSON(rt, body)
	case bodyForm:
		return checkForm(rt, body)
	case bodyText:
		if !utf8.Valid(body) {
			return &failure{rule: RuleInvalidUTF8, path: []string{}}
		}
		if rule := inspect(string(body), rt.inspection([]string{})); rule != "" {
			return &failure{rule: rule, path: []string{}}
		}
	}
	return nil
}

// decodeBody returns the body's bytes, checking the size limit before base64
// decoding (on the encoded length) and after it.
func decodeBody(rt *route, r *Request) ([]byte, *failure) {
	limit := rt.limits.maxBytes
	if !r.IsBase64Encoded {
		if len(r.Body) > limit {
			return nil, &failure{rule: RuleBodyTooLarge}
		}
		return []byte(r.Body), nil
	}
	if len(r.Body) > base64.StdEncoding.EncodedLen(limit) {
		return nil, &failure{rule: RuleBodyTooLarge}
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		return nil, &failure{rule: RuleBodyEncoding}
	}
	if len(b) > limit {
		return nil, &failure{rule: RuleBodyTooLarge}
	}
	return b, nil
}

func checkJSON(rt *route, body []byte) *failure {
	doc, err := parseJSON(body, rt.limits)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return &failure{rule: pe.rule, path: nonNil(pe.path)}
		}
		return &failure{rule: RuleInvalidJSON, path: []string{}}
	}
	set := rt.closures.of([]*jsonschema.Schema{rt.schema})
	w := &walker{rt: rt}
	w.walk(doc, set, set.free())
	if w.privileged != nil {
		return &failure{rule: w.privileged.rule, path: nonNil(w.privileged.path)}
	}
	if w.unknown != nil {
		return &failure{rule: w.unknown.rule, path: nonNil(w.unknown.path)}
	}
	if err := rt.schema.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return &failure{rule: RuleSchema, path: []string{}}
		}
		return &failure{rule: RuleSchema, path: nonNil(deepest(ve).InstanceLocation)}
	}
	if w.injection != nil {
		return &failure{rule: w.injection.rule, path: nonNil(w.injection.path)}
	}
	return nil
}

func nonNil(p []string) []string {
	if p == nil {
		return []string{}
	}
	return p
}

// deepest returns the leaf error with the longest instance location, the
// most precise place to point at; ties go to the first found.
func deepest(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	best := e
	stack := []*jsonschema.ValidationError{e}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(cur.Causes) == 0 && len(cur.InstanceLocation) > len(best.InstanceLocation) {
			best = cur
		}
		for i := len(cur.Causes) - 1; i >= 0; i-- {
			stack = append(stack, cur.Causes[i])
		}
	}
	return best
}

// checkForm checks an application/x-www-form-urlencoded body: UTF-8, no
// privileged field names, no injection in names or values. A field's pointer
// is "/name".
func checkForm(rt *route, body []byte) *failure {
	if !utf8.Valid(body) {
		return &failure{rule: RuleInvalidUTF8, path: []string{}}
	}
	fields := parseQuery(string(body))
	names := slices.Sorted(maps.Keys(fields))
	if len(names) > rt.limits.maxMembers {
		return &failure{rule: RuleMaxMembers, path: []string{}}
	}
	for _, k := range names {
		if rt.isPrivileged(k) {
			return &failure{rule: RulePrivilegedField, path: []string{k}}
		}
	}
	for _, k := range names {
		mode := rt.inspection([]string{k})
		if rule := inspect(k, mode); rule != "" {
			return &failure{rule: rule, path: []string{k}}
		}
		for _, val := range fields[k] {
			if rule := inspect(val, mode); rule != "" {
				return &failure{rule: rule, path: []string{k}}
			}
		}
	}
	return nil
}

// checkParams applies the path, query and header rules, then inspects every
// path and query value and the route's chosen headers. Names are visited in
// sorted order so the reported parameter is deterministic.
func checkParams(rt *route, r *Request) *failure {
	for _, name := range slices.Sorted(maps.Keys(rt.path)) {
		p := rt.path[name]
		v, ok := r.PathParameters[name]
		if f := p.check("path", name, oneOrNone(v, ok)); f != nil {
			return f
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.PathParameters)) {
		mode := inspectStrict
		if p := rt.path[name]; p != nil {
			mode = p.mode
		}
		if rule := inspect(r.PathParameters[name], mode); rule != "" {
			return &failure{rule: rule, in: "path", name: name}
		}
	}

	for _, name := range slices.Sorted(maps.Keys(r.Query)) {
		if rt.isPrivileged(name) {
			return &failure{rule: RulePrivilegedField, in: "query", name: name}
		}
		if rt.query[name] == nil && !rt.extraQuery {
			return &failure{rule: RuleUnknownParameter, in: "query", name: name}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(rt.query)) {
		if f := rt.query[name].check("query", name, r.Query[name]); f != nil {
			return f
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Query)) {
		mode := inspectStrict
		if p := rt.query[name]; p != nil {
			mode = p.mode
		}
		if rule := inspect(name, inspectStrict); rule != "" {
			return &failure{rule: rule, in: "query", name: name}
		}
		for _, val := range r.Query[name] {
			if rule := inspect(val, mode); rule != "" {
				return &failure{rule: rule, in: "query", name: name}
			}
		}
	}

	for _, name := range slices.Sorted(maps.Keys(rt.headers)) {
		if f := rt.headers[name].check("header", name, r.header(name)); f != nil {
			return f
		}
	}
	for _, name := range rt.inspectHeader {
		mode := inspectStrict
		if p := rt.headers[name]; p != nil {
			mode = p.mode
		}
		for _, val := range r.header(name) {
			if rule := inspect(val, mode); rule != "" {
				return &failure{rule: rule, in: "header", name: name}
			}
		}
	}
	return nil
}

func oneOrNone(v string, ok bool) []string {
	if !ok {
		return nil
	}
	return []string{v}
}

// check applies one parameter rule to the parameter's values.
func (p *param) check(in, name string, values []string) *failure {
	bad := &failure{rule: RuleInvalidParameter, in: in, name: name}
	if len(values) == 0 {
		if p.required {
			return &failure{rule: RuleMissingParameter, in: in, name: name}
		}
		return nil
	}
	if len(values) > 1 && !p.multiple {
		return bad
	}
	for _, v := range values {
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > p.maxLen {
			return bad
		}
		if p.pattern != nil && !p.pattern.MatchString(v) {
			return bad
		}
		if p.enum != nil && !slices.Contains(p.enum, v) {
			return bad
		}
	}
	return nil
}
