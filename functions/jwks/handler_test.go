package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/secretver"
	"github.com/apigw-guard/guard/shared/signer"
)

// fakeVersions serves a fixed snapshot.
type fakeVersions struct {
	mu    sync.Mutex
	snap  secretver.Snapshot
	err   error
	calls int
}

func (f *fakeVersions) Get(context.Context) (secretver.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.snap, f.err
}

func snapshot(gen uint64, current string, previous ...string) secretver.Snapshot {
	s := secretver.Snapshot{Generation: gen, Fetched: time.Now(), Versions: []secretver.Version{{ID: "cur", Stage: secretver.StageCurrent, Value: current}}}
	for _, p := range previous {
		s.Versions = append(s.Versions, secretver.Version{ID: "prev", Stage: secretver.StagePrevious, Value: p})
	}
	return s
}

// merge joins JWK Sets into one.
func merge(t *testing.T, sets ...[]byte) string {
	t.Helper()
	var all []json.RawMessage
	for _, s := range sets {
		var v struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(s, &v); err != nil {
			t.Fatal(err)
		}
		all = append(all, v.Keys...)
	}
	b, _ := json.Marshal(map[string]any{"keys": all})
	return string(b)
}

type testKeys struct {
	es, hs, rs, ed []byte
	kid            map[string]string // alg -> kid
}

var (
	keysOnce sync.Once
	theKeys  testKeys
	keysErr  error
)

// newTestKeys returns one key of each kind, made once per test binary.
func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		theKeys = testKeys{kid: map[string]string{}}
		for alg, dst := range map[string]*[]byte{"ES256": &theKeys.es, "HS256": &theKeys.hs, "RS256": &theKeys.rs, "EdDSA": &theKeys.ed} {
			set, err := signer.Generate(alg, 0)
			if err != nil {
				keysErr = err
				return
			}
			*dst = set
			s, _ := signer.New(set)
			theKeys.kid[alg] = s.KeyID()
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return theKeys
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "jwks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func strict[T any](t *testing.T, b []byte) T {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not a %T: %v", b, v, err)
	}
	return v
}

// answer is a response of either shape.
type answer struct {
	Status  int
	Headers map[string]string
	Body    string
}

// call sends payload (a v1 or v2 event) and decodes the answer strictly as
// the same shape.
func call(t *testing.T, h *handler, payload []byte) answer {
	t.Helper()
	out, err := h.handle(context.Background(), payload)
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	if bytes.Contains(payload, []byte(`"version": "2.0"`)) || bytes.Contains(payload, []byte(`"version":"2.0"`)) {
		r := strict[events.APIGatewayV2HTTPResponse](t, out)
		return answer{r.StatusCode, r.Headers, r.Body}
	}
	r := strict[events.APIGatewayProxyResponse](t, out)
	return answer{r.StatusCode, r.Headers, r.Body}
}

// restEvent returns the REST fixture with method, path and headers replaced.
func restEvent(t *testing.T, method, path string, headers map[string]string) []byte {
	t.Helper()
	ev := strict[events.APIGatewayProxyRequest](t, readFixture(t, "rest-get.json"))
	ev.HTTPMethod, ev.Path = method, path
	ev.MultiValueHeaders = nil
	for k, v := range headers {
		ev.Headers[k] = v
	}
	b, _ := json.Marshal(ev)
	return b
}

func httpEvent(t *testing.T, method, path string, headers map[string]string) []byte {
	t.Helper()
	ev := strict[events.APIGatewayV2HTTPRequest](t, readFixture(t, "http-get.json"))
	ev.RequestContext.HTTP.Method, ev.RawPath = method, path
	delete(ev.Headers, "if-none-match")
	for k, v := range headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	b, _ := json.Marshal(ev)
	return b
}

// publishedKeys decodes a JWKS body and fails on any private member.
func publishedKeys(t *testing.T, body string) []map[string]any {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if len(doc) != 1 || doc["keys"] == nil {
		t.Fatalf("body %s, want exactly a keys member", body)
	}
	var keys []map[string]any
	if err := json.Unmarshal(doc["keys"], &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[m]; ok {
				t.Fatalf("published key %v carries the private member %q", k["kid"], m)
			}
		}
	}
	return keys
}

func kids(keys []map[string]any) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k["kid"].(string))
	}
	return out
}

func TestEventFixtures(t *testing.T) {
	rest := strict[events.APIGatewayProxyRequest](t, readFixture(t, "rest-get.json"))
	if rest.HTTPMethod != "GET" || rest.Path != Path || rest.Resource != Path {
		t.Fatalf("rest-get.json: %s %s (resource %s)", rest.HTTPMethod, rest.Path, rest.Resource)
	}
	h2 := strict[events.APIGatewayV2HTTPRequest](t, readFixture(t, "http-get.json"))
	if h2.Version != "2.0" || h2.RequestContext.HTTP.Method != "GET" || h2.RouteKey != "GET "+Path {
		t.Fatalf("http-get.json: version %s, %s, route %s", h2.Version, h2.RequestContext.HTTP.Method, h2.RouteKey)
	}
	// Each shape is refused as the other: a REST event is not a v2 one.
	dec := json.NewDecoder(bytes.NewReader(readFixture(t, "rest-get.json")))
	dec.DisallowUnknownFields()
	var wrong events.APIGatewayV2HTTPRequest
	if dec.Decode(&wrong) == nil {
		t.Fatal("rest-get.json decodes strictly as an HTTP API 2.0 event")
	}
}

func TestServesCurrentAndPrevious(t *testing.T) {
	k := newTestKeys(t)
	src := &fakeVersions{snap: snapshot(1, merge(t, k.es, k.hs), string(k.rs))}
	h := newHandler(src, 300*time.Second, slog.New(slog.DiscardHandler))
	for _, fixture := range []string{"rest-get.json", "http-get.json"} {
		t.Run(fixture, func(t *testing.T) {
			a := call(t, h, readFixture(t, fixture))
			if a.Status != 200 {
				t.Fatalf("status %d (%s), want 200", a.Status, a.Body)
			}
			want := map[string]string{"Cache-Control": "public, max-age=300", "Content-Type": "application/json", "X-Content-Type-Options": "nosniff"}
			for name, v := range want {
				if a.Headers[name] != v {
					t.Fatalf("%s = %q, want %q", name, a.Headers[name], v)
				}
			}
			if etag := a.Headers["ETag"]; len(etag) < 10 || etag[0] != '"' || etag[len(etag)-1] != '"' {
				t.Fatalf("ETag = %q, want a quoted strong tag", etag)
			}
			keys := publishedKeys(t, a.Body)
			if got, want := kids(keys), []string{k.kid["ES256"], k.kid["RS256"]}; !slices.Equal(got, want) {
				t.Fatalf("published kids %v, want %v (current's, then previous'; never the HMAC key)", got, want)
			}
			if keys[0]["alg"] != "ES256" || keys[0]["kty"] != "EC" || keys[1]["alg"] != "RS256" || keys[1]["kty"] != "RSA" {
				t.Fatalf("published keys %v", keys)
			}
			if strings.Contains(a.Body, k.kid["HS256"]) {
				t.Fatal("the symmetric key's kid is published")
			}
		})
	}
}

func TestConditionalAndHead(t *testing.T) {
	k := newTestKeys(t)
	h := newHandler(&fakeVersions{snap: snapshot(1, string(k.ed))}, time.Minute, slog.New(slog.DiscardHandler))
	first := call(t, h, restEvent(t, "GET", Path, nil))
	etag := first.Headers["ETag"]
	for name, tc := range map[string]struct {
		event      []byte
		wantStatus int
		wantBody   bool
	}{
		"REST If-None-Match":          {restEvent(t, "GET", Path, map[string]string{"If-None-Match": etag}), 304, false},
		"HTTP if-none-match weak":     {httpEvent(t, "GET", "/dev"+Path, map[string]string{"If-None-Match": "W/" + etag}), 304, false},
		"list with the tag":           {httpEvent(t, "GET", Path, map[string]string{"if-none-match": `"other", ` + etag}), 304, false},
		"star":                        {restEvent(t, "GET", Path, map[string]string{"If-None-Match": "*"}), 304, false},
		"another tag":                 {httpEvent(t, "GET", Path, map[string]string{"if-none-match": `"other"`}), 200, true},
		"HEAD":                        {restEvent(t, "HEAD", Path, nil), 200, false},
		"HEAD with stage prefix (v2)": {httpEvent(t, "HEAD", "/dev"+Path, nil), 200, false},
	} {
		t.Run(name, func(t *testing.T) {
			a := call(t, h, tc.event)
			if a.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d", a.Status, tc.wantStatus)
			}
			if (a.Body != "") != tc.wantBody {
				t.Fatalf("body %q, want body %v", a.Body, tc.wantBody)
			}
			if a.Headers["ETag"] != etag || a.Headers["Cache-Control"] != "public, max-age=60" {
				t.Fatalf("headers %v, want the ETag and Cache-Control", a.Headers)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	k := newTestKeys(t)
	ok := &fakeVersions{snap: snapshot(1, string(k.es))}
	for name, tc := range map[string]struct {
		src        versions
		event      []byte
		wantStatus int
	}{
		"POST":                      {ok, restEvent(t, "POST", Path, nil), 405},
		"DELETE (v2)":               {ok, httpEvent(t, "DELETE", Path, nil), 405},
		"other path":                {ok, restEvent(t, "GET", "/.well-known/openid-configuration", nil), 404},
		"path with a suffix":        {ok, httpEvent(t, "GET", Path+"/x", nil), 404},
		"current is not a key":      {&fakeVersions{snap: snapshot(1, "generated-password")}, restEvent(t, "GET", Path, nil), 500},
		"current is a public key":   {&fakeVersions{snap: snapshot(1, `{"keys":[]}`)}, restEvent(t, "GET", Path, nil), 500},
		"Secrets Manager fails":     {&fakeVersions{err: errors.New("secret \"x\": AccessDeniedException")}, httpEvent(t, "GET", Path, nil), 500},
		"configuration is missing":  {nil, restEvent(t, "GET", Path, nil), 500},
		"configuration, wrong path": {nil, restEvent(t, "GET", "/", nil), 404},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			h := newHandler(tc.src, time.Minute, slog.New(slog.NewJSONHandler(&logs, nil)))
			if tc.src == nil {
				h.broken = errors.New("KEYS_SECRET_ID is not set")
			}
			a := call(t, h, tc.event)
			if a.Status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", a.Status, a.Body, tc.wantStatus)
			}
			if a.Headers["Cache-Control"] != "no-store" || a.Headers["ETag"] != "" {
				t.Fatalf("an error answer is cacheable: %v", a.Headers)
			}
			want := map[int]string{404: `{"message":"not found"}`, 405: `{"message":"method not allowed"}`, 500: `{"message":"internal error"}`}[tc.wantStatus]
			if a.Body != want {
				t.Fatalf("body %q, want %q", a.Body, want)
			}
			if tc.wantStatus == 405 && a.Headers["Allow"] != "GET, HEAD" {
				t.Fatalf("Allow = %q", a.Headers["Allow"])
			}
			if tc.wantStatus == 500 && !strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Fatalf("a 500 is not logged: %s", logs.String())
			}
		})
	}
}

func TestPreviousPlaceholderIsLeftOut(t *testing.T) {
	k := newTestKeys(t)
	var logs bytes.Buffer
	h := newHandler(&fakeVersions{snap: snapshot(1, string(k.es), "Zx8!generated-by-cloudformation")}, time.Minute, slog.New(slog.NewJSONHandler(&logs, nil)))
	a := call(t, h, restEvent(t, "GET", Path, nil))
	if a.Status != 200 {
		t.Fatalf("status %d", a.Status)
	}
	if got := kids(publishedKeys(t, a.Body)); !slices.Equal(got, []string{k.kid["ES256"]}) {
		t.Fatalf("kids %v, want only the current key", got)
	}
	if !strings.Contains(logs.String(), "left out of the JWKS") || strings.Contains(logs.String(), "Zx8!") {
		t.Fatalf("log %s: want a warning without the value", logs.String())
	}
}

func TestSameKidPublishedOnce(t *testing.T) {
	k := newTestKeys(t)
	h := newHandler(&fakeVersions{snap: snapshot(1, string(k.es), merge(t, k.es, k.ed))}, time.Minute, slog.New(slog.DiscardHandler))
	got := kids(publishedKeys(t, call(t, h, restEvent(t, "GET", Path, nil)).Body))
	if want := []string{k.kid["ES256"], k.kid["EdDSA"]}; !slices.Equal(got, want) {
		t.Fatalf("kids %v, want %v", got, want)
	}
}

func TestSymmetricOnlyPublishesNoKeys(t *testing.T) {
	k := newTestKeys(t)
	h := newHandler(&fakeVersions{snap: snapshot(1, string(k.hs))}, time.Minute, slog.New(slog.DiscardHandler))
	a := call(t, h, httpEvent(t, "GET", Path, nil))
	if a.Status != 200 || a.Body != `{"keys":[]}` {
		t.Fatalf("answer %d %s, want 200 {\"keys\":[]}", a.Status, a.Body)
	}
}

func TestRendersOncePerSnapshot(t *testing.T) {
	k := newTestKeys(t)
	src := &fakeVersions{snap: snapshot(7, string(k.es))}
	h := newHandler(src, time.Minute, slog.New(slog.DiscardHandler))
	first := call(t, h, restEvent(t, "GET", Path, nil))
	// Same generation: the rendered document is reused, even though this
	// fake's value changed underneath (a real Reader never does that).
	src.snap.Versions[0].Value = string(k.ed)
	if again := call(t, h, restEvent(t, "GET", Path, nil)); again.Body != first.Body {
		t.Fatal("the document was rendered again for the same snapshot")
	}
	src.snap.Generation = 8
	third := call(t, h, restEvent(t, "GET", Path, nil))
	if got := kids(publishedKeys(t, third.Body)); !slices.Equal(got, []string{k.kid["EdDSA"]}) || third.Headers["ETag"] == first.Headers["ETag"] {
		t.Fatalf("after a new snapshot: kids %v, ETag %s (was %s)", got, third.Headers["ETag"], first.Headers["ETag"])
	}
	if src.calls != 3 {
		t.Fatalf("Get called %d times, want 3 (once per request)", src.calls)
	}
}

func TestNotProxyEvents(t *testing.T) {
	h := newHandler(&fakeVersions{}, time.Minute, slog.New(slog.DiscardHandler))
	for name, payload := range map[string]string{
		"empty object":      `{}`,
		"array":             `[]`,
		"not JSON":          `GET /`,
		"v2 without method": `{"version":"2.0","rawPath":"/.well-known/jwks.json"}`,
		"HTTP API 1.0 only": `{"version":"1.0"}`,
		"unknown version":   `{"version":"3.0","httpMethod":"GET"}`,
		"rotation event":    `{"Step":"createSecret","SecretId":"x","ClientRequestToken":"y"}`,
		"too large":         `{"httpMethod":"GET","body":"` + strings.Repeat("a", maxEventSize) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := h.handle(context.Background(), json.RawMessage(payload)); !errors.Is(err, errNotProxyEvent) {
				t.Fatalf("err = %v, want errNotProxyEvent", err)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		env     map[string]string
		want    config
		wantErr string
	}{
		"defaults":      {map[string]string{"KEYS_SECRET_ID": "s"}, config{secretID: "s", maxAge: 300 * time.Second, cacheTTL: 60 * time.Second}, ""},
		"max-age 0":     {map[string]string{"KEYS_SECRET_ID": "s", "JWKS_MAX_AGE_SECONDS": "0"}, config{secretID: "s", maxAge: 0, cacheTTL: 60 * time.Second}, ""},
		"both set":      {map[string]string{"KEYS_SECRET_ID": "s", "JWKS_MAX_AGE_SECONDS": "600", "KEYS_CACHE_TTL_SECONDS": "30"}, config{secretID: "s", maxAge: 600 * time.Second, cacheTTL: 30 * time.Second}, ""},
		"no secret":     {map[string]string{}, config{}, "KEYS_SECRET_ID is not set"},
		"max-age large": {map[string]string{"KEYS_SECRET_ID": "s", "JWKS_MAX_AGE_SECONDS": "3601"}, config{}, "JWKS_MAX_AGE_SECONDS"},
		"max-age text":  {map[string]string{"KEYS_SECRET_ID": "s", "JWKS_MAX_AGE_SECONDS": "5m"}, config{}, "JWKS_MAX_AGE_SECONDS"},
		"ttl 0":         {map[string]string{"KEYS_SECRET_ID": "s", "KEYS_CACHE_TTL_SECONDS": "0"}, config{}, "KEYS_CACHE_TTL_SECONDS"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := loadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("config = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	h := newHandler(&fakeVersions{}, 0, slog.New(slog.DiscardHandler))
	if h.cacheControl != "public, max-age=0" {
		t.Fatalf("Cache-Control %q", h.cacheControl)
	}
}

// FuzzHandle feeds arbitrary payloads: the handler never panics, and any
// answer it gives is a proxy response without private key material.
func FuzzHandle(f *testing.F) {
	for _, name := range []string{"rest-get.json", "http-get.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", "jwks", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"GET"}},"rawPath":"/.well-known/jwks.json"}`))
	f.Add([]byte(`{"httpMethod":"HEAD","path":"/.well-known/jwks.json","headers":{"If-None-Match":"*"}}`))
	f.Add([]byte(`{"httpMethod":"GET","path":"/x","multiValueHeaders":{"a":["b","c"]}}`))
	set, _ := signer.Generate("ES256", 0)
	hs, _ := signer.Generate("HS256", 0)
	var both struct{ Keys []json.RawMessage }
	for _, s := range [][]byte{set, hs} {
		var v struct{ Keys []json.RawMessage }
		_ = json.Unmarshal(s, &v)
		both.Keys = append(both.Keys, v.Keys...)
	}
	cur, _ := json.Marshal(map[string]any{"keys": both.Keys})
	h := newHandler(&fakeVersions{snap: snapshot(1, string(cur))}, time.Minute, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.handle(context.Background(), payload)
		if err != nil {
			return
		}
		var r struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		if err := json.Unmarshal(out, &r); err != nil || r.StatusCode == 0 {
			t.Fatalf("answer %s is not a proxy response: %v", out, err)
		}
		if r.StatusCode == 200 && r.Body != "" {
			publishedKeys(t, r.Body)
		}
	})
}

// BenchmarkServe measures a warm request: decode the event, reuse the
// rendered document, encode the answer.
func BenchmarkServe(b *testing.B) {
	set, err := signer.Generate("ES256", 0)
	if err != nil {
		b.Fatal(err)
	}
	h := newHandler(&fakeVersions{snap: snapshot(1, string(set))}, time.Minute, slog.New(slog.DiscardHandler))
	ev, err := os.ReadFile(filepath.Join("..", "..", "events", "jwks", "http-get.json"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
