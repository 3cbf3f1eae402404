package awsconfig

import (
	"crypto/fips140"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"time"
)

// The HTTP client's connection pool, shared by every service client built
// from one configuration.
const (
	maxIdleConns        = 16
	maxIdleConnsPerHost = 8
	idleConnTimeout     = 90 * time.Second
	tcpKeepAlive        = 30 * time.Second
)

// client is the HTTP client of every service client built from the
// configuration: one connection pool, kept alive between warm invocations,
// a bounded connect and a bounded attempt. It is not an
// awshttp.BuildableClient on purpose: each service client copies a
// BuildableClient, transport and pool included, whereas this one is shared
// as it is.
type client struct {
	http   *http.Client
	dialer *net.Dialer
}

func newHTTPClient(o Options) *client {
	d := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: tcpKeepAlive}
	return &client{dialer: d, http: &http.Client{
		Transport: newTransport(o, d),
		Timeout:   o.RequestTimeout,
		// The SDK surfaces a redirect as the response it is; none of the
		// APIs the suite calls redirects, and a request signed for one host
		// is never replayed to another.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// newTransport has the SDK's default transport settings (awshttp's
// defaultHTTPTransport: proxy from the environment, TLS 1.2 at least, NIST
// curves only under FIPS 140-3, HTTP/2 when the server offers it) with the
// pool and timeouts of Options.
func newTransport(o Options, d *net.Dialer) *http.Transport {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if fips140.Enabled() {
		tlsConfig.CurvePreferences = []tls.CurveID{tls.CurveP256, tls.CurveP384, tls.CurveP521}
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   2 * o.DialTimeout,
		TLSClientConfig:       tlsConfig,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// Do implements aws.HTTPClient.
//
// It hands net/http the request body without its WriteTo method. The SDK
// (smithy-go's ClientHandler) closes the request body as soon as Do returns,
// which can be before net/http's write loop has finished with it: after
// sending Content-Length bytes, the write loop copies whatever is left of the
// body to io.Discard. When the endpoint answers within microseconds of
// reading the body, the close can win that race; through the SDK body's
// WriteTo, the final copy then fails with io.EOF and net/http closes the
// connection instead of pooling it, so a later call opens a new one (and,
// against AWS, does a TLS handshake). Through Read, the closed body reads
// as an ordinary end of body and the connection is kept.
func (c *client) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.WithContext(req.Context()) // a shallow copy: the SDK's request stays as it built it
		req.Body = readCloser{req.Body}
	}
	return c.http.Do(req)
}

// readCloser exposes only Read and Close of the body it wraps.
type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
