package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// Invoker runs one function. *rie.Function is one; tests use in-process
// fakes. Invoke returns a transport error only when the function could not
// be reached; function errors and crashes are in the Result.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (rie.Result, error)
}

// Paths the gateway serves besides the APIs. API ids must not collide with
// their first segment.
const (
	restManagementPrefix = "/restapis/"
	httpManagementPrefix = "/v2/apis/"
	lambdaInvokePrefix   = "/2015-03-31/functions/"
)

// Gateway serves a template's APIs, the API Gateway management calls that
// flush authorizer caches, and the Lambda Invoke API for the template's
// functions. It is an http.Handler, safe for concurrent use.
type Gateway struct {
	tmpl      *samtemplate.Template
	fns       map[string]Invoker // by logical id
	apis      map[string]*apiState
	cache     *authCache
	now       func() time.Time
	log       *slog.Logger
	access    *accessLog
	region    string
	account   string
	maxBody   int64
	restLimit time.Duration     // REST integration timeout
	httpLimit time.Duration     // HTTP API integration timeout
	authLimit time.Duration     // HTTP API authorizer timeout
	apiKeys   map[string]string // API key value -> id ([WithAPIKeys])
}

type apiState struct {
	*samtemplate.API
	routes      []*route
	authorizers map[string]*authorizer
}

type authorizer struct {
	*samtemplate.Authorizer
	validation *regexp.Regexp // TOKEN validation expression, anchored; nil if none
}

// An Option changes one of a Gateway's defaults.
type Option func(*Gateway)

// WithClock sets the clock that authorizer cache TTLs, event timestamps and
// the access log's latencies use. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(g *Gateway) { g.now = now } }

// WithLogger sets where the gateway logs problems (malformed authorizer
// answers, crashed functions). It never logs tokens or identity-source
// values. The default discards.
func WithLogger(l *slog.Logger) Option { return func(g *Gateway) { g.log = l } }

// WithAccessLog writes one JSON line per request to w, like an API Gateway
// access log. The default writes none.
func WithAccessLog(w io.Writer) Option { return func(g *Gateway) { g.access = &accessLog{w: w} } }

// WithAPIKeys sets the values of the API keys that usage plans attach to
// the REST APIs' stages. A route with Auth.ApiKeyRequired (the template's
// ApiKeySourceType is AUTHORIZER) is served only when its authorizer
// returned one of them as usageIdentifierKey; otherwise API Gateway answers
// 403 Forbidden (gateway response INVALID_API_KEY), and so does the local
// gateway. Usage plans themselves (throttle, quota) are not emulated, and
// the keys are not read from the template: API Gateway generates the value
// of an AWS::ApiGateway::ApiKey without Value at deploy time. The default
// is no keys: every API-key route answers 403.
func WithAPIKeys(values ...string) Option {
	return func(g *Gateway) {
		for _, v := range values {
			if v != "" {
				g.apiKeys[v] = apiKeyID(v)
			}
		}
	}
}

// apiKeyID is a stable local stand-in for API Gateway's 10-character key id.
func apiKeyID(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:5])
}

// WithTimeouts overrides API Gateway's integration timeouts (29 s REST, 30 s
// HTTP API) and the HTTP API authorizer timeout (10 s). Zero keeps a default.
func WithTimeouts(rest, http, authorizer time.Duration) Option {
	return func(g *Gateway) {
		if rest > 0 {
			g.restLimit = rest
		}
		if http > 0 {
			g.httpLimit = http
		}
		if authorizer > 0 {
			g.authLimit = authorizer
		}
	}
}

// New builds a gateway for t whose functions are fns, keyed by logical id.
// Every function a route or an authorizer uses must be in fns.
func New(t *samtemplate.Template, fns map[string]Invoker, opts ...Option) (*Gateway, error) {
	g := &Gateway{
		tmpl: t, fns: fns, apis: map[string]*apiState{},
		now:     time.Now,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		region:  samtemplate.Region,
		account: samtemplate.AccountID,
		maxBody: 10 << 20, restLimit: 29 * time.Second, httpLimit: 30 * time.Second, authLimit: 10 * time.Second,
		apiKeys: map[string]string{},
	}
	for _, o := range opts {
		o(g)
	}
	g.cache = newAuthCache(g.now)
	for _, a := range t.APIs {
		switch a.ID {
		case "restapis", "v2", "2015-03-31", "":
			return nil, fmt.Errorf("API %s: its local id %q collides with the gateway's own paths", a.LogicalID, a.ID)
		}
		s := &apiState{API: a, authorizers: map[string]*authorizer{}}
		for name, az := range a.Authorizers {
			if _, ok := fns[az.Function]; !ok {
				return nil, fmt.Errorf("API %s authorizer %s: function %s is not running", a.LogicalID, name, az.Function)
			}
			c := &authorizer{Authorizer: az}
			if az.ValidationExpression != "" {
				re, err := regexp.Compile(`^(?:` + az.ValidationExpression + `)$`)
				if err != nil {
					return nil, fmt.Errorf("API %s authorizer %s: validation expression: %w", a.LogicalID, name, err)
				}
				c.validation = re
			}
			for _, src := range az.IdentitySources {
				if src.Kind == samtemplate.SourceContext && !knownContextVar(a.Kind, src.Name) {
					return nil, fmt.Errorf("API %s authorizer %s: context variable %q is not supported locally", a.LogicalID, name, src.Name)
				}
			}
			s.authorizers[name] = c
		}
		for _, r := range a.Routes {
			if _, ok := fns[r.Function]; !ok {
				return nil, fmt.Errorf("API %s route %s: function %s is not running", a.LogicalID, r.Key(), r.Function)
			}
			s.routes = append(s.routes, compileRoute(r))
		}
		g.apis[a.ID] = s
	}
	return g, nil
}

// APIInfo describes one served API.
type APIInfo struct {
	LogicalID string
	ID        string
	Kind      samtemplate.Kind
	Stage     string
	// Path is the stage's path on the gateway: "/{id}/{stage}", or "/{id}"
	// for an HTTP API's $default stage.
	Path   string
	Routes []string // route keys
}

// APIs lists the served APIs, sorted by id.
func (g *Gateway) APIs() []APIInfo {
	var out []APIInfo
	for _, a := range g.apis {
		info := APIInfo{LogicalID: a.LogicalID, ID: a.ID, Kind: a.Kind, Stage: a.Stage, Path: "/" + a.ID}
		if a.Stage != "$default" {
			info.Path += "/" + a.Stage
		}
		for _, r := range a.routes {
			info.Routes = append(info.Routes, r.Key())
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// FlushAuthorizerCache empties the authorizer result cache of one API stage
// and returns how many entries it dropped. It fails if the API or stage is
// not served.
func (g *Gateway) FlushAuthorizerCache(apiID, stage string) (int, error) {
	a, ok := g.apis[apiID]
	if !ok {
		return 0, fmt.Errorf("no API %q", apiID)
	}
	if a.Stage != stage {
		return 0, fmt.Errorf("API %s has no stage %q", apiID, stage)
	}
	return g.cache.flush(scope(a)), nil
}

func scope(a *apiState) string { return a.ID + "/" + a.Stage }

// ServeHTTP routes management and Lambda Invoke calls to their handlers and
// everything else to the APIs: /{apiId}/{stage}/{path}.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(p, restManagementPrefix):
		g.manageREST(w, r)
	case strings.HasPrefix(p, httpManagementPrefix):
		g.manageHTTP(w, r)
	case strings.HasPrefix(p, lambdaInvokePrefix):
		g.invokeLambda(w, r)
	default:
		g.serveAPI(w, r)
	}
}
