package gateway

// The event shapes API Gateway sends to Lambda, field for field as the API
// Gateway developer guide documents them ("Input to an API Gateway Lambda
// authorizer", "Working with AWS Lambda proxy integrations"). They are the
// gateway's own types, not aws-lambda-go's, so that absent and null fields
// come out as API Gateway sends them; the tests decode every event strictly
// into the matching aws-lambda-go type to prove a Go handler reads it.

// restTokenEvent is a REST TOKEN authorizer's input.
type restTokenEvent struct {
	Type               string `json:"type"` // "TOKEN"
	AuthorizationToken string `json:"authorizationToken"`
	MethodArn          string `json:"methodArn"`
}

// restAuthContext is the requestContext of REST REQUEST and HTTP API 1.0
// authorizer events.
type restAuthContext struct {
	Path         string           `json:"path"`
	AccountID    string           `json:"accountId"`
	ResourceID   string           `json:"resourceId"`
	Stage        string           `json:"stage"`
	RequestID    string           `json:"requestId"`
	Identity     restAuthIdentity `json:"identity"`
	ResourcePath string           `json:"resourcePath"`
	HTTPMethod   string           `json:"httpMethod"`
	APIID        string           `json:"apiId"`
}

type restAuthIdentity struct {
	SourceIP string `json:"sourceIp"`
}

// restRequestEvent is a REST REQUEST authorizer's input.
type restRequestEvent struct {
	Type                            string              `json:"type"` // "REQUEST"
	MethodArn                       string              `json:"methodArn"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  restAuthContext     `json:"requestContext"`
}

// httpV1AuthEvent is an HTTP API authorizer's input in payload format 1.0.
type httpV1AuthEvent struct {
	Version               string            `json:"version"` // "1.0"
	Type                  string            `json:"type"`    // "REQUEST"
	MethodArn             string            `json:"methodArn"`
	IdentitySource        string            `json:"identitySource"`
	AuthorizationToken    string            `json:"authorizationToken"`
	Resource              string            `json:"resource"`
	Path                  string            `json:"path"`
	HTTPMethod            string            `json:"httpMethod"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	PathParameters        map[string]string `json:"pathParameters"`
	StageVariables        map[string]string `json:"stageVariables"`
	RequestContext        restAuthContext   `json:"requestContext"`
}

// httpContext is the requestContext of HTTP API 2.0 events.
type httpContext struct {
	AccountID    string          `json:"accountId"`
	APIID        string          `json:"apiId"`
	Authorizer   *httpAuthorizer `json:"authorizer,omitempty"`
	DomainName   string          `json:"domainName"`
	DomainPrefix string          `json:"domainPrefix"`
	HTTP         httpDescription `json:"http"`
	RequestID    string          `json:"requestId"`
	RouteKey     string          `json:"routeKey"`
	Stage        string          `json:"stage"`
	Time         string          `json:"time"`
	TimeEpoch    int64           `json:"timeEpoch"`
}

type httpAuthorizer struct {
	Lambda map[string]any `json:"lambda"`
}

type httpDescription struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// httpV2AuthEvent is an HTTP API authorizer's input in payload format 2.0.
type httpV2AuthEvent struct {
	Version               string            `json:"version"` // "2.0"
	Type                  string            `json:"type"`    // "REQUEST"
	RouteArn              string            `json:"routeArn"`
	IdentitySource        []string          `json:"identitySource"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        httpContext       `json:"requestContext"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
}

// restProxyEvent is a REST API Lambda proxy integration's input (payload 1.0).
type restProxyEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  restProxyContext    `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type restProxyContext struct {
	ResourceID        string            `json:"resourceId"`
	ResourcePath      string            `json:"resourcePath"`
	HTTPMethod        string            `json:"httpMethod"`
	ExtendedRequestID string            `json:"extendedRequestId"`
	RequestTime       string            `json:"requestTime"`
	Path              string            `json:"path"`
	AccountID         string            `json:"accountId"`
	Protocol          string            `json:"protocol"`
	Stage             string            `json:"stage"`
	DomainPrefix      string            `json:"domainPrefix"`
	RequestTimeEpoch  int64             `json:"requestTimeEpoch"`
	RequestID         string            `json:"requestId"`
	Identity          restProxyIdentity `json:"identity"`
	DomainName        string            `json:"domainName"`
	APIID             string            `json:"apiId"`
	Authorizer        map[string]any    `json:"authorizer,omitempty"`
}

// restProxyIdentity carries nulls where API Gateway does: nothing here is
// known for a Lambda-authorized call.
type restProxyIdentity struct {
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	AccountID                     *string `json:"accountId"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	Caller                        *string `json:"caller"`
	SourceIP                      string  `json:"sourceIp"`
	AccessKey                     *string `json:"accessKey"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	UserArn                       *string `json:"userArn"`
	UserAgent                     string  `json:"userAgent"`
	User                          *string `json:"user"`
	// APIKey and APIKeyID are set on methods that require an API key.
	APIKey   string `json:"apiKey,omitempty"`
	APIKeyID string `json:"apiKeyId,omitempty"`
}

// httpProxyEvent is an HTTP API Lambda proxy integration's input (payload 2.0).
type httpProxyEvent struct {
	Version               string            `json:"version"` // "2.0"
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	RequestContext        httpContext       `json:"requestContext"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}
