// Package faultproxy is a reverse proxy that sits between a function and one
// of its dependencies (moto's Secrets Manager or DynamoDB, a JWKS endpoint)
// and injects faults on demand: the dependency unreachable, slow, throttling,
// answering malformed or empty bodies, or answering a rewritten body. It is
// test tooling for the integration tests; never deployed.
//
// Start one per dependency and point the function's endpoint setting at it
// (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_DYNAMODB, a jwks_uri).
// A [Proxy] passes everything through until [Proxy.Inject] sets a [Fault];
// [Proxy.Heal] passes everything through again. It is safe for concurrent
// use.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mode is the kind of fault a [Fault] injects.
type Mode int

const (
	// Pass forwards requests unchanged.
	Pass Mode = iota
	// Refuse closes the proxy's listener and every open connection: the
	// dependency is unreachable (connection refused) until Heal.
	Refuse
	// Delay holds each matching request for Fault.Delay (or until the
	// client gives up), then forwards it.
	Delay
	// Respond answers matching requests itself with Fault.Status,
	// Fault.Header and Fault.Body, without forwarding: throttling (429),
	// a malformed body, an empty body.
	Respond
	// Rewrite forwards matching requests and replaces the body of a 200
	// answer with Fault.Rewrite's result (for example a key set without
	// one key).
	Rewrite
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Refuse:
		return "refuse"
	case Delay:
		return "delay"
	case Respond:
		return "respond"
	case Rewrite:
		return "rewrite"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Fault is what the proxy does to matching requests.
type Fault struct {
	Mode Mode
	// Match selects the requests the fault applies to by the prefix of
	// their target (see [Target]); empty matches every request. Refuse
	// ignores it: a closed listener refuses everyone.
	Match   string
	Delay   time.Duration
	Status  int // Respond; 0 means 200
	Header  http.Header
	Body    string
	Rewrite func(body []byte) []byte
}

// Throttle is the fault of a throttling AWS JSON-protocol service: 429 with
// a ThrottlingException body.
func Throttle(match string) Fault {
	return Fault{Mode: Respond, Match: match, Status: http.StatusTooManyRequests,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Errortype": {"ThrottlingException"}, "Retry-After": {"1"}},
		Body:   `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
}

// Target names a request for Fault.Match: its X-Amz-Target header for the
// AWS JSON protocols ("secretsmanager.GetSecretValue",
// "DynamoDB_20120810.Query"), else its URL path.
func Target(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	return r.URL.Path
}

// Stats counts what the proxy saw.
type Stats struct {
	Requests  int // requests received
	Faulted   int // requests a fault applied to
	Forwarded int // requests answered by the upstream with a status below 500
	// Abandoned counts delayed requests whose client gave up first.
	Abandoned int
	// InFlight is the number of requests being handled now; MaxInFlight
	// the most at any time.
	InFlight, MaxInFlight int
	// LastOK is when the last request that the upstream answered with a
	// status below 500, without a fault, arrived (zero if none).
	LastOK time.Time
	// ByTarget counts requests per target.
	ByTarget map[string]int
}

// Proxy is one fault-injecting reverse proxy.
type Proxy struct {
	upstream *url.URL
	addr     string
	rp       *httputil.ReverseProxy

	mu     sync.Mutex
	fault  Fault
	srv    *http.Server
	down   bool
	stats  Stats
	closed bool
}

// Start listens on a free loopback port and forwards to upstream (a base URL
// such as moto's endpoint).
func Start(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: bad upstream %q", upstream)
	}
	p := &Proxy{upstream: u, stats: Stats{ByTarget: map[string]int{}}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // moto and the gateway ignore it; SigV4 signed it
		},
		Transport:      tr,
		ModifyResponse: p.modify,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
			}
		},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	return p, nil
}

// URL returns the proxy's base URL; it stays the same across Refuse.
func (p *Proxy) URL() string { return "http://" + p.addr }

// Inject replaces the current fault with f.
func (p *Proxy) Inject(f Fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	if f.Mode == Refuse {
		if !p.down {
			p.down = true
			_ = p.srv.Close() // the listener and every connection
		}
		return nil
	}
	return p.upLocked()
}

// Heal removes the fault: requests pass through again, and a refused
// listener listens again on the same address.
func (p *Proxy) Heal() error { return p.Inject(Fault{}) }

// Fault returns the fault in force.
func (p *Proxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.ByTarget = make(map[string]int, len(p.stats.ByTarget))
	for k, v := range p.stats.ByTarget {
		s.ByTarget[k] = v
	}
	return s
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if !p.down {
		_ = p.srv.Close()
	}
	p.down = true
}

// upLocked listens again after Refuse. p.mu is held.
func (p *Proxy) upLocked() error {
	if !p.down || p.closed {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
	}
	p.down = false
	p.serve(ln)
	return nil
}

// serve starts a server on ln. p.mu is held (or p is not shared yet).
func (p *Proxy) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 10 * time.Second}
	p.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

type ctxKey struct{}

// exchange is what modify needs to know about a request.
type exchange struct {
	rewrite func([]byte) []byte
	arrived time.Time
	target  string
}

func (p *Proxy) handle(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	target := Target(r)
	p.mu.Lock()
	f := p.fault
	p.stats.Requests++
	p.stats.ByTarget[target]++
	p.stats.InFlight++
	p.stats.MaxInFlight = max(p.stats.MaxInFlight, p.stats.InFlight)
	applies := f.Mode != Pass && strings.HasPrefix(target, f.Match)
	if applies {
		p.stats.Faulted++
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.stats.InFlight--
		p.mu.Unlock()
	}()

	if !applies {
		p.forward(w, r, exchange{arrived: arrived, target: target})
		return
	}
	switch f.Mode {
	case Delay:
		// Read the body first: the server notices a client that gives up
		// only once the request has been read.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			p.mu.Lock()
			p.stats.Abandoned++
			p.mu.Unlock()
			return
		}
		p.forward(w, r, exchange{target: target}) // a late answer is not a good read
	case Respond:
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		w.WriteHeader(cmpStatus(f.Status))
		_, _ = io.WriteString(w, f.Body)
	case Rewrite:
		p.forward(w, r, exchange{rewrite: f.Rewrite, target: target})
	default: // Refuse while a request was already being read
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
			}
		}
	}
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, x exchange) {
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, x)))
}

// modify counts good answers and applies a Rewrite fault.
func (p *Proxy) modify(resp *http.Response) error {
	x, _ := resp.Request.Context().Value(ctxKey{}).(exchange)
	if resp.StatusCode < 500 && !x.arrived.IsZero() {
		p.mu.Lock()
		p.stats.Forwarded++
		if x.arrived.After(p.stats.LastOK) {
			p.stats.LastOK = x.arrived
		}
		p.mu.Unlock()
	}
	if x.rewrite == nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return errors.Join(errors.New("faultproxy: read upstream body"), err)
	}
	body = x.rewrite(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("X-Amz-Crc32") // DynamoDB's checksum of the original body
	resp.Header.Del("Etag")
	return nil
}
