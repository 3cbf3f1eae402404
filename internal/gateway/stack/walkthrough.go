package stack

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
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
// 403 on each API, plus the cache flushes. Each command follows a comment
// line starting "# STATUS:" with the status it answers (cmd/localgw's
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
