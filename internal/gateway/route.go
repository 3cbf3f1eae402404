package gateway

import (
	"net/url"
	"strings"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

type segKind uint8

const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind segKind
	text string // the literal, or the parameter's name
}

// route is a compiled template route.
type route struct {
	*samtemplate.Route
	segs       []segment
	greedy     bool
	isDefault  bool
	resourceID string
}

func compileRoute(r *samtemplate.Route) *route {
	c := &route{Route: r, resourceID: resourceID(r.Path)}
	if r.Path == samtemplate.DefaultRoute {
		c.isDefault = true
		return c
	}
	for _, s := range splitPath(r.Path) {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}"):
			c.segs = append(c.segs, segment{segGreedy, s[1 : len(s)-2]})
			c.greedy = true
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			c.segs = append(c.segs, segment{segParam, s[1 : len(s)-1]})
		default:
			c.segs = append(c.segs, segment{segLiteral, s})
		}
	}
	return c
}

// splitPath splits "/a/b" into [a b]; "/" and "" into none. A trailing slash
// is ignored.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether the route takes the decoded path segments, and the
// path parameters it binds.
func (r *route) match(segs []string) (map[string]string, bool) {
	if r.isDefault {
		return nil, true
	}
	n := len(r.segs)
	if r.greedy {
		n-- // the greedy segment takes one or more
		if len(segs) <= n {
			return nil, false
		}
	} else if len(segs) != n {
		return nil, false
	}
	var params map[string]string
	for i, s := range r.segs {
		switch s.kind {
		case segLiteral:
			if segs[i] != s.text {
				return nil, false
			}
		case segParam:
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = segs[i]
		case segGreedy:
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = strings.Join(segs[i:], "/")
		}
	}
	return params, true
}

// beats reports whether r is a better match than o for the same request:
// API Gateway prefers an exact path over a greedy one, a literal segment
// over a {param} at the first place they differ, a longer greedy prefix, and
// a specific method over ANY. $default loses to everything.
func (r *route) beats(o *route) bool {
	if r.isDefault != o.isDefault {
		return o.isDefault
	}
	if r.greedy != o.greedy {
		return !r.greedy
	}
	if r.greedy && len(r.segs) != len(o.segs) {
		return len(r.segs) > len(o.segs)
	}
	for i := 0; i < len(r.segs) && i < len(o.segs); i++ {
		if r.segs[i].kind != o.segs[i].kind {
			return r.segs[i].kind < o.segs[i].kind
		}
	}
	return r.Method != "ANY" && o.Method == "ANY"
}

// lookup finds the best route for method and the decoded path segments.
func lookup(routes []*route, method string, segs []string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for _, r := range routes {
		if !r.isDefault && r.Method != method && r.Method != "ANY" {
			continue
		}
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		if best == nil || r.beats(best) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}

// decodeSegments splits an escaped path into decoded segments, so that an
// encoded slash (%2F) stays inside its segment.
func decodeSegments(escaped string) ([]string, bool) {
	raw := splitPath(escaped)
	out := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		out[i] = d
	}
	return out, true
}

// resourceID is a stable stand-in for API Gateway's resource ids.
func resourceID(path string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var h uint32 = 2166136261
	for i := 0; i < len(path); i++ {
		h = (h ^ uint32(path[i])) * 16777619
	}
	b := make([]byte, 6)
	for i := range b {
		b[i] = alphabet[h%36]
		h /= 36
		if h == 0 {
			h = 2166136261 + uint32(i)
		}
	}
	return string(b)
}
