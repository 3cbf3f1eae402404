//go:build !notrace

package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-xray-sdk-go/xray"
)

func awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
}

const (
	traceRoot = "1-5759e988-bd862e3fe1be46a994272793"
	parentID  = "53995c3f42cd8ad8"
)

// lambdaCtx is an invocation context as aws-lambda-go builds it.
func lambdaCtx(sampled string) context.Context {
	//nolint:staticcheck // the key aws-lambda-go and the X-Ray SDK agree on
	return context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, "Root="+traceRoot+";Parent="+parentID+";Sampled="+sampled)
}

// daemon is a fake X-Ray daemon: the UDP socket the SDK sends segments to.
type daemon struct{ conn *net.UDPConn }

func newDaemon(t *testing.T) *daemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	return &daemon{conn}
}

// segments reads what arrives within wait: each datagram is a header line
// and one JSON (sub)segment.
func (d *daemon) segments(t *testing.T, wait time.Duration) []map[string]any {
	t.Helper()
	var out []map[string]any
	buf := make([]byte, 64<<10)
	for {
		_ = d.conn.SetReadDeadline(time.Now().Add(wait))
		n, err := d.conn.Read(buf)
		if err != nil {
			return out
		}
		_, body, ok := bytes.Cut(buf[:n], []byte("\n"))
		var seg map[string]any
		if !ok || json.Unmarshal(body, &seg) != nil {
			t.Fatalf("datagram %q is not a header and a segment", buf[:n])
		}
		out = append(out, seg)
	}
}

// secretsServer answers DescribeSecret and records the trace header sent.
func secretsServer(t *testing.T, header *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*header = r.Header.Get("X-Amzn-Trace-Id")
		w.Header().Set("X-Amzn-Requestid", "req-sm-1")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:keys","Name":"keys"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDefaultModeIsXRayWhenLinked(t *testing.T) {
	if m, err := ParseMode(""); m != XRay || err != nil || !Linked {
		t.Errorf(`ParseMode("") = %q, %v; want xray in a binary that links it`, m, err)
	}
}

func TestXRayTracesInvocationAndAWSCalls(t *testing.T) {
	var logs bytes.Buffer
	tr := mustNew(t, WithMode(XRay), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	d := newDaemon(t)
	var sent string
	srv := secretsServer(t, &sent)
	cfg := awsConfig()
	tr.InstrumentAWS(&cfg)
	if len(cfg.APIOptions) == 0 || !tr.Enabled() {
		t.Fatal("InstrumentAWS added no middleware")
	}
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	ctx, end := tr.Start(lambdaCtx("1"), "createSecret")
	tr.Annotate(ctx, "step", "createSecret")
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("keys")}); err != nil {
		t.Fatal(err)
	}
	end(errors.New("step failed"))

	segs := d.segments(t, 500*time.Millisecond)
	if len(segs) != 1 {
		t.Fatalf("%d segments sent, want 1: %v", len(segs), segs)
	}
	seg := segs[0]
	if seg["name"] != "createSecret" || seg["trace_id"] != traceRoot || seg["parent_id"] != parentID || seg["type"] != "subsegment" {
		t.Errorf("segment = %v, want subsegment createSecret of trace %s under %s", seg, traceRoot, parentID)
	}
	if a, _ := seg["annotations"].(map[string]any); a["step"] != "createSecret" {
		t.Errorf("annotations = %v, want step createSecret", seg["annotations"])
	}
	if seg["fault"] != true {
		t.Errorf("fault = %v, want true (the step's error)", seg["fault"])
	}
	subs, _ := seg["subsegments"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subsegments = %v, want the DescribeSecret call", seg["subsegments"])
	}
	call := subs[0].(map[string]any)
	awsInfo, _ := call["aws"].(map[string]any)
	if call["name"] != "Secrets Manager" || call["namespace"] != "aws" || awsInfo["operation"] != "DescribeSecret" || awsInfo["request_id"] != "req-sm-1" {
		t.Errorf("call subsegment = %v, want Secrets Manager DescribeSecret with its request id", call)
	}
	if !strings.Contains(sent, "Root="+traceRoot) || !strings.Contains(sent, "Sampled=1") {
		t.Errorf("X-Amzn-Trace-Id sent = %q, want the trace passed on", sent)
	}
	if logs.Len() != 0 {
		t.Errorf("SDK logged: %s", logs.String())
	}
}

func TestXRayUnsampledOrUntracedSendsNothing(t *testing.T) {
	var logs bytes.Buffer
	tr := mustNew(t, WithMode(XRay), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	d := newDaemon(t)
	var sent string
	srv := secretsServer(t, &sent)
	cfg := awsConfig()
	tr.InstrumentAWS(&cfg)
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	for name, ctx := range map[string]context.Context{
		"not sampled": lambdaCtx("0"),
		"no trace":    context.Background(), // a test or a tool: no invocation
		//nolint:staticcheck
		"emulator": context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, ""), // aws-lambda-go without a trace header
	} {
		ctx, end := tr.Start(ctx, "flush")
		if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("keys")}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		end(nil)
	}
	if segs := d.segments(t, 300*time.Millisecond); len(segs) != 0 {
		t.Errorf("sent %v, want nothing", segs)
	}
	if logs.Len() != 0 {
		t.Errorf("SDK logged: %s", logs.String())
	}
}
