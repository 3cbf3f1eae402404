package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	agv2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/apigw-guard/guard/internal/rie"
)

// sdkClients returns real SDK clients whose endpoint is the gateway, as the
// cache invalidator's are under `make run` (AWS_ENDPOINT_URL_API_GATEWAY,
// AWS_ENDPOINT_URL_APIGATEWAYV2, AWS_ENDPOINT_URL_LAMBDA).
func sdkClients(t *testing.T, h *harness) (*apigateway.Client, *apigatewayv2.Client, *lambda.Client) {
	t.Helper()
	srv := httptest.NewServer(h.gw)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:  srv.Client(),
	}
	return apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestFlushStageAuthorizersCacheWithTheSDK(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	rest, _, _ := sdkClients(t, h)
	ctx := context.Background()

	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", otherToken), 200, "")
	if n := h.auth.calls(); n != 2 {
		t.Fatalf("authorizer invoked %d times, want 2", n)
	}
	if _, err := rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
		RestApiId: aws.String("restapi"), StageName: aws.String("dev")}); err != nil {
		t.Fatalf("FlushStageAuthorizersCache: %v", err)
	}
	if n := h.gw.cache.len(); n != 0 {
		t.Errorf("%d cache entries after the flush, want 0", n)
	}
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if n := h.auth.calls(); n != 3 {
		t.Errorf("authorizer invoked %d times after the flush, want 3", n)
	}
	if _, err := rest.FlushStageCache(ctx, &apigateway.FlushStageCacheInput{
		RestApiId: aws.String("restapi"), StageName: aws.String("dev")}); err != nil {
		t.Errorf("FlushStageCache: %v", err)
	}

	var nf *agtypes.NotFoundException
	_, err := rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
		RestApiId: aws.String("nope"), StageName: aws.String("dev")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown API: err = %v, want NotFoundException", err)
	}
	_, err = rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
		RestApiId: aws.String("restapi"), StageName: aws.String("prod")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown stage: err = %v, want NotFoundException", err)
	}
	_, err = rest.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
		RestApiId: aws.String("httpapi"), StageName: aws.String("dev")})
	if !errors.As(err, &nf) {
		t.Errorf("HTTP API through the REST call: err = %v, want NotFoundException", err)
	}
}

func TestResetAuthorizersCacheWithTheSDK(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	h.auth.handle = func(map[string]any) (rie.Result, error) { return ok(map[string]any{"isAuthorized": true}) }
	_, v2, _ := sdkClients(t, h)
	ctx := context.Background()

	expect(t, h.do("GET", "/httpapi/dev/orders", "Authorization", token), 200, "")
	h.auth.handle = allowAll
	expect(t, h.do("GET", "/restapi/dev/orders", "Authorization", token), 200, "")
	if _, err := v2.ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{
		ApiId: aws.String("httpapi"), StageName: aws.String("dev")}); err != nil {
		t.Fatalf("ResetAuthorizersCache: %v", err)
	}
	if n := h.gw.cache.len(); n != 1 {
		t.Errorf("%d cache entries after resetting the HTTP API stage, want 1 (the REST API's stays)", n)
	}
	h.auth.handle = func(map[string]any) (rie.Result, error) { return ok(map[string]any{"isAuthorized": false}) }
	expect(t, h.do("GET", "/httpapi/dev/orders", "Authorization", token), 403, `{"message":"Forbidden"}`)

	var nf *agv2types.NotFoundException
	if _, err := v2.ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{
		ApiId: aws.String("restapi"), StageName: aws.String("dev")}); !errors.As(err, &nf) {
		t.Errorf("REST API through the HTTP call: err = %v, want NotFoundException", err)
	}
}

func TestLambdaInvokeEndpoint(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	_, _, lc := sdkClients(t, h)
	ctx := context.Background()
	h.backend.handle = func(ev map[string]any) (rie.Result, error) { return ok(map[string]any{"got": ev["x"]}) }

	for _, name := range []string{"BackendFunction", "arn:aws:lambda:us-east-1:123456789012:function:BackendFunction"} {
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"x":1}`)})
		if err != nil {
			t.Fatalf("Invoke(%s): %v", name, err)
		}
		if string(out.Payload) != `{"got":1}` || out.FunctionError != nil || out.StatusCode != 200 {
			t.Errorf("Invoke(%s) = %s, error %v, status %d", name, out.Payload, out.FunctionError, out.StatusCode)
		}
	}
	h.backend.handle = func(map[string]any) (rie.Result, error) { return fnError("bad input") }
	out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("BackendFunction"), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || string(out.Payload) != `{"errorMessage":"bad input","errorType":"errorString"}` {
		t.Errorf("function error: FunctionError %v payload %s", aws.ToString(out.FunctionError), out.Payload)
	}
	before := h.backend.calls()
	out, err = lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("BackendFunction"), InvocationType: lambdatypes.InvocationTypeDryRun})
	if err != nil || out.StatusCode != http.StatusNoContent || h.backend.calls() != before {
		t.Errorf("DryRun: err %v status %d, calls %d→%d", err, out.StatusCode, before, h.backend.calls())
	}
	var nf *lambdatypes.ResourceNotFoundException
	if _, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("Nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown function: err = %v, want ResourceNotFoundException", err)
	}
}

// crashy is a Restartable that crashes on demand.
type crashy struct {
	crashed  bool
	restarts int
}

func (c *crashy) Invoke(context.Context, []byte) (rie.Result, error) {
	if c.crashed {
		return rie.Result{Status: 502, Err: &rie.FunctionError{Message: "exit status 2", Type: "Runtime.ExitError"}}, nil
	}
	return rie.Result{Status: 200, Payload: []byte(`{"statusCode":200,"body":"fine"}`)}, nil
}
func (c *crashy) Running() bool { return !c.crashed }
func (c *crashy) Restart(context.Context) error {
	c.restarts++
	c.crashed = false
	return nil
}

func TestCrashedFunctionIsRestarted(t *testing.T) {
	h := newHarness(t, 300, allowAll)
	c := &crashy{crashed: true}
	h.gw.fns["BackendFunction"] = Supervise("BackendFunction", c, nil)
	expect(t, h.do("GET", "/restapi/dev/open"), 502, `{"message":"Internal server error"}`)
	if c.restarts != 1 {
		t.Fatalf("restarts = %d, want 1", c.restarts)
	}
	expect(t, h.do("GET", "/restapi/dev/open"), 200, "fine")
	if c.restarts != 1 {
		t.Errorf("restarts = %d after a good call, want still 1", c.restarts)
	}
}
