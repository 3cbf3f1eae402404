package credential_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/credential"
	"github.com/apigw-guard/guard/shared/secretver"
)

const testIter = credential.MinIterations // keep the tests fast

var (
	b64    = base64.StdEncoding.EncodeToString
	key32  = bytes.Repeat([]byte{7}, 32)
	key32b = bytes.Repeat([]byte{9}, 32)
)

func entry(t testing.TB, secret string) credential.ClientEntry {
	t.Helper()
	e, err := credential.NewClientEntry(secret, testIter)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func doc(t testing.TB, d credential.Document) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	good := entry(t, "s3cr3t-s3cr3t-s3cr3t")
	valid := doc(t, credential.Document{
		HMAC:    map[string]credential.HMACEntry{"partner-a": {Key: key32}, "partner-b:2026": {Key: key32b, UsageKey: "usage-key-b-0123456789"}},
		Clients: map[string]credential.ClientEntry{"ops": good},
	})
	d, err := credential.Parse([]byte(valid))
	if err != nil {
		t.Fatalf("Parse(valid) = %v", err)
	}
	if !bytes.Equal(d.HMAC["partner-a"].Key, key32) || d.HMAC["partner-b:2026"].UsageKey != "usage-key-b-0123456789" ||
		d.Clients["ops"].Iterations != testIter || !bytes.Equal(d.Clients["ops"].Hash, good.Hash) {
		t.Fatalf("Parse = %+v", d)
	}
	if !strings.Contains(valid, `"partner-a":"`+b64(key32)+`"`) {
		t.Errorf("a key without usage key must marshal in the short form: %s", valid)
	}
	if _, err := credential.Parse([]byte(`{}`)); err != nil {
		t.Errorf("empty document: %v", err)
	}

	salt, hash := b64(good.Salt), b64(good.Hash)
	client := func(fields string) string { return `{"clients":{"ops":{` + fields + `}}}` }
	std := `"kdf":"pbkdf2-sha256","iterations":10000,"salt":"` + salt + `","hash":"` + hash + `"`
	for name, in := range map[string]string{
		"not an object":         `[]`,
		"trailing data":         `{} {}`,
		"unknown top member":    `{"keys":{}}`,
		"repeated top member":   `{"hmac":{},"hmac":{}}`,
		"repeated key id":       `{"hmac":{"a":"` + b64(key32) + `","a":"` + b64(key32b) + `"}}`,
		"repeated client field": client(std + `,"kdf":"pbkdf2-sha256"`),
		"short key":             `{"hmac":{"a":"` + b64(key32[:31]) + `"}}`,
		"url base64 key":        `{"hmac":{"a":"` + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + `"}}`,
		"unpadded key":          `{"hmac":{"a":"` + base64.RawStdEncoding.EncodeToString(key32) + `"}}`,
		"key object no key":     `{"hmac":{"a":{"usage_key":"x"}}}`,
		"key object unknown":    `{"hmac":{"a":{"key":"` + b64(key32) + `","alg":"HS256"}}}`,
		"key id with space":     `{"hmac":{"a b":"` + b64(key32) + `"}}`,
		"key id empty":          `{"hmac":{"":"` + b64(key32) + `"}}`,
		"key id too long":       `{"hmac":{"` + strings.Repeat("k", 129) + `":"` + b64(key32) + `"}}`,
		"client id with colon":  `{"clients":{"a:b":{` + std + `}}}`,
		"client unknown field":  client(std + `,"secret":"plain"`),
		"client no hash":        client(`"kdf":"pbkdf2-sha256","iterations":10000,"salt":"` + salt + `"`),
		"kdf bcrypt":            client(strings.Replace(std, "pbkdf2-sha256", "bcrypt", 1)),
		"iterations too few":    client(strings.Replace(std, "10000", "9999", 1)),
		"iterations too many":   client(strings.Replace(std, "10000", "1000001", 1)),
		"iterations fraction":   client(strings.Replace(std, "10000", "10000.5", 1)),
		"iterations string":     client(strings.Replace(std, "10000", `"10000"`, 1)),
		"short salt":            client(strings.Replace(std, salt, b64(good.Salt[:15]), 1)),
		"short hash":            client(strings.Replace(std, hash, b64(good.Hash[:31]), 1)),
		"long hash":             client(strings.Replace(std, hash, b64(append(good.Hash, 0)), 1)),
		"usage key with space":  `{"hmac":{"a":{"key":"` + b64(key32) + `","usage_key":"a b"}}}`,
		"too large":             `{"hmac":{},"x":"` + strings.Repeat("a", credential.MaxSecretSize) + `"}`,
		"nested too deeply":     strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat(`}`, 20),
		"placeholder password":  `Xk3v9QmT2pLw8RzN4sBy6HdFj1GcEa5U`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := credential.Parse([]byte(in))
			if !errors.Is(err, credential.ErrInvalidSecret) {
				t.Fatalf("Parse = %v, want ErrInvalidSecret", err)
			}
			if strings.Contains(err.Error(), b64(key32)) || strings.Contains(err.Error(), hash) {
				t.Fatalf("error %q quotes key material", err)
			}
		})
	}
}

func TestNewClientEntry(t *testing.T) {
	s, err := credential.GenerateSecret()
	if err != nil || len(s) != 43 {
		t.Fatalf("GenerateSecret = %q, %v; want 43 characters", s, err)
	}
	a, b := entry(t, s), entry(t, s)
	if bytes.Equal(a.Salt, b.Salt) || bytes.Equal(a.Hash, b.Hash) {
		t.Error("two entries for one secret share a salt or hash")
	}
	if a.KDF != credential.KDF || len(a.Salt) != credential.MinSaltLength || len(a.Hash) != credential.HashLength {
		t.Errorf("entry = %+v", a)
	}
	for _, bad := range []struct {
		secret string
		iter   int
	}{{"short", 0}, {s, 5}, {s, credential.MaxIterations + 1}, {strings.Repeat("x", 513), 0}} {
		if _, err := credential.NewClientEntry(bad.secret, bad.iter); err == nil {
			t.Errorf("NewClientEntry(%d bytes, %d) accepted", len(bad.secret), bad.iter)
		}
	}
	if e, err := credential.NewClientEntry(s, 0); err != nil || e.Iterations != credential.DefaultIterations {
		t.Errorf("default iterations = %d, %v; want %d", e.Iterations, err, credential.DefaultIterations)
	}
}

// fakeReader serves snapshots the way a secretver.Reader does: Refresh
// moves to the pending versions, if any.
type fakeReader struct {
	mu        sync.Mutex
	snap      secretver.Snapshot
	pending   []secretver.Version
	err       error
	refreshes int
}

func newReader(versions ...secretver.Version) *fakeReader {
	return &fakeReader{snap: secretver.Snapshot{Versions: versions, Generation: 1}}
}

func (f *fakeReader) Get(context.Context) (secretver.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return secretver.Snapshot{}, f.err
	}
	return f.snap, nil
}

func (f *fakeReader) Refresh(context.Context) (secretver.Snapshot, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	if f.pending != nil {
		f.snap = secretver.Snapshot{Versions: f.pending, Generation: f.snap.Generation + 1}
		f.pending = nil
	}
	return f.snap, true, nil
}

func (f *fakeReader) SecretID() string { return "guard/request-credentials" }

// rotate makes the reader serve a new AWSCURRENT now (as the cache would
// after its TTL), the old current becoming AWSPREVIOUS.
func (f *fakeReader) rotate(id, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, _ := f.snap.Current()
	cur.Stage = secretver.StagePrevious
	f.snap = secretver.Snapshot{Versions: []secretver.Version{{ID: id, Stage: secretver.StageCurrent, Value: value}, cur}, Generation: f.snap.Generation + 1}
}

func cur(id, value string) secretver.Version {
	return secretver.Version{ID: id, Stage: secretver.StageCurrent, Value: value}
}

func prev(id, value string) secretver.Version {
	return secretver.Version{ID: id, Stage: secretver.StagePrevious, Value: value}
}

func TestAuthenticateRotation(t *testing.T) {
	ctx := context.Background()
	old, neu, oldest := "old-secret-0123456789", "new-secret-0123456789", "oldest-secret-0123456789"
	v1 := doc(t, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(t, oldest)}})
	v2 := doc(t, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(t, old)}})
	v3 := doc(t, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(t, neu), "new-client": entry(t, neu)}})
	r := newReader(cur("v2", v2), prev("v1", v1))
	s := credential.NewStore(r)

	check := func(name, id, secret string, want error, stage string) {
		t.Helper()
		c, err := s.Authenticate(ctx, id, secret)
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("%s: Authenticate = %+v, %v; want %v", name, c, err, want)
		}
		if want == nil && (c.ID != id || c.Stage != stage) {
			t.Fatalf("%s: client = %+v, want %s from %s", name, c, id, stage)
		}
	}
	check("secret of AWSCURRENT", "ops", old, nil, secretver.StageCurrent)
	check("secret of AWSPREVIOUS", "ops", oldest, nil, secretver.StagePrevious)
	check("wrong secret", "ops", "wrong-secret-0123456789", credential.ErrBadCredentials, "")
	check("unknown client", "nobody", old, credential.ErrBadCredentials, "")

	// A rotation the cache has not seen yet: the unknown client makes the
	// store refresh once, then it is known.
	r.pending = []secretver.Version{cur("v3", v3), prev("v2", v2)}
	n := r.refreshes
	check("new client after a rotation", "new-client", neu, nil, secretver.StageCurrent)
	if r.refreshes != n+1 {
		t.Fatalf("refreshes = %d, want %d", r.refreshes, n+1)
	}
	check("new secret of ops", "ops", neu, nil, secretver.StageCurrent)
	check("old secret of ops, now AWSPREVIOUS", "ops", old, nil, secretver.StagePrevious)
	check("old-old secret, gone", "ops", oldest, credential.ErrBadCredentials, "")
}

func TestAuthenticateCache(t *testing.T) {
	ctx := context.Background()
	clock := time.Unix(1_800_000_000, 0)
	secret := "cached-secret-0123456789"
	v1 := doc(t, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(t, secret)}})
	r := newReader(cur("v1", v1))
	s := credential.NewStore(r, credential.WithCache(time.Minute, 2), credential.WithClock(func() time.Time { return clock }))
	cached := func() bool {
		t.Helper()
		c, err := s.Authenticate(ctx, "ops", secret)
		if err != nil {
			t.Fatal(err)
		}
		return c.Cached
	}
	if cached() {
		t.Fatal("first verification came from the cache")
	}
	if !cached() {
		t.Fatal("second verification did not come from the cache")
	}
	// A wrong secret is never served from the cache of the right one.
	if _, err := s.Authenticate(ctx, "ops", secret+"x"); !errors.Is(err, credential.ErrBadCredentials) {
		t.Fatalf("wrong secret = %v, want ErrBadCredentials", err)
	}
	// A rotation that keeps the client's hash keeps the verification.
	r.rotate("v2", v1)
	if c, err := s.Authenticate(ctx, "ops", secret); err != nil || !c.Cached || c.Stage != secretver.StagePrevious {
		t.Fatalf("after rotation = %+v, %v; want a cached hit on AWSPREVIOUS", c, err)
	}
	// After the TTL the derivation runs again.
	clock = clock.Add(2 * time.Minute)
	if cached() {
		t.Fatal("verification served after the cache TTL")
	}
	// A version that is gone takes its cached verifications with it.
	other := doc(t, credential.Document{Clients: map[string]credential.ClientEntry{"ops": entry(t, "another-secret-0123456789")}})
	r.rotate("v3", other)
	r.rotate("v4", other)
	if _, err := s.Authenticate(ctx, "ops", secret); !errors.Is(err, credential.ErrBadCredentials) {
		t.Fatalf("secret of a dropped version = %v, want ErrBadCredentials", err)
	}
	disabled := credential.NewStore(newReader(cur("v1", v1)), credential.WithCache(0, 0))
	for range 2 {
		if c, err := disabled.Authenticate(ctx, "ops", secret); err != nil || c.Cached {
			t.Fatalf("cache disabled: %+v, %v", c, err)
		}
	}
}

func TestAuthenticateRefusesCheaply(t *testing.T) {
	s := credential.NewStore(newReader(cur("v1", `{}`)))
	for _, in := range [][2]string{{"ops", "short"}, {"ops", strings.Repeat("x", 513)}, {"a:b", "long-enough-secret-123"}, {"", "long-enough-secret-123"}} {
		if _, err := s.Authenticate(context.Background(), in[0], in[1]); !errors.Is(err, credential.ErrBadCredentials) {
			t.Errorf("Authenticate(%q, %d bytes) = %v, want ErrBadCredentials", in[0], len(in[1]), err)
		}
	}
}

func TestHMACKeys(t *testing.T) {
	ctx := context.Background()
	v1 := doc(t, credential.Document{HMAC: map[string]credential.HMACEntry{"a": {Key: key32}, "b": {Key: key32}}})
	v2 := doc(t, credential.Document{HMAC: map[string]credential.HMACEntry{"a": {Key: key32b, UsageKey: "uk-a-0123456789"}, "b": {Key: key32}}})
	s := credential.NewStore(newReader(cur("v2", v2), prev("v1", v1)))
	ks, err := s.HMACKeys(ctx, "a")
	if err != nil || len(ks) != 2 || !bytes.Equal(ks[0].Secret, key32b) || ks[0].Stage != secretver.StageCurrent ||
		ks[0].UsageKey != "uk-a-0123456789" || !bytes.Equal(ks[1].Secret, key32) || ks[1].Stage != secretver.StagePrevious || ks[1].VersionID != "v1" {
		t.Fatalf("HMACKeys(a) = %+v, %v; want the new key (AWSCURRENT) then the old (AWSPREVIOUS)", ks, err)
	}
	if ks, err := s.HMACKeys(ctx, "b"); err != nil || len(ks) != 1 || ks[0].Stage != secretver.StageCurrent {
		t.Fatalf("HMACKeys(b) = %+v, %v; want one key (same in both versions)", ks, err)
	}
	if _, err := s.HMACKeys(ctx, "c"); !errors.Is(err, credential.ErrUnknownKey) {
		t.Fatalf("HMACKeys(c) = %v, want ErrUnknownKey", err)
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	r := newReader(cur("v1", `{"hmac":{"a":"short"}}`))
	s := credential.NewStore(r)
	if _, err := s.HMACKeys(ctx, "a"); !errors.Is(err, credential.ErrUnavailable) || !errors.Is(err, credential.ErrInvalidSecret) {
		t.Fatalf("unparsable version: %v, want ErrUnavailable wrapping ErrInvalidSecret", err)
	}
	if _, err := s.Authenticate(ctx, "ops", "long-enough-secret-123"); !errors.Is(err, credential.ErrUnavailable) {
		t.Fatalf("Authenticate with an unparsable version: %v, want ErrUnavailable", err)
	}
	down := newReader()
	down.err = errors.New("AccessDeniedException")
	s = credential.NewStore(down)
	if _, err := s.HMACKeys(ctx, "a"); !errors.Is(err, credential.ErrUnavailable) {
		t.Fatalf("reader failing: %v, want ErrUnavailable", err)
	}
}

func FuzzParse(f *testing.F) {
	e := entry(f, "fuzz-secret-0123456789")
	f.Add([]byte(doc(f, credential.Document{
		HMAC:    map[string]credential.HMACEntry{"k": {Key: key32}, "k2": {Key: key32b, UsageKey: "u"}},
		Clients: map[string]credential.ClientEntry{"c": e},
	})))
	f.Add([]byte(`{"hmac":{"a":"` + b64(key32) + `","a":"x"}}`))
	f.Add([]byte(`{"clients":{"c":{"kdf":"pbkdf2-sha256","iterations":1e5,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","hash":"` + b64(key32) + `"}}}`))
	f.Add([]byte(`{"hmac":{"a":{"key":"` + b64(key32) + `"}},"clients":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := credential.Parse(data)
		if err != nil {
			if !errors.Is(err, credential.ErrInvalidSecret) {
				t.Fatalf("Parse error %v does not wrap ErrInvalidSecret", err)
			}
			return
		}
		for id, k := range d.HMAC {
			if len(k.Key) < credential.MinKeyLength || id == "" {
				t.Fatalf("accepted key %q of %d bytes", id, len(k.Key))
			}
		}
		for id, c := range d.Clients {
			if c.KDF != credential.KDF || c.Iterations < credential.MinIterations || c.Iterations > credential.MaxIterations ||
				len(c.Hash) != credential.HashLength || len(c.Salt) < credential.MinSaltLength || strings.ContainsAny(id, ":/ ") {
				t.Fatalf("accepted client %q: %+v", id, c)
			}
		}
		// What Parse accepts survives a round trip.
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := credential.Parse(b); err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
	})
}
