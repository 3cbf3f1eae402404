package httpsig_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/httpsig"
)

var (
	now      = time.Unix(1_800_000_000, 0)
	keyA     = bytes.Repeat([]byte{0xA1}, 32)
	keyOld   = bytes.Repeat([]byte{0x0D}, 32)
	keyNew   = bytes.Repeat([]byte{0x4E}, 32)
	stranger = bytes.Repeat([]byte{0x55}, 32)
)

// fakeKeys is a KeySource over a map; Refresh swaps in next (once) and
// counts calls.
type fakeKeys struct {
	mu        sync.Mutex
	keys      map[string][]httpsig.Key
	next      map[string][]httpsig.Key
	err       error
	refreshes int
}

func (f *fakeKeys) Keys(_ context.Context, id string) ([]httpsig.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if ks, ok := f.keys[id]; ok {
		return ks, nil
	}
	return nil, httpsig.ErrUnknownKey
}

func (f *fakeKeys) Refresh(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	if f.next == nil {
		return false, nil
	}
	f.keys, f.next = f.next, nil
	return true, nil
}

// memGuard is a ReplayGuard over a map.
type memGuard struct {
	seen map[string]time.Time
	err  error
}

func (g *memGuard) Seen(_ context.Context, key string, until time.Time) (bool, error) {
	if g.err != nil {
		return false, g.err
	}
	if _, ok := g.seen[key]; ok {
		return true, nil
	}
	g.seen[key] = until
	return false, nil
}

func digest(body string) string {
	s := sha256.Sum256([]byte(body))
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func request() *httpsig.Request {
	return &httpsig.Request{
		Method: "POST", Authority: "API.example.com:443", Path: "/dev/webhooks/orders",
		Header: map[string]string{
			"content-digest": digest(`{"order":42}`),
			"content-type":   "application/json",
		},
	}
}

var components = []string{"@method", "@authority", "@path", "content-digest", "content-type"}

func sign(t testing.TB, r *httpsig.Request, comps []string, p httpsig.Params, key []byte) *httpsig.Request {
	t.Helper()
	if p.KeyID == "" {
		p.KeyID = "partner-a"
	}
	if p.Created.IsZero() {
		p.Created = now
	}
	f, err := httpsig.Sign(r, "sig1", comps, p, key)
	if err != nil {
		t.Fatal(err)
	}
	out := *r
	out.Header = map[string]string{}
	for k, v := range r.Header {
		out.Header[k] = v
	}
	out.Header["signature-input"] = f.SignatureInput
	out.Header["signature"] = f.Signature
	return &out
}

func newVerifier(t *testing.T, keys httpsig.KeySource, opts ...httpsig.Option) *httpsig.Verifier {
	t.Helper()
	v, err := httpsig.NewVerifier(keys, append([]httpsig.Option{httpsig.WithClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func keys() *fakeKeys {
	return &fakeKeys{keys: map[string][]httpsig.Key{
		"partner-a": {{Secret: keyA, Meta: "AWSCURRENT"}},
		"partner-b": {{Secret: keyNew, Meta: "AWSCURRENT"}, {Secret: keyOld, Meta: "AWSPREVIOUS"}},
	}}
}

func TestVerify(t *testing.T) {
	withQuery := request()
	withQuery.Query = "expand=items&x=%20y"
	cases := []struct {
		name   string
		req    func(t *testing.T) *httpsig.Request
		reason httpsig.Reason // "" = verifies
		meta   string
	}{
		{name: "valid", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Alg: true, Nonce: "n-1", Tag: ""}, keyA)
		}},
		{name: "rotated secret: new key (AWSCURRENT)", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{KeyID: "partner-b"}, keyNew)
		}},
		{name: "rotated secret: old key (AWSPREVIOUS)", meta: "AWSPREVIOUS", req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{KeyID: "partner-b"}, keyOld)
		}},
		{name: "@target-uri covers path, authority and query", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, withQuery, []string{"@method", "@target-uri", "content-digest"}, httpsig.Params{}, keyA)
		}},
		{name: "query covered by @query", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, withQuery, append([]string{"@query"}, components...), httpsig.Params{}, keyA)
		}},
		{name: "created within the skew ahead", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Created: now.Add(29 * time.Second)}, keyA)
		}},
		{name: "created exactly the window old", meta: "AWSCURRENT", req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Created: now.Add(-300 * time.Second)}, keyA)
		}},
		{name: "tampered path", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Path = "/dev/webhooks/refunds"
			return r
		}},
		{name: "tampered method", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Method = "PUT"
			return r
		}},
		{name: "tampered host", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Authority = "evil.example.com"
			return r
		}},
		{name: "tampered content-digest", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Header["content-digest"] = digest(`{"order":43}`)
			return r
		}},
		{name: "tampered query", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, withQuery, []string{"@method", "@target-uri", "content-digest"}, httpsig.Params{}, keyA)
			r.Query = "expand=all"
			return r
		}},
		{name: "tampered created", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Header["signature-input"] = strings.Replace(r.Header["signature-input"], strconv.FormatInt(now.Unix(), 10), strconv.FormatInt(now.Unix()-1, 10), 1)
			return r
		}},
		{name: "signed with a stranger's key", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{}, stranger)
		}},
		{name: "truncated signature", reason: httpsig.ReasonBadSignature, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Header["signature"] = "sig1=:" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + ":"
			return r
		}},
		{name: "unknown key id", reason: httpsig.ReasonUnknownKey, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{KeyID: "partner-z"}, keyA)
		}},
		{name: "content-digest not covered", reason: httpsig.ReasonComponents, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), []string{"@method", "@authority", "@path"}, httpsig.Params{}, keyA)
		}},
		{name: "path not covered", reason: httpsig.ReasonComponents, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), []string{"@method", "@authority", "content-digest"}, httpsig.Params{}, keyA)
		}},
		{name: "method not covered", reason: httpsig.ReasonComponents, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), []string{"@target-uri", "content-digest"}, httpsig.Params{}, keyA)
		}},
		{name: "query not covered", reason: httpsig.ReasonComponents, req: func(t *testing.T) *httpsig.Request {
			return sign(t, withQuery, components, httpsig.Params{}, keyA)
		}},
		{name: "covered header absent", reason: httpsig.ReasonComponents, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			delete(r.Header, "content-type")
			return r
		}},
		{name: "stale created", reason: httpsig.ReasonExpired, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Created: now.Add(-301 * time.Second)}, keyA)
		}},
		{name: "expires passed", reason: httpsig.ReasonExpired, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Created: now.Add(-60 * time.Second), Expires: now.Add(-31 * time.Second)}, keyA)
		}},
		{name: "future created beyond the skew", reason: httpsig.ReasonFuture, req: func(t *testing.T) *httpsig.Request {
			return sign(t, request(), components, httpsig.Params{Created: now.Add(31 * time.Second)}, keyA)
		}},
		{name: "no signature fields", reason: httpsig.ReasonMissing, req: func(*testing.T) *httpsig.Request { return request() }},
		{name: "content-digest without sha-256 or sha-512", reason: httpsig.ReasonMalformed, req: func(t *testing.T) *httpsig.Request {
			r := request()
			r.Header["content-digest"] = "md5=:" + base64.StdEncoding.EncodeToString(make([]byte, 16)) + ":"
			return sign(t, r, components, httpsig.Params{}, keyA)
		}},
		{name: "content-digest sha-256 of the wrong length", reason: httpsig.ReasonMalformed, req: func(t *testing.T) *httpsig.Request {
			r := request()
			r.Header["content-digest"] = "sha-256=:" + base64.StdEncoding.EncodeToString(make([]byte, 20)) + ":"
			return sign(t, r, components, httpsig.Params{}, keyA)
		}},
		{name: "content-digest repeated key", reason: httpsig.ReasonMalformed, req: func(t *testing.T) *httpsig.Request {
			r := request()
			r.Header["content-digest"] = digest("a") + ", " + digest("b")
			return sign(t, r, components, httpsig.Params{}, keyA)
		}},
		{name: "header value with a line break", reason: httpsig.ReasonMalformed, req: func(t *testing.T) *httpsig.Request {
			r := sign(t, request(), components, httpsig.Params{}, keyA)
			r.Header["content-type"] = "application/json\n\"@method\": GET"
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, keys())
			res, err := v.Verify(context.Background(), tc.req(t))
			if got := httpsig.ReasonOf(err); got != tc.reason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tc.reason)
			}
			if tc.reason == "" && (res.Key.Meta != tc.meta || res.Label != "sig1" || !res.Created.Equal(res.Created.Truncate(time.Second))) {
				t.Fatalf("result = %+v, want key %s", res, tc.meta)
			}
		})
	}
}

// raw returns a request whose signature fields are given verbatim (the
// signature is otherwise valid, so only the parsing can refuse it).
func raw(t *testing.T, edit func(in, sig string) (string, string)) *httpsig.Request {
	t.Helper()
	r := sign(t, request(), components, httpsig.Params{}, keyA)
	r.Header["signature-input"], r.Header["signature"] = edit(r.Header["signature-input"], r.Header["signature"])
	return r
}

func TestVerifyMalformed(t *testing.T) {
	created := strconv.FormatInt(now.Unix(), 10)
	comps := `("@method" "@authority" "@path" "content-digest" "content-type")`
	cases := map[string]struct{ input, sig string }{
		"two signatures, no label":  {`sig1=` + comps + `;created=` + created + `;keyid="partner-a", sig2=("@method");created=1;keyid="x"`, ""},
		"repeated label":            {`sig1=` + comps + `;created=` + created + `;keyid="partner-a", sig1=("@method");created=1;keyid="x"`, ""},
		"unknown parameter":         {`sig1=` + comps + `;created=` + created + `;keyid="partner-a";foo=1`, ""},
		"repeated parameter":        {`sig1=` + comps + `;created=` + created + `;keyid="partner-a";keyid="partner-b"`, ""},
		"alg not hmac-sha256":       {`sig1=` + comps + `;created=` + created + `;keyid="partner-a";alg="rsa-pss-sha512"`, ""},
		"created missing":           {`sig1=` + comps + `;keyid="partner-a"`, ""},
		"created not an integer":    {`sig1=` + comps + `;created="` + created + `";keyid="partner-a"`, ""},
		"created negative":          {`sig1=` + comps + `;created=-1;keyid="partner-a"`, ""},
		"keyid missing":             {`sig1=` + comps + `;created=` + created, ""},
		"keyid a token":             {`sig1=` + comps + `;created=` + created + `;keyid=partner-a`, ""},
		"component with parameters": {`sig1=("@method" "@authority" "@path" "content-digest";sf "content-type");created=` + created + `;keyid="partner-a"`, ""},
		"component repeated":        {`sig1=("@method" "@method" "@authority" "@path" "content-digest");created=` + created + `;keyid="partner-a"`, ""},
		"component not a string":    {`sig1=(method "@authority");created=` + created + `;keyid="partner-a"`, ""},
		"upper-case header name":    {`sig1=("@method" "@authority" "@path" "Content-Digest");created=` + created + `;keyid="partner-a"`, ""},
		"@query-param":              {`sig1=("@method" "@authority" "@path" "content-digest" "@query-param");created=` + created + `;keyid="partner-a"`, ""},
		"@status":                   {`sig1=("@status" "@method" "@authority" "@path" "content-digest");created=` + created + `;keyid="partner-a"`, ""},
		"not an inner list":         {`sig1="@method";created=` + created + `;keyid="partner-a"`, ""},
		"unterminated inner list":   {`sig1=("@method" "@path"`, ""},
		"trailing comma":            {`sig1=` + comps + `;created=` + created + `;keyid="partner-a",`, ""},
		"signature not bytes":       {"", `sig1="abc"`},
		"signature label differs":   {"", `sig2=:` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `:`},
		"signature unpadded base64": {"", `sig1=:` + strings.TrimRight(base64.StdEncoding.EncodeToString(make([]byte, 32)), "=") + `:`},
		"signature url base64":      {"", `sig1=:` + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))) + `:`},
		"signature with parameters": {"", `sig1=:` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `:;x=1`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := raw(t, func(in, sig string) (string, string) {
				if tc.input != "" {
					in = tc.input
				}
				if tc.sig != "" {
					sig = tc.sig
				}
				return in, sig
			})
			_, err := newVerifier(t, keys()).Verify(context.Background(), r)
			if got := httpsig.ReasonOf(err); got != httpsig.ReasonMalformed {
				t.Fatalf("reason = %q (%v), want %q", got, err, httpsig.ReasonMalformed)
			}
		})
	}
}

func TestVerifyLabelAndTag(t *testing.T) {
	r := sign(t, request(), components, httpsig.Params{Tag: "guard-webhooks"}, keyA)
	// A second signature added by someone else does not get in the way
	// when the label is configured.
	r.Header["signature-input"] += `, proxy=("@method");created=1;keyid="proxy"`
	r.Header["signature"] += `, proxy=:` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `:`
	v := newVerifier(t, keys(), httpsig.WithLabel("sig1"), httpsig.WithTag("guard-webhooks"))
	if _, err := v.Verify(context.Background(), r); err != nil {
		t.Fatalf("labelled signature: %v", err)
	}
	v = newVerifier(t, keys(), httpsig.WithLabel("sig1"), httpsig.WithTag("other-app"))
	if _, err := v.Verify(context.Background(), r); httpsig.ReasonOf(err) != httpsig.ReasonMalformed {
		t.Fatalf("wrong tag: reason %q, want %q", httpsig.ReasonOf(err), httpsig.ReasonMalformed)
	}
	v = newVerifier(t, keys(), httpsig.WithLabel("sig9"))
	if _, err := v.Verify(context.Background(), r); httpsig.ReasonOf(err) != httpsig.ReasonMalformed {
		t.Fatalf("missing label: reason %q, want %q", httpsig.ReasonOf(err), httpsig.ReasonMalformed)
	}
}

func TestVerifyReplay(t *testing.T) {
	g := &memGuard{seen: map[string]time.Time{}}
	v := newVerifier(t, keys(), httpsig.WithReplayGuard(g))
	r := sign(t, request(), components, httpsig.Params{}, keyA)
	if _, err := v.Verify(context.Background(), r); err != nil {
		t.Fatalf("first use: %v", err)
	}
	for k, until := range g.seen {
		if want := now.Add(301 * time.Second); !until.Equal(want) {
			t.Errorf("replay entry %s kept until %v, want %v (created + window + 1 s)", k, until, want)
		}
	}
	_, err := v.Verify(context.Background(), r)
	if got := httpsig.ReasonOf(err); got != httpsig.ReasonReplay {
		t.Fatalf("replayed signature: reason %q, want %q", got, httpsig.ReasonReplay)
	}
	// A fresh signature of the same request is not a replay.
	r2 := sign(t, request(), components, httpsig.Params{Created: now.Add(-time.Second)}, keyA)
	if _, err := v.Verify(context.Background(), r2); err != nil {
		t.Fatalf("a new signature: %v", err)
	}
	// A tampered replay is refused for its signature, and records nothing.
	n := len(g.seen)
	bad := sign(t, request(), components, httpsig.Params{Created: now.Add(-2 * time.Second)}, stranger)
	if _, err := v.Verify(context.Background(), bad); httpsig.ReasonOf(err) != httpsig.ReasonBadSignature || len(g.seen) != n {
		t.Fatalf("bad signature: reason %q, entries %d (want %d)", httpsig.ReasonOf(err), len(g.seen), n)
	}
	g.err = errors.New("table unreachable")
	r3 := sign(t, request(), components, httpsig.Params{Created: now.Add(-3 * time.Second)}, keyA)
	_, err = v.Verify(context.Background(), r3)
	if got := httpsig.ReasonOf(err); got != httpsig.ReasonReplayUnavailable || !got.ServerFault() {
		t.Fatalf("guard failing: reason %q, want %q (a server fault)", got, httpsig.ReasonReplayUnavailable)
	}
}

func TestVerifyRefresh(t *testing.T) {
	t.Run("unknown key id picked up by one refresh", func(t *testing.T) {
		k := keys()
		k.next = map[string][]httpsig.Key{"partner-c": {{Secret: keyNew, Meta: "AWSCURRENT"}}}
		res, err := newVerifier(t, k).Verify(context.Background(), sign(t, request(), components, httpsig.Params{KeyID: "partner-c"}, keyNew))
		if err != nil || res.KeyID != "partner-c" || k.refreshes != 1 {
			t.Fatalf("Verify = %+v, %v after %d refreshes; want partner-c after 1", res, err, k.refreshes)
		}
	})
	t.Run("new secret under the same key id picked up by one refresh", func(t *testing.T) {
		k := &fakeKeys{keys: map[string][]httpsig.Key{"partner-b": {{Secret: keyOld, Meta: "AWSCURRENT"}}},
			next: map[string][]httpsig.Key{"partner-b": {{Secret: keyNew, Meta: "AWSCURRENT"}, {Secret: keyOld, Meta: "AWSPREVIOUS"}}}}
		res, err := newVerifier(t, k).Verify(context.Background(), sign(t, request(), components, httpsig.Params{KeyID: "partner-b"}, keyNew))
		if err != nil || res.Key.Meta != "AWSCURRENT" || k.refreshes != 1 {
			t.Fatalf("Verify = %+v, %v after %d refreshes", res, err, k.refreshes)
		}
	})
	t.Run("refresh that changes nothing: still unknown", func(t *testing.T) {
		k := keys()
		_, err := newVerifier(t, k).Verify(context.Background(), sign(t, request(), components, httpsig.Params{KeyID: "nobody"}, keyA))
		if httpsig.ReasonOf(err) != httpsig.ReasonUnknownKey || k.refreshes != 1 {
			t.Fatalf("reason %q after %d refreshes, want unknown_key after 1", httpsig.ReasonOf(err), k.refreshes)
		}
	})
	t.Run("stale signatures never cause a refresh", func(t *testing.T) {
		k := keys()
		_, err := newVerifier(t, k).Verify(context.Background(), sign(t, request(), components, httpsig.Params{KeyID: "nobody", Created: now.Add(-time.Hour)}, keyA))
		if httpsig.ReasonOf(err) != httpsig.ReasonExpired || k.refreshes != 0 {
			t.Fatalf("reason %q after %d refreshes, want signature_expired after 0", httpsig.ReasonOf(err), k.refreshes)
		}
	})
	t.Run("keys unavailable is a server fault", func(t *testing.T) {
		k := &fakeKeys{err: httpsig.ErrKeysUnavailable}
		_, err := newVerifier(t, k).Verify(context.Background(), sign(t, request(), components, httpsig.Params{}, keyA))
		if r := httpsig.ReasonOf(err); r != httpsig.ReasonKeysUnavailable || !r.ServerFault() {
			t.Fatalf("reason %q, want keys_unavailable", r)
		}
	})
	t.Run("short keys are never used", func(t *testing.T) {
		short := bytes.Repeat([]byte{1}, 16)
		k := &fakeKeys{keys: map[string][]httpsig.Key{"partner-a": {{Secret: short}}}}
		r := sign(t, request(), components, httpsig.Params{}, keyA)
		// Re-sign with the short key by hand: Sign refuses short keys.
		if _, err := httpsig.Sign(r, "sig1", components, httpsig.Params{KeyID: "x", Created: now}, short); err == nil {
			t.Fatal("Sign accepted a 16-byte key")
		}
		if _, err := newVerifier(t, k).Verify(context.Background(), r); httpsig.ReasonOf(err) != httpsig.ReasonBadSignature {
			t.Fatalf("reason %q, want bad_signature", httpsig.ReasonOf(err))
		}
	})
}

func TestNewVerifierRejects(t *testing.T) {
	if _, err := httpsig.NewVerifier(nil); err == nil {
		t.Error("nil KeySource accepted")
	}
	for _, opt := range []httpsig.Option{
		httpsig.WithRequired(),
		httpsig.WithRequired("@status"),
		httpsig.WithRequired("Content-Digest"),
		httpsig.WithLabel("Sig1"),
		httpsig.WithLabel("a b"),
	} {
		if _, err := httpsig.NewVerifier(keys(), opt); err == nil {
			t.Errorf("NewVerifier accepted a bad option")
		}
	}
}

func TestPathAndQueryCanonicalForm(t *testing.T) {
	// A REST event may report the path decoded; the signer signed the
	// encoded form. Both build the same base.
	encoded := request()
	encoded.Path = "/dev/files/a%20b/%C3%A9"
	decoded := *encoded
	decoded.Path = "/dev/files/a b/\u00e9"
	r := sign(t, encoded, components, httpsig.Params{}, keyA)
	d := sign(t, encoded, components, httpsig.Params{}, keyA)
	d.Path = decoded.Path
	for name, req := range map[string]*httpsig.Request{"encoded": r, "decoded": d} {
		if _, err := newVerifier(t, keys()).Verify(context.Background(), req); err != nil {
			t.Errorf("%s path: %v", name, err)
		}
	}
	got := httpsig.EncodeQuery(map[string][]string{"b": {"2", "1"}, "a": {"x y", "é"}, "c~": {""}})
	if want := "a=x%20y&a=%C3%A9&b=2&b=1&c~="; got != want {
		t.Errorf("EncodeQuery = %q, want %q", got, want)
	}
	if got := httpsig.EncodeQuery(nil); got != "" {
		t.Errorf("EncodeQuery(nil) = %q, want empty", got)
	}
}
