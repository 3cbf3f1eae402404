package observe

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// Redacted is what is printed in place of a secret.
const Redacted = "REDACTED"

// Secret is a value that must never reach a log: a token, a signature, key
// material, a client secret. Logging it prints REDACTED; so does fmt.
// Convert it back with string(s) only where the value is used.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// String keeps fmt from printing the value too.
func (Secret) String() string { return Redacted }

// GoString keeps %#v from printing the value.
func (Secret) GoString() string { return Redacted }

// MarshalText keeps encoding/json (and anything else that honours
// encoding.TextMarshaler) from printing the value.
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// sensitiveKeys are attribute keys (and header names) whose values are
// credentials, lower-cased with '-' and '_' removed.
var sensitiveKeys = map[string]bool{
	"authorization": true, "proxyauthorization": true, "cookie": true, "setcookie": true,
	"token": true, "accesstoken": true, "idtoken": true, "refreshtoken": true, "sessiontoken": true,
	"bearer": true, "jwt": true, "rawtoken": true, "rotationtoken": true,
	"password": true, "passwd": true, "passphrase": true,
	"secret": true, "clientsecret": true, "secretstring": true, "secretbinary": true, "secretvalue": true,
	"signature": true, "xapikey": true, "apikey": true, "privatekey": true, "keymaterial": true,
	"xamzsecuritytoken": true, "awssecretaccesskey": true,
}

// Sensitive reports whether an attribute key or header name is one whose
// value [NewLogger]'s loggers redact.
func Sensitive(key string) bool {
	if len(key) > 32 {
		return false
	}
	var buf [32]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return sensitiveKeys[string(buf[:n])]
}

// redactHandler applies the redaction rules before the next handler
// formats anything.
type redactHandler struct{ next slog.Handler }

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	dirty := hasJWT(r.Message)
	if !dirty {
		r.Attrs(func(a slog.Attr) bool {
			_, changed := redactAttr(a)
			dirty = changed
			return !changed
		})
	}
	if !dirty {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, scrubJWT(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		a, _ = redactAttr(a)
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i], _ = redactAttr(a)
	}
	return redactHandler{h.next.WithAttrs(clean)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

// redactAttr returns a with its secrets replaced, and whether it changed.
func redactAttr(a slog.Attr) (slog.Attr, bool) {
	if Sensitive(a.Key) {
		if a.Value.Kind() == slog.KindString && a.Value.String() == Redacted {
			return a, false
		}
		return slog.String(a.Key, Redacted), true
	}
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); hasJWT(s) {
			return slog.String(a.Key, scrubJWT(s)), true
		}
	case slog.KindGroup:
		members := v.Group()
		var out []slog.Attr
		for i, m := range members {
			if rm, changed := redactAttr(m); changed {
				if out == nil {
					out = append(make([]slog.Attr, 0, len(members)), members[:i]...)
				}
				out = append(out, rm)
			} else if out != nil {
				out = append(out, m)
			}
		}
		if out != nil {
			return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}, true
		}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); hasJWT(s) {
				return slog.String(a.Key, scrubJWT(s)), true
			}
		case map[string]string:
			if m, changed := redactMap(x); changed {
				return slog.Any(a.Key, m), true
			}
		case http.Header:
			if m, changed := redactMultiMap(x); changed {
				return slog.Any(a.Key, m), true
			}
		case map[string][]string:
			if m, changed := redactMultiMap(x); changed {
				return slog.Any(a.Key, m), true
			}
		}
	}
	return a, false
}

func redactMap(m map[string]string) (map[string]string, bool) {
	var out map[string]string
	for k, v := range m {
		if Sensitive(k) || hasJWT(v) {
			if out == nil {
				out = make(map[string]string, len(m))
				for k2, v2 := range m {
					out[k2] = v2
				}
			}
			out[k] = Redacted
		}
	}
	return out, out != nil
}

func redactMultiMap(m map[string][]string) (map[string][]string, bool) {
	var out map[string][]string
	for k, vs := range m {
		bad := Sensitive(k)
		for _, v := range vs {
			bad = bad || hasJWT(v)
		}
		if bad {
			if out == nil {
				out = make(map[string][]string, len(m))
				for k2, v2 := range m {
					out[k2] = v2
				}
			}
			out[k] = []string{Redacted}
		}
	}
	return out, out != nil
}

// A JWT (JWS compact serialisation) is three base64url parts joined by
// dots, and its header, a JSON object, always encodes to "eyJ...".
const jwtPrefix = "eyJ"

// minJWTHeader is the shortest header part taken for a JWT: {"alg":"x"}
// encodes to 15 characters.
const minJWTHeader = 15

func isB64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// jwtAt returns the end of the JWT that starts at s[i:], or -1.
func jwtAt(s string, i int) int {
	j := i
	for j < len(s) && isB64URL(s[j]) {
		j++
	}
	if j-i < minJWTHeader || j == len(s) || s[j] != '.' {
		return -1
	}
	j++
	for j < len(s) && isB64URL(s[j]) {
		j++
	}
	if j == len(s) || s[j] != '.' {
		return -1
	}
	j++
	for j < len(s) && isB64URL(s[j]) {
		j++
	}
	return j
}

// hasJWT reports whether s contains something shaped like a JWT.
func hasJWT(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], jwtPrefix)
		if i < 0 {
			return false
		}
		if jwtAt(s, off+i) >= 0 {
			return true
		}
		off += i + len(jwtPrefix)
	}
}

// scrubJWT replaces every JWT-shaped run in s by REDACTED.
func scrubJWT(s string) string {
	var b strings.Builder
	last := 0
	for off := 0; ; {
		i := strings.Index(s[off:], jwtPrefix)
		if i < 0 {
			break
		}
		start := off + i
		if end := jwtAt(s, start); end >= 0 {
			b.WriteString(s[last:start])
			b.WriteString(Redacted)
			last, off = end, end
			continue
		}
		off = start + len(jwtPrefix)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
