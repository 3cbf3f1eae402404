package samtemplate

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadRepoTemplate(t *testing.T) {
	tm, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatalf("Load(template.yaml): %v", err)
	}
	rest, httpAPI := tm.API("RestApi"), tm.API("httpapi")
	if rest == nil || httpAPI == nil {
		t.Fatalf("APIs = %v, want RestApi and HttpApi", tm.APIs)
	}
	if rest.Kind != REST || rest.ID != "restapi" || rest.Stage != "dev" {
		t.Errorf("RestApi = %s %q stage %q, want REST \"restapi\" stage \"dev\"", rest.Kind, rest.ID, rest.Stage)
	}
	if httpAPI.Kind != HTTP || httpAPI.ID != "httpapi" || httpAPI.Stage != "dev" {
		t.Errorf("HttpApi = %s %q stage %q, want HTTP \"httpapi\" stage \"dev\"", httpAPI.Kind, httpAPI.ID, httpAPI.Stage)
	}

	az := rest.Authorizers["TokenAuthorizer"]
	if az == nil {
		t.Fatal("RestApi has no TokenAuthorizer")
	}
	if az.Type != Token || az.Function != "TokenAuthorizerFunction" || az.TTL != 300*time.Second {
		t.Errorf("REST authorizer = %+v, want TOKEN on TokenAuthorizerFunction with TTL 300s", az)
	}
	if got := az.IdentitySources[0].Expression(REST); got != "method.request.header.Authorization" {
		t.Errorf("REST identity source = %q, want method.request.header.Authorization", got)
	}
	if az.ValidationExpression == "" {
		t.Error("REST authorizer lost its ValidationExpression")
	}

	haz := httpAPI.Authorizers["TokenAuthorizer"]
	if haz == nil || haz.PayloadFormat != "2.0" || !haz.SimpleResponses || haz.TTL != 300*time.Second {
		t.Fatalf("HTTP authorizer = %+v, want payload 2.0, simple responses, TTL 300s", haz)
	}
	var exprs []string
	for _, s := range haz.IdentitySources {
		exprs = append(exprs, s.Expression(HTTP))
	}
	if got, want := strings.Join(exprs, ","), "$request.header.Authorization,$context.routeKey"; got != want {
		t.Errorf("HTTP identity sources = %s, want %s", got, want)
	}

	if rest.APIKeySource != "AUTHORIZER" {
		t.Errorf("RestApi ApiKeySourceType = %q, want AUTHORIZER (usage plans meter the authorizer's usageIdentifierKey)", rest.APIKeySource)
	}
	type routeWant struct {
		authorizer, function string
		apiKey               bool
	}
	for _, tt := range []struct {
		api  *API
		want map[string]routeWant
	}{
		{rest, map[string]routeWant{
			"GET /orders":                {"TokenAuthorizer", "EchoBackendFunction", false},
			"GET /orders/{id}":           {"TokenAuthorizer", "EchoBackendFunction", false},
			"POST /orders":               {"TokenAuthorizer", "ValidatorFunction", false},
			"POST /admin/users":          {"TokenAuthorizer", "EchoBackendFunction", false},
			"ANY /reports/{proxy+}":      {"TokenAuthorizer", "EchoBackendFunction", false},
			"POST /webhooks/orders":      {"SignedRequestAuthorizer", "ValidatorFunction", true},
			"GET /admin/audit":           {"CredentialsAuthorizer", "EchoBackendFunction", false},
			"GET /.well-known/jwks.json": {"", "JwksFunction", false},
		}},
		{httpAPI, map[string]routeWant{
			"GET /orders":                {"TokenAuthorizer", "EchoBackendFunction", false},
			"GET /orders/{id}":           {"TokenAuthorizer", "EchoBackendFunction", false},
			"POST /orders":               {"TokenAuthorizer", "ValidatorFunction", false},
			"POST /admin/users":          {"TokenAuthorizer", "EchoBackendFunction", false},
			"POST /webhooks/orders":      {"SignedRequestAuthorizer", "ValidatorFunction", false},
			"GET /admin/audit":           {"CredentialsAuthorizer", "EchoBackendFunction", false},
			"GET /.well-known/jwks.json": {"", "JwksFunction", false},
		}},
	} {
		got := map[string]routeWant{}
		for _, r := range tt.api.Routes {
			got[r.Key()] = routeWant{r.Authorizer, r.Function, r.APIKeyRequired}
		}
		for k, want := range tt.want {
			if g, ok := got[k]; !ok || g != want {
				t.Errorf("%s route %s = %+v (present %v), want %+v", tt.api.LogicalID, k, g, ok, want)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s has %d routes, want %d (the mutual-TLS route exists only with a truststore): %v", tt.api.LogicalID, len(got), len(tt.want), got)
		}
	}

	// The request authorizer: signatures never cached, credentials cached by
	// credentials and source address (and route, for HTTP simple responses).
	for _, tt := range []struct {
		api     *API
		name    string
		sources string
		ttl     time.Duration
	}{
		{rest, "SignedRequestAuthorizer", "method.request.header.Signature-Input,method.request.header.Signature", 0},
		{rest, "CredentialsAuthorizer", "method.request.header.Authorization,context.identity.sourceIp", 300 * time.Second},
		{rest, "CertificateAuthorizer", "", 0},
		{httpAPI, "SignedRequestAuthorizer", "$request.header.Signature-Input,$request.header.Signature", 0},
		{httpAPI, "CredentialsAuthorizer", "$request.header.Authorization,$context.routeKey,$context.identity.sourceIp", 300 * time.Second},
	} {
		az := tt.api.Authorizers[tt.name]
		if az == nil {
			t.Errorf("%s has no %s", tt.api.LogicalID, tt.name)
			continue
		}
		var srcs []string
		for _, s := range az.IdentitySources {
			srcs = append(srcs, s.Expression(tt.api.Kind))
		}
		if az.Type != Request || az.Function != "RequestAuthorizerFunction" || az.TTL != tt.ttl || strings.Join(srcs, ",") != tt.sources {
			t.Errorf("%s %s = %s on %s, TTL %v, sources %q; want REQUEST on RequestAuthorizerFunction, TTL %v, sources %q",
				tt.api.LogicalID, tt.name, az.Type, az.Function, az.TTL, strings.Join(srcs, ","), tt.ttl, tt.sources)
		}
		if tt.api.Kind == HTTP && (az.PayloadFormat != "2.0" || !az.SimpleResponses) {
			t.Errorf("%s %s: payload %q simple %v, want 2.0 with simple responses", tt.api.LogicalID, tt.name, az.PayloadFormat, az.SimpleResponses)
		}
	}
	if _, ok := tm.Functions["CertificateEchoFunction"]; ok {
		t.Error("CertificateEchoFunction exists without a truststore (its Condition HasTruststore is false by default)")
	}

	ra := tm.Functions["RequestAuthorizerFunction"]
	if ra == nil {
		t.Fatal("no RequestAuthorizerFunction")
	}
	for k, want := range map[string]string{
		"CREDENTIALS_SECRET_ID":    "guard-local-request-credentials",
		"NONCE_TABLE":              "guard-local-RequestNonceTable",
		"SIGNATURE_WINDOW_SECONDS": "300",
		"SIMPLE_RESPONSES":         "true",
		"ROUTES": `[{"route":"POST /webhooks/orders","accept":["signature"]}, ` +
			`{"route":"GET /admin/audit","accept":["credentials"],"sourceIp":{"allow":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","127.0.0.0/8","fc00::/7","::1/128"]}}]`,
	} {
		if got := ra.Env[k]; got != want {
			t.Errorf("request authorizer env %s = %q, want %q", k, got, want)
		}
	}
	v := tm.Functions["ValidatorFunction"]
	if v == nil {
		t.Fatal("no ValidatorFunction")
	}
	if got, want := v.Env["DOWNSTREAM_FUNCTION_ARN"], "arn:aws:lambda:us-east-1:123456789012:function:EchoBackendFunction"; got != want {
		t.Errorf("validator DOWNSTREAM_FUNCTION_ARN = %q, want %q", got, want)
	}
	if got, want := v.Env["VALIDATION_RULES_FILE"], "functions/validator/testdata/rules.json"; got != want {
		t.Errorf("validator VALIDATION_RULES_FILE = %q, want %q", got, want)
	}

	fn := tm.Functions["TokenAuthorizerFunction"]
	if fn == nil {
		t.Fatal("no TokenAuthorizerFunction")
	}
	for k, want := range map[string]string{
		"KEYS_SECRET_ID": "guard-local-signing-keys", // !Ref secret → its Name, !Sub ${AWS::StackName}
		"KEYS_ISSUER":    "https://auth.example.com", // !Ref parameter → Default
		"AUDIENCES":      "api://guard-demo",
	} {
		if got := fn.Env[k]; got != want {
			t.Errorf("env %s = %q, want %q", k, got, want)
		}
	}
	if fn.Timeout != 10*time.Second || fn.Runtime != "provided.al2023" {
		t.Errorf("Globals not merged: timeout %v runtime %q", fn.Timeout, fn.Runtime)
	}
	if fn.ARN != "arn:aws:lambda:us-east-1:123456789012:function:TokenAuthorizerFunction" {
		t.Errorf("ARN = %q", fn.ARN)
	}
}

func TestParameterOverrides(t *testing.T) {
	tm, err := Load(filepath.Join("..", "..", "template.yaml"), WithParameters(map[string]string{"AuthorizerTtlSeconds": "0", "StageName": "test"}))
	if err != nil {
		t.Fatal(err)
	}
	rest := tm.API("restapi")
	if rest.Stage != "test" || rest.Authorizers["TokenAuthorizer"].TTL != 0 {
		t.Errorf("stage %q TTL %v, want test and 0", rest.Stage, rest.Authorizers["TokenAuthorizer"].TTL)
	}

	// The request authorizer's rules follow the parameters: the
	// memory-only replay cache, the mutual-TLS route. (AdminAllowedCidrs
	// adds a resource-policy Deny, which the local gateway refuses.)
	tm, err = Load(filepath.Join("..", "..", "template.yaml"), WithParameters(map[string]string{
		"ReplayProtection":           "memory",
		"DomainName":                 "api.example.com",
		"CertificateArn":             "arn:aws:acm:us-east-1:123456789012:certificate/x",
		"MtlsTruststoreUri":          "s3://bucket/truststore.pem",
		"MtlsClientCertificateRules": `{"issuers":["CN=Partner CA"]}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	env := tm.Functions["RequestAuthorizerFunction"].Env
	if want := `[{"route":"POST /webhooks/orders","accept":["signature"]}, ` +
		`{"route":"GET /admin/audit","accept":["credentials"],"sourceIp":{"allow":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","127.0.0.0/8","fc00::/7","::1/128"]}},` +
		`{"route":"GET /partner/orders","accept":["certificate"],"clientCert":{"issuers":["CN=Partner CA"]}}]`; env["ROUTES"] != want {
		t.Errorf("ROUTES = %s\nwant     %s", env["ROUTES"], want)
	}
	if _, ok := env["NONCE_TABLE"]; ok {
		t.Errorf("NONCE_TABLE = %q with ReplayProtection=memory, want unset", env["NONCE_TABLE"])
	}
	var mtls *Route
	for _, r := range tm.API("RestApi").Routes {
		if r.Key() == "GET /partner/orders" {
			mtls = r
		}
	}
	if mtls == nil || mtls.Function != "CertificateEchoFunction" || mtls.Authorizer != "CertificateAuthorizer" {
		t.Errorf("mutual-TLS route = %+v, want GET /partner/orders on CertificateEchoFunction with CertificateAuthorizer", mtls)
	}
	for _, bad := range []map[string]string{
		{"AuthorizerTtlSeconds": "4000"}, // MaxValue 3600
		{"StageName": "no spaces"},       // AllowedPattern
		{"Nope": "x"},                    // undeclared
	} {
		if _, err := Load(filepath.Join("..", "..", "template.yaml"), WithParameters(bad)); err == nil {
			t.Errorf("overrides %v accepted, want an error", bad)
		}
	}
}

// head is the start of every inline template below.
const head = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: v1}
  Ttl: {Type: Number, Default: 60}
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Environment:
      Variables: {SHARED: global, OVERRIDDEN: global}
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: !Sub "${AWS::StackName}-keys"}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: revocations
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Auth:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., FunctionName: my-auth}
`

func TestParseResolves(t *testing.T) {
	tm, err := Parse([]byte(head + `
  Backend:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Timeout: 5
      Environment:
        Variables:
          OVERRIDDEN: local
          SECRET: !Ref Secret
          SECRET_SUB: !Sub "name=${Secret}"
          AUTH_ARN: !GetAtt Auth.Arn
          AUTH_NAME: !Ref Auth
          TABLE: !Ref Table
          TABLE_ARN: {"Fn::GetAtt": [Table, Arn]}
          JOINED: !Join ["-", [a, !Ref Stage, !Ref "AWS::Region"]]
          SELECTED: !Select [1, !Split [",", "x,y,z"]]
          LITERAL: !Sub "${!NotAVar}"
          NUMBER: 42
          BOOL: true
          ACCOUNT: !Ref AWS::AccountId
          API: !Ref Api
          DROPPED: !Ref AWS::NoValue
      Events:
        Root:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /, Method: get}
        Queue:
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Variables: {color: blue}
      Auth:
        DefaultAuthorizer: Req
        Authorizers:
          Req:
            FunctionArn: !GetAtt Auth.Arn
            FunctionPayloadType: REQUEST
            Identity:
              Headers: [X-Key]
              QueryStrings: [key]
              StageVariables: [color]
              Context: [httpMethod]
              ReauthorizeEvery: !Ref Ttl
`))
	if err != nil {
		t.Fatal(err)
	}
	env := tm.Functions["Backend"].Env
	want := map[string]string{
		"SHARED": "global", "OVERRIDDEN": "local",
		"SECRET": "guard-local-keys", "SECRET_SUB": "name=guard-local-keys",
		"AUTH_ARN":  "arn:aws:lambda:us-east-1:123456789012:function:my-auth",
		"AUTH_NAME": "my-auth",
		"TABLE":     "revocations", "TABLE_ARN": "arn:aws:dynamodb:us-east-1:123456789012:table/revocations",
		"JOINED": "a-v1-us-east-1", "SELECTED": "y", "LITERAL": "${NotAVar}",
		"NUMBER": "42", "BOOL": "true", "ACCOUNT": "123456789012", "API": "api",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["DROPPED"]; ok {
		t.Error("AWS::NoValue variable kept")
	}
	if len(env) != len(want) {
		t.Errorf("env has %d variables, want %d: %v", len(env), len(want), env)
	}
	if tm.Functions["Backend"].Timeout != 5*time.Second || tm.Functions["Auth"].Timeout != 3*time.Second {
		t.Errorf("timeouts %v / %v, want 5s / 3s (SAM default)", tm.Functions["Backend"].Timeout, tm.Functions["Auth"].Timeout)
	}
	api := tm.API("Api")
	if api.Stage != "v1" || api.StageVariables["color"] != "blue" {
		t.Errorf("stage %q vars %v", api.Stage, api.StageVariables)
	}
	az := api.Authorizers["Req"]
	if az.Type != Request || az.TTL != time.Minute || az.Function != "Auth" {
		t.Errorf("authorizer %+v", az)
	}
	var exprs []string
	for _, s := range az.IdentitySources {
		exprs = append(exprs, s.Expression(REST))
	}
	if got, want := strings.Join(exprs, ", "), "method.request.header.X-Key, method.request.querystring.key, stageVariables.color, context.httpMethod"; got != want {
		t.Errorf("identity sources = %s, want %s", got, want)
	}
	if len(api.Routes) != 1 || api.Routes[0].Key() != "GET /" || api.Routes[0].Authorizer != "Req" {
		t.Errorf("routes = %+v", api.Routes)
	}
	if f := tm.FunctionNamed("arn:aws:lambda:us-east-1:123456789012:function:my-auth:$LATEST"); f == nil || f.LogicalID != "Auth" {
		t.Errorf("FunctionNamed(qualified ARN) = %v, want Auth", f)
	}
}

func TestParseHTTPAndImplicitAPIs(t *testing.T) {
	tm, err := Parse([]byte(head + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        Catch: {Type: HttpApi}
        Open:
          Type: HttpApi
          Properties: {Path: /health, Method: GET, Auth: {Authorizer: NONE}}
        Rest:
          Type: Api
          Properties: {Path: "/items/{id}", Method: ANY}
`))
	if err != nil {
		t.Fatal(err)
	}
	h, r := tm.API("ServerlessHttpApi"), tm.API("serverlessrestapi")
	if h == nil || h.Stage != "$default" || !h.Implicit {
		t.Fatalf("implicit HTTP API = %+v", h)
	}
	if r == nil || r.Stage != "Prod" {
		t.Fatalf("implicit REST API = %+v", r)
	}
	if h.Routes[0].Key() != "$default" || h.Routes[1].Key() != "GET /health" || h.Routes[1].Authorizer != "" {
		t.Errorf("HTTP routes = %s, %s", h.Routes[0].Key(), h.Routes[1].Key())
	}
	if r.Routes[0].Key() != "ANY /items/{id}" {
		t.Errorf("REST route = %s", r.Routes[0].Key())
	}
}

func TestParseRefuses(t *testing.T) {
	fn := func(events string) string {
		return head + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
` + events
	}
	api := func(auth string) string {
		return fn(`        E: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /x, Method: GET}}`) + `
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
` + auth
	}
	httpAPI := func(auth string) string {
		return fn(`        E: {Type: HttpApi, Properties: {ApiId: !Ref H, Path: /x, Method: GET}}`) + `
  H:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
` + auth
	}
	tests := []struct {
		name, tmpl         string
		resource, property string
		unsupported        bool
		messageHas         string
	}{
		{"definition body", fn("        {}") + `
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: dev, DefinitionBody: {openapi: "3.0"}}
`, "Api", "Properties.DefinitionBody", true, "OpenAPI"},
		{"cognito", api(`        Authorizers: {Pool: {UserPoolArn: arn:x}}`), "Api", "Properties.Auth.Authorizers.Pool.UserPoolArn", true, "Cognito"},
		{"jwt", httpAPI(`        Authorizers: {Jwt: {JwtConfiguration: {issuer: x}}}`), "H", "Properties.Auth.Authorizers.Jwt.JwtConfiguration", true, "JWT"},
		{"resource policy", api(`        ResourcePolicy: {CustomStatements: []}`), "Api", "Properties.Auth.ResourcePolicy", true, "ResourcePolicy"},
		{"unknown default authorizer", api(`        DefaultAuthorizer: Nope`), "Api", "Properties.Auth.DefaultAuthorizer", false, "Nope"},
		{"foreign authorizer function", api(`        Authorizers: {A: {FunctionArn: "arn:aws:lambda:us-east-1:1:function:elsewhere"}}`), "Api", "Properties.Auth.Authorizers.A.FunctionArn", true, "elsewhere"},
		{"ttl too long", api(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn, Identity: {ReauthorizeEvery: 3601}}}`), "Api", "Properties.Auth.Authorizers.A.Identity.ReauthorizeEvery", false, "0..3600"},
		{"caching without identity", api(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn, FunctionPayloadType: REQUEST, Identity: {ReauthorizeEvery: 30}}}`), "Api", "Properties.Auth.Authorizers.A.Identity.ReauthorizeEvery", false, "identity source"},
		{"bad regex", api(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn, Identity: {ValidationExpression: "(?<=x)"}}}`), "Api", "Properties.Auth.Authorizers.A.Identity.ValidationExpression", false, "regular expression"},
		{"missing payload version", httpAPI(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn}}`), "H", "Properties.Auth.Authorizers.A.AuthorizerPayloadFormatVersion", false, "missing"},
		{"simple responses on 1.0", httpAPI(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn, AuthorizerPayloadFormatVersion: "1.0", EnableSimpleResponses: true}}`), "H", "Properties.Auth.Authorizers.A.EnableSimpleResponses", false, "2.0"},
		{"unknown ref", fn(`        E: {Type: Api, Properties: {Path: !Ref Nowhere, Method: GET}}`), "Fn", "Properties.Events.E.Properties.Path", false, "Nowhere"},
		{"unsupported intrinsic", head + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment: {Variables: {X: !ImportValue other-stack}}
`, "Fn", "Properties.Environment.Variables.X", true, "ImportValue"},
		{"map env value", head + `
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {X: {a: b}}}}
`, "Fn", "Properties.Environment.Variables.X", false, "map"},
		{"python runtime", head + `
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Runtime: python3.12}
`, "Fn", "Properties.Runtime", true, "python3.12"},
		{"event on unknown api", fn(`        E: {Type: Api, Properties: {RestApiId: !Ref Auth, Path: /x, Method: GET}}`), "Fn", "Properties.Events.E.Properties.RestApiId", true, "RestApiId"},
		{"bad method", fn(`        E: {Type: Api, Properties: {Path: /x, Method: FETCH}}`), "Fn", "Properties.Events.E.Properties.Method", false, "FETCH"},
		{"greedy not last", fn(`        E: {Type: Api, Properties: {Path: "/{p+}/x", Method: GET}}`), "Fn", "Properties.Events.E.Properties.Path", false, "greedy"},
		{"duplicate route", fn(`        E: {Type: Api, Properties: {Path: /x, Method: GET}}
        F: {Type: Api, Properties: {Path: /x, Method: get}}`), "Fn", "Properties.Events.F", false, "already"},
		{"api key from a header", fn(`        E: {Type: Api, Properties: {Path: /x, Method: GET, Auth: {ApiKeyRequired: true}}}`), "Fn", "Properties.Events.E.Properties.Auth.ApiKeyRequired", true, "AUTHORIZER"},
		{"api key on an HTTP API", httpAPI(`        Authorizers: {A: {FunctionArn: !GetAtt Auth.Arn, AuthorizerPayloadFormatVersion: "2.0"}}`) + `
  Fn2:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Events:
        E: {Type: HttpApi, Properties: {ApiId: !Ref H, Path: /y, Method: GET, Auth: {ApiKeyRequired: true}}}
`, "Fn2", "Properties.Events.E.Properties.Auth.ApiKeyRequired", true, "AUTHORIZER"},
		{"bad api key source", head + `
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: dev, ApiKeySourceType: QUERY}
`, "Api", "Properties.ApiKeySourceType", false, "QUERY"},
		{"payload 1.0 integration", fn(`        E: {Type: HttpApi, Properties: {Path: /x, Method: GET, PayloadFormatVersion: "1.0"}}`), "Fn", "Properties.Events.E.Properties.PayloadFormatVersion", true, "1.0"},
		{"secret without name", head + `
  Nameless: {Type: AWS::SecretsManager::Secret}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {S: !Ref Nameless}}}
`, "Nameless", "Properties.Name", true, "Name"},
		{"circular", head + `
  Loop:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: !Ref Loop}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Environment: {Variables: {S: !Ref Loop}}}
`, "Loop", "Properties.Name", false, "circular"},
		{"param without default", `
Parameters: {P: {Type: String}}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., Runtime: provided.al2023, Environment: {Variables: {X: !Ref P}}}
`, "Fn", "Properties.Environment.Variables.X", false, "no Default"},
		{"raw lambda", head + `
  Raw: {Type: AWS::Lambda::Function, Properties: {}}
`, "Raw", "Type", true, "AWS::Lambda::Function"},
		{"no resources", "Parameters: {}\n", "", "Resources", false, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.tmpl), withFileName("t.yaml"))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if e.Resource != tt.resource || e.Property != tt.property {
				t.Errorf("error names %q / %q, want %q / %q (%v)", e.Resource, e.Property, tt.resource, tt.property, err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v, want %v (%v)", got, tt.unsupported, err)
			}
			if !strings.Contains(err.Error(), tt.messageHas) || !strings.HasPrefix(err.Error(), "t.yaml") {
				t.Errorf("message %q does not start with t.yaml or lacks %q", err, tt.messageHas)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(head))
	f.Add([]byte(head + "  X: {Type: AWS::Serverless::Api, Properties: {StageName: !Sub '${Stage}-${Auth.Arn}'}}\n"))
	f.Add([]byte("Resources: {A: {Type: AWS::Serverless::Function, Properties: {Environment: {Variables: {V: !Join [',', !Ref A]}}}}}"))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte(condHead + "  Fn: {Type: AWS::Serverless::Function, Properties: {Environment: {Variables: {V: !If [Either, !Ref Auth.Alias, !Ref AWS::NoValue]}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tm, err := Parse(data)
		if err == nil && tm == nil {
			t.Fatal("Parse returned nil template and nil error")
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
		}
	})
}
