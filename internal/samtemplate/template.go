package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Pseudo parameter values of the local stack.
const (
	StackName = "guard-local"
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// Kind says which API Gateway product an [API] is.
type Kind string

// The two kinds of API.
const (
	REST Kind = "REST" // AWS::Serverless::Api
	HTTP Kind = "HTTP" // AWS::Serverless::HttpApi
)

// Template is the part of a SAM template that the local gateway serves.
type Template struct {
	// Functions holds every AWS::Serverless::Function by logical id.
	Functions map[string]*Function
	// APIs are sorted by logical id.
	APIs []*API
	// Tables are the AWS::DynamoDB::Table resources, sorted by logical id;
	// the local stack creates them in the local DynamoDB.
	Tables []*Table
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Name is the FunctionName property, else the logical id.
	Name string
	// ARN is the function's local ARN (what !GetAtt X.Arn resolves to).
	ARN string
	// Env is Environment.Variables (Globals merged), every value resolved.
	Env map[string]string
	// Timeout is the Timeout property (Globals merged); 3 s when unset, as in
	// SAM.
	Timeout time.Duration
	Runtime string
	Handler string
	CodeURI string
	// BuildMethod is Metadata.BuildMethod ("makefile", "go1.x", ...).
	BuildMethod string
	// Logging is LoggingConfig (Globals merged).
	Logging Logging
}

// API is one REST or HTTP API with its single stage.
type API struct {
	LogicalID string
	// ID is the local API id: the logical id in lower case. It is what the
	// management API (FlushStageAuthorizersCache, ResetAuthorizersCache)
	// takes, and what a stage URL and a method ARN carry.
	ID   string
	Kind Kind
	// Stage is the StageName; "$default" for an HTTP API without one.
	Stage string
	// StageVariables holds Variables (REST) or StageVariables (HTTP).
	StageVariables map[string]string
	// Authorizers by name (the key under Auth.Authorizers).
	Authorizers map[string]*Authorizer
	// DefaultAuthorizer is Auth.DefaultAuthorizer, or "".
	DefaultAuthorizer string
	// Routes in template order.
	Routes []*Route
	// Implicit is true for the ServerlessRestApi / ServerlessHttpApi that SAM
	// creates for events without RestApiId / ApiId.
	Implicit bool
	// APIKeySource is a REST API's ApiKeySourceType: "HEADER" (the default)
	// or "AUTHORIZER".
	APIKeySource string
	// ResourcePolicy holds a REST API's Auth.ResourcePolicy statements,
	// resolved with the local parameters, or nil. Parse accepts only policies
	// that allow every local caller, so the gateway need not evaluate them.
	ResourcePolicy []map[string]any
}

// AuthorizerType is TOKEN or REQUEST.
type AuthorizerType string

// Lambda authorizer types. HTTP API Lambda authorizers are always REQUEST.
const (
	Token   AuthorizerType = "TOKEN"
	Request AuthorizerType = "REQUEST"
)

// Authorizer is one Lambda authorizer of an API.
type Authorizer struct {
	Name string
	Type AuthorizerType
	// Function is the logical id of the authorizer's function.
	Function string
	// IdentitySources in the order API Gateway reads them: for a TOKEN
	// authorizer the single header; for REQUEST and HTTP API authorizers
	// headers, query strings, stage variables, then context variables.
	IdentitySources []IdentitySource
	// ValidationExpression is the TOKEN authorizer's regular expression, or "".
	ValidationExpression string
	// TTL is ReauthorizeEvery: 300 s by default, 0 disables the cache.
	TTL time.Duration
	// PayloadFormat is "1.0" or "2.0" for an HTTP API authorizer, "" for REST.
	PayloadFormat string
	// SimpleResponses is EnableSimpleResponses (HTTP API, payload 2.0).
	SimpleResponses bool
}

// SourceKind says where an identity source is read from.
type SourceKind string

// Identity source kinds.
const (
	SourceHeader        SourceKind = "header"
	SourceQueryString   SourceKind = "querystring"
	SourceStageVariable SourceKind = "stageVariables"
	SourceContext       SourceKind = "context"
)

// IdentitySource is one identity source of an authorizer.
type IdentitySource struct {
	Kind SourceKind
	Name string
}

// Expression returns the source as API Gateway writes it: for a REST API
// "method.request.header.Authorization", for an HTTP API
// "$request.header.Authorization".
func (s IdentitySource) Expression(k Kind) string {
	switch {
	case k == REST && (s.Kind == SourceHeader || s.Kind == SourceQueryString):
		return "method.request." + string(s.Kind) + "." + s.Name
	case k == REST:
		return string(s.Kind) + "." + s.Name
	case s.Kind == SourceHeader || s.Kind == SourceQueryString:
		return "$request." + string(s.Kind) + "." + s.Name
	default:
		return "$" + string(s.Kind) + "." + s.Name
	}
}

// DefaultRoute is the HTTP API catch-all route key.
const DefaultRoute = "$default"

// Route is one function event: a method and a resource path on an API.
type Route struct {
	// Event is the event's name under the function's Events.
	Event string
	// Method is upper case: GET, POST, ..., or ANY. Empty for $default.
	Method string
	// Path is the resource path ("/orders/{id}", "/reports/{proxy+}") or
	// "$default".
	Path string
	// Function is the integration's logical id.
	Function string
	// Authorizer is the name of the route's authorizer, or "" for none.
	Authorizer string
	// PayloadFormat is the integration payload version: "1.0" for REST,
	// "2.0" for HTTP APIs.
	PayloadFormat string
	// APIKeyRequired is the event's Auth.ApiKeyRequired, accepted only on a
	// REST API whose ApiKeySourceType is AUTHORIZER (the key is the
	// authorizer's usageIdentifierKey). The local gateway checks the key
	// against the ones it is given (gateway.WithAPIKeys); it does not meter
	// or throttle by key.
	APIKeyRequired bool
}

// Key returns the route key: "GET /orders/{id}" or "$default".
func (r *Route) Key() string {
	if r.Path == DefaultRoute {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// API returns the API with the given local id or logical id, or nil.
func (t *Template) API(id string) *API {
	for _, a := range t.APIs {
		if a.ID == id || a.LogicalID == id {
			return a
		}
	}
	return nil
}

// FunctionNamed returns the function whose logical id, name or ARN is name,
// or nil. A qualified ARN (":$LATEST") or a partial "account:function:name"
// form also match, as the Lambda Invoke API accepts them.
func (t *Template) FunctionNamed(name string) *Function {
	if i := strings.Index(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
		if j := strings.IndexByte(name, ':'); j >= 0 {
			name = name[:j]
		}
	}
	for _, f := range t.Functions {
		if f.LogicalID == name || f.Name == name {
			return f
		}
	}
	return nil
}

// FunctionIDs returns the functions' logical ids, sorted.
func (t *Template) FunctionIDs() []string {
	ids := make([]string, 0, len(t.Functions))
	for id := range t.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// An Option changes how a template is read.
type Option func(*options)

type options struct {
	params   map[string]string
	fileName string
}

// WithParameters overrides parameter defaults, like sam's
// --parameter-overrides. A value that breaks the parameter's
// AllowedPattern, AllowedValues or MinValue/MaxValue is refused.
func WithParameters(p map[string]string) Option {
	return func(o *options) { o.params = p }
}

// withFileName names the template in errors.
func withFileName(name string) Option { return func(o *options) { o.fileName = name } }

// Load reads and parses the template at path.
func Load(path string, opts ...Option) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return Parse(data, append([]Option{withFileName(filepath.Base(path))}, opts...)...)
}

// ErrUnsupported marks a template construct the local gateway cannot serve
// faithfully. Compare with errors.Is.
var ErrUnsupported = errors.New("not supported by the local gateway")

// Error is a problem with one property of one resource (or parameter).
type Error struct {
	File     string // the template's file name, if known
	Line     int    // 0 when unknown
	Resource string // logical id of the resource or parameter; "" for the template itself
	Property string // dotted property path, e.g. "Properties.Auth.Authorizers.Jwt"
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Resource != "" {
		b.WriteString(e.Resource)
		if e.Property != "" {
			b.WriteString(".")
			b.WriteString(e.Property)
		}
		b.WriteString(": ")
	} else if e.Property != "" {
		b.WriteString(e.Property)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
