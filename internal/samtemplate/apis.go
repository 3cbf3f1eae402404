package samtemplate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Implicit API logical ids, as SAM names them.
const (
	implicitRestAPI = "ServerlessRestApi"
	implicitHTTPAPI = "ServerlessHttpApi"
)

const (
	defaultTTL = 300 * time.Second
	maxTTL     = 3600 * time.Second
)

func (d *doc) api(r *resource, implicit bool) (*API, error) {
	id := r.id
	a := &API{LogicalID: id, ID: localID(id), Authorizers: map[string]*Authorizer{}, StageVariables: map[string]string{}, Implicit: implicit}
	if r.typ == "AWS::Serverless::Api" {
		a.Kind = REST
	} else {
		a.Kind = HTTP
	}
	for _, p := range []string{"DefinitionBody", "DefinitionUri"} {
		if n := get(r.props, p); n != nil {
			return nil, d.errAt(n, id, "Properties."+p, unsupported("OpenAPI definitions (declare routes as function events)"))
		}
	}
	stage := get(r.props, "StageName")
	switch {
	case stage != nil:
		s, err := d.str(stage, id, "Properties.StageName")
		if err != nil {
			return nil, err
		}
		if !stageName.MatchString(s) {
			return nil, d.errf(stage, id, "Properties.StageName", "%q is not a valid stage name", s)
		}
		a.Stage = s
	case implicit && a.Kind == REST:
		a.Stage = "Prod"
	case a.Kind == HTTP:
		a.Stage = "$default"
	default:
		return nil, d.errf(r.node, id, "Properties.StageName", "missing (a REST API needs a stage)")
	}
	if a.Kind == REST {
		a.APIKeySource = "HEADER"
		if n := get(r.props, "ApiKeySourceType"); n != nil {
			s, err := d.str(n, id, "Properties.ApiKeySourceType")
			if err != nil {
				return nil, err
			}
			if s != "HEADER" && s != "AUTHORIZER" {
				return nil, d.errf(n, id, "Properties.ApiKeySourceType", "%q is neither HEADER nor AUTHORIZER", s)
			}
			a.APIKeySource = s
		}
	}
	varsProp := "Variables"
	if a.Kind == HTTP {
		varsProp = "StageVariables"
	}
	if vars := get(r.props, varsProp); vars != nil {
		v, err := d.resolve(vars, id, "Properties."+varsProp)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, d.errf(vars, id, "Properties."+varsProp, "not a mapping")
		}
		for k, val := range m {
			s, err := scalarString(val)
			if err != nil {
				return nil, d.errAt(vars, id, "Properties."+varsProp+"."+k, err)
			}
			a.StageVariables[k] = s
		}
	}
	auth := get(r.props, "Auth")
	if auth == nil {
		return a, nil
	}
	var err error
	if auth.Kind != yaml.MappingNode {
		return nil, d.errf(auth, id, "Properties.Auth", "not a mapping")
	}
	for _, p := range []string{"ResourcePolicy", "ApiKeyRequired", "EnableIamAuthorizer"} {
		n := get(auth, p)
		if n == nil || p != "ResourcePolicy" && n.Value == "false" {
			continue
		}
		if p == "ResourcePolicy" && a.Kind == REST {
			if a.ResourcePolicy, err = d.resourcePolicy(id, n); err != nil {
				return nil, err
			}
			continue
		}
		return nil, d.errAt(n, id, "Properties.Auth."+p, unsupported("%s", p))
	}
	err = pairs(get(auth, "Authorizers"), func(name string, kn, v *yaml.Node) error {
		prop := "Properties.Auth.Authorizers." + name
		var az *Authorizer
		var err error
		if a.Kind == REST {
			az, err = d.restAuthorizer(id, prop, name, v)
		} else {
			az, err = d.httpAuthorizer(id, prop, name, v)
		}
		if err != nil {
			return err
		}
		a.Authorizers[name] = az
		return nil
	})
	if err != nil {
		return nil, err
	}
	if def := get(auth, "DefaultAuthorizer"); def != nil {
		s, err := d.str(def, id, "Properties.Auth.DefaultAuthorizer")
		if err != nil {
			return nil, err
		}
		if s == "AWS_IAM" {
			return nil, d.errAt(def, id, "Properties.Auth.DefaultAuthorizer", unsupported("AWS_IAM authorization"))
		}
		if _, ok := a.Authorizers[s]; !ok {
			return nil, d.errf(def, id, "Properties.Auth.DefaultAuthorizer", "%q is not one of Auth.Authorizers", s)
		}
		a.DefaultAuthorizer = s
	}
	return a, nil
}

var (
	stageName = regexp.MustCompile(`^(\$default|[A-Za-z0-9_\-]{1,128})$`)
	// headerName is an HTTP token (RFC 9110).
	headerName = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	paramName  = regexp.MustCompile(`^[A-Za-z0-9._\-]+$`)
)

// functionArn finds the template function an authorizer's FunctionArn
// names: !GetAtt F.Arn, or any expression that resolves to F's local ARN.
func (d *doc) functionArn(res, prop string, n *yaml.Node) (string, error) {
	if n == nil {
		return "", d.errf(nil, res, prop, "missing")
	}
	s, err := d.str(n, res, prop)
	if err != nil {
		return "", err
	}
	for _, fid := range d.sortedIDs("AWS::Serverless::Function") {
		name, err := d.functionName(d.resources[fid])
		if err != nil {
			return "", err
		}
		// The unqualified ARN, or a version's or alias's (Ref F.Alias).
		arn := FunctionARN(name)
		if q, ok := strings.CutPrefix(s, arn+":"); s == arn || ok && q != "" && !strings.Contains(q, ":") {
			return fid, nil
		}
	}
	return "", d.errAt(n, res, prop, unsupported("authorizer function %q is not an AWS::Serverless::Function of this template", s))
}

func (d *doc) ttl(res, prop string, identity *yaml.Node, hasSources bool) (time.Duration, error) {
	n := get(identity, "ReauthorizeEvery")
	if n == nil {
		if !hasSources {
			return 0, nil // caching needs an identity source
		}
		return defaultTTL, nil
	}
	s, err := d.str(n, res, prop+".Identity.ReauthorizeEvery")
	if err != nil {
		return 0, err
	}
	secs, err := strconv.Atoi(s)
	if err != nil || secs < 0 || time.Duration(secs)*time.Second > maxTTL {
		return 0, d.errf(n, res, prop+".Identity.ReauthorizeEvery", "%q is not a number of seconds in 0..3600", s)
	}
	if secs > 0 && !hasSources {
		return 0, d.errf(n, res, prop+".Identity.ReauthorizeEvery", "caching (%d s) needs at least one identity source", secs)
	}
	return time.Duration(secs) * time.Second, nil
}

func (d *doc) restAuthorizer(res, prop, name string, v *yaml.Node) (*Authorizer, error) {
	if v.Kind != yaml.MappingNode {
		return nil, d.errf(v, res, prop, "not a mapping")
	}
	if n := get(v, "UserPoolArn"); n != nil {
		return nil, d.errAt(n, res, prop+".UserPoolArn", unsupported("Cognito user pool authorizers"))
	}
	az := &Authorizer{Name: name, Type: Token}
	var err error
	if az.Function, err = d.functionArn(res, prop+".FunctionArn", get(v, "FunctionArn")); err != nil {
		return nil, err
	}
	if pt := get(v, "FunctionPayloadType"); pt != nil {
		s, err := d.str(pt, res, prop+".FunctionPayloadType")
		if err != nil {
			return nil, err
		}
		switch AuthorizerType(s) {
		case Token, Request:
			az.Type = AuthorizerType(s)
		default:
			return nil, d.errf(pt, res, prop+".FunctionPayloadType", "%q is neither TOKEN nor REQUEST", s)
		}
	}
	identity := get(v, "Identity")
	if az.Type == Token {
		header := "Authorization"
		if h := get(identity, "Header"); h != nil {
			if header, err = d.str(h, res, prop+".Identity.Header"); err != nil {
				return nil, err
			}
		}
		if !headerName.MatchString(header) {
			return nil, d.errf(identity, res, prop+".Identity.Header", "%q is not a header name", header)
		}
		az.IdentitySources = []IdentitySource{{Kind: SourceHeader, Name: header}}
		if ve := get(identity, "ValidationExpression"); ve != nil {
			if az.ValidationExpression, err = d.str(ve, res, prop+".Identity.ValidationExpression"); err != nil {
				return nil, err
			}
			if _, err := regexp.Compile(az.ValidationExpression); err != nil {
				return nil, d.errf(ve, res, prop+".Identity.ValidationExpression", "not a regular expression Go can run: %v", err)
			}
		}
	} else {
		if n := get(identity, "ValidationExpression"); n != nil {
			return nil, d.errf(n, res, prop+".Identity.ValidationExpression", "applies to TOKEN authorizers only")
		}
		if az.IdentitySources, err = d.identitySources(res, prop, identity); err != nil {
			return nil, err
		}
	}
	if az.TTL, err = d.ttl(res, prop, identity, len(az.IdentitySources) > 0); err != nil {
		return nil, err
	}
	return az, nil
}

func (d *doc) httpAuthorizer(res, prop, name string, v *yaml.Node) (*Authorizer, error) {
	if v.Kind != yaml.MappingNode {
		return nil, d.errf(v, res, prop, "not a mapping")
	}
	if n := get(v, "JwtConfiguration"); n != nil {
		return nil, d.errAt(n, res, prop+".JwtConfiguration", unsupported("JWT authorizers"))
	}
	az := &Authorizer{Name: name, Type: Request}
	var err error
	if az.Function, err = d.functionArn(res, prop+".FunctionArn", get(v, "FunctionArn")); err != nil {
		return nil, err
	}
	pf := get(v, "AuthorizerPayloadFormatVersion")
	if pf == nil {
		return nil, d.errf(v, res, prop+".AuthorizerPayloadFormatVersion", "missing (1.0 or 2.0)")
	}
	s, err := d.str(pf, res, prop+".AuthorizerPayloadFormatVersion")
	if err != nil {
		return nil, err
	}
	switch s {
	case "1.0", "1":
		az.PayloadFormat = "1.0"
	case "2.0", "2":
		az.PayloadFormat = "2.0"
	default:
		return nil, d.errf(pf, res, prop+".AuthorizerPayloadFormatVersion", "%q is neither 1.0 nor 2.0", s)
	}
	if es := get(v, "EnableSimpleResponses"); es != nil {
		s, err := d.str(es, res, prop+".EnableSimpleResponses")
		if err != nil {
			return nil, err
		}
		if az.SimpleResponses, err = strconv.ParseBool(s); err != nil {
			return nil, d.errf(es, res, prop+".EnableSimpleResponses", "%q is not a boolean", s)
		}
		if az.SimpleResponses && az.PayloadFormat != "2.0" {
			return nil, d.errf(es, res, prop+".EnableSimpleResponses", "simple responses need AuthorizerPayloadFormatVersion 2.0")
		}
	}
	identity := get(v, "Identity")
	if az.IdentitySources, err = d.identitySources(res, prop, identity); err != nil {
		return nil, err
	}
	if az.TTL, err = d.ttl(res, prop, identity, len(az.IdentitySources) > 0); err != nil {
		return nil, err
	}
	return az, nil
}

// identitySources reads a REQUEST or HTTP API authorizer's Identity.
func (d *doc) identitySources(res, prop string, identity *yaml.Node) ([]IdentitySource, error) {
	var out []IdentitySource
	for _, k := range []struct {
		key  string
		kind SourceKind
	}{{"Headers", SourceHeader}, {"QueryStrings", SourceQueryString}, {"StageVariables", SourceStageVariable}, {"Context", SourceContext}} {
		n := get(identity, k.key)
		if n == nil {
			continue
		}
		p := prop + ".Identity." + k.key
		v, err := d.resolve(n, res, p)
		if err != nil {
			return nil, err
		}
		list, ok := v.([]any)
		if !ok {
			return nil, d.errf(n, res, p, "not a list")
		}
		for _, item := range list {
			s, err := scalarString(item)
			if err != nil {
				return nil, d.errAt(n, res, p, err)
			}
			re := paramName
			if k.kind == SourceHeader {
				re = headerName
			}
			if !re.MatchString(s) {
				return nil, d.errf(n, res, p, "%q is not a valid name", s)
			}
			out = append(out, IdentitySource{Kind: k.kind, Name: s})
		}
	}
	return out, nil
}

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "ANY": true}

// events reads a function's Api and HttpApi events into routes.
func (d *doc) events(f *resource, apis map[string]*API) error {
	return pairs(get(f.props, "Events"), func(name string, kn, ev *yaml.Node) error {
		prop := "Properties.Events." + name
		typ := get(ev, "Type")
		if typ == nil {
			return d.errf(kn, f.id, prop+".Type", "missing")
		}
		if typ.Value != "Api" && typ.Value != "HttpApi" {
			return nil // other event sources are not the gateway's
		}
		props := get(ev, "Properties")
		kind, apiProp, implicitID, apiType := REST, "RestApiId", implicitRestAPI, "AWS::Serverless::Api"
		if typ.Value == "HttpApi" {
			kind, apiProp, implicitID, apiType = HTTP, "ApiId", implicitHTTPAPI, "AWS::Serverless::HttpApi"
		}
		var api *API
		if ref := get(props, apiProp); ref != nil {
			target, ok := refTarget(ref)
			if !ok || d.resources[target] == nil || d.resources[target].typ != apiType {
				return d.errAt(ref, f.id, prop+".Properties."+apiProp, unsupported("%s must be !Ref to an %s of this template", apiProp, apiType))
			}
			api = apis[target]
		} else {
			api = apis[implicitID]
			if api == nil {
				r := &resource{id: implicitID, typ: apiType, node: kn, props: d.globals[map[Kind]string{REST: "Api", HTTP: "HttpApi"}[kind]]}
				if r.props == nil {
					r.props = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				}
				var err error
				if api, err = d.api(r, true); err != nil {
					return err
				}
				apis[implicitID] = api
				d.resources[implicitID] = r
			}
		}
		route := &Route{Event: name, Function: f.id, PayloadFormat: "1.0"}
		if kind == HTTP {
			route.PayloadFormat = "2.0"
			if pf := get(props, "PayloadFormatVersion"); pf != nil {
				s, err := d.str(pf, f.id, prop+".Properties.PayloadFormatVersion")
				if err != nil {
					return err
				}
				if s != "2.0" && s != "2" {
					return d.errAt(pf, f.id, prop+".Properties.PayloadFormatVersion", unsupported("integration payload format %s (use 2.0)", s))
				}
			}
		}
		pathN, methodN := get(props, "Path"), get(props, "Method")
		switch {
		case kind == HTTP && pathN == nil && methodN == nil:
			route.Path = DefaultRoute
		case pathN == nil || methodN == nil:
			return d.errf(ev, f.id, prop+".Properties", "needs both Path and Method")
		default:
			p, err := d.str(pathN, f.id, prop+".Properties.Path")
			if err != nil {
				return err
			}
			if err := checkPath(p); err != nil {
				return d.errAt(pathN, f.id, prop+".Properties.Path", err)
			}
			m, err := d.str(methodN, f.id, prop+".Properties.Method")
			if err != nil {
				return err
			}
			m = strings.ToUpper(m)
			if !methods[m] {
				return d.errf(methodN, f.id, prop+".Properties.Method", "%q is not an HTTP method", m)
			}
			route.Path, route.Method = p, m
		}
		route.Authorizer = api.DefaultAuthorizer
		if auth := get(props, "Auth"); auth != nil {
			if n := get(auth, "ResourcePolicy"); n != nil {
				return d.errAt(n, f.id, prop+".Properties.Auth.ResourcePolicy", unsupported("ResourcePolicy"))
			}
			if n := get(auth, "ApiKeyRequired"); n != nil {
				s, err := d.str(n, f.id, prop+".Properties.Auth.ApiKeyRequired")
				if err != nil {
					return err
				}
				required, err := strconv.ParseBool(s)
				switch {
				case err != nil:
					return d.errf(n, f.id, prop+".Properties.Auth.ApiKeyRequired", "%q is not a boolean", s)
				case required && api.APIKeySource != "AUTHORIZER":
					// An x-api-key header would need the usage plans' keys.
					return d.errAt(n, f.id, prop+".Properties.Auth.ApiKeyRequired",
						unsupported("ApiKeyRequired without ApiKeySourceType AUTHORIZER on %s", api.LogicalID))
				}
				route.APIKeyRequired = required
			}
			if az := get(auth, "Authorizer"); az != nil {
				s, err := d.str(az, f.id, prop+".Properties.Auth.Authorizer")
				if err != nil {
					return err
				}
				switch {
				case s == "NONE":
					route.Authorizer = ""
				case s == "AWS_IAM":
					return d.errAt(az, f.id, prop+".Properties.Auth.Authorizer", unsupported("AWS_IAM authorization"))
				case api.Authorizers[s] == nil:
					return d.errf(az, f.id, prop+".Properties.Auth.Authorizer", "%q is not an authorizer of %s", s, api.LogicalID)
				default:
					route.Authorizer = s
				}
			}
		}
		for _, other := range api.Routes {
			if other.Key() == route.Key() {
				return d.errf(ev, f.id, prop, "route %s is already %s's event %s", route.Key(), other.Function, other.Event)
			}
		}
		api.Routes = append(api.Routes, route)
		return nil
	})
}

// refTarget returns X for !Ref X or {Ref: X}.
func refTarget(n *yaml.Node) (string, bool) {
	name, arg := intrinsicName(n)
	if name != "Ref" || arg == nil || arg.Kind != yaml.ScalarNode {
		return "", false
	}
	return arg.Value, true
}

// checkPath validates a resource path: "/", literal segments, {param}
// segments, and at most one {greedy+} segment at the end.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q does not start with /", p)
	}
	if p == "/" {
		return nil
	}
	segs := strings.Split(p[1:], "/")
	seen := map[string]bool{}
	for i, s := range segs {
		switch {
		case s == "":
			return fmt.Errorf("%q has an empty segment", p)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if greedy && i != len(segs)-1 {
				return fmt.Errorf("%q: a greedy {%s+} must be the last segment", p, name)
			}
			if !paramName.MatchString(name) {
				return fmt.Errorf("%q: bad path parameter name %q", p, name)
			}
			if seen[name] {
				return fmt.Errorf("%q: path parameter %q appears twice", p, name)
			}
			seen[name] = true
		case strings.ContainsAny(s, "{}"):
			return fmt.Errorf("%q: segment %q mixes text and a parameter", p, s)
		}
	}
	return nil
}
