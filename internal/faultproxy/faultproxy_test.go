package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startProxy(t *testing.T) *Proxy {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amz-Crc32", "12345")
		_, _ = io.WriteString(w, `{"target":"`+Target(r)+`"}`)
	}))
	t.Cleanup(up.Close)
	p, err := Start(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// call sends one request with an optional X-Amz-Target and returns status
// and body, or the transport error.
func call(t *testing.T, p *Proxy, target string, timeout time.Duration) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/", strings.NewReader("{}"))
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestModes(t *testing.T) {
	p := startProxy(t)
	if code, body, err := call(t, p, "svc.Get", time.Second); err != nil || code != 200 || body != `{"target":"svc.Get"}` {
		t.Fatalf("pass: %d %q %v", code, body, err)
	}

	if err := p.Inject(Throttle("svc.")); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := call(t, p, "svc.Get", time.Second); code != 429 || !strings.Contains(body, "ThrottlingException") {
		t.Fatalf("throttle: %d %q, want 429 ThrottlingException", code, body)
	}
	if code, _, _ := call(t, p, "other.Get", time.Second); code != 200 {
		t.Fatalf("throttle of svc. applied to other.Get: %d", code)
	}

	if err := p.Inject(Fault{Mode: Respond, Body: ""}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := call(t, p, "", time.Second); code != 200 || body != "" {
		t.Fatalf("empty body: %d %q", code, body)
	}

	if err := p.Inject(Fault{Mode: Rewrite, Rewrite: func(b []byte) []byte { return []byte(strings.ToUpper(string(b))) }}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := call(t, p, "svc.Get", time.Second); code != 200 || body != `{"TARGET":"SVC.GET"}` {
		t.Fatalf("rewrite: %d %q", code, body)
	}

	if err := p.Inject(Fault{Mode: Delay, Delay: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := call(t, p, "", 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delay: err = %v, want the client's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("delayed call took %v, want the client's 200ms", d)
	}

	if err := p.Inject(Fault{Mode: Refuse}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(t, p, "", time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("refuse: err = %v, want connection refused", err)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	if code, _, err := call(t, p, "svc.Get", time.Second); err != nil || code != 200 {
		t.Fatalf("after heal: %d %v", code, err)
	}

	deadline := time.Now().Add(2 * time.Second)
	for p.Stats().InFlight != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := p.Stats()
	if st.InFlight != 0 || st.Abandoned != 1 || st.ByTarget["svc.Get"] != 4 || st.LastOK.IsZero() {
		t.Fatalf("stats %+v: want nothing in flight, 1 abandoned, 4 svc.Get, a LastOK", st)
	}
}

func TestRewriteDropsChecksum(t *testing.T) {
	p := startProxy(t)
	if err := p.Inject(Fault{Mode: Rewrite, Rewrite: func(b []byte) []byte { return b[:1] }}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(p.URL() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "{" || resp.Header.Get("X-Amz-Crc32") != "" || resp.ContentLength != 1 {
		t.Fatalf("rewritten answer %q crc %q length %d", b, resp.Header.Get("X-Amz-Crc32"), resp.ContentLength)
	}
}
