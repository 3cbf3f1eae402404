package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apigw-guard/guard/shared/clientcert"
	"github.com/apigw-guard/guard/shared/policy"
	"github.com/apigw-guard/guard/shared/sourceip"
)

// The authentication methods a route may accept.
const (
	methodSignature   = "signature"   // RFC 9421 hmac-sha256 signed request
	methodCredentials = "credentials" // client id and secret
	methodCertificate = "certificate" // the mutual-TLS client certificate alone
)

// methodOrder is the order a request's presented credentials are tried in.
var methodOrder = []string{methodSignature, methodCredentials, methodCertificate}

// routeJSON is one entry of ROUTES.
type routeJSON struct {
	Route      string            `json:"route"`
	Accept     []string          `json:"accept"`
	Principals []string          `json:"principals,omitempty"`
	SourceIP   *ipJSON           `json:"sourceIp,omitempty"`
	ClientCert *clientcert.Rules `json:"clientCert,omitempty"`
}

type ipJSON struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// route is one configured route: who may call it, and how.
type route struct {
	rule       policy.Rule
	accept     []string
	principals []string
	ip         *sourceip.Rules     // nil: any address
	cert       *clientcert.Matcher // nil: no certificate rules
}

func (r *route) accepts(method string) bool { return slices.Contains(r.accept, method) }

// routeTable is the parsed ROUTES: the policy package's route table (for
// matching and for cache-safe policies) and each route's rules.
type routeTable struct {
	rules  *policy.Rules
	routes []*route // in table order
	byKey  map[string]*route
}

// hasIPRules reports whether any route has source-IP rules: the template
// must then put the source IP in the identity sources (see the README).
func (t *routeTable) hasIPRules() bool {
	return slices.ContainsFunc(t.routes, func(r *route) bool { return !r.ip.Empty() })
}

// parseRoutes reads ROUTES: a JSON array of routes, strictly (unknown
// fields are errors), every problem reported at once.
func parseRoutes(data []byte) (*routeTable, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in []routeJSON
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("not a JSON array of routes: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON array")
	}
	if len(in) == 0 {
		return nil, errors.New("no routes")
	}
	var errs []error
	bad := func(i int, r routeJSON, format string, a ...any) {
		errs = append(errs, fmt.Errorf("route %d (%q): %s", i, r.Route, fmt.Sprintf(format, a...)))
	}
	keys := make([]policy.Rule, len(in))
	t := &routeTable{byKey: map[string]*route{}}
	for i, r := range in {
		keys[i] = policy.Rule{Route: r.Route}
		rt := &route{rule: keys[i], principals: r.Principals}
		if len(r.Accept) == 0 {
			bad(i, r, `"accept" is empty: list signature, credentials and/or certificate`)
		}
		for _, m := range r.Accept {
			switch {
			case !slices.Contains(methodOrder, m):
				bad(i, r, "accept %q: want signature, credentials or certificate", m)
			case slices.Contains(rt.accept, m):
				bad(i, r, "accept %q listed twice", m)
			default:
				rt.accept = append(rt.accept, m)
			}
		}
		for _, p := range r.Principals {
			if strings.TrimSpace(p) == "" {
				bad(i, r, "an empty principal")
			}
		}
		if r.SourceIP != nil {
			ip, err := sourceip.Parse(r.SourceIP.Allow, r.SourceIP.Deny)
			if err != nil {
				bad(i, r, "sourceIp: %v", err)
			}
			rt.ip = ip
		}
		if r.ClientCert != nil {
			m, err := clientcert.New(*r.ClientCert)
			if err != nil {
				bad(i, r, "clientCert: %v", err)
			}
			rt.cert = m
		}
		if rt.accepts(methodCertificate) && r.ClientCert == nil {
			bad(i, r, `accepting "certificate" needs "clientCert" rules (an empty object admits any valid certificate the truststore trusts)`)
		}
		t.routes = append(t.routes, rt)
		t.byKey[r.Route] = rt
	}
	raw, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rules, err := policy.ParseRules(raw)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.rules = rules
	return t, nil
}

// match returns the route API Gateway selected for the request of arn.
func (t *routeTable) match(arn policy.ARN) (*route, bool) {
	rule, ok := t.rules.Match(arn.Method, "/"+arn.Resource)
	if !ok {
		return nil, false
	}
	r, ok := t.byKey[rule.Route]
	return r, ok
}
