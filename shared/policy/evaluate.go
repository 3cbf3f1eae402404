package policy

import (
	"strings"
	"unicode/utf8"
)

// Decision is what API Gateway decides for a request under a policy. The
// zero value is NotAllowed.
type Decision int

const (
	// NotAllowed: no Allow statement matches (an implicit deny): 403.
	NotAllowed Decision = iota
	// Allow: an Allow statement matches and no Deny statement does.
	Allow
	// Deny: a Deny statement matches (an explicit deny, which beats any
	// Allow): 403.
	Deny
)

// String returns "NotAllowed", "Allow" or "Deny".
func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	case NotAllowed:
		return "NotAllowed"
	}
	return "Decision(invalid)"
}

// Evaluate reports what API Gateway decides for methodArn (or routeArn)
// under doc. A statement matches when one of its Action patterns matches
// execute-api:Invoke (so "execute-api:Invoke", "execute-api:*" and "*"
// do; action names compare case-insensitively, as in IAM) and one of its
// Resource patterns matches methodArn, case-sensitively, with IAM
// wildcards: '*' matches any run of characters, '/' and ':' included,
// and '?' exactly one character. A matching Deny statement gives Deny; else
// a matching Allow statement gives Allow; else NotAllowed.
//
// Evaluate never returns Allow for a document that fails
// [Document.Validate] or for a methodArn longer than [MaxARNLength] bytes.
// It treats methodArn as a plain string and does not parse it.
//
// Matching uses no regular expressions and no recursion: one pass with a
// single backtrack point, O(len(pattern)×len(arn)) in the worst case, which
// the 512-character pattern and 1600-byte ARN limits bound.
func Evaluate(doc Document, methodArn string) Decision {
	if len(methodArn) > MaxARNLength || doc.Validate() != nil {
		return NotAllowed
	}
	out := NotAllowed
	for _, st := range doc.Statement {
		if !actionMatches(st.Action) || !anyMatch(st.Resource, methodArn, false) {
			continue
		}
		if effectOf(st.Effect) == Deny {
			return Deny
		}
		out = Allow
	}
	return out
}

// actionMatches reports whether an Action pattern matches
// execute-api:Invoke; IAM compares action names case-insensitively.
func actionMatches(patterns []string) bool {
	for _, p := range patterns {
		if p == "*" || strings.EqualFold(p, ActionInvoke) || strings.EqualFold(p, "execute-api:*") {
			return true
		}
	}
	return anyMatch(patterns, "execute-api:invoke", true)
}

func anyMatch(patterns []string, s string, fold bool) bool {
	ascii := isASCII(s)
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if ascii && isASCII(p) {
			if globBytes(p, s) {
				return true
			}
		} else if globRunes([]rune(p), []rune(s)) {
			return true
		}
	}
	return false
}

// globMatch reports whether s matches the IAM pattern p, where '*' matches
// any run of characters and '?' exactly one character (not byte).
func globMatch(p, s string) bool { return anyMatch([]string{p}, s, false) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// globBytes is the classic wildcard matcher: advance on literal or '?',
// remember the last '*' and, on a mismatch, let that star absorb one more
// character. Earlier stars never need revisiting, so there is no
// exponential backtracking.
func globBytes(p, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func globRunes(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
