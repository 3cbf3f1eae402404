package stack

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/gateway"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// Tokens are the demo tokens the walk-through uses.
type Tokens struct {
	Allow   string // scopes for every demo route
	NoScope string // valid, but entitled to nothing: 403
}

// MintTokens mints the walk-through's tokens, valid for ttl.
func (s *Stack) MintTokens(ttl time.Duration) (Tokens, error) {
	if s.Keys == nil {
		return Tokens{}, fmt.Errorf("no signing keys (the stack was started with SkipSeed)")
	}
	allow := demo.Claims("alice", "orders:read orders:write admin", ttl)
	allow["email"] = "alice@example.com"
	allow["groups"] = []string{"analysts"}
	a, err := s.Keys.Mint(allow, ttl)
	if err != nil {
		return Tokens{}, err
	}
	n, err := s.Keys.Mint(demo.Claims("bob", "profile", ttl), ttl)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Allow: a, NoScope: n}, nil
}

// PrintWalkthrough writes the served APIs, their ids for the management
// API, and ready-to-paste curl commands showing an allow, two 401s and a
// 403 on each API, plus the cache flushes. With demo request credentials
// it adds, where the API has the routes, a client-credentials call (200)
// and one with a wrong secret (401) to the request authorizer's route, and
// the command that sends a signed webhook. Each curl command follows a
// comment line starting "# STATUS:" with the status it answers (cmd/localgw's
// end-to-end test runs them).
func (s *Stack) PrintWalkthrough(w io.Writer, tok Tokens) {
	fmt.Fprintf(w, "\nLocal API Gateway on %s (Secrets Manager / DynamoDB at %s)\n", s.URL, s.AWSEndpoint)
	for _, a := range s.Gateway.APIs() {
		fmt.Fprintf(w, "\n%s API %s (id %q, stage %q): %s%s\n", a.Kind, a.LogicalID, a.ID, a.Stage, s.URL, a.Path)
		for _, r := range a.Routes {
			fmt.Fprintf(w, "  %s\n", r)
		}
		path := examplePath(s.Template.API(a.ID))
		if path == "" || tok.Allow == "" {
			continue
		}
		u := s.URL + a.Path + path
		fmt.Fprintf(w, "\n  # 200: allowed\n  curl -i -H 'Authorization: Bearer %s' %s\n", tok.Allow, u)
		fmt.Fprintf(w, "  # 401: no token (the authorizer is not invoked)\n  curl -i %s\n", u)
		fmt.Fprintf(w, "  # 401: a token that does not verify\n  curl -i -H 'Authorization: Bearer not.a.token' %s\n", u)
		fmt.Fprintf(w, "  # 403: a valid token without the route's scope\n  curl -i -H 'Authorization: Bearer %s' %s\n", tok.NoScope, u)
		s.printRequestAuthorizer(w, a)
		if a.Kind == samtemplate.REST {
			fmt.Fprintf(w, "  # 202: FlushStageAuthorizersCache (what aws apigateway flush-stage-authorizers-cache sends)\n  curl -i -X DELETE %s/restapis/%s/stages/%s/cache/authorizers\n", s.URL, a.ID, a.Stage)
		} else {
			fmt.Fprintf(w, "  # 204: ResetAuthorizersCache (what aws apigatewayv2 reset-authorizers-cache sends)\n  curl -i -X DELETE %s/v2/apis/%s/stages/%s/cache/authorizers\n", s.URL, a.ID, a.Stage)
		}
	}
	fmt.Fprintf(w, "\nSDK clients reach the management and Lambda APIs with AWS_ENDPOINT_URL_API_GATEWAY=%[1]s AWS_ENDPOINT_URL_APIGATEWAYV2=%[1]s AWS_ENDPOINT_URL_LAMBDA=%[1]s\n\n", s.URL)
}

// examplePath picks an authorized GET route without a greedy segment, with
// its parameters filled in.
func examplePath(a *samtemplate.API) string {
	if a == nil {
		return ""
	}
	for _, r := range a.Routes {
		if r.Method != "GET" || r.Authorizer == "" || strings.Contains(r.Path, "+}") {
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, sgm := range segs {
			if strings.HasPrefix(sgm, "{") {
				segs[i] = "1"
			}
		}
		return strings.Join(segs, "/")
	}
	return ""
}

// The signed-webhook route cmd/webhook posts to.
const webhookRoute = "POST /webhooks/orders"

// printRequestAuthorizer writes the demo calls of the request authorizer's
// routes on a.
func (s *Stack) printRequestAuthorizer(w io.Writer, a gateway.APIInfo) {
	c := s.Credentials
	api := s.Template.API(a.ID)
	if c == nil || api == nil {
		return
	}
	if p := credentialsPath(api); p != "" {
		u := s.URL + a.Path + p
		fmt.Fprintf(w, "  # 200: client credentials (HTTP Basic) from an allowed source address (loopback)\n  curl -i -u '%s:%s' %s\n", c.ClientID, c.Current.ClientSecret, u)
		fmt.Fprintf(w, "  # 401: a wrong client secret\n  curl -i -u '%s:%s' %s\n", c.ClientID, wrongSecret, u)
	}
	for _, r := range api.Routes {
		if r.Key() != webhookRoute || !requestAuthorized(api, r, "Signature") {
			continue
		}
		cmd := "go run ./cmd/webhook -api " + strings.ToLower(string(a.Kind))
		if s.cfg.DataDir != ".local" {
			cmd += " -data " + shellQuote(s.cfg.DataDir)
		}
		if s.cfg.Template != "template.yaml" {
			cmd += " -template " + shellQuote(s.cfg.Template)
		}
		fmt.Fprintf(w, "  # a webhook signed with keyid %s (RFC 9421, over its Content-Digest) answers 200; with -tamper,\n", c.KeyID)
		fmt.Fprintf(w, "  # which changes the body after signing, the validator answers 400 (the digest does not match)\n  %s\n", cmd)
		break
	}
}

// wrongSecret is the walk-through's wrong client secret: long enough that
// the authorizer derives and compares it.
const wrongSecret = "not-the-ops-secret-0123456789"

// credentialsPath picks a GET route of the request authorizer that takes
// client credentials (its identity sources include Authorization), without
// path parameters.
func credentialsPath(a *samtemplate.API) string {
	for _, r := range a.Routes {
		if r.Method == "GET" && !strings.Contains(r.Path, "{") && requestAuthorized(a, r, "Authorization") {
			return r.Path
		}
	}
	return ""
}

// requestAuthorized reports whether r's authorizer is the request
// authorizer with header among its identity sources.
func requestAuthorized(a *samtemplate.API, r *samtemplate.Route, header string) bool {
	az := a.Authorizers[r.Authorizer]
	if r.Authorizer == "" || az == nil || az.Function != RequestAuthorizer {
		return false
	}
	for _, src := range az.IdentitySources {
		if src.Kind == samtemplate.SourceHeader && strings.EqualFold(src.Name, header) {
			return true
		}
	}
	return false
}

// shellQuote quotes s for sh when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
