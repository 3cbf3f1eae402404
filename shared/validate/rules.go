package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Limits and defaults. The configuration may lower or raise a limit within
// its cap.
const (
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	DefaultMaxDepth     = 32
	DefaultMaxMembers   = 10_000
	DefaultMaxParamLen  = 1024

	capBodyBytes = 10 << 20 // API Gateway's own payload limit is 10 MB
	capDepth     = 1000     // the schema validator recurses this deep at most
	capMembers   = 1_000_000
)

// defaultPrivilegedFields are the member names no client may set when the
// configuration's defaults do not list their own.
var defaultPrivilegedFields = []string{"role", "roles", "isAdmin", "userId", "tenantId", "permissions", "groups", "ownerId"}

// ErrConfig wraps every configuration problem [New] reports.
var ErrConfig = errors.New("validation rules")

// fileConfig is the JSON configuration. Unknown fields are errors, so a typo
// never silently disables a rule.
type fileConfig struct {
	Defaults defaultsConfig             `json:"defaults"`
	Schemas  map[string]json.RawMessage `json:"schemas"`
	Routes   map[string]routeConfig     `json:"routes"`
}

type defaultsConfig struct {
	MaxBodyBytes         *int64   `json:"maxBodyBytes"`
	MaxDepth             *int     `json:"maxDepth"`
	MaxMembers           *int     `json:"maxMembers"`
	PrivilegedFields     []string `json:"privilegedFields"`
	InspectHeaders       []string `json:"inspectHeaders"`
	RequireContentDigest *bool    `json:"requireContentDigest"`
}

type routeConfig struct {
	ContentTypes          []string               `json:"contentTypes"`
	Schema                json.RawMessage        `json:"schema"`
	MaxBodyBytes          *int64                 `json:"maxBodyBytes"`
	MaxDepth              *int                   `json:"maxDepth"`
	MaxMembers            *int                   `json:"maxMembers"`
	PrivilegedFields      []string               `json:"privilegedFields"`
	AllowPrivilegedFields []string               `json:"allowPrivilegedFields"`
	Path                  map[string]paramConfig `json:"path"`
	Query                 map[string]paramConfig `json:"query"`
	Headers               map[string]paramConfig `json:"headers"`
	AdditionalQuery       bool                   `json:"additionalQuery"`
	InspectHeaders        []string               `json:"inspectHeaders"`
	Inspect               map[string]string      `json:"inspect"`
	RequireContentDigest  *bool                  `json:"requireContentDigest"`
}

type paramConfig struct {
	Required  bool     `json:"required"`
	Pattern   string   `json:"pattern"`
	MaxLength *int     `json:"maxLength"`
	Enum      []string `json:"enum"`
	Multiple  bool     `json:"multiple"`
	Inspect   string   `json:"inspect"`
}

// route is one route's compiled rules.
type route struct {
	key           string
	accept        []mediaRange
	schema        *jsonschema.Schema // nil unless the route takes JSON
	closures      closures           // for the mass-assignment guard
	limits        jsonLimits
	privileged    []string // normalised with normaliseName
	path          map[string]*param
	query         map[string]*param
	headers       map[string]*param // lower-case names
	extraQuery    bool
	inspectHeader []string // lower-case names
	inspect       []inspectRule
	requireDigest bool
}

type param struct {
	required bool
	pattern  *regexp.Regexp
	maxLen   int
	enum     []string
	multiple bool
	mode     inspection
}

// inspectRule sets the inspection of body values whose pointer matches
// segs; "*" matches any one segment.
type inspectRule struct {
	segs []string
	mode inspection
}

// schemaBase is the base URI of configured schemas. The .invalid TLD (RFC
// 6761) can never resolve, and the loader refuses every URL anyway.
const schemaBase = "https://rules.invalid/"

// denyLoader refuses to load any schema: rules are self-contained, so a $ref
// can neither read local files nor reach the network.
type denyLoader struct{}

func (denyLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s: external schema references are not allowed", url)
}

// compileRules parses and compiles the JSON configuration.
func compileRules(b []byte) (map[string]*route, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg fileConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the configuration", ErrConfig)
	}
	if len(cfg.Routes) == 0 {
		return nil, fmt.Errorf("%w: no routes", ErrConfig)
	}

	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(denyLoader{})
	for _, name := range slices.Sorted(maps.Keys(cfg.Schemas)) {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(cfg.Schemas[name]))
		if err != nil {
			return nil, fmt.Errorf("%w: schema %q: %v", ErrConfig, name, err)
		}
		if err := c.AddResource(schemaBase+"schemas/"+name, doc); err != nil {
			return nil, fmt.Errorf("%w: schema %q: %v", ErrConfig, name, err)
		}
	}

	routes := map[string]*route{}
	var errs []error
	for i, key := range slices.Sorted(maps.Keys(cfg.Routes)) {
		rt, err := compileRoute(c, i, key, cfg.Defaults, cfg.Routes[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", key, err))
			continue
		}
		routes[key] = rt
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return routes, nil
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY"}

func checkRouteKey(key string) error {
	if key == "$default" {
		return nil
	}
	m, path, ok := strings.Cut(key, " ")
	if !ok || !slices.Contains(methods, m) || !strings.HasPrefix(path, "/") {
		return errors.New(`want "METHOD /path" (METHOD may be ANY) or "$default"`)
	}
	return nil
}

func compileRoute(c *jsonschema.Compiler, i int, key string, d defaultsConfig, rc routeConfig) (*route, error) {
	if err := checkRouteKey(key); err != nil {
		return nil, err
	}
	rt := &route{
		key:        key,
		extraQuery: rc.AdditionalQuery,
		limits: jsonLimits{
			maxBytes:   DefaultMaxBodyBytes,
			maxDepth:   DefaultMaxDepth,
			maxMembers: DefaultMaxMembers,
		},
	}
	var errs []error
	limit := func(name string, dst *int, def, route *int, lo, hi int) {
		for _, v := range []*int{def, route} {
			if v != nil {
				if *v < lo || *v > hi {
					errs = append(errs, fmt.Errorf("%s %d: want %d..%d", name, *v, lo, hi))
					continue
				}
				*dst = *v
			}
		}
	}
	toInt := func(p *int64) *int {
		if p == nil {
			return nil
		}
		n := int(min(max(*p, -1), capBodyBytes+1))
		return &n
	}
	limit("maxBodyBytes", &rt.limits.maxBytes, toInt(d.MaxBodyBytes), toInt(rc.MaxBodyBytes), 0, capBodyBytes)
	limit("maxDepth", &rt.limits.maxDepth, d.MaxDepth, rc.MaxDepth, 1, capDepth)
	limit("maxMembers", &rt.limits.maxMembers, d.MaxMembers, rc.MaxMembers, 1, capMembers)

	if rc.RequireContentDigest != nil {
		rt.requireDigest = *rc.RequireContentDigest
	} else if d.RequireContentDigest != nil {
		rt.requireDigest = *d.RequireContentDigest
	}

	// Privileged fields: the defaults' list (or the built-in one), plus the
	// route's, minus the route's exemptions.
	base := defaultPrivilegedFields
	if d.PrivilegedFields != nil {
		base = d.PrivilegedFields
	}
	allowed := map[string]bool{}
	for _, n := range rc.AllowPrivilegedFields {
		allowed[normaliseName(n)] = true
	}
	for _, n := range slices.Concat(base, rc.PrivilegedFields) {
		nn := normaliseName(n)
		if nn == "" {
			errs = append(errs, fmt.Errorf("privileged field %q is empty once normalised", n))
			continue
		}
		if !allowed[nn] && !slices.Contains(rt.privileged, nn) {
			rt.privileged = append(rt.privileged, nn)
		}
	}

	// Content types and schema.
	for _, s := range rc.ContentTypes {
		m, err := parseMediaRange(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rt.accept = append(rt.accept, m)
	}
	if len(rc.Schema) > 0 {
		if len(rt.accept) == 0 {
			rt.accept = []mediaRange{{typ: "application", sub: "json"}}
		}
		for _, m := range rt.accept {
			if m.kind() != bodyJSON {
				errs = append(errs, fmt.Errorf("content type %s/%s: a route with a schema accepts only JSON types", m.typ, m.sub))
			}
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(rc.Schema))
		if err != nil {
			errs = append(errs, fmt.Errorf("schema: %v", err))
		} else {
			url := fmt.Sprintf("%sroutes/%d.json", schemaBase, i)
			if err := c.AddResource(url, doc); err != nil {
				errs = append(errs, fmt.Errorf("schema: %v", err))
			} else if rt.schema, err = c.Compile(url); err != nil {
				errs = append(errs, fmt.Errorf("schema: %v", err))
			} else {
				rt.closures = buildClosures(rt.schema)
			}
		}
	} else {
		for _, m := range rt.accept {
			if m.kind() == bodyJSON || m.sub == "*" && m.typ == "application" {
				errs = append(errs, fmt.Errorf("content type %s/%s: a JSON body needs a schema", m.typ, m.sub))
			}
		}
	}

	// Parameters.
	var err error
	if rt.path, err = compileParams(rc.Path, false); err != nil {
		errs = append(errs, fmt.Errorf("path: %w", err))
	}
	if rt.query, err = compileParams(rc.Query, false); err != nil {
		errs = append(errs, fmt.Errorf("query: %w", err))
	}
	if rt.headers, err = compileParams(rc.Headers, true); err != nil {
		errs = append(errs, fmt.Errorf("headers: %w", err))
	}
	for _, h := range slices.Concat(d.InspectHeaders, rc.InspectHeaders) {
		h = strings.ToLower(h)
		if !slices.Contains(rt.inspectHeader, h) {
			rt.inspectHeader = append(rt.inspectHeader, h)
		}
	}
	for h := range rt.headers {
		if !slices.Contains(rt.inspectHeader, h) {
			rt.inspectHeader = append(rt.inspectHeader, h)
		}
	}
	slices.Sort(rt.inspectHeader)

	// Per-field inspection, most specific (fewest wildcards) first.
	for ptr, m := range rc.Inspect {
		mode, ok := parseInspection(m)
		if !ok {
			errs = append(errs, fmt.Errorf("inspect %q: mode %q: want strict, text or off", ptr, m))
			continue
		}
		segs, err := parsePointer(ptr)
		if err != nil {
			errs = append(errs, fmt.Errorf("inspect %q: %w", ptr, err))
			continue
		}
		rt.inspect = append(rt.inspect, inspectRule{segs: segs, mode: mode})
	}
	slices.SortFunc(rt.inspect, func(a, b inspectRule) int {
		if d := wildcards(a.segs) - wildcards(b.segs); d != 0 {
			return d
		}
		return strings.Compare(pointerString(a.segs), pointerString(b.segs))
	})
	return rt, errors.Join(errs...)
}

func wildcards(segs []string) int {
	n := 0
	for _, s := range segs {
		if s == "*" {
			n++
		}
	}
	return n
}

// parsePointer parses an RFC 6901 pointer ("" is the whole document).
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return []string{}, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New(`a JSON pointer starts with "/"`)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(s, "~0", ""), "~1", ""), "~") {
			return nil, errors.New(`"~" must be escaped as "~0"`)
		}
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

func compileParams(m map[string]paramConfig, lower bool) (map[string]*param, error) {
	out := map[string]*param{}
	var errs []error
	for name, pc := range m {
		if lower {
			name = strings.ToLower(name)
		}
		p := &param{required: pc.Required, enum: pc.Enum, multiple: pc.Multiple, maxLen: DefaultMaxParamLen}
		if pc.MaxLength != nil {
			if *pc.MaxLength < 1 {
				errs = append(errs, fmt.Errorf("%q: maxLength must be positive", name))
			}
			p.maxLen = *pc.MaxLength
		}
		if pc.Pattern != "" {
			re, err := regexp.Compile(`^(?:` + pc.Pattern + `)$`)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q: pattern: %v", name, err))
			}
			p.pattern = re
		}
		if pc.Inspect != "" {
			mode, ok := parseInspection(pc.Inspect)
			if !ok {
				errs = append(errs, fmt.Errorf("%q: inspect %q: want strict, text or off", name, pc.Inspect))
			}
			p.mode = mode
		}
		out[name] = p
	}
	return out, errors.Join(errs...)
}

// normaliseName folds a member or parameter name for the privileged-field
// check: '_', '-' and '.' are dropped and case is folded, so "user_id",
// "USERID", "user-id" and "userId" are one name.
func normaliseName(n string) string {
	if strings.ContainsAny(n, "_-.") {
		b := make([]byte, 0, len(n))
		for i := 0; i < len(n); i++ {
			if c := n[i]; c != '_' && c != '-' && c != '.' {
				b = append(b, c)
			}
		}
		n = string(b)
	}
	return foldName(n)
}

// isPrivileged reports whether name is one of the route's privileged fields.
func (rt *route) isPrivileged(name string) bool {
	if len(rt.privileged) == 0 {
		return false
	}
	return slices.Contains(rt.privileged, normaliseName(name))
}

// inspection returns the mode for the body value at path.
func (rt *route) inspection(path []string) inspection {
	for _, r := range rt.inspect {
		if len(r.segs) != len(path) {
			continue
		}
		match := true
		for i, s := range r.segs {
			if s != "*" && s != path[i] {
				match = false
				break
			}
		}
		if match {
			return r.mode
		}
	}
	return inspectStrict
}
