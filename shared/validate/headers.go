package validate

import (
	"mime"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The values this package sets for Strict-Transport-Security and, on
// documents, Content-Security-Policy.
const (
	HSTS = "max-age=31536000; includeSubDomains"
	CSP  = "default-src 'none'; frame-ancestors 'none'"
)

const (
	hstsMaxAge     = 31536000
	referrerPolicy = "no-referrer"
)

// SecureV1 adds the security headers to a REST (payload 1.0) response, in
// place, and never weakens one the backend set:
//   - Strict-Transport-Security: the backend's value when it already has a
//     max-age of at least one year and includeSubDomains, else [HSTS] (the
//     longer max-age and any preload directive are kept);
//   - X-Content-Type-Options: nosniff;
//   - Referrer-Policy: no-referrer, the strictest policy;
//   - Cache-Control: no-store when authorized (the request carried an
//     authorizer context), unless the backend's value already has no-store;
//   - Content-Security-Policy: [CSP] for HTML, XHTML, XML and SVG responses
//     and responses without a Content-Type (which a browser may sniff), unless
//     the backend set a policy of its own.
//
// Header names are matched case-insensitively in both Headers and
// MultiValueHeaders; a header this function replaces is removed from both.
func SecureV1(resp *events.APIGatewayProxyResponse, authorized bool) {
	resp.Headers = secureHeaders(resp.Headers, resp.MultiValueHeaders, authorized)
}

// SecureV2 is [SecureV1] for HTTP API payload 2.0 responses.
func SecureV2(resp *events.APIGatewayV2HTTPResponse, authorized bool) {
	resp.Headers = secureHeaders(resp.Headers, resp.MultiValueHeaders, authorized)
}

// headerSet edits a response's single- and multi-value header maps as one,
// case-insensitively.
type headerSet struct {
	single map[string]string
	multi  map[string][]string
}

func (h headerSet) get(name string) (string, bool) {
	for k, v := range h.multi {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.Join(v, ", "), true
		}
	}
	for k, v := range h.single {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func (h headerSet) set(name, value string) {
	for k := range h.multi {
		if strings.EqualFold(k, name) {
			delete(h.multi, k)
		}
	}
	for k := range h.single {
		if strings.EqualFold(k, name) {
			delete(h.single, k)
		}
	}
	h.single[name] = value
}

func secureHeaders(single map[string]string, multi map[string][]string, authorized bool) map[string]string {
	if single == nil {
		single = map[string]string{}
	}
	h := headerSet{single: single, multi: multi}

	if v, ok := h.get("Strict-Transport-Security"); !ok || !hstsStrongEnough(v) {
		h.set("Strict-Transport-Security", mergeHSTS(v))
	}
	if v, ok := h.get("X-Content-Type-Options"); !ok || !strings.EqualFold(strings.TrimSpace(v), "nosniff") {
		h.set("X-Content-Type-Options", "nosniff")
	}
	if v, ok := h.get("Referrer-Policy"); !ok || !strings.EqualFold(lastToken(v), referrerPolicy) {
		h.set("Referrer-Policy", referrerPolicy)
	}
	if authorized {
		if v, ok := h.get("Cache-Control"); !ok || !hasDirective(v, "no-store") {
			h.set("Cache-Control", "no-store")
		}
	}
	if _, ok := h.get("Content-Security-Policy"); !ok {
		ct, _ := h.get("Content-Type")
		if activeContent(ct) {
			h.set("Content-Security-Policy", CSP)
		}
	}
	return single
}

// hstsStrongEnough reports whether v already has max-age >= one year and
// includeSubDomains.
func hstsStrongEnough(v string) bool {
	age, sub, _ := parseHSTS(v)
	return age >= hstsMaxAge && sub
}

// mergeHSTS returns the stricter of v and HSTS: the longer max-age,
// includeSubDomains, and preload if v had it.
func mergeHSTS(v string) string {
	age, _, preload := parseHSTS(v)
	age = max(age, hstsMaxAge)
	out := "max-age=" + strconv.FormatInt(age, 10) + "; includeSubDomains"
	if preload {
		out += "; preload"
	}
	return out
}

func parseHSTS(v string) (age int64, sub, preload bool) {
	age = -1
	for _, d := range strings.Split(v, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "max-age":
			n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err == nil && n >= 0 {
				age = n
			}
		case "includesubdomains":
			sub = true
		case "preload":
			preload = true
		}
	}
	return age, sub, preload
}

// lastToken returns the last comma-separated token: a browser applies the
// last Referrer-Policy value it understands.
func lastToken(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func hasDirective(v, directive string) bool {
	for _, d := range strings.Split(v, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
		if strings.EqualFold(strings.TrimSpace(name), directive) {
			return true
		}
	}
	return false
}

// activeContent reports whether a browser would render a response of this
// Content-Type as a document that can run script.
func activeContent(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true // unparsable: a browser may sniff it
	}
	switch mt {
	case "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml":
		return true
	}
	return strings.HasSuffix(mt, "+xml") && strings.HasPrefix(mt, "application/")
}
