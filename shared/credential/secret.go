package credential

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrInvalidSecret is wrapped by every error [Parse] returns.
var ErrInvalidSecret = errors.New("invalid credentials secret")

// Limits of a credentials secret.
const (
	MaxSecretSize  = 64 << 10 // Secrets Manager's own limit on a SecretString
	MaxEntries     = 1000     // keys plus clients
	MinKeyLength   = 32       // bytes of an HMAC key
	MinSaltLength  = 16       // bytes of a salt
	HashLength     = 32       // bytes of a client secret hash
	maxIDLength    = 128
	maxUsageKeyLen = 256
	maxKeyBytes    = 1024
	maxSaltBytes   = 256
)

// Document is one parsed version of the credentials secret.
type Document struct {
	HMAC    map[string]HMACEntry   `json:"hmac,omitempty"`
	Clients map[string]ClientEntry `json:"clients,omitempty"`
}

// HMACEntry is one signing key. In JSON it is the key in standard base64,
// or an object {"key": …, "usage_key": …}.
type HMACEntry struct {
	Key      []byte
	UsageKey string // the API key value for usage plans, if any
}

// MarshalJSON writes the short form when there is no usage key.
func (e HMACEntry) MarshalJSON() ([]byte, error) {
	if e.UsageKey == "" {
		return json.Marshal(base64.StdEncoding.EncodeToString(e.Key))
	}
	return json.Marshal(struct {
		Key      string `json:"key"`
		UsageKey string `json:"usage_key"`
	}{base64.StdEncoding.EncodeToString(e.Key), e.UsageKey})
}

// UnmarshalJSON reads either form, strictly.
func (e *HMACEntry) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	var enc string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &enc); err != nil {
			return err
		}
	} else {
		var obj struct {
			Key      *string `json:"key"`
			UsageKey string  `json:"usage_key"`
		}
		if err := strictDecode(data, &obj); err != nil {
			return err
		}
		if obj.Key == nil {
			return errors.New(`missing "key"`)
		}
		enc, e.UsageKey = *obj.Key, obj.UsageKey
	}
	k, err := decodeB64(enc, maxKeyBytes)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	e.Key = k
	return nil
}

// ClientEntry is one API client: the salted hash of its secret.
type ClientEntry struct {
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Hash       []byte `json:"hash"`
	UsageKey   string `json:"usage_key,omitempty"`
}

// UnmarshalJSON reads an entry strictly (base64 fields must be canonical).
func (e *ClientEntry) UnmarshalJSON(data []byte) error {
	var obj struct {
		KDF        *string         `json:"kdf"`
		Iterations json.RawMessage `json:"iterations"`
		Salt       *string         `json:"salt"`
		Hash       *string         `json:"hash"`
		UsageKey   string          `json:"usage_key"`
	}
	if err := strictDecode(data, &obj); err != nil {
		return err
	}
	if obj.KDF == nil || obj.Iterations == nil || obj.Salt == nil || obj.Hash == nil {
		return errors.New(`want "kdf", "iterations", "salt" and "hash"`)
	}
	n, err := strconv.ParseInt(string(obj.Iterations), 10, 32)
	if err != nil || n < 0 {
		return errors.New("iterations: want a non-negative integer")
	}
	salt, err := decodeB64(*obj.Salt, maxSaltBytes)
	if err != nil {
		return fmt.Errorf("salt: %w", err)
	}
	hash, err := decodeB64(*obj.Hash, HashLength)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	*e = ClientEntry{KDF: *obj.KDF, Iterations: int(n), Salt: salt, Hash: hash, UsageKey: obj.UsageKey}
	return nil
}

var strictB64 = base64.StdEncoding.Strict()

func decodeB64(s string, max int) ([]byte, error) {
	if len(s) > base64.StdEncoding.EncodedLen(max) {
		return nil, fmt.Errorf("longer than %d bytes", max)
	}
	b, err := strictB64.DecodeString(s)
	if err != nil {
		return nil, errors.New("not canonical standard base64")
	}
	return b, nil
}

// Parse reads and validates one version of the credentials secret (see the
// package documentation for the format). Errors wrap [ErrInvalidSecret]
// and name the entry, never a value.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxSecretSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidSecret, len(data), MaxSecretSize)
	}
	if err := checkDuplicates(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSecret, err)
	}
	var doc Document
	if err := strictDecode(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSecret, err)
	}
	if len(doc.HMAC)+len(doc.Clients) > MaxEntries {
		return nil, fmt.Errorf("%w: more than %d entries", ErrInvalidSecret, MaxEntries)
	}
	for id, k := range doc.HMAC {
		if !validKeyID(id) {
			return nil, fmt.Errorf("%w: hmac key id %q: want 1 to %d of A-Z a-z 0-9 . _ ~ : @ / + = -", ErrInvalidSecret, id, maxIDLength)
		}
		if len(k.Key) < MinKeyLength {
			return nil, fmt.Errorf("%w: hmac[%q]: key is %d bytes, want at least %d", ErrInvalidSecret, id, len(k.Key), MinKeyLength)
		}
		if !validUsageKey(k.UsageKey) {
			return nil, fmt.Errorf("%w: hmac[%q].usage_key: want at most %d printable ASCII characters", ErrInvalidSecret, id, maxUsageKeyLen)
		}
	}
	for id, c := range doc.Clients {
		if !validClientID(id) {
			return nil, fmt.Errorf("%w: client id %q: want 1 to %d of A-Z a-z 0-9 . _ ~ -", ErrInvalidSecret, id, maxIDLength)
		}
		switch {
		case c.KDF != KDF:
			return nil, fmt.Errorf("%w: clients[%q].kdf %q: want %s", ErrInvalidSecret, id, c.KDF, KDF)
		case c.Iterations < MinIterations || c.Iterations > MaxIterations:
			return nil, fmt.Errorf("%w: clients[%q].iterations %d: want %d to %d", ErrInvalidSecret, id, c.Iterations, MinIterations, MaxIterations)
		case len(c.Salt) < MinSaltLength:
			return nil, fmt.Errorf("%w: clients[%q].salt is %d bytes, want at least %d", ErrInvalidSecret, id, len(c.Salt), MinSaltLength)
		case len(c.Hash) != HashLength:
			return nil, fmt.Errorf("%w: clients[%q].hash is %d bytes, want %d", ErrInvalidSecret, id, len(c.Hash), HashLength)
		case !validUsageKey(c.UsageKey):
			return nil, fmt.Errorf("%w: clients[%q].usage_key: want at most %d printable ASCII characters", ErrInvalidSecret, id, maxUsageKeyLen)
		}
	}
	return &doc, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// checkDuplicates refuses repeated member names in any object: encoding/json
// keeps the last one silently, so two readers of one secret could disagree.
func checkDuplicates(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// keys[i] is the member names seen in the i-th open container, nil for
	// an array; wantKey says the innermost object expects a name next.
	var keys []map[string]bool
	wantKey := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(keys) >= 16 {
					return errors.New("nested too deeply")
				}
				var m map[string]bool
				if d == '{' {
					m = map[string]bool{}
				}
				keys = append(keys, m)
				wantKey = d == '{'
				continue
			default: // '}' or ']': the container is a value of its parent
				keys = keys[:len(keys)-1]
			}
		} else if wantKey {
			k := tok.(string)
			top := keys[len(keys)-1]
			if top[k] {
				return fmt.Errorf("member %q repeated", k)
			}
			top[k] = true
			wantKey = false
			continue
		}
		// A value ended: an enclosing object expects a name next.
		wantKey = len(keys) > 0 && keys[len(keys)-1] != nil
	}
}

func validKeyID(s string) bool    { return validID(s, "._~:@/+=-") }
func validClientID(s string) bool { return validID(s, "._~-") }

func validID(s, extra string) bool {
	if s == "" || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

func validUsageKey(s string) bool {
	if len(s) > maxUsageKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
