package httpsig

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Algorithm is the one signature algorithm a [Verifier] accepts (RFC 9421
// Section 3.3.3). An alg parameter, when present, must name it.
const Algorithm = "hmac-sha256"

// MinKeyLength is the shortest HMAC key a [Verifier] uses, in bytes (the
// hash size, as RFC 2104 recommends). Shorter keys are skipped.
const MinKeyLength = 32

// Defaults of a [Verifier].
const (
	DefaultWindow    = 300 * time.Second
	DefaultClockSkew = 30 * time.Second
)

// DefaultComponents are the components a signature must cover unless
// [WithRequired] says otherwise. "@path" is also satisfied by
// "@target-uri" or "@request-target", "@authority" by "@target-uri".
var DefaultComponents = []string{ComponentMethod, ComponentAuthority, ComponentPath, "content-digest"}

// maxComponents bounds the covered components of one signature.
const maxComponents = 32

// Key is one HMAC-SHA256 key a keyid names. A keyid may name several (the
// AWSCURRENT and AWSPREVIOUS versions of a rotated secret); the signature
// must match one of them.
type Key struct {
	Secret []byte
	// Meta is returned unchanged in [Result].Key, for the caller (which
	// secret version held the key, say). The Verifier never reads it.
	Meta any
}

// KeySource yields the keys a keyid names.
type KeySource interface {
	// Keys returns the keys for keyID, or an error wrapping ErrUnknownKey
	// when there is none. Any other error means the keys could not be
	// loaded (see ErrKeysUnavailable).
	Keys(ctx context.Context, keyID string) ([]Key, error)
	// Refresh re-reads the keys, at most once per cool-down of the
	// source's choosing, and reports whether anything changed. The
	// Verifier calls it once per request when the keyid is unknown or no
	// key matches, so a freshly rotated secret is accepted within the
	// cool-down.
	Refresh(ctx context.Context) (changed bool, err error)
}

// ReplayGuard remembers accepted signatures. Seen records key until the
// given time and reports whether it was already recorded (a replay). An
// error means the guard could not answer; the Verifier then refuses the
// request with [ReasonReplayUnavailable] (fail closed).
type ReplayGuard interface {
	Seen(ctx context.Context, key string, until time.Time) (bool, error)
}

// An Option changes one of a [Verifier]'s defaults.
type Option func(*Verifier)

// WithWindow sets how old a signature's created time may be: the default
// is 300 s. d <= 0 keeps the default.
func WithWindow(d time.Duration) Option {
	return func(v *Verifier) {
		if d > 0 {
			v.window = d
		}
	}
}

// WithClockSkew sets how far in the future created may be, and how long
// after expires a signature still counts. The default is 30 s; d < 0 keeps
// it.
func WithClockSkew(d time.Duration) Option {
	return func(v *Verifier) {
		if d >= 0 {
			v.skew = d
		}
	}
}

// WithRequired replaces [DefaultComponents]: every signature must cover
// all of components. A request with a query must also cover it (@query,
// @target-uri or @request-target), whatever this says.
func WithRequired(components ...string) Option {
	return func(v *Verifier) { v.required = slices.Clone(components) }
}

// WithLabel makes the Verifier check only the signature with this label.
// By default a request must carry exactly one signature.
func WithLabel(label string) Option { return func(v *Verifier) { v.label = label } }

// WithTag requires the tag parameter to equal tag (RFC 9421 Section
// 2.3), so signatures made for another application are refused.
func WithTag(tag string) Option { return func(v *Verifier) { v.tag = tag } }

// WithReplayGuard makes the Verifier refuse a signature it has accepted
// before within its window. Without one, replays are not detected.
func WithReplayGuard(g ReplayGuard) Option { return func(v *Verifier) { v.replay = g } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// Verifier checks HTTP Message Signatures (RFC 9421) made with
// hmac-sha256. Build one at init with [NewVerifier]; it is immutable and
// safe for concurrent use.
type Verifier struct {
	keys     KeySource
	window   time.Duration
	skew     time.Duration
	required []string
	label    string
	tag      string
	replay   ReplayGuard
	now      func() time.Time
}

// NewVerifier returns a Verifier that takes keys from keys. It fails when
// keys is nil or a required component is not one this package can build.
func NewVerifier(keys KeySource, opts ...Option) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("httpsig: nil KeySource")
	}
	v := &Verifier{keys: keys, window: DefaultWindow, skew: DefaultClockSkew,
		required: slices.Clone(DefaultComponents), now: time.Now}
	for _, o := range opts {
		o(v)
	}
	if len(v.required) == 0 {
		return nil, errors.New("httpsig: no required components")
	}
	for _, c := range v.required {
		if err := checkComponentName(c); err != nil {
			return nil, fmt.Errorf("httpsig: required %w", err)
		}
	}
	if v.label != "" && !isKey(v.label) {
		return nil, fmt.Errorf("httpsig: label %q is not a structured-field key", v.label)
	}
	return v, nil
}

func isKey(s string) bool {
	p := &sfParser{s: s}
	k, err := p.key()
	return err == nil && k == s
}

// checkComponentName accepts the derived components this package builds
// and lower-case header field names.
func checkComponentName(c string) error {
	switch c {
	case ComponentMethod, ComponentAuthority, ComponentScheme, ComponentTargetURI,
		ComponentRequestTarget, ComponentPath, ComponentQuery:
		return nil
	}
	if c == "" || strings.HasPrefix(c, "@") {
		return fmt.Errorf("component %q is not supported", c)
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return fmt.Errorf("component %q is not a lower-case field name", c)
		}
	}
	return nil
}

// Result describes a verified signature.
type Result struct {
	Label      string
	KeyID      string
	Key        Key // the key that matched
	Created    time.Time
	Nonce      string
	Components []string // the covered components, in order
}

// signature is one parsed Signature-Input member with its Signature value.
type signature struct {
	label      string
	components []string
	params     string // the serialized member: the @signature-params value
	created    int64
	expires    int64
	hasExpires bool
	keyID      string
	alg        string
	nonce      string
	tag        string
	sig        []byte
}

// Verify checks the request's signature: the Signature-Input and Signature
// fields (strictly parsed), the covered components against the required
// ones, created and expires against the clock, the HMAC against the keys
// the keyid names (refreshing them once when the keyid is unknown or no key
// matches), and finally the replay guard. Every error is an *[Error]; its
// Reason says whether to answer 401 or 500 ([Reason.ServerFault]).
func (v *Verifier) Verify(ctx context.Context, r *Request) (Result, error) {
	input, okInput := r.Header["signature-input"]
	field, okSig := r.Header["signature"]
	if !okInput || !okSig || strings.TrimSpace(input) == "" || strings.TrimSpace(field) == "" {
		return Result{}, fail(ReasonMissing, nil)
	}
	sig, err := v.parse(input, field)
	if err != nil {
		return Result{}, err
	}
	if err := v.checkCoverage(r, sig); err != nil {
		return Result{}, err
	}
	now := v.now()
	created := time.Unix(sig.created, 0)
	switch {
	case created.After(now.Add(v.skew)):
		return Result{}, fail(ReasonFuture, fmt.Errorf("created is %s ahead of the clock", created.Sub(now).Round(time.Second)))
	case now.Sub(created) > v.window:
		return Result{}, fail(ReasonExpired, fmt.Errorf("created %s ago, window %s", now.Sub(created).Round(time.Second), v.window))
	case sig.hasExpires && now.After(time.Unix(sig.expires, 0).Add(v.skew)):
		return Result{}, fail(ReasonExpired, errors.New("expires has passed"))
	}
	if len(sig.sig) != sha256.Size {
		return Result{}, fail(ReasonBadSignature, fmt.Errorf("signature is %d bytes, want %d", len(sig.sig), sha256.Size))
	}
	base, err := buildBase(r, sig)
	if err != nil {
		return Result{}, err
	}
	if slices.Contains(sig.components, "content-digest") {
		if err := checkContentDigest(r.Header["content-digest"]); err != nil {
			return Result{}, fail(ReasonMalformed, fmt.Errorf("content-digest: %w", err))
		}
	}
	key, err := v.match(ctx, sig, []byte(base))
	if err != nil {
		return Result{}, err
	}
	if v.replay != nil {
		until := created.Add(v.window + time.Second)
		if sig.hasExpires {
			if e := time.Unix(sig.expires, 0).Add(v.skew + time.Second); e.Before(until) {
				until = e
			}
		}
		seen, err := v.replay.Seen(ctx, replayKey(sig), until)
		if err != nil {
			return Result{}, fail(ReasonReplayUnavailable, err)
		}
		if seen {
			return Result{}, fail(ReasonReplay, nil)
		}
	}
	return Result{Label: sig.label, KeyID: sig.keyID, Key: key, Created: created, Nonce: sig.nonce,
		Components: sig.components}, nil
}

// match finds the key that made the signature, refreshing the keys once.
func (v *Verifier) match(ctx context.Context, sig *signature, base []byte) (Key, error) {
	keys, err := v.keys.Keys(ctx, sig.keyID)
	unknown := errors.Is(err, ErrUnknownKey)
	if err != nil && !unknown {
		return Key{}, fail(ReasonKeysUnavailable, err)
	}
	if k, ok := macMatch(keys, base, sig.sig); ok {
		return k, nil
	}
	// An unknown keyid or a mismatch may mean the secret has just been
	// rotated: re-read it once (the source applies its cool-down).
	changed, _ := v.keys.Refresh(ctx)
	if changed {
		keys, err = v.keys.Keys(ctx, sig.keyID)
		unknown = errors.Is(err, ErrUnknownKey)
		if err != nil && !unknown {
			return Key{}, fail(ReasonKeysUnavailable, err)
		}
		if k, ok := macMatch(keys, base, sig.sig); ok {
			return k, nil
		}
	}
	if unknown {
		return Key{}, fail(ReasonUnknownKey, fmt.Errorf("keyid %q", sig.keyID))
	}
	return Key{}, fail(ReasonBadSignature, fmt.Errorf("no key of keyid %q matches", sig.keyID))
}

func macMatch(keys []Key, base, sig []byte) (Key, bool) {
	for _, k := range keys {
		if len(k.Secret) < MinKeyLength {
			continue
		}
		m := hmac.New(sha256.New, k.Secret)
		m.Write(base)
		if hmac.Equal(m.Sum(nil), sig) {
			return k, true
		}
	}
	return Key{}, false
}

// replayKey identifies a signature: its keyid and decoded bytes, so two
// encodings of one signature are one entry.
func replayKey(sig *signature) string {
	h := sha256.New()
	h.Write([]byte(sig.keyID))
	h.Write([]byte{0})
	h.Write(sig.sig)
	return hex.EncodeToString(h.Sum(nil))
}

// parse reads the Signature-Input and Signature fields and selects the
// signature to verify.
func (v *Verifier) parse(input, field string) (*signature, error) {
	inputs, err := parseDictionary(input)
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature-input: %w", err))
	}
	sigs, err := parseDictionary(field)
	if err != nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature: %w", err))
	}
	var in *member
	switch {
	case v.label != "":
		for i := range inputs {
			if inputs[i].key == v.label {
				in = &inputs[i]
			}
		}
		if in == nil {
			return nil, fail(ReasonMalformed, fmt.Errorf("no signature labelled %q", v.label))
		}
	case len(inputs) != 1:
		return nil, fail(ReasonMalformed, fmt.Errorf("%d signatures in signature-input, want 1", len(inputs)))
	default:
		in = &inputs[0]
	}
	var sv *member
	for i := range sigs {
		if sigs[i].key == in.key {
			sv = &sigs[i]
		}
	}
	if sv == nil {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature has no member %q", in.key))
	}
	if sv.inner || sv.item.bare.kind != kindBytes || len(sv.item.params) > 0 {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature %q is not a byte sequence", in.key))
	}
	s := &signature{label: in.key, sig: sv.item.bare.data}
	if !in.inner {
		return nil, fail(ReasonMalformed, fmt.Errorf("signature-input %q is not an inner list", in.key))
	}
	if len(in.list) > maxComponents {
		return nil, fail(ReasonMalformed, fmt.Errorf("%d covered components, more than %d", len(in.list), maxComponents))
	}
	for _, it := range in.list {
		if it.bare.kind != kindString {
			return nil, fail(ReasonMalformed, errors.New("a component identifier is not a string"))
		}
		if len(it.params) > 0 {
			return nil, fail(ReasonMalformed, fmt.Errorf("component %q has parameters, which are not supported", it.bare.text))
		}
		if err := checkComponentName(it.bare.text); err != nil {
			return nil, fail(ReasonMalformed, err)
		}
		if slices.Contains(s.components, it.bare.text) {
			return nil, fail(ReasonMalformed, fmt.Errorf("component %q is covered twice", it.bare.text))
		}
		s.components = append(s.components, it.bare.text)
	}
	var hasCreated bool
	for _, p := range in.params {
		switch p.key {
		case "created", "expires":
			if p.val.kind != kindInteger || p.val.num < 0 {
				return nil, fail(ReasonMalformed, fmt.Errorf("%s is not a non-negative integer", p.key))
			}
			if p.key == "created" {
				s.created, hasCreated = p.val.num, true
			} else {
				s.expires, s.hasExpires = p.val.num, true
			}
		case "keyid", "alg", "nonce", "tag":
			if p.val.kind != kindString {
				return nil, fail(ReasonMalformed, fmt.Errorf("%s is not a string", p.key))
			}
			switch p.key {
			case "keyid":
				s.keyID = p.val.text
			case "alg":
				s.alg = p.val.text
			case "nonce":
				s.nonce = p.val.text
			case "tag":
				s.tag = p.val.text
			}
		default:
			return nil, fail(ReasonMalformed, fmt.Errorf("unknown signature parameter %q", p.key))
		}
	}
	switch {
	case !hasCreated:
		return nil, fail(ReasonMalformed, errors.New("no created parameter"))
	case s.keyID == "":
		return nil, fail(ReasonMalformed, errors.New("no keyid parameter"))
	case s.alg != "" && s.alg != Algorithm:
		return nil, fail(ReasonMalformed, fmt.Errorf("alg %q, want %s", s.alg, Algorithm))
	case v.tag != "" && s.tag != v.tag:
		return nil, fail(ReasonMalformed, fmt.Errorf("tag %q, want %q", s.tag, v.tag))
	}
	var b strings.Builder
	writeInnerList(&b, in.list, in.params)
	s.params = b.String()
	return s, nil
}

// checkCoverage refuses a signature that leaves a required component, or
// the request's query, uncovered.
func (v *Verifier) checkCoverage(r *Request, sig *signature) error {
	covered := func(c string) bool {
		switch c {
		case ComponentPath:
			return slices.Contains(sig.components, ComponentPath) || slices.Contains(sig.components, ComponentTargetURI) ||
				slices.Contains(sig.components, ComponentRequestTarget)
		case ComponentAuthority, ComponentScheme:
			return slices.Contains(sig.components, c) || slices.Contains(sig.components, ComponentTargetURI)
		case ComponentQuery:
			return slices.Contains(sig.components, ComponentQuery) || slices.Contains(sig.components, ComponentTargetURI) ||
				slices.Contains(sig.components, ComponentRequestTarget)
		}
		return slices.Contains(sig.components, c)
	}
	for _, c := range v.required {
		if !covered(c) {
			return fail(ReasonComponents, fmt.Errorf("required component %q is not covered", c))
		}
	}
	if r.Query != "" && !covered(ComponentQuery) {
		return fail(ReasonComponents, errors.New("the request has a query the signature does not cover"))
	}
	return nil
}
