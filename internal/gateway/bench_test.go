package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apigw-guard/guard/internal/procs"
	"github.com/apigw-guard/guard/internal/rie"
	"github.com/apigw-guard/guard/internal/samtemplate"
)

// BenchmarkGatewayOverhead measures what the gateway adds to a call: each
// iteration invokes the echo backend under the emulator directly, then the
// same function through the gateway over loopback HTTP (a route without an
// authorizer, and one whose authorizer answer is cached), and reports the
// medians and the median differences.
func BenchmarkGatewayOverhead(b *testing.B) {
	if _, err := procs.Tool("RIE", "aws-lambda-rie"); err != nil {
		b.Skip("aws-lambda-rie not found (make tools)")
	}
	root, err := procs.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(b.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./examples/echo-backend")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build echo-backend: %v\n%s", err, out)
	}
	ctx := context.Background()
	fn, err := rie.Start(ctx, rie.Config{Name: "EchoBackendFunction", Binary: bin, Log: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Stop()

	tm, err := samtemplate.Parse([]byte(`
Globals: {Function: {Runtime: provided.al2023}}
Resources:
  Auth: {Type: AWS::Serverless::Function}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Open: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/open/{id}", Method: GET, Auth: {Authorizer: NONE}}}
        Closed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/closed/{id}", Method: GET}}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        DefaultAuthorizer: Tok
        Authorizers: {Tok: {FunctionArn: !GetAtt Auth.Arn}}
`))
	if err != nil {
		b.Fatal(err)
	}
	gw, err := New(tm, map[string]Invoker{"Echo": fn, "Auth": &fakeFn{handle: func(map[string]any) (rie.Result, error) {
		return ok(iamPolicy("alice", "Allow", []string{arnPrefix + "api/dev/*"}, map[string]any{"email": "a@example.com"}))
	}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	client := srv.Client()

	// The event the gateway sends for GET /open/1, so the direct call does the
	// same work in the function.
	direct := []byte(`{"resource":"/open/{id}","path":"/open/1","httpMethod":"GET","headers":{"Host":"127.0.0.1"},` +
		`"multiValueHeaders":{"Host":["127.0.0.1"]},"queryStringParameters":null,"multiValueQueryStringParameters":null,` +
		`"pathParameters":{"id":"1"},"stageVariables":null,"requestContext":{"resourcePath":"/open/{id}","httpMethod":"GET",` +
		`"path":"/dev/open/1","stage":"dev","requestId":"r","identity":{"sourceIp":"127.0.0.1"},"apiId":"api"},"body":null,"isBase64Encoded":false}`)
	get := func(path string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer abc")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	get("/api/dev/closed/1") // fill the authorizer cache, warm the function
	var d, open, closed []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if res, err := fn.Invoke(ctx, direct); err != nil || res.Err != nil {
			b.Fatalf("direct invoke: %v %v", err, res.Err)
		}
		t1 := time.Now()
		get("/api/dev/open/1")
		t2 := time.Now()
		get("/api/dev/closed/1")
		t3 := time.Now()
		d, open, closed = append(d, t1.Sub(t0)), append(open, t2.Sub(t1)), append(closed, t3.Sub(t2))
	}
	b.StopTimer()
	p50 := func(xs []time.Duration) float64 {
		slices.Sort(xs)
		return float64(xs[len(xs)/2].Microseconds())
	}
	pd, po, pc := p50(d), p50(open), p50(closed)
	b.ReportMetric(pd, "direct-p50-µs")
	b.ReportMetric(po-pd, "overhead-p50-µs")
	b.ReportMetric(pc-pd, "overhead-cached-auth-p50-µs")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
