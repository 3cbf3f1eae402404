// Package awsconfig builds the one AWS SDK configuration a function uses for
// all its clients: region and credentials from the Lambda environment,
// endpoints from the standard AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// variables (which is how the local stack points the real clients at local
// servers), and an HTTP client that keeps connections alive between warm
// invocations and never waits longer than a request can afford.
//
// Call [Load] once in main, before lambda.Start, and build every client from
// its result.
package awsconfig

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Options tune the HTTP client. The zero value gives the defaults.
type Options struct {
	// DialTimeout bounds a TCP connect; default 1 s.
	DialTimeout time.Duration
	// RequestTimeout bounds one attempt, headers and body; default 3 s.
	RequestTimeout time.Duration
	// MaxAttempts is the SDK's retry budget per call; default 3.
	MaxAttempts int
}

// Load returns the SDK configuration. It makes no network call.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if o.DialTimeout == 0 {
		o.DialTimeout = time.Second
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 3 * time.Second
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	client := awshttp.NewBuildableClient().WithTimeout(o.RequestTimeout).WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = o.DialTimeout
		d.KeepAlive = 30 * time.Second
	}).WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 16
		t.MaxIdleConnsPerHost = 8
		t.IdleConnTimeout = 90 * time.Second
		t.TLSHandshakeTimeout = o.DialTimeout * 2
	})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(client),
		config.WithRetryMaxAttempts(o.MaxAttempts),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
