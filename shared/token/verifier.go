package token

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apigw-guard/guard/shared/keyring"
)

// DefaultMaxTokenSize is the default cap, in bytes, on a raw token.
const DefaultMaxTokenSize = 8192

// KeySource finds the verification key for an issuer and kid.
// Implementations hold keys in memory, refresh on an unknown kid with a
// cool-down, and must be safe for concurrent use.
//
// A token without a kid header (or with an empty one) is looked up with
// kid "": a KeySource holding exactly one key for the issuer may return
// it; otherwise it should report ErrUnknownKey.
//
// Errors must wrap [ErrUnknownKey] when no such key exists and
// [ErrKeysUnavailable] when keys could not be loaded. Any other error is
// treated like ErrKeysUnavailable (fail closed).
type KeySource interface {
	Key(ctx context.Context, issuer, kid string) (keyring.Key, error)
}

// Issuer is the configuration for one trusted token issuer.
type Issuer struct {
	// Issuer is the exact iss claim.
	Issuer string
	// Audiences lists accepted aud values: aud (a string or an array)
	// must hold one of them. Cognito access tokens carry no aud; for them
	// set ClientIDs instead.
	Audiences []string
	// ClientIDs, when set, lists accepted client_id values: a token's
	// client_id, if present, must be one of them, and a token without
	// aud must carry one.
	ClientIDs []string
	// TokenUse, when set, is "access" or "id": the Cognito token_use claim
	// must equal it.
	TokenUse string
	// Algorithms, when set, is an allow-list of JWA names; the key's alg
	// must also be in it. When empty, only the key's own alg is accepted
	// (which is always required).
	Algorithms []string
}

// issuer is an Issuer prepared for the hot path.
type issuer struct {
	cfg  Issuer
	algs uint32 // bit per algorithm; 0 means any the key allows
}

// A Verifier checks compact JWS tokens (JWTs) against configured issuers.
// Build one at init with [NewVerifier]; it is immutable and safe for
// concurrent use.
type Verifier struct {
	keys    KeySource
	issuers map[string]*issuer

	skew        time.Duration
	maxLifetime time.Duration
	now         func() time.Time
	maxSize     int

	headers headerCache
}

// An Option changes one of a Verifier's defaults.
type Option func(*Verifier)

// WithClockSkew tolerates clock differences with issuers when checking
// exp, nbf and iat. The default is none. Must not be negative.
func WithClockSkew(d time.Duration) Option { return func(v *Verifier) { v.skew = d } }

// WithMaxLifetime refuses tokens meant to live longer than d: exp-iat must
// not exceed d, nor may exp-now exceed d plus the clock skew (which also
// covers tokens without iat). The default, 0, sets no cap.
func WithMaxLifetime(d time.Duration) Option { return func(v *Verifier) { v.maxLifetime = d } }

// WithClock sets the source of the current time. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithMaxTokenSize caps the raw token's length in bytes; longer tokens are
// refused before any parsing. The default is [DefaultMaxTokenSize]; at
// most 1 MiB may be set.
func WithMaxTokenSize(n int) Option { return func(v *Verifier) { v.maxSize = n } }

// NewVerifier returns a Verifier for tokens minted by issuers, with keys
// from keys. It reports every configuration problem at once: no issuers,
// an empty or repeated iss, an issuer with neither audiences nor client
// IDs, an empty audience or client ID, a TokenUse other than "access" or
// "id", an unknown algorithm name, or an invalid option.
func NewVerifier(keys KeySource, issuers []Issuer, opts ...Option) (*Verifier, error) {
	v := &Verifier{
		keys:    keys,
		issuers: make(map[string]*issuer, len(issuers)),
		now:     time.Now,
		maxSize: DefaultMaxTokenSize,
	}
	for _, opt := range opts {
		opt(v)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("token: "+format, args...)) }
	if keys == nil {
		bad("nil KeySource")
	}
	if len(issuers) == 0 {
		bad("no issuers")
	}
	for i, cfg := range issuers {
		if cfg.Issuer == "" {
			bad("issuer %d: empty Issuer", i)
		} else if _, dup := v.issuers[cfg.Issuer]; dup {
			bad("issuer %d: %q configured twice", i, cfg.Issuer)
		}
		if len(cfg.Audiences) == 0 && len(cfg.ClientIDs) == 0 {
			bad("issuer %d: neither Audiences nor ClientIDs set", i)
		}
		if slices.Contains(cfg.Audiences, "") {
			bad("issuer %d: empty audience", i)
		}
		if slices.Contains(cfg.ClientIDs, "") {
			bad("issuer %d: empty client ID", i)
		}
		if cfg.TokenUse != "" && cfg.TokenUse != "access" && cfg.TokenUse != "id" {
			bad("issuer %d: TokenUse %q is neither \"access\" nor \"id\"", i, cfg.TokenUse)
		}
		is := &issuer{cfg: Issuer{
			Issuer:     cfg.Issuer,
			Audiences:  slices.Clone(cfg.Audiences),
			ClientIDs:  slices.Clone(cfg.ClientIDs),
			TokenUse:   cfg.TokenUse,
			Algorithms: slices.Clone(cfg.Algorithms),
		}}
		for _, name := range cfg.Algorithms {
			a := lookupAlg([]byte(name))
			if a == 0 {
				bad("issuer %d: unknown algorithm %q", i, name)
				continue
			}
			is.algs |= 1 << a
		}
		if cfg.Issuer != "" {
			v.issuers[cfg.Issuer] = is
		}
	}
	if v.skew < 0 {
		bad("negative clock skew")
	}
	if v.maxLifetime < 0 {
		bad("negative max lifetime")
	}
	if v.now == nil {
		bad("nil clock")
	}
	if v.maxSize <= 0 || v.maxSize > maxInput {
		bad("max token size %d is not in 1..%d", v.maxSize, maxInput)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return v, nil
}

// b64 decodes JWS segments: unpadded base64url, refusing padding, bytes
// outside the alphabet (but see Verify for CR and LF) and non-zero
// trailing bits, so that each token has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// Verify checks raw, a compact JWS without any "Bearer " prefix, and
// returns its claims. Every refusal is an [*Error] whose Reason says why.
//
// The steps, in order: the size cap; three strict base64url segments; the
// header (alg, kid, crit, b64; jku, x5u, jwk and x5c are ignored, never
// fetched); the claims set's JSON, whose iss selects the issuer and key set
// before the signature is checked; the key from the KeySource by (iss,
// kid), whose alg must equal the token's; the signature; then the
// remaining claims. Claims are never trusted before the signature is.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if len(raw) > v.maxSize {
		return nil, fail(ReasonTooLarge, fmt.Errorf("token of %d bytes exceeds the %d-byte cap", len(raw), v.maxSize))
	}
	// The base64url decoder below refuses every byte outside its
	// alphabet except CR and LF, which it skips: refuse those here.
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		return nil, fail(ReasonMalformed, errors.New("line break in token"))
	}
	dot1 := strings.IndexByte(raw, '.')
	dot2 := -1
	if dot1 >= 0 {
		if i := strings.IndexByte(raw[dot1+1:], '.'); i >= 0 {
			dot2 = dot1 + 1 + i
		}
	}
	if dot2 < 0 {
		return nil, fail(ReasonMalformed, errors.New("fewer than three segments"))
	}
	if strings.IndexByte(raw[dot2+1:], '.') >= 0 {
		return nil, fail(ReasonMalformed, errors.New("more than three segments (JWE and JSON serializations are not accepted)"))
	}

	// A pooled work buffer holds scratch space for the signature check, a
	// copy of the token (whose prefix, right after the scratch, is the
	// signing input) and the decoded header, signature and claims. Only
	// the Claims and a string copy of the claims set, which the claim
	// strings alias, are allocated.
	hLen := b64.DecodedLen(dot1)
	pLen := b64.DecodedLen(dot2 - dot1 - 1)
	sLen := b64.DecodedLen(len(raw) - dot2 - 1)
	work := getWork(scratchSize + len(raw) + hLen + sLen + pLen)
	defer putWork(work)
	buf := *work
	tok := buf[scratchSize : scratchSize+len(raw)]
	copy(tok, raw)
	dec := buf[scratchSize+len(raw):]
	sig, err := decodeSegment(dec[hLen:hLen+sLen], tok[dot2+1:])
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature: %w", err))
	}
	payload, err := decodeSegment(dec[hLen+sLen:], tok[dot1+1:dot2])
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("claims: %w", err))
	}

	// A header seen in a token that verified is looked up rather than
	// parsed again: issuers put the same few headers on every token.
	a, kid, known := v.headers.lookup(raw[:dot1])
	if !known {
		header, err := decodeSegment(dec[:hLen], tok[:dot1])
		if err != nil {
			return nil, fail(ReasonMalformed, fmt.Errorf("header: %w", err))
		}
		var scratch [8]member
		var kidBytes []byte
		var ferr *Error
		if a, kidBytes, ferr = parseHeader(header, scratch[:0]); ferr != nil {
			return nil, ferr
		}
		kid = string(kidBytes)
	}

	c := new(Claims)
	c.Alg = algs[a].name
	obj, err := parseObject(payload, c.inline[:0])
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("claims: %w", err))
	}
	c.claims = object[string]{data: string(payload), arena: string(obj.arena), members: obj.members}
	issRaw, ok := c.claims.get("iss")
	if !ok {
		return nil, fail(ReasonMissingClaim, errors.New("no iss claim"))
	}
	iss, err := stringBytes(issRaw)
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("iss: %w", err))
	}
	is := v.issuers[iss]
	if is == nil {
		return nil, fail(ReasonBadIssuer, errors.New("iss is not a configured issuer"))
	}
	c.Issuer = is.cfg.Issuer
	if is.algs != 0 && is.algs&(1<<a) == 0 {
		return nil, fail(ReasonUnsupportedAlg, fmt.Errorf("alg %s is not allowed for the issuer", a))
	}
	// A signature of the wrong size can never verify: refuse it before
	// the key lookup, which may refresh keys on an unknown kid.
	if n := algs[a].sigSize; len(sig) < n || (algs[a].family != familyPKCS1 && algs[a].family != familyPSS && len(sig) != n) {
		return nil, fail(ReasonBadSignature, fmt.Errorf("%s signature of %d bytes has the wrong length", a, len(sig)))
	}

	c.KeyID = kid
	key, err := v.keys.Key(ctx, c.Issuer, c.KeyID)
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return nil, fail(ReasonKeysUnavailable, err)
	case errors.Is(err, ErrUnknownKey):
		return nil, fail(ReasonUnknownKey, err)
	case err != nil:
		return nil, fail(ReasonKeysUnavailable, fmt.Errorf("key source: %w", err))
	}
	if key.Alg != algs[a].name {
		return nil, fail(ReasonUnsupportedAlg, fmt.Errorf("token alg %s does not match the key's alg %q", a, key.Alg))
	}
	if r, err := verifySignature(a, key.Material, buf[:scratchSize+dot2], sig); err != nil {
		return nil, fail(r, err)
	}
	if ferr := v.checkClaims(c, is); ferr != nil {
		return nil, ferr
	}
	if !known {
		v.headers.remember(raw[:dot1], a, kid)
	}
	return c, nil
}

// maxPooled is the largest work buffer kept for reuse: enough for tokens
// of the default size cap.
const maxPooled = 2*DefaultMaxTokenSize + scratchSize

var workPool = sync.Pool{New: func() any { return new([]byte) }}

// getWork returns a buffer of n bytes for one Verify call, to be handed
// back with putWork. Reusing it keeps the allocation rate, and so the
// garbage collector's work, low on the hot path.
func getWork(n int) *[]byte {
	if n > maxPooled {
		b := make([]byte, n)
		return &b
	}
	w := workPool.Get().(*[]byte)
	if cap(*w) < n {
		*w = make([]byte, n, max(n, 2048))
	}
	*w = (*w)[:n]
	return w
}

// putWork wipes w, which held a bearer token, and pools it.
func putWork(w *[]byte) {
	clear(*w)
	if cap(*w) <= maxPooled {
		workPool.Put(w)
	}
}

// decodeSegment decodes src into dst, which is exactly DecodedLen long.
func decodeSegment(dst, src []byte) ([]byte, error) {
	n, err := b64.Decode(dst, src)
	if err != nil {
		return nil, errors.New("invalid base64url")
	}
	return dst[:n], nil
}

// parseHeader validates the JOSE header and returns its algorithm and kid
// (nil when absent). It uses scratch to hold the header's members.
func parseHeader(header []byte, scratch []member) (algorithm, []byte, *Error) {
	h, err := parseObject(header, scratch)
	if err != nil {
		return 0, nil, fail(ReasonMalformed, fmt.Errorf("header: %w", err))
	}
	var name, kid []byte
	var haveAlg, crit bool
	for _, m := range h.members {
		raw := h.bytes(m.raw)
		switch string(h.bytes(m.name)) {
		case "alg":
			if name, err = stringBytes(raw); err != nil {
				return 0, nil, fail(ReasonMalformed, fmt.Errorf("header alg: %w", err))
			}
			haveAlg = true
		case "kid":
			if kid, err = stringBytes(raw); err != nil {
				return 0, nil, fail(ReasonMalformed, fmt.Errorf("header kid: %w", err))
			}
		case "crit":
			crit = true
		case "b64":
			b, err := boolValue(raw)
			if err != nil {
				return 0, nil, fail(ReasonMalformed, fmt.Errorf("header b64: %w", err))
			}
			if !b {
				return 0, nil, fail(ReasonMalformed, errors.New("unencoded payloads (b64: false) are not accepted"))
			}
		}
		// jku, x5u, jwk and x5c would let the token name its own key:
		// they are never read.
	}
	if crit {
		return 0, nil, fail(ReasonUnknownCrit, errors.New("header has crit; no extension is understood"))
	}
	if !haveAlg {
		return 0, nil, fail(ReasonMalformed, errors.New("header has no alg"))
	}
	if isNone(name) {
		return 0, nil, fail(ReasonUnsupportedAlg, errors.New("alg none is refused"))
	}
	a := lookupAlg(name)
	if a == 0 {
		return 0, nil, fail(ReasonUnsupportedAlg, errors.New("alg is not implemented"))
	}
	return a, kid, nil
}

// lifetimeLimit is the cap on exp-now: the max lifetime plus the skew,
// saturating rather than overflowing.
func (v *Verifier) lifetimeLimit() time.Duration {
	if v.maxLifetime > math.MaxInt64-v.skew {
		return math.MaxInt64
	}
	return v.maxLifetime + v.skew
}
