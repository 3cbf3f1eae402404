package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Claims are the verified claims of a token. Verify fills the registered
// and common claims; [Claims.Value] reads any other top-level claim.
// A Claims is not modified after Verify returns it and is safe to share.
type Claims struct {
	Issuer   string // iss
	Subject  string // sub, never empty
	ID       string // jti
	ClientID string // client_id (Cognito access tokens, OAuth)
	TokenUse string // token_use (Cognito: "access" or "id")
	KeyID    string // the header's kid; empty when absent
	Alg      string // the header's alg, which equals the key's

	Audience []string // aud, a string or an array in the token

	Expiry    time.Time // exp
	IssuedAt  time.Time // iat; zero when absent
	NotBefore time.Time // nbf; zero when absent

	// Scopes are the space-separated tokens of scope or, when scope is
	// absent, of scp; either may also be an array of strings.
	Scopes []string
	// Groups are cognito:groups or, when that is absent, groups: an
	// array of strings or a single string.
	Groups []string

	claims object     // top-level claims, aliasing the decoded payload
	inline [16]member // backing store for claims.members
}

// Value returns the top-level claim name decoded from JSON: a string,
// json.Number (never float64, so that large integers stay exact), bool,
// nil (for null), []any or map[string]any (with numbers again as
// json.Number). It reports false when the claim is absent.
func (c *Claims) Value(name string) (any, bool) {
	if c == nil {
		return nil, false
	}
	raw, ok := c.claims.get(name)
	if !ok {
		return nil, false
	}
	switch raw[0] {
	case '"':
		s, _ := stringBytes(raw)
		return string(s), true
	case 't', 'f':
		return raw[0] == 't', true
	case 'n':
		return nil, true
	case '{', '[':
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, false // unreachable: Verify validated the JSON
		}
		return v, true
	default:
		return json.Number(raw), true
	}
}

// claimError is a registered claim of the wrong JSON type.
func claimError(name string, err error) *Error {
	return fail(ReasonMalformed, fmt.Errorf("%s: %w", name, err))
}

// registered holds the raw values of the claims checkClaims reads; nil
// means absent.
type registered struct {
	exp, nbf, iat, aud, clientID, tokenUse, sub, jti []byte
	scope, scp, cognitoGroups, groups                []byte
}

func (r *registered) set(name, raw []byte) {
	switch string(name) {
	case "exp":
		r.exp = raw
	case "nbf":
		r.nbf = raw
	case "iat":
		r.iat = raw
	case "aud":
		r.aud = raw
	case "client_id":
		r.clientID = raw
	case "token_use":
		r.tokenUse = raw
	case "sub":
		r.sub = raw
	case "jti":
		r.jti = raw
	case "scope":
		r.scope = raw
	case "scp":
		r.scp = raw
	case "cognito:groups":
		r.cognitoGroups = raw
	case "groups":
		r.groups = raw
	}
}

// span is a range of a string or slice being built.
type span struct{ start, end int }

// checkClaims decodes the registered claims into c and applies the
// issuer's rules. It runs only after the signature has verified. Type
// errors come first, then missing claims, then time, then audience,
// client and token use.
func (v *Verifier) checkClaims(c *Claims, is *issuer) *Error {
	var r registered
	for _, m := range c.claims.members {
		r.set(c.claims.bytes(m.name), c.claims.bytes(m.raw))
	}
	scopeName, scopes := "scope", r.scope
	if scopes == nil {
		scopeName, scopes = "scp", r.scp
	}
	groupsName, groups := "cognito:groups", r.cognitoGroups
	if groups == nil {
		groupsName, groups = "groups", r.groups
	}

	// The string claims are decoded into one string, and the list claims
	// into one []string: two allocations in all. The raw lengths bound
	// the decoded ones.
	scalars := [...]struct {
		name string
		raw  []byte
		dst  *string
	}{
		{"sub", r.sub, &c.Subject},
		{"jti", r.jti, &c.ID},
		{"client_id", r.clientID, &c.ClientID},
		{"token_use", r.tokenUse, &c.TokenUse},
	}
	lists := [...]struct {
		name  string
		raw   []byte
		split bool // a string holds space-separated scope tokens
		dst   *[]string
	}{
		{"aud", r.aud, false, &c.Audience},
		{scopeName, scopes, len(scopes) > 0 && scopes[0] == '"', &c.Scopes},
		{groupsName, groups, false, &c.Groups},
	}
	size := 0
	for _, s := range scalars {
		if s.raw == nil {
			continue
		}
		if s.raw[0] != '"' {
			return claimError(s.name, errNotString)
		}
		size += len(s.raw)
	}
	for _, l := range lists {
		size += len(l.raw)
	}

	var sb strings.Builder
	sb.Grow(size)
	put := func(inner []byte, escaped bool) span {
		start := sb.Len()
		if escaped {
			inner = appendUnescaped(nil, inner)
		}
		sb.Write(inner)
		return span{start, sb.Len()}
	}
	var scalarSpans [len(scalars)]span
	for i, s := range scalars {
		if s.raw != nil {
			scalarSpans[i] = put(s.raw[1:len(s.raw)-1], bytes.IndexByte(s.raw, '\\') >= 0)
		}
	}
	var elemBuf [32]span
	elems := elemBuf[:0]
	var listSpans [len(lists)]span
	for i, l := range lists {
		if l.raw == nil {
			continue
		}
		listSpans[i].start = len(elems)
		err := eachString(l.raw, func(inner []byte, escaped bool) {
			whole := put(inner, escaped)
			if !l.split {
				elems = append(elems, whole)
				return
			}
			start := whole.start
			for j := whole.start; j <= whole.end; j++ {
				if j == whole.end || sb.String()[j] == ' ' {
					if j > start {
						elems = append(elems, span{start, j})
					}
					start = j + 1
				}
			}
		})
		if err != nil {
			return claimError(l.name, err)
		}
		listSpans[i].end = len(elems)
	}

	text := sb.String()
	for i, s := range scalars {
		*s.dst = text[scalarSpans[i].start:scalarSpans[i].end]
	}
	all := make([]string, len(elems))
	for i, e := range elems {
		all[i] = text[e.start:e.end]
	}
	for i, l := range lists {
		if l.raw != nil {
			ls := listSpans[i]
			*l.dst = all[ls.start:ls.end:ls.end]
		}
	}

	var err error
	dates := [...]struct {
		name string
		raw  []byte
		dst  *time.Time
	}{
		{"exp", r.exp, &c.Expiry},
		{"nbf", r.nbf, &c.NotBefore},
		{"iat", r.iat, &c.IssuedAt},
	}
	for _, d := range dates {
		if d.raw == nil {
			continue
		}
		if *d.dst, err = numericDate(d.raw); err != nil {
			return claimError(d.name, err)
		}
	}

	if c.Subject == "" {
		return fail(ReasonMissingClaim, errors.New("no sub claim, or an empty one"))
	}
	if r.exp == nil {
		return fail(ReasonMissingClaim, errors.New("no exp claim"))
	}

	now := v.now()
	if !c.Expiry.After(now.Add(-v.skew)) {
		return fail(ReasonExpired, fmt.Errorf("expired %s ago", now.Sub(c.Expiry).Truncate(time.Second)))
	}
	if r.nbf != nil && c.NotBefore.After(now.Add(v.skew)) {
		return fail(ReasonNotYetValid, fmt.Errorf("not valid for another %s", c.NotBefore.Sub(now).Truncate(time.Second)))
	}
	if r.iat != nil && c.IssuedAt.After(now.Add(v.skew)) {
		return fail(ReasonIssuedInFuture, fmt.Errorf("issued %s in the future", c.IssuedAt.Sub(now).Truncate(time.Second)))
	}
	if v.maxLifetime > 0 {
		if r.iat != nil && c.Expiry.Sub(c.IssuedAt) > v.maxLifetime {
			return fail(ReasonLifetimeTooLong, fmt.Errorf("exp-iat exceeds %s", v.maxLifetime))
		}
		if c.Expiry.Sub(now) > v.lifetimeLimit() {
			return fail(ReasonLifetimeTooLong, fmt.Errorf("exp-now exceeds %s", v.maxLifetime))
		}
	}

	audOK := false
	if r.aud != nil && len(is.cfg.Audiences) > 0 {
		if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(is.cfg.Audiences, a) }) {
			return fail(ReasonBadAudience, errors.New("aud holds none of the issuer's audiences"))
		}
		audOK = true
	}
	clientOK := false
	if r.clientID != nil && len(is.cfg.ClientIDs) > 0 {
		if !slices.Contains(is.cfg.ClientIDs, c.ClientID) {
			return fail(ReasonBadClient, errors.New("client_id is not one of the issuer's client IDs"))
		}
		clientOK = true
	}
	if !audOK && !clientOK {
		if len(is.cfg.Audiences) == 0 || (r.aud == nil && len(is.cfg.ClientIDs) > 0) {
			return fail(ReasonBadClient, errors.New("no client_id claim"))
		}
		return fail(ReasonBadAudience, errors.New("no aud claim"))
	}
	if is.cfg.TokenUse != "" && (r.tokenUse == nil || c.TokenUse != is.cfg.TokenUse) {
		return fail(ReasonBadTokenUse, fmt.Errorf("token_use is not %q", is.cfg.TokenUse))
	}
	return nil
}
