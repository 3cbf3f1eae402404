package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProxyCountsConnectionsAndRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "echo:"+string(b))
	}))
	defer srv.Close()
	p, err := newProxy("test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.target(strings.TrimPrefix(srv.URL, "http://"))

	post := func(c *http.Client, body string) {
		t.Helper()
		resp, err := c.Post(p.URL()+"/x", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if string(got) != "echo:"+body {
			t.Fatalf("response %q, want %q: the proxy must pass bytes through unchanged", got, "echo:"+body)
		}
	}

	keepAlive := &http.Client{Transport: &http.Transport{}}
	for range 5 {
		post(keepAlive, "GET / HTTP/1.1\r\n\r\n") // a body that looks like a request is not one
	}
	if got := p.snapshot(); got != (counts{conns: 1, requests: 5}) {
		t.Errorf("keep-alive client: %+v, want 1 connection and 5 requests", got)
	}

	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		post(noKeepAlive, "x")
	}
	if got := p.snapshot(); got != (counts{conns: 4, requests: 8}) {
		t.Errorf("after 3 calls without keep-alive: %+v, want 4 connections and 8 requests", got)
	}
}

func TestProxyPassesTheEndpointsClose(t *testing.T) {
	// An endpoint that closes after each response: the client must see the
	// close and open a new connection, which the proxy counts.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	p, err := newProxy("test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.target(strings.TrimPrefix(srv.URL, "http://"))
	c := &http.Client{Transport: &http.Transport{}}
	for range 3 {
		resp, err := c.Get(p.URL())
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := p.snapshot(); got != (counts{conns: 3, requests: 3}) {
		t.Errorf("endpoint closing each connection: %+v, want 3 connections and 3 requests", got)
	}
}

func TestFrontKeepsClientConnectionsAlive(t *testing.T) {
	// Like moto: every answer closes the connection.
	var upstreamConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, r.Host+" "+r.Header.Get("X-Amz-Target"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			upstreamConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	p, err := newFront("test", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Transport: &http.Transport{}}
	for range 4 {
		req, _ := http.NewRequest(http.MethodPost, p.URL(), strings.NewReader("{}"))
		req.Host = "dynamodb.us-east-1.amazonaws.com"
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "dynamodb.us-east-1.amazonaws.com DynamoDB_20120810.GetItem" {
			t.Fatalf("endpoint saw %q, want the client's Host and headers", got)
		}
	}
	if got := p.snapshot(); got != (counts{conns: 1, requests: 4}) {
		t.Errorf("front: %+v, want 1 client connection and 4 requests", got)
	}
	if n := upstreamConns.Load(); n != 4 {
		t.Errorf("%d connections to the endpoint, want 4 (it closes each)", n)
	}
}

func TestFrontCountsRequestsGivenUp(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p, err := newFront("test", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := c.Get(p.URL()); err == nil {
		t.Fatal("the request succeeded, want a timeout")
	}
	// The front sees the client go away once the client's side is closed.
	deadline := time.Now().Add(5 * time.Second)
	for p.snapshot().aborted == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.snapshot(); got.requests != 1 || got.aborted != 1 {
		t.Errorf("front: %+v, want 1 request, given up", got)
	}
}
