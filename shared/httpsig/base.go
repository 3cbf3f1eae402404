package httpsig

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Request is what a [Verifier] knows of the signed request. The caller
// fills it from the API Gateway event; nothing here is trusted until the
// signature verifies.
type Request struct {
	// Method is the request method, as sent ("POST").
	Method string
	// Authority is the Host header value. It is normalised for @authority
	// as RFC 9110 Section 4.2.3 says: lower case, the default port (443,
	// API Gateway being HTTPS only) dropped.
	Authority string
	// Path is the request path as the client sent it, without the query
	// ("/dev/webhooks/orders"). Existing percent-encodings are kept as
	// they are; any byte a path cannot hold literally (a space, non-ASCII)
	// is percent-encoded, so a path reported decoded compares equal to the
	// encoded path the client signed. An empty path is "/".
	Path string
	// Query is the query string without the leading '?', empty when the
	// request has none. @query is "?" followed by it.
	Query string
	// Header holds the request's header fields by lower-case name, each
	// with its values combined by ", " as RFC 9421 Section 2.1 requires.
	Header map[string]string
}

// Derived components this package supports (RFC 9421 Section 2.2).
// @status (responses only) and @query-param are refused.
const (
	ComponentMethod        = "@method"
	ComponentAuthority     = "@authority"
	ComponentScheme        = "@scheme"
	ComponentTargetURI     = "@target-uri"
	ComponentRequestTarget = "@request-target"
	ComponentPath          = "@path"
	ComponentQuery         = "@query"
)

// scheme is the only scheme API Gateway serves.
const scheme = "https"

var errLineBreak = errors.New("covered value holds a line break")

// componentValue returns the value of one covered component, or an error
// with its Reason.
func componentValue(r *Request, name string) (string, error) {
	switch name {
	case ComponentMethod:
		return r.Method, nil
	case ComponentAuthority:
		return authority(r.Authority), nil
	case ComponentScheme:
		return scheme, nil
	case ComponentTargetURI:
		return scheme + "://" + authority(r.Authority) + requestTarget(r), nil
	case ComponentRequestTarget:
		return requestTarget(r), nil
	case ComponentPath:
		return canonicalPath(r.Path), nil
	case ComponentQuery:
		return "?" + r.Query, nil
	}
	if strings.HasPrefix(name, "@") {
		return "", fail(ReasonMalformed, fmt.Errorf("component %q is not supported", name))
	}
	v, ok := r.Header[name]
	if !ok {
		return "", fail(ReasonComponents, fmt.Errorf("covered header %q is absent from the request", name))
	}
	return strings.TrimSpace(v), nil
}

func requestTarget(r *Request) string {
	t := canonicalPath(r.Path)
	if r.Query != "" {
		t += "?" + r.Query
	}
	return t
}

// authority normalises a Host value: lower case, no default port.
func authority(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	return strings.TrimSuffix(h, ":443")
}

// canonicalPath keeps the path as sent, percent-encoding (upper-case hex)
// every byte that may not appear literally in a path; valid "%XX" escapes
// stay as they are. An empty path becomes "/".
func canonicalPath(p string) string {
	if p == "" {
		return "/"
	}
	clean := true
	for i := 0; i < len(p); i++ {
		if !isPathByte(p, i) {
			clean = false
			break
		}
	}
	if clean {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if isPathByte(p, i) {
			b.WriteByte(p[i])
			continue
		}
		fmt.Fprintf(&b, "%%%02X", p[i])
	}
	return b.String()
}

// isPathByte reports whether p[i] may stay literal: an RFC 3986 pchar, '/',
// or the '%' of a valid escape.
func isPathByte(p string, i int) bool {
	c := p[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		return true
	case c == '%':
		return i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2])
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// EncodeQuery builds a canonical query string from parsed parameters, for
// payloads that carry the query only parsed (REST and HTTP API payload
// 1.0): names sorted bytewise, each name's values in the order given, names
// and values percent-encoded except RFC 3986 unreserved characters
// (upper-case hex, space as %20), joined by '&' and '='. A client that
// signs @query (or @target-uri, @request-target) on such an API must send
// its query in this form.
func EncodeQuery(params map[string][]string) string {
	if len(params) == 0 {
		return ""
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			escapeUnreserved(&b, k)
			b.WriteByte('=')
			escapeUnreserved(&b, v)
		}
	}
	return b.String()
}

func escapeUnreserved(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(b, "%%%02X", c)
	}
}

// buildBase builds the signature base (RFC 9421 Section 2.5) for the
// covered components of sig.
func buildBase(r *Request, sig *signature) (string, error) {
	var b strings.Builder
	for _, c := range sig.components {
		v, err := componentValue(r, c)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(v, "\r\n") {
			return "", fail(ReasonMalformed, fmt.Errorf("component %q: %w", c, errLineBreak))
		}
		writeString(&b, c)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(sig.params)
	return b.String(), nil
}
