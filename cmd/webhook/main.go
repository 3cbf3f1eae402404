// Command webhook sends one partner webhook through the running local
// stack: a JSON order event for POST /webhooks/orders, with its
// Content-Digest (RFC 9530, sha-256), signed (RFC 9421, hmac-sha256) over
// @method @authority @path content-digest content-type with the demo HMAC
// key of the request credentials secret's AWSCURRENT version. It prints the
// answer's status line and body, and exits 0 whenever an answer came back,
// as curl does.
//
// With -tamper the body is changed after signing: the signature still
// verifies (the authorizer cannot see the body), and the validator answers
// 400 because the body no longer matches its digest.
//
// Usage: go run ./cmd/webhook [-api rest|http] [-event order.paid] [-order 42] [-tamper]
//
//	[-keyid partner-a] [-data .local] [-template template.yaml]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/apigw-guard/guard/internal/demo"
	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/internal/stackfile"
	"github.com/apigw-guard/guard/shared/httpsig"
)

// The route the command posts to, and the function whose credentials
// secret holds the key.
const (
	webhookMethod     = http.MethodPost
	webhookPath       = "/webhooks/orders"
	requestAuthorizer = "RequestAuthorizerFunction"
)

// components are what the signature covers: the request authorizer's
// required ones (@method @authority @path content-digest) and the content
// type, so the body cannot be relabelled.
var components = []string{"@method", "@authority", "@path", "content-digest", "content-type"}

type options struct {
	api      string // rest, http, or a local API id
	keyID    string
	event    string
	orderID  string
	tamper   bool
	data     string
	template string
}

func main() {
	var o options
	flag.StringVar(&o.api, "api", "rest", "the API: rest, http, or a local API id (restapi, httpapi)")
	flag.StringVar(&o.keyID, "keyid", demo.PartnerKeyID, "the signing key's keyid in the request credentials secret")
	flag.StringVar(&o.event, "event", "order.paid", "the event (order.created, order.paid, order.shipped, order.cancelled)")
	flag.StringVar(&o.orderID, "order", "42", "the order id (1 to 12 digits)")
	flag.BoolVar(&o.tamper, "tamper", false, "change the body after signing (the validator answers 400)")
	flag.StringVar(&o.data, "data", ".local", "the local stack's data folder")
	flag.StringVar(&o.template, "template", "template.yaml", "the template the local stack runs")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	st, err := stackfile.Read(o.data)
	if err != nil {
		return err
	}
	tmpl, err := samtemplate.Load(o.template)
	if err != nil {
		return err
	}
	api, err := pickAPI(tmpl, o.api)
	if err != nil {
		return err
	}
	fn := tmpl.Functions[requestAuthorizer]
	if fn == nil || fn.Env["CREDENTIALS_SECRET_ID"] == "" {
		return fmt.Errorf("%s has no %s with CREDENTIALS_SECRET_ID", o.template, requestAuthorizer)
	}
	key, err := demo.HMACKey(ctx, demo.LocalSecrets(st.Moto), fn.Env["CREDENTIALS_SECRET_ID"], o.keyID)
	if err != nil {
		return err
	}
	now := time.Now()
	body, err := webhookBody(o.event, o.orderID, now)
	if err != nil {
		return err
	}
	req, signedPath, err := signedRequest(st.Gateway, api, o.keyID, key, body, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s %s: signed with keyid %s over %s (@path %s)\n", req.Method, req.URL, o.keyID, strings.Join(components, " "), signedPath)
	if o.tamper {
		other, err := tampered(o.event, o.orderID, now)
		if err != nil {
			return err
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(other)), int64(len(other))
		fmt.Fprintf(stderr, "tampered: the body sent is %s, not the one digested and signed\n", other)
	}
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s\n%s\n", resp.Proto, resp.Status, bytes.TrimSpace(b))
	return nil
}

// pickAPI returns the first API (by logical id) of the kind, or with the
// local id, name that serves the webhook route.
func pickAPI(t *samtemplate.Template, name string) (*samtemplate.API, error) {
	for _, a := range t.APIs {
		if !strings.EqualFold(string(a.Kind), name) && a.ID != name {
			continue
		}
		for _, r := range a.Routes {
			if r.Method == webhookMethod && r.Path == webhookPath {
				return a, nil
			}
		}
	}
	return nil, fmt.Errorf("no API %q with the route %s %s in the template", name, webhookMethod, webhookPath)
}

// webhook is the body the validator's schema for POST /webhooks/orders
// accepts (functions/validator/testdata/rules.json).
type webhook struct {
	Event      string `json:"event"`
	OrderID    string `json:"orderId"`
	OccurredAt string `json:"occurredAt"`
}

func webhookBody(event, orderID string, now time.Time) ([]byte, error) {
	return json.Marshal(webhook{Event: event, OrderID: orderID, OccurredAt: now.UTC().Format(time.RFC3339)})
}

// tampered is what an attacker would rather the partner had sent: the same
// order, cancelled (or paid, if it was the cancellation). It is as valid
// for the schema as the original, so only the digest check refuses it.
func tampered(event, orderID string, now time.Time) ([]byte, error) {
	other := "order.cancelled"
	if event == other {
		other = "order.paid"
	}
	return webhookBody(other, orderID, now)
}

// signedRequest builds the signed POST of body to api's webhook route on
// the local gateway, and returns it with the @path it signed. @path is what
// API Gateway reports as the request path (requestContext.path, rawPath):
// the path with the stage and without the local gateway's leading API id,
// as the client would send it to the API's execute-api host.
func signedRequest(gateway string, api *samtemplate.API, keyID string, key, body []byte, now time.Time) (*http.Request, string, error) {
	u, err := url.Parse(gateway)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("gateway URL %q in the stack file", gateway)
	}
	path := webhookPath
	if api.Stage != "$default" {
		path = "/" + api.Stage + path
	}
	sum := sha256.Sum256(body)
	digest := "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", err
	}
	signed := &httpsig.Request{
		Method: webhookMethod, Authority: u.Host, Path: path,
		Header: map[string]string{"content-digest": digest, "content-type": "application/json"},
	}
	f, err := httpsig.Sign(signed, "sig1", components,
		httpsig.Params{Created: now, KeyID: keyID, Alg: true, Nonce: hex.EncodeToString(nonce)}, key)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequest(webhookMethod, strings.TrimSuffix(gateway, "/")+"/"+api.ID+path, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Digest", digest)
	req.Header.Set("Signature-Input", f.SignatureInput)
	req.Header.Set("Signature", f.Signature)
	return req, path, nil
}
