package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestSecretNeverPrinted(t *testing.T) {
	const raw = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("decision", "token", Secret(raw))
	log.Info("group", slog.Group("g", "sig", Secret(raw)))
	out := buf.String() + fmt.Sprint(Secret(raw)) + fmt.Sprintf("%v %s %#v", Secret(raw), Secret(raw), Secret(raw))
	if strings.Contains(out, raw) {
		t.Fatalf("secret printed: %s", out)
	}
	if got := strings.Count(buf.String(), "REDACTED"); got != 2 {
		t.Fatalf("REDACTED appears %d times in logs, want 2: %s", got, buf.String())
	}
}

// jwt is a real-shaped token: header, payload and signature.
const jwt = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.MEUCIQD9c2lnbmF0dXJlLXBhcnQtb25l"

func TestLoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(WithWriter(&buf)).With("authorization", "Bearer "+jwt)
	log.Info("verify "+jwt+" failed",
		"token", "opaque-value-1",
		"Client_Secret", "opaque-value-2",
		"X-Api-Key", "opaque-value-3",
		"headers", map[string]string{"authorization": "Basic b3BhcXVl", "x-trace": "t1", "x-forwarded": jwt},
		"header", http.Header{"Cookie": {"session=opaque-value-4"}, "Accept": {"*/*"}},
		"err", errors.New("parse "+jwt+": bad signature"),
		"note", "got "+jwt,
		slog.Group("req", "signature", "sig=:opaque-value-5:", "path", "/orders"),
		"kid", "k1", "sub", "alice", "secretId", "arn:aws:secretsmanager:us-east-1:1:secret:s",
	)
	out := buf.String()
	for _, leak := range []string{jwt, "b3BhcXVl", "opaque-value-", "session="} {
		if strings.Contains(out, leak) {
			t.Fatalf("log leaks %q: %s", leak, out)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, out)
	}
	want := map[string]any{
		"message": "verify REDACTED failed", "authorization": Redacted, "token": Redacted,
		"Client_Secret": Redacted, "X-Api-Key": Redacted, "err": "parse REDACTED: bad signature",
		"note": "got REDACTED", "kid": "k1", "sub": "alice", "secretId": "arn:aws:secretsmanager:us-east-1:1:secret:s",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	h := rec["headers"].(map[string]any)
	if h["authorization"] != Redacted || h["x-forwarded"] != Redacted || h["x-trace"] != "t1" {
		t.Errorf("headers = %v, want authorization and the JWT redacted, x-trace kept", h)
	}
	if hh := rec["header"].(map[string]any); fmt.Sprint(hh["Cookie"]) != "[REDACTED]" || fmt.Sprint(hh["Accept"]) != "[*/*]" {
		t.Errorf("header = %v", hh)
	}
	if g := rec["req"].(map[string]any); g["signature"] != Redacted || g["path"] != "/orders" {
		t.Errorf("group = %v", g)
	}
}

func TestLoggerKeepsCleanRecords(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(WithWriter(&buf), WithLevel(slog.LevelWarn)).Info("dropped")
	NewLogger(WithWriter(&buf)).Warn("decision", "decision", "deny", "reason", "not_entitled", "tokenUse", "access", "n", 3)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if rec["message"] != "decision" || rec["level"] != "WARN" || rec["reason"] != "not_entitled" || rec["tokenUse"] != "access" || rec["n"] != 3.0 {
		t.Errorf("record = %v", rec)
	}
	if _, ok := rec["timestamp"]; !ok {
		t.Errorf("no timestamp key (Lambda's format): %v", rec)
	}
}

func TestLoggerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-42"})
	NewLogger(WithWriter(&buf)).InfoContext(ctx, "hello")
	if RequestID(ctx) != "req-42" || !strings.Contains(buf.String(), `"requestId":"req-42"`) {
		t.Errorf("line %s, RequestID %q: want requestId req-42", buf.String(), RequestID(ctx))
	}
	if RequestID(context.Background()) != "" {
		t.Error("RequestID outside Lambda is not empty")
	}
}

func TestSensitive(t *testing.T) {
	for _, k := range []string{"authorization", "Authorization", "set-cookie", "access_token", "ID_TOKEN", "x-api-key", "secret", "private_key", "RotationToken"} {
		if !Sensitive(k) {
			t.Errorf("Sensitive(%q) = false", k)
		}
	}
	for _, k := range []string{"kid", "sub", "secretId", "tokenUse", "signature-input", "reason", "", strings.Repeat("token", 10)} {
		if Sensitive(k) {
			t.Errorf("Sensitive(%q) = true", k)
		}
	}
}

func TestScrubJWT(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no token here", "no token here"},
		{"eyJ short.a.b", "eyJ short.a.b"},
		{jwt, Redacted},
		{"a " + jwt + " b " + jwt + ".", "a REDACTED b REDACTED."},
		{"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", Redacted}, // alg none: empty signature
		{"eyJhbGciOiJub25lIn0.only-two-parts", "eyJhbGciOiJub25lIn0.only-two-parts"},
	}
	for _, tt := range tests {
		if got := scrubJWT(tt.in); got != tt.want {
			t.Errorf("scrubJWT(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if hasJWT(tt.in) != (tt.in != tt.want) {
			t.Errorf("hasJWT(%q) = %v", tt.in, hasJWT(tt.in))
		}
	}
}

func TestSecretJSON(t *testing.T) {
	b, err := json.Marshal(struct{ S Secret }{"opaque"})
	if err != nil || string(b) != `{"S":"REDACTED"}` {
		t.Errorf("json = %s, %v", b, err)
	}
}

// BenchmarkLoggerDecisionLine is an authorizer's decision line through
// NewLogger (redaction and request id included) and, for comparison,
// through the JSON handler aws-lambda-go's logger uses (Lambda's keys, no
// redaction).
func BenchmarkLoggerDecisionLine(b *testing.B) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "c0ffee00-1234-4e5a-9f00-000000000001"})
	for name, log := range map[string]*slog.Logger{
		"observe":     NewLogger(WithWriter(io.Discard)),
		"lambda-json": slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(ctx, slog.LevelInfo, "authorizer decision", slog.String("decision", "allow"), slog.String("reason", "ok"),
					slog.String("event", "REST TOKEN"), slog.Float64("latencyMs", 0.1), slog.String("kid", "k1"), slog.String("iss", "https://auth.example.com"), slog.String("sub", "alice"))
			}
		})
	}
}
