package validate

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// A Rule names one validation rule. A rejection's problem type is the
// Validator's type base followed by the rule, for example
// "tag:apigw-guard.github.io,2025:problems/duplicate-member".
type Rule string

// The rules, each with the status a rejection under it carries.
const (
	RuleUnknownRoute     Rule = "unknown-route"           // 404: no rules for the route (fail closed)
	RuleBodyTooLarge     Rule = "body-too-large"          // 413
	RuleMediaType        Rule = "unsupported-media-type"  // 415
	RuleBodyEncoding     Rule = "body-encoding"           // 400: isBase64Encoded body is not base64
	RuleDigestMissing    Rule = "content-digest-missing"  // 400: the route requires Content-Digest
	RuleDigestInvalid    Rule = "content-digest-invalid"  // 400: unparsable, or no sha-256/sha-512 member
	RuleDigestMismatch   Rule = "content-digest-mismatch" // 400
	RuleInvalidJSON      Rule = "invalid-json"            // 400
	RuleInvalidUTF8      Rule = "invalid-utf8"            // 400
	RuleDuplicateMember  Rule = "duplicate-member"        // 400
	RuleNumberPrecision  Rule = "number-precision"        // 400
	RuleMaxDepth         Rule = "max-depth"               // 400
	RuleMaxMembers       Rule = "max-members"             // 400
	RulePrivilegedField  Rule = "privileged-field"        // 400
	RuleUnknownMember    Rule = "unknown-member"          // 400
	RuleSchema           Rule = "schema"                  // 400
	RuleSQLi             Rule = "sql-injection"           // 400
	RuleXSS              Rule = "xss"                     // 400
	RuleMissingParameter Rule = "missing-parameter"       // 400
	RuleInvalidParameter Rule = "invalid-parameter"       // 400
	RuleUnknownParameter Rule = "unknown-parameter"       // 400
)

type ruleInfo struct {
	status int
	title  string
	detail string
}

// ruleInfos holds fixed texts: a detail never quotes the request.
var ruleInfos = map[Rule]ruleInfo{
	RuleUnknownRoute:     {http.StatusNotFound, "No validation rules for this route", "The validator has no rules for this route, so it rejects the request."},
	RuleBodyTooLarge:     {http.StatusRequestEntityTooLarge, "Request body too large", "The request body exceeds the route's size limit."},
	RuleMediaType:        {http.StatusUnsupportedMediaType, "Unsupported media type", "The Content-Type is missing or is not one this route accepts."},
	RuleBodyEncoding:     {http.StatusBadRequest, "Malformed body encoding", "The body is marked as base64-encoded but is not valid base64."},
	RuleDigestMissing:    {http.StatusBadRequest, "Content-Digest required", "This route requires a Content-Digest header (RFC 9530)."},
	RuleDigestInvalid:    {http.StatusBadRequest, "Invalid Content-Digest", "The Content-Digest header is malformed or carries no sha-256 or sha-512 digest."},
	RuleDigestMismatch:   {http.StatusBadRequest, "Content-Digest mismatch", "The body does not match its Content-Digest."},
	RuleInvalidJSON:      {http.StatusBadRequest, "Malformed JSON", "The body is not a single well-formed JSON value."},
	RuleInvalidUTF8:      {http.StatusBadRequest, "Invalid Unicode", "A string is not valid UTF-8 or holds an unpaired surrogate."},
	RuleDuplicateMember:  {http.StatusBadRequest, "Duplicate member name", "An object repeats a member name (names are compared ignoring case)."},
	RuleNumberPrecision:  {http.StatusBadRequest, "Number loses precision", "A number cannot be represented exactly; integers must lie within ±2^53 and decimals must round-trip through a 64-bit float."},
	RuleMaxDepth:         {http.StatusBadRequest, "JSON nested too deeply", "The body nests objects and arrays deeper than the route allows."},
	RuleMaxMembers:       {http.StatusBadRequest, "Too many JSON members", "The body holds more members and elements than the route allows."},
	RulePrivilegedField:  {http.StatusBadRequest, "Privileged field", "The request sets a field that clients may never set."},
	RuleUnknownMember:    {http.StatusBadRequest, "Unknown member", "The body holds a member the route's schema does not declare."},
	RuleSchema:           {http.StatusBadRequest, "Schema violation", "The body does not match the route's schema."},
	RuleSQLi:             {http.StatusBadRequest, "Suspected SQL injection", "A value looks like SQL injection."},
	RuleXSS:              {http.StatusBadRequest, "Suspected cross-site scripting", "A value looks like cross-site scripting."},
	RuleMissingParameter: {http.StatusBadRequest, "Missing parameter", "A required parameter is missing."},
	RuleInvalidParameter: {http.StatusBadRequest, "Invalid parameter", "A parameter does not match its rule."},
	RuleUnknownParameter: {http.StatusBadRequest, "Unknown parameter", "The route does not accept this parameter."},
}

// DefaultProblemTypeBase prefixes a rule's name to make its problem type URI.
// A tag URI (RFC 4151) is an identifier, not a locator: clients compare it and
// never fetch it. Use [WithProblemTypeBase] to point at documentation.
const DefaultProblemTypeBase = "tag:apigw-guard.github.io,2025:problems/"

// Problem is an RFC 9457 problem detail and the error [Validator.Validate]
// returns. It never holds a value taken from the request: Pointer and
// Parameter locate the offending value by name and are percent-encoded.
type Problem struct {
	// Type is the problem type URI; "about:blank" when the status says it all.
	Type string
	// Title is a short fixed summary of the type.
	Title string
	// Status is the HTTP status code.
	Status int
	// Detail explains this occurrence, in fixed text.
	Detail string
	// Rule is the rule that rejected the request, "" for non-validation problems.
	Rule Rule
	// Pointer locates the offending body value, as a JSON pointer (RFC 6901)
	// in URI fragment form ("#/items/0/name"), or "" when the problem is not
	// in the body. Unsafe characters are percent-encoded and a very long
	// pointer is cut back to the ancestor that fits maxPointerLen.
	Pointer string
	// In is "path", "query" or "header" when a parameter is at fault.
	In string
	// Parameter is the parameter's name, percent-encoded like Pointer.
	Parameter string
}

// Error describes the problem by rule and location, without values.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("request rejected: ")
	if p.Rule != "" {
		b.WriteString(string(p.Rule))
	} else {
		b.WriteString(p.Title)
	}
	switch {
	case p.Pointer != "":
		b.WriteString(" at " + p.Pointer)
	case p.Parameter != "":
		b.WriteString(" in " + p.In + " parameter " + p.Parameter)
	}
	return b.String()
}

// MarshalJSON writes the application/problem+json document. encoding/json
// also escapes <, > and &, so the document is inert if rendered as HTML.
func (p *Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type      string `json:"type"`
		Title     string `json:"title"`
		Status    int    `json:"status"`
		Detail    string `json:"detail,omitempty"`
		Pointer   string `json:"pointer,omitempty"`
		In        string `json:"in,omitempty"`
		Parameter string `json:"parameter,omitempty"`
	}{p.Type, p.Title, p.Status, p.Detail, p.Pointer, p.In, p.Parameter})
}

// asProblem returns err as a *Problem, or a generic 500 problem for any
// other error so that nothing internal reaches the client.
func asProblem(err error) *Problem {
	if p, ok := err.(*Problem); ok && p != nil {
		return p
	}
	return &Problem{
		Type:   "about:blank",
		Title:  http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError,
		Detail: "The request could not be validated.",
	}
}

func problemResponse(err error) (int, map[string]string, string) {
	p := asProblem(err)
	body, _ := p.MarshalJSON() // a struct of strings and an int always marshals
	h := map[string]string{"Content-Type": "application/problem+json"}
	h = secureHeaders(h, nil, true) // an error is never cacheable
	return p.Status, h, string(body)
}

// ProblemV1 renders err as a REST (payload 1.0) response: a *Problem as
// itself, any other error as a 500 that reveals nothing. The response
// carries application/problem+json, Cache-Control: no-store and the
// security headers.
func ProblemV1(err error) events.APIGatewayProxyResponse {
	status, h, body := problemResponse(err)
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: h, Body: body}
}

// ProblemV2 is [ProblemV1] for HTTP API payload 2.0 responses.
func ProblemV2(err error) events.APIGatewayV2HTTPResponse {
	status, h, body := problemResponse(err)
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: body}
}

// maxPointerLen bounds an encoded pointer, so a rejection never carries a
// long attacker-chosen name back.
const maxPointerLen = 256

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointerString escapes segments as an RFC 6901 JSON pointer ("~" → "~0",
// "/" → "~1").
func pointerString(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(s))
	}
	return b.String()
}

// fragmentPointer returns the URI fragment form of the pointer to segs
// (RFC 6901 section 6): "#" and the pointer with every byte outside
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "/" percent-encoded. When the result
// would exceed maxPointerLen, trailing segments are dropped until it fits.
func fragmentPointer(segs []string) string {
	for n := len(segs); n >= 0; n-- {
		p := "#" + percentEncode(pointerString(segs[:n]))
		if len(p) <= maxPointerLen {
			return p
		}
	}
	return "#"
}

// percentEncode keeps ALPHA, DIGIT, "-", ".", "_", "~" and "/" and encodes
// every other byte.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// safeName percent-encodes a parameter name for a problem, cut to
// maxPointerLen bytes of output.
func safeName(name string) string {
	e := percentEncode(name)
	if len(e) > maxPointerLen {
		e = e[:maxPointerLen]
		if i := strings.LastIndexByte(e[max(0, len(e)-2):], '%'); i >= 0 {
			e = e[:len(e)-2+i] // do not split an escape
		}
	}
	return e
}
