package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a byte-for-byte TCP proxy in front of one endpoint. It counts
// the TCP connections clients open to it (each is one new connection to
// the endpoint: the proxy dials the endpoint once per client connection)
// and the HTTP requests sent over them. It never changes a byte in either
// direction, so keep-alive and connection closes are the client's and the
// endpoint's own.
type proxy struct {
	name string
	ln   net.Listener
	srv  *http.Server // a keep-alive front (see newFront); nil for a TCP proxy

	mu       sync.Mutex
	upstream string // host:port; set before the first client connects

	conns, requests atomic.Int64
	// Only a front knows these: requests the client gave up on before the
	// answer (a timeout: that connection cannot be reused), and the
	// slowest answer of the endpoint.
	aborted atomic.Int64
	slowest atomic.Int64 // nanoseconds
}

// newProxy listens on a free loopback port. Set its upstream with target
// before anything connects.
func newProxy(name string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{name: name, ln: ln}
	go p.serve()
	return p, nil
}

// URL is the proxy's base URL, for an AWS_ENDPOINT_URL_* variable.
func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) target(hostport string) {
	p.mu.Lock()
	p.upstream = hostport
	p.mu.Unlock()
}

func (p *proxy) Close() error {
	if p.srv != nil {
		return p.srv.Close()
	}
	return p.ln.Close()
}

// newFront is a proxy that speaks HTTP/1.1 with keep-alive to its clients
// whatever the endpoint does, for an endpoint that closes every connection
// after one response, as moto's server (Werkzeug) does: "Connection:
// close" on every answer, so no client could ever reuse a connection to it.
// AWS's endpoints keep connections open, and the front stands in for that:
// it counts the client connections and requests as the TCP proxy does, and
// forwards each request (Host header included) over a connection of its own
// to the endpoint, which it does not count.
func newFront(name, upstream string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{name: name, ln: ln, upstream: upstream}
	target := &url.URL{Scheme: "http", Host: upstream}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // signed by SigV4
		},
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	p.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.requests.Add(1)
			start := time.Now()
			rp.ServeHTTP(w, r)
			if d := int64(time.Since(start)); d > p.slowest.Load() {
				p.slowest.Store(d) // racy maximum: good enough for a report
			}
			if r.Context().Err() != nil {
				p.aborted.Add(1)
			}
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				p.conns.Add(1)
			}
		},
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// counts is a snapshot of a proxy's counters.
type counts struct{ conns, requests, aborted int64 }

func (p *proxy) snapshot() counts { return counts{p.conns.Load(), p.requests.Load(), p.aborted.Load()} }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	up := p.upstream
	p.mu.Unlock()
	u, err := net.DialTimeout("tcp", up, 5*time.Second)
	if err != nil {
		return
	}
	defer u.Close()

	responses := make(chan struct{})
	go func() {
		_, _ = io.Copy(c, u)
		closeWrite(c) // the endpoint closed: so does the client's side
		close(responses)
	}()
	p.forwardRequests(c, u)
	closeWrite(u)
	<-responses
}

// forwardRequests copies the client's bytes to the endpoint unchanged,
// request by request: it parses each HTTP/1.1 request from the bytes it
// reads, counts it, and only then passes those bytes on, so a request is
// counted before the endpoint can answer it. Bytes that do not parse as a
// request are passed on as they are, and so is everything after them.
func (p *proxy) forwardRequests(c, u net.Conn) {
	rec := &recorder{r: c}
	br := bufio.NewReader(rec)
	for {
		req, err := http.ReadRequest(br)
		if err == nil {
			_, err = io.Copy(io.Discard, req.Body)
			req.Body.Close()
			if err == nil {
				p.requests.Add(1)
			}
		}
		if rec.buf.Len() > 0 {
			if _, werr := u.Write(rec.buf.Bytes()); werr != nil {
				return
			}
			rec.buf.Reset()
		}
		if err != nil {
			_, _ = io.Copy(u, c)
			return
		}
	}
}

// recorder keeps a copy of what is read through it.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
		return
	}
	_ = c.Close()
}
