package httpsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Params are the signature parameters [Sign] writes, in RFC 9421's
// order: created, expires (when set), keyid, alg (when Alg), nonce and tag
// (when set).
type Params struct {
	Created time.Time
	Expires time.Time // zero: no expires parameter
	KeyID   string
	Alg     bool // write alg="hmac-sha256"
	Nonce   string
	Tag     string
}

// Fields are the two header field values of one signature.
type Fields struct {
	SignatureInput string
	Signature      string
}

// Sign signs r with key (hmac-sha256) over components, for clients and
// tests. r.Header must hold every covered header field. The result goes
// into the Signature-Input and Signature header fields.
func Sign(r *Request, label string, components []string, p Params, key []byte) (Fields, error) {
	if !isKey(label) {
		return Fields{}, fmt.Errorf("httpsig: label %q is not a structured-field key", label)
	}
	if len(key) < MinKeyLength {
		return Fields{}, fmt.Errorf("httpsig: key is %d bytes, want at least %d", len(key), MinKeyLength)
	}
	if p.KeyID == "" || p.Created.IsZero() {
		return Fields{}, errors.New("httpsig: keyid and created are required")
	}
	list := make([]item, 0, len(components))
	for _, c := range components {
		if err := checkComponentName(c); err != nil {
			return Fields{}, fmt.Errorf("httpsig: %w", err)
		}
		list = append(list, item{bare: bareItem{kind: kindString, text: c}})
	}
	ps := []param{{key: "created", val: bareItem{kind: kindInteger, num: p.Created.Unix()}}}
	if !p.Expires.IsZero() {
		ps = append(ps, param{key: "expires", val: bareItem{kind: kindInteger, num: p.Expires.Unix()}})
	}
	ps = append(ps, param{key: "keyid", val: bareItem{kind: kindString, text: p.KeyID}})
	if p.Alg {
		ps = append(ps, param{key: "alg", val: bareItem{kind: kindString, text: Algorithm}})
	}
	if p.Nonce != "" {
		ps = append(ps, param{key: "nonce", val: bareItem{kind: kindString, text: p.Nonce}})
	}
	if p.Tag != "" {
		ps = append(ps, param{key: "tag", val: bareItem{kind: kindString, text: p.Tag}})
	}
	for _, x := range ps {
		if x.val.kind == kindString && strings.ContainsFunc(x.val.text, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return Fields{}, fmt.Errorf("httpsig: %s holds a character a structured-field string cannot", x.key)
		}
	}
	var b strings.Builder
	writeInnerList(&b, list, ps)
	sig := &signature{components: slices.Clone(components), params: b.String()}
	base, err := buildBase(r, sig)
	if err != nil {
		return Fields{}, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(base))
	return Fields{
		SignatureInput: label + "=" + sig.params,
		Signature:      label + "=:" + base64.StdEncoding.EncodeToString(m.Sum(nil)) + ":",
	}, nil
}
