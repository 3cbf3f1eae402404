package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/internal/samtemplate"
	"github.com/apigw-guard/guard/shared/httpsig"
	"github.com/apigw-guard/guard/shared/validate"
)

var testKey = bytes.Repeat([]byte{0x5a}, 32)

// oneKey is the authorizer's key source: one key for partner-a.
type oneKey struct{}

func (oneKey) Keys(_ context.Context, id string) ([]httpsig.Key, error) {
	if id != "partner-a" {
		return nil, httpsig.ErrUnknownKey
	}
	return []httpsig.Key{{Secret: testKey}}, nil
}
func (oneKey) Refresh(context.Context) (bool, error) { return false, nil }

func projectTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tm, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestPickAPI(t *testing.T) {
	tm := projectTemplate(t)
	for _, tc := range []struct{ name, id string }{
		{"rest", "restapi"}, {"REST", "restapi"}, {"http", "httpapi"}, {"httpapi", "httpapi"},
	} {
		a, err := pickAPI(tm, tc.name)
		if err != nil || a.ID != tc.id || a.Stage != "dev" {
			t.Errorf("pickAPI(%q) = %v, %v; want %s, stage dev", tc.name, a, err, tc.id)
		}
	}
	if _, err := pickAPI(tm, "websocket"); err == nil {
		t.Error("pickAPI(websocket) found an API")
	}
}

// TestSignedRequest checks the request against what the request
// authorizer and the validator do with it: the signature verifies over the
// path API Gateway reports (with the stage, without the local gateway's API
// id), the body passes the validator's webhook rules, and the tampered body
// fails them on its digest only.
func TestSignedRequest(t *testing.T) {
	tm := projectTemplate(t)
	rules, err := os.ReadFile(filepath.Join("..", "..", "functions", "validator", "testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	val, err := validate.New(rules, validate.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for _, kind := range []string{"rest", "http"} {
		t.Run(kind, func(t *testing.T) {
			api, err := pickAPI(tm, kind)
			if err != nil {
				t.Fatal(err)
			}
			body, err := webhookBody("order.paid", "42", now)
			if err != nil {
				t.Fatal(err)
			}
			req, signedPath, err := signedRequest("http://127.0.0.1:3000", api, "partner-a", testKey, body, now)
			if err != nil {
				t.Fatal(err)
			}
			if want := "http://127.0.0.1:3000/" + api.ID + "/dev/webhooks/orders"; req.URL.String() != want || req.Method != "POST" {
				t.Errorf("request %s %s, want POST %s", req.Method, req.URL, want)
			}
			if signedPath != "/dev/webhooks/orders" {
				t.Errorf("signed @path %q, want /dev/webhooks/orders", signedPath)
			}
			sent, _ := io.ReadAll(req.Body)
			sum := sha256.Sum256(sent)
			if got, want := req.Header.Get("Content-Digest"), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":"; got != want {
				t.Errorf("Content-Digest %q, want %q", got, want)
			}
			in := req.Header.Get("Signature-Input")
			if !strings.HasPrefix(in, `sig1=("@method" "@authority" "@path" "content-digest" "content-type");created=1800000000;keyid="partner-a";alg="hmac-sha256";nonce="`) {
				t.Errorf("Signature-Input %q", in)
			}

			// As the authorizer sees it: the Host header, the reported path,
			// lower-case header names.
			headers := map[string]string{"host": req.URL.Host}
			for k := range req.Header {
				headers[strings.ToLower(k)] = req.Header.Get(k)
			}
			v, err := httpsig.NewVerifier(oneKey{}, httpsig.WithClock(func() time.Time { return now }),
				httpsig.WithRequired(components...))
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), &httpsig.Request{Method: "POST", Authority: headers["host"], Path: signedPath, Header: headers})
			if err != nil || res.KeyID != "partner-a" {
				t.Errorf("Verify = %+v, %v; want partner-a", res, err)
			}
			if _, err := v.Verify(context.Background(), &httpsig.Request{Method: "POST", Authority: headers["host"], Path: req.URL.Path, Header: headers}); err == nil {
				t.Error("the signature also verifies over the local gateway's path with the API id")
			}

			event := func(body []byte) *validate.Request {
				return validate.RequestV2(&events.APIGatewayV2HTTPRequest{
					RouteKey: "POST /webhooks/orders", Headers: headers, Body: string(body),
					RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
				})
			}
			if err := val.Validate(context.Background(), event(sent)); err != nil {
				t.Errorf("the validator refuses the webhook: %v", err)
			}
			other, err := tampered("order.paid", "42", now)
			if err != nil {
				t.Fatal(err)
			}
			err = val.Validate(context.Background(), event(other))
			var p *validate.Problem
			if !errors.As(err, &p) || p.Rule != validate.RuleDigestMismatch {
				t.Errorf("tampered body %s: %v, want %s", other, err, validate.RuleDigestMismatch)
			}
		})
	}
}

func TestRunWithoutAStack(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), options{api: "rest", data: t.TempDir(), template: filepath.Join("..", "..", "template.yaml")}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "make run") {
		t.Errorf("run without a stack file: %v, want the hint to start one", err)
	}
}
