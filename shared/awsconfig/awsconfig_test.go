package awsconfig

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The variables the SDK's default loader reads that could change a result
// here; every test starts with all of them unset.
var sdkVars = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
	"AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_API_GATEWAY",
	"AWS_ENDPOINT_URL_APIGATEWAYV2", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	"AWS_ACCOUNT_ID_ENDPOINT_MODE", "AWS_CA_BUNDLE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_EC2_METADATA_DISABLED",
}

// cleanEnv unsets every SDK variable for the test (restored afterwards)
// and sets kv, pairs of name and value.
func cleanEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, k := range sdkVars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// No shared config or credentials file, and no instance metadata, for
	// the SDK's own loader in the comparisons below.
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// lambdaEnv is what Lambda gives a function, without endpoints.
var lambdaEnv = []string{
	"AWS_REGION", "eu-west-3",
	"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
	"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	"AWS_SESSION_TOKEN", "session-token-example",
}

func env(kv ...string) []string { return append(append([]string{}, lambdaEnv...), kv...) }

func TestLoadReadsRegionAndCredentials(t *testing.T) {
	cleanEnv(t, env("AWS_ACCOUNT_ID", "123456789012")...)
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-3" {
		t.Errorf("Region = %q, want eu-west-3", cfg.Region)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := aws.Credentials{
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		SessionToken: "session-token-example", AccountID: "123456789012", Source: "EnvConfigCredentials",
	}
	if got != want {
		t.Errorf("credentials = %+v, want %+v", got, want)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("BaseEndpoint = %q, want none", *cfg.BaseEndpoint)
	}
	if cfg.RetryMaxAttempts != 3 {
		t.Errorf("RetryMaxAttempts = %d, want 3", cfg.RetryMaxAttempts)
	}
}

func TestLoadFallbackNames(t *testing.T) {
	cleanEnv(t,
		"AWS_DEFAULT_REGION", "ap-south-2",
		"AWS_ACCESS_KEY", "AKIDOLD",
		"AWS_SECRET_KEY", "old-secret")
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cfg.Credentials.Retrieve(context.Background())
	if cfg.Region != "ap-south-2" || c.AccessKeyID != "AKIDOLD" || c.SecretAccessKey != "old-secret" || c.SessionToken != "" {
		t.Errorf("region %q, credentials %+v; want ap-south-2, AKIDOLD/old-secret without a session token", cfg.Region, c)
	}

	// The primary names win, as in the SDK.
	cleanEnv(t, env("AWS_DEFAULT_REGION", "ap-south-2", "AWS_ACCESS_KEY", "AKIDOLD", "AWS_SECRET_KEY", "old-secret")...)
	if cfg, err = Load(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	c, _ = cfg.Credentials.Retrieve(context.Background())
	if cfg.Region != "eu-west-3" || c.AccessKeyID != "AKIDEXAMPLE" {
		t.Errorf("region %q, access key %q; want AWS_REGION and AWS_ACCESS_KEY_ID to win", cfg.Region, c.AccessKeyID)
	}
}

func TestLoadFailsAtInit(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	tests := []struct {
		name     string
		env      []string
		want     []string
		mustNot  []string
		wantNone []string
	}{
		{name: "nothing", want: []string{"AWS_REGION is not set", "AWS_ACCESS_KEY_ID is not set", "AWS_SECRET_ACCESS_KEY is not set"}},
		{
			name:     "no secret key",
			env:      []string{"AWS_REGION", "eu-west-3", "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", "AWS_SESSION_TOKEN", "tok"},
			want:     []string{"AWS_SECRET_ACCESS_KEY is not set"},
			wantNone: []string{"AWS_REGION", "AWS_ACCESS_KEY_ID is not set"},
			mustNot:  []string{"AKIDEXAMPLE", "tok"},
		},
		{
			name:     "no access key",
			env:      []string{"AWS_REGION", "eu-west-3", "AWS_SECRET_ACCESS_KEY", secret},
			want:     []string{"AWS_ACCESS_KEY_ID is not set"},
			wantNone: []string{"AWS_SECRET_ACCESS_KEY"},
			mustNot:  []string{secret},
		},
		{
			name:     "no region",
			env:      []string{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY", secret},
			want:     []string{"AWS_REGION is not set"},
			wantNone: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
			mustNot:  []string{secret},
		},
		{
			name:    "bad ignore flag",
			env:     env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes"),
			want:    []string{`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="yes": want true or false`},
			mustNot: []string{secret},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t, tc.env...)
			_, err := Load(context.Background(), Options{})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			for _, w := range append(tc.wantNone, tc.mustNot...) {
				if strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, must not contain %q", err, w)
				}
			}
		})
	}
}

// recorder is an HTTP client that records each request's URL and answers
// with an error, so a client call resolves its endpoint without any
// network.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

var errRecorded = errors.New("recorded")

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := *req.URL
	u.RawQuery = ""
	r.urls = append(r.urls, u.String())
	return nil, errRecorded
}

// callEach makes one call with each service client the suite uses and
// returns the URL each went to, by service variable suffix.
func callEach(t *testing.T, cfg aws.Config) map[string]string {
	t.Helper()
	ctx := context.Background()
	calls := []struct {
		suffix string
		call   func(http aws.HTTPClient) error
	}{
		{"SECRETS_MANAGER", func(h aws.HTTPClient) error {
			_, err := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("keys")})
			return err
		}},
		{"DYNAMODB", func(h aws.HTTPClient) error {
			_, err := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
			return err
		}},
		{"API_GATEWAY", func(h aws.HTTPClient) error {
			_, err := apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{RestApiId: aws.String("api"), StageName: aws.String("prod")})
			return err
		}},
		{"APIGATEWAYV2", func(h aws.HTTPClient) error {
			_, err := apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{ApiId: aws.String("api"), StageName: aws.String("prod")})
			return err
		}},
		{"LAMBDA", func(h aws.HTTPClient) error {
			_, err := lambdasvc.NewFromConfig(cfg, func(o *lambdasvc.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				Invoke(ctx, &lambdasvc.InvokeInput{FunctionName: aws.String("fn")})
			return err
		}},
		{"COGNITO_IDENTITY_PROVIDER", func(h aws.HTTPClient) error {
			_, err := cip.NewFromConfig(cfg, func(o *cip.Options) { o.HTTPClient, o.RetryMaxAttempts = h, 1 }).
				AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String("eu-west-3_abc"), Username: aws.String("u")})
			return err
		}},
	}
	got := map[string]string{}
	for _, c := range calls {
		r := &recorder{}
		if err := c.call(r); !errors.Is(err, errRecorded) {
			t.Fatalf("%s: err = %v, want the recorder's", c.suffix, err)
		}
		if len(r.urls) != 1 {
			t.Fatalf("%s: %d requests, want 1", c.suffix, len(r.urls))
		}
		got[c.suffix] = r.urls[0]
	}
	return got
}

// sdkConfig is what config.LoadDefaultConfig makes of the same environment:
// the behaviour Load must keep.
func sdkConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestEndpointsAsTheSDKResolvesThem(t *testing.T) {
	const g, sm, ddb = "http://global.test:4566", "http://sm.test:5000", "http://ddb.test:5001"
	services := map[string]string{
		"SECRETS_MANAGER":           "http://sm.test:5000",
		"DYNAMODB":                  "http://ddb.test:5001",
		"API_GATEWAY":               "http://gw.test:3000",
		"APIGATEWAYV2":              "http://gw2.test:3000",
		"LAMBDA":                    "http://lambda.test:3000",
		"COGNITO_IDENTITY_PROVIDER": "http://idp.test:9229",
	}
	// Where each test call goes with no endpoint settings at all.
	awsDefault := map[string]string{
		"SECRETS_MANAGER":           "https://secretsmanager.eu-west-3.amazonaws.com/",
		"DYNAMODB":                  "https://dynamodb.eu-west-3.amazonaws.com/",
		"API_GATEWAY":               "https://apigateway.eu-west-3.amazonaws.com/restapis/api/stages/prod/cache/authorizers",
		"APIGATEWAYV2":              "https://apigateway.eu-west-3.amazonaws.com/v2/apis/api/stages/prod/cache/authorizers",
		"LAMBDA":                    "https://lambda.eu-west-3.amazonaws.com/2015-03-31/functions/fn/invocations",
		"COGNITO_IDENTITY_PROVIDER": "https://cognito-idp.eu-west-3.amazonaws.com/",
	}
	paths := map[string]string{}
	for k, u := range awsDefault {
		paths[k] = u[strings.Index(u[len("https://"):], "/")+len("https://"):]
	}
	at := func(base string) map[string]string {
		m := map[string]string{}
		for k := range awsDefault {
			m[k] = base + paths[k]
		}
		return m
	}
	each := func(f func(k string) string) map[string]string {
		m := map[string]string{}
		for k := range awsDefault {
			m[k] = f(k)
		}
		return m
	}
	allServices := func(extra ...string) []string {
		var kv []string
		for k, v := range services {
			kv = append(kv, "AWS_ENDPOINT_URL_"+k, v)
		}
		return append(kv, extra...)
	}
	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{name: "none", want: awsDefault},
		{name: "global only", env: []string{"AWS_ENDPOINT_URL", g}, want: at(g)},
		{name: "every service variable", env: allServices(), want: each(func(k string) string { return services[k] + paths[k] })},
		{name: "service variables beat the global one", env: allServices("AWS_ENDPOINT_URL", g), want: each(func(k string) string { return services[k] + paths[k] })},
		{
			name: "some services, the rest global",
			env:  []string{"AWS_ENDPOINT_URL", g, "AWS_ENDPOINT_URL_SECRETS_MANAGER", sm, "AWS_ENDPOINT_URL_DYNAMODB", ddb},
			want: each(func(k string) string {
				switch k {
				case "SECRETS_MANAGER":
					return sm + paths[k]
				case "DYNAMODB":
					return ddb + paths[k]
				}
				return g + paths[k]
			}),
		},
		{
			name: "some services, the rest AWS",
			env:  []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", sm},
			want: each(func(k string) string {
				if k == "SECRETS_MANAGER" {
					return sm + paths[k]
				}
				return awsDefault[k]
			}),
		},
		{name: "an empty service variable counts as unset", env: []string{"AWS_ENDPOINT_URL", g, "AWS_ENDPOINT_URL_SECRETS_MANAGER", ""}, want: at(g)},
		{name: "an empty global variable counts as unset", env: []string{"AWS_ENDPOINT_URL", ""}, want: awsDefault},
		{name: "ignore configured endpoints", env: allServices("AWS_ENDPOINT_URL", g, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"), want: awsDefault},
		{name: "ignore=false", env: allServices("AWS_ENDPOINT_URL", g, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"), want: each(func(k string) string { return services[k] + paths[k] })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t, env(tc.env...)...)
			cfg, err := Load(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, sdk := callEach(t, cfg), callEach(t, sdkConfig(t))
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s: request to %s, want %s", k, got[k], w)
				}
				if got[k] != sdk[k] {
					t.Errorf("%s: request to %s, but LoadDefaultConfig's client goes to %s", k, got[k], sdk[k])
				}
			}
		})
	}
}

// TestServiceEndpointVarNames pins the variable names the local stack sets
// to the SDK service IDs they must match.
func TestServiceEndpointVarNames(t *testing.T) {
	for id, want := range map[string]string{
		secretsmanager.ServiceID: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
		dynamodb.ServiceID:       "AWS_ENDPOINT_URL_DYNAMODB",
		apigateway.ServiceID:     "AWS_ENDPOINT_URL_API_GATEWAY",
		apigatewayv2.ServiceID:   "AWS_ENDPOINT_URL_APIGATEWAYV2",
		lambdasvc.ServiceID:      "AWS_ENDPOINT_URL_LAMBDA",
		cip.ServiceID:            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
	} {
		if got := serviceEndpointVar(id); got != want {
			t.Errorf("serviceEndpointVar(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestRealClientOverTheWire sends real calls to local servers: the endpoint
// variable routes them, SigV4 signs them with the environment's region,
// access key and session token, and warm calls reuse one connection.
func TestRealClientOverTheWire(t *testing.T) {
	type seen struct{ host, auth, token, target string }
	var (
		mu    sync.Mutex
		reqs  []seen
		conns atomic.Int32
	)
	newServer := func(body string) *httptest.Server {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			reqs = append(reqs, seen{r.Host, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"), r.Header.Get("X-Amz-Target")})
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, body)
		}))
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				conns.Add(1)
			}
		}
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	smSrv := newServer(`{"Name":"keys","SecretString":"v1","VersionId":"v-1"}`)
	ddbSrv := newServer(`{"Item":{"pk":{"S":"x"}}}`)
	cleanEnv(t, env("AWS_ENDPOINT_URL", "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER", smSrv.URL, "AWS_ENDPOINT_URL_DYNAMODB", ddbSrv.URL)...)

	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	db := dynamodb.NewFromConfig(cfg)
	ctx := context.Background()
	const n = 20
	for range n {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("keys")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SecretString) != "v1" {
			t.Fatalf("SecretString = %q, want v1", aws.ToString(out.SecretString))
		}
		item, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := item.Item["pk"].(*types.AttributeValueMemberS); v == nil || v.Value != "x" {
			t.Fatalf("item = %v, want pk=x", item.Item)
		}
	}
	if len(reqs) != 2*n {
		t.Fatalf("%d requests, want %d", len(reqs), 2*n)
	}
	smHost, ddbHost := strings.TrimPrefix(smSrv.URL, "http://"), strings.TrimPrefix(ddbSrv.URL, "http://")
	for i, r := range reqs {
		host, svc, target := smHost, "secretsmanager", "secretsmanager.GetSecretValue"
		if i%2 == 1 {
			host, svc, target = ddbHost, "dynamodb", "DynamoDB_20120810.GetItem"
		}
		if r.host != host || r.target != target {
			t.Errorf("request %d: %s to %s, want %s to %s", i, r.target, r.host, target, host)
		}
		wantCred := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + time.Now().UTC().Format("20060102") + "/eu-west-3/" + svc + "/aws4_request, "
		if !strings.HasPrefix(r.auth, wantCred) || !strings.Contains(r.auth, "x-amz-security-token") {
			t.Errorf("request %d: Authorization = %q, want it to start %q and sign the session token", i, r.auth, wantCred)
		}
		if strings.Contains(r.auth, "wJalrXUtnFEMI") {
			t.Errorf("request %d: Authorization carries the secret key", i)
		}
		if r.token != "session-token-example" {
			t.Errorf("request %d: X-Amz-Security-Token = %q, want the session token", i, r.token)
		}
	}
	// One connection per server: every call after the first reuses it,
	// across both service clients.
	if c := conns.Load(); c != 2 {
		t.Errorf("%d connections for %d calls to two servers, want 2 (keep-alive)", c, 2*n)
	}
}

// smithyBody behaves like the SDK's request body (smithy-go's safe
// read-closer): once closed, Read and WriteTo report io.EOF. Past its bytes
// it blocks until closed, which stages, every time, the race in which the
// SDK closes the body (right after Do returns) before net/http's write loop
// has finished with it.
type smithyBody struct {
	r      *strings.Reader
	closed chan struct{}
	once   sync.Once
}

func newSmithyBody(s string) *smithyBody {
	return &smithyBody{r: strings.NewReader(s), closed: make(chan struct{})}
}

func (b *smithyBody) Read(p []byte) (int, error) {
	if b.r.Len() > 0 {
		return b.r.Read(p)
	}
	<-b.closed
	return 0, io.EOF
}

func (b *smithyBody) WriteTo(w io.Writer) (int64, error) {
	<-b.closed
	return 0, io.EOF
}

func (b *smithyBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func TestConnectionSurvivesTheSDKClosingTheBodyEarly(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newHTTPClient(Options{DialTimeout: time.Second, RequestTimeout: 5 * time.Second})
	const body = `{"SecretId":"keys"}`
	for i := range 3 {
		b := newSmithyBody(body)
		req, err := http.NewRequest(http.MethodPost, srv.URL, b)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		b.Close() // what smithy-go's ClientHandler does as soon as Do returns
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 calls, want 1: the early close of the request body cost the connection", n)
	}
}

// failingServer answers every request 500 and counts them.
func failingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServiceError","message":"boom"}`)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestRetries(t *testing.T) {
	noWait := func(o *secretsmanager.Options) {
		// The SDK's standard retryer, without its back-off and retry quota,
		// so the attempts are counted at once; the budget stays Load's.
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			so.RateLimiter = ratelimit.None
		})
	}
	for _, tc := range []struct {
		name string
		opts Options
		want int32
	}{
		{"default", Options{}, 3},
		{"one attempt", Options{MaxAttempts: 1}, 1},
		{"five attempts", Options{MaxAttempts: 5}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := failingServer(t)
			cleanEnv(t, env("AWS_ENDPOINT_URL", srv.URL)...)
			cfg, err := Load(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			plain := secretsmanager.NewFromConfig(cfg)
			if got := plain.Options().Retryer.MaxAttempts(); got != int(tc.want) {
				t.Errorf("retryer's MaxAttempts = %d, want %d", got, tc.want)
			}
			_, err = secretsmanager.NewFromConfig(cfg, noWait).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("keys")})
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
				t.Fatalf("err = %v, want the 500", err)
			}
			if got := n.Load(); got != tc.want {
				t.Errorf("%d attempts, want %d", got, tc.want)
			}
		})
	}
}

func TestHTTPClientSettings(t *testing.T) {
	cleanEnv(t, lambdaEnv...)
	for _, tc := range []struct {
		name                     string
		opts                     Options
		dial, tls, request, idle time.Duration
	}{
		{"defaults", Options{}, time.Second, 2 * time.Second, 3 * time.Second, 90 * time.Second},
		{"set", Options{DialTimeout: 250 * time.Millisecond, RequestTimeout: 800 * time.Millisecond}, 250 * time.Millisecond, 500 * time.Millisecond, 800 * time.Millisecond, 90 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			// Every service client uses the configuration's client as it is:
			// one pool for all of them.
			sm, db := secretsmanager.NewFromConfig(cfg).Options().HTTPClient, dynamodb.NewFromConfig(cfg).Options().HTTPClient
			if sm != cfg.HTTPClient || db != cfg.HTTPClient {
				t.Fatalf("service clients use %T %p and %T %p, want the configuration's %p", sm, sm, db, db, cfg.HTTPClient)
			}
			c, ok := cfg.HTTPClient.(*client)
			if !ok {
				t.Fatalf("HTTP client is %T, want *client", cfg.HTTPClient)
			}
			tr, ok := c.http.Transport.(*http.Transport)
			if !ok {
				t.Fatalf("transport is %T, want *http.Transport", c.http.Transport)
			}
			if c.dialer.Timeout != tc.dial || c.dialer.KeepAlive != 30*time.Second {
				t.Errorf("dialer timeout %v, keep-alive %v; want %v, 30s", c.dialer.Timeout, c.dialer.KeepAlive, tc.dial)
			}
			if c.http.Timeout != tc.request {
				t.Errorf("request timeout %v, want %v", c.http.Timeout, tc.request)
			}
			if tr.DisableKeepAlives || tr.MaxIdleConnsPerHost != 8 || tr.MaxIdleConns != 16 || tr.IdleConnTimeout != tc.idle || tr.TLSHandshakeTimeout != tc.tls {
				t.Errorf("transport: keep-alives off %v, idle per host %d, idle %d, idle timeout %v, TLS timeout %v; want false, 8, 16, %v, %v",
					tr.DisableKeepAlives, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.IdleConnTimeout, tr.TLSHandshakeTimeout, tc.idle, tc.tls)
			}
			if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.Proxy == nil || !tr.ForceAttemptHTTP2 {
				t.Errorf("transport: TLS %+v, proxy set %v, HTTP/2 %v; want TLS 1.2 at least, proxy from the environment, HTTP/2", tr.TLSClientConfig, tr.Proxy != nil, tr.ForceAttemptHTTP2)
			}
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cleanEnv(t, env("AWS_ENDPOINT_URL", srv.URL)...)
	cfg, err := Load(context.Background(), Options{RequestTimeout: 50 * time.Millisecond, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = secretsmanager.NewFromConfig(cfg).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("keys")})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestLoadRejectsNegativeOptions(t *testing.T) {
	cleanEnv(t, lambdaEnv...)
	for _, o := range []Options{{DialTimeout: -1}, {RequestTimeout: -1}, {MaxAttempts: -1}} {
		if _, err := Load(context.Background(), o); err == nil {
			t.Errorf("Load(%+v) succeeded, want an error", o)
		}
	}
}
