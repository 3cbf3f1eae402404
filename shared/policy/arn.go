package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxARNLength is the longest methodArn or routeArn API Gateway sends, in bytes.
const MaxARNLength = 1600

// ErrInvalidARN is wrapped by every error [ParseARN] returns.
var ErrInvalidARN = errors.New("invalid execute-api ARN")

// ARN is an execute-api method or route ARN:
//
//	arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path...}
//
// Resource is the request path without its leading "/" (empty for the root
// path "/"). For the HTTP API $default route, API Gateway sends
// "…:{apiId}/{stage}/$default": Method is then "$default" and Resource is
// empty. Stage may itself be "$default".
type ARN struct {
	Partition, Region, Account, APIID, Stage, Method, Resource string
}

// ParseARN parses the methodArn of a REST or HTTP 1.0 authorizer event or the
// routeArn of an HTTP 2.0 event. It refuses anything longer than
// [MaxARNLength] bytes, another service, an account that is not 12 digits,
// an API id or stage holding anything but letters, digits, - and _ (so
// neither can carry an IAM wildcard into a policy), a method other than the
// seven HTTP methods API Gateway routes or "$default", a missing "/" after
// the method, and control characters, spaces or invalid UTF-8 in the path.
// Errors wrap [ErrInvalidARN].
func ParseARN(s string) (ARN, error) {
	var a ARN
	if len(s) > MaxARNLength {
		return a, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidARN, len(s), MaxARNLength)
	}
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return a, fmt.Errorf("%w: no arn: prefix", ErrInvalidARN)
	}
	f := strings.SplitN(rest, ":", 5)
	if len(f) != 5 {
		return a, fmt.Errorf("%w: want arn:partition:execute-api:region:account:resource", ErrInvalidARN)
	}
	a.Partition, a.Region, a.Account = f[0], f[2], f[3]
	switch {
	case !isToken(a.Partition, isLowerDigitDash, 32) || a.Partition[0] == '-':
		return a, fmt.Errorf("%w: partition %q", ErrInvalidARN, a.Partition)
	case f[1] != "execute-api":
		return a, fmt.Errorf("%w: service %q, want execute-api", ErrInvalidARN, f[1])
	case !isToken(a.Region, isLowerDigitDash, 32):
		return a, fmt.Errorf("%w: region %q", ErrInvalidARN, a.Region)
	case len(a.Account) != 12 || !isToken(a.Account, isDigit, 12):
		return a, fmt.Errorf("%w: account %q, want 12 digits", ErrInvalidARN, a.Account)
	}
	parts := strings.SplitN(f[4], "/", 4)
	if len(parts) < 3 {
		return a, fmt.Errorf("%w: want {apiId}/{stage}/{method}/{path}", ErrInvalidARN)
	}
	a.APIID, a.Stage, a.Method = parts[0], parts[1], parts[2]
	if !isToken(a.APIID, isIDChar, 64) {
		return a, fmt.Errorf("%w: API id %q", ErrInvalidARN, a.APIID)
	}
	if a.Stage != "$default" && !isToken(a.Stage, isStageChar, 128) {
		return a, fmt.Errorf("%w: stage %q", ErrInvalidARN, a.Stage)
	}
	if a.Method == DefaultRoute {
		if len(parts) == 4 {
			return a, fmt.Errorf("%w: nothing may follow the $default route", ErrInvalidARN)
		}
		return a, nil
	}
	if methodIndex(a.Method) < 0 {
		return a, fmt.Errorf("%w: method %q", ErrInvalidARN, a.Method)
	}
	if len(parts) != 4 {
		return a, fmt.Errorf("%w: no / after the method", ErrInvalidARN)
	}
	a.Resource = parts[3]
	if !utf8.ValidString(a.Resource) || strings.ContainsFunc(a.Resource, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return a, fmt.Errorf("%w: path holds control characters, spaces or invalid UTF-8", ErrInvalidARN)
	}
	return a, nil
}

// String returns the ARN in API Gateway's form; ParseARN(a.String()) == a
// for every ARN ParseARN returns.
func (a ARN) String() string {
	if a.Method == DefaultRoute {
		return a.base() + DefaultRoute
	}
	return a.base() + a.Method + "/" + a.Resource
}

// base is the ARN up to and including the "/" after the stage; every
// resource of a policy for this API and stage starts with it.
func (a ARN) base() string {
	return "arn:" + a.Partition + ":execute-api:" + a.Region + ":" + a.Account + ":" + a.APIID + "/" + a.Stage + "/"
}

// Path returns the request path the ARN names, with its leading "/"; for the
// $default route it returns "/" (the route ARN does not carry the path).
func (a ARN) Path() string { return "/" + a.Resource }

func isToken(s string, ok func(byte) bool, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool          { return c >= '0' && c <= '9' }
func isLower(c byte) bool          { return c >= 'a' && c <= 'z' }
func isLowerDigitDash(c byte) bool { return isLower(c) || isDigit(c) || c == '-' }
func isIDChar(c byte) bool         { return isLower(c) || isDigit(c) || c >= 'A' && c <= 'Z' }
func isStageChar(c byte) bool      { return isIDChar(c) || c == '-' || c == '_' }
