package token

import (
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

	claims object[string] // top-level claims; the claim strings above alias it
	inline [16]member     // backing store for claims.members
	lists  [8]string      // backing store for Audience, Scopes and Groups
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
		return s, true
	case 't', 'f':
		return raw[0] == 't', true
	case 'n':
		return nil, true
	case '{', '[':
		d := json.NewDecoder(strings.NewReader(raw))
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

// registered holds the raw values of the claims checkClaims reads; ""
// means absent (a present value is at least one byte of JSON).
type registered struct {
	exp, nbf, iat, aud, clientID, tokenUse, sub, jti string
	scope, scp, cognitoGroups, groups                string
}

func (r *registered) set(name, raw string) {
	switch name {
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

// checkClaims decodes the registered claims into c and applies the
// issuer's rules. It runs only after the signature has verified. Type
// errors come first, then missing claims, then time, then audience,
// client and token use.
//
// The claim strings alias the claims set's JSON text, which c holds; only
// strings with escapes are copied, and lists of up to len(c.lists)
// strings in all live in c itself.
func (v *Verifier) checkClaims(c *Claims, is *issuer) *Error {
	var r registered
	for _, m := range c.claims.members {
		r.set(c.claims.bytes(m.name), c.claims.bytes(m.raw))
	}
	scopeName, scopes := "scope", r.scope
	if scopes == "" {
		scopeName, scopes = "scp", r.scp
	}
	groupsName, groups := "cognito:groups", r.cognitoGroups
	if groups == "" {
		groupsName, groups = "groups", r.groups
	}

	scalars := [...]struct {
		name string
		raw  string
		dst  *string
	}{
		{"sub", r.sub, &c.Subject},
		{"jti", r.jti, &c.ID},
		{"client_id", r.clientID, &c.ClientID},
		{"token_use", r.tokenUse, &c.TokenUse},
	}
	for _, s := range scalars {
		if s.raw == "" {
			continue
		}
		str, err := stringBytes(s.raw)
		if err != nil {
			return claimError(s.name, err)
		}
		*s.dst = str
	}

	lists := [...]struct {
		name  string
		raw   string
		split bool // a string holds space-separated scope tokens
		dst   *[]string
	}{
		{"aud", r.aud, false, &c.Audience},
		{scopeName, scopes, len(scopes) > 0 && scopes[0] == '"', &c.Scopes},
		{groupsName, groups, false, &c.Groups},
	}
	elems := c.lists[:0]
	for _, l := range lists {
		if l.raw == "" {
			continue
		}
		start := len(elems)
		err := eachString(l.raw, func(inner string, escaped bool) {
			if escaped {
				inner = string(appendUnescaped(nil, inner))
			}
			if !l.split {
				elems = append(elems, inner)
				return
			}
			for tok := range strings.SplitSeq(inner, " ") {
				if tok != "" {
					elems = append(elems, tok)
				}
			}
		})
		if err != nil {
			return claimError(l.name, err)
		}
		// Full slice expressions: appending to one list can never
		// overwrite the next.
		*l.dst = elems[start:len(elems):len(elems)]
	}

	var err error
	dates := [...]struct {
		name string
		raw  string
		dst  *time.Time
	}{
		{"exp", r.exp, &c.Expiry},
		{"nbf", r.nbf, &c.NotBefore},
		{"iat", r.iat, &c.IssuedAt},
	}
	for _, d := range dates {
		if d.raw == "" {
			continue
		}
		if *d.dst, err = numericDate(d.raw); err != nil {
			return claimError(d.name, err)
		}
	}

	if c.Subject == "" {
		return fail(ReasonMissingClaim, errors.New("no sub claim, or an empty one"))
	}
	if r.exp == "" {
		return fail(ReasonMissingClaim, errors.New("no exp claim"))
	}

	now := v.now()
	if !c.Expiry.After(now.Add(-v.skew)) {
		return fail(ReasonExpired, fmt.Errorf("expired %s ago", now.Sub(c.Expiry).Truncate(time.Second)))
	}
	if r.nbf != "" && c.NotBefore.After(now.Add(v.skew)) {
		return fail(ReasonNotYetValid, fmt.Errorf("not valid for another %s", c.NotBefore.Sub(now).Truncate(time.Second)))
	}
	if r.iat != "" && c.IssuedAt.After(now.Add(v.skew)) {
		return fail(ReasonIssuedInFuture, fmt.Errorf("issued %s in the future", c.IssuedAt.Sub(now).Truncate(time.Second)))
	}
	if v.maxLifetime > 0 {
		if r.iat != "" && c.Expiry.Sub(c.IssuedAt) > v.maxLifetime {
			return fail(ReasonLifetimeTooLong, fmt.Errorf("exp-iat exceeds %s", v.maxLifetime))
		}
		if c.Expiry.Sub(now) > v.lifetimeLimit() {
			return fail(ReasonLifetimeTooLong, fmt.Errorf("exp-now exceeds %s", v.maxLifetime))
		}
	}

	audOK := false
	if r.aud != "" && len(is.cfg.Audiences) > 0 {
		if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(is.cfg.Audiences, a) }) {
			return fail(ReasonBadAudience, errors.New("aud holds none of the issuer's audiences"))
		}
		audOK = true
	}
	clientOK := false
	if r.clientID != "" && len(is.cfg.ClientIDs) > 0 {
		if !slices.Contains(is.cfg.ClientIDs, c.ClientID) {
			return fail(ReasonBadClient, errors.New("client_id is not one of the issuer's client IDs"))
		}
		clientOK = true
	}
	if !audOK && !clientOK {
		if len(is.cfg.Audiences) == 0 || (r.aud == "" && len(is.cfg.ClientIDs) > 0) {
			return fail(ReasonBadClient, errors.New("no client_id claim"))
		}
		return fail(ReasonBadAudience, errors.New("no aud claim"))
	}
	if is.cfg.TokenUse != "" && (r.tokenUse == "" || c.TokenUse != is.cfg.TokenUse) {
		return fail(ReasonBadTokenUse, fmt.Errorf("token_use is not %q", is.cfg.TokenUse))
	}
	return nil
}
