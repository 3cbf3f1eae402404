package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The environment variables Load reads, with the SDK's names and
// precedence (the first of each list that is set wins).
var (
	regionVars    = []string{"AWS_REGION", "AWS_DEFAULT_REGION"}
	accessKeyVars = []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"}
	secretKeyVars = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"}
)

const (
	sessionTokenVar    = "AWS_SESSION_TOKEN"
	accountIDVar       = "AWS_ACCOUNT_ID"
	endpointVar        = "AWS_ENDPOINT_URL"
	ignoreEndpointsVar = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	credentialsSource  = "EnvConfigCredentials" // the SDK's name for this source
)

type environment struct {
	region      string
	credentials aws.CredentialsProvider
	endpoints   endpointSource
}

// readEnv reads the region, the credentials and the endpoint settings, and
// reports every problem at once.
func readEnv(getenv func(string) string) (environment, error) {
	var errs []error
	first := func(keys []string) string {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				return v
			}
		}
		return ""
	}
	var e environment
	if e.region = first(regionVars); e.region == "" {
		errs = append(errs, errors.New("AWS_REGION is not set"))
	}
	creds := aws.Credentials{
		AccessKeyID:     first(accessKeyVars),
		SecretAccessKey: first(secretKeyVars),
		Source:          credentialsSource,
	}
	if creds.AccessKeyID == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID is not set"))
	}
	if creds.SecretAccessKey == "" {
		errs = append(errs, errors.New("AWS_SECRET_ACCESS_KEY is not set"))
	}
	creds.SessionToken = getenv(sessionTokenVar)
	creds.AccountID = getenv(accountIDVar)
	e.credentials = staticCredentials{creds}

	e.endpoints.getenv = getenv
	switch v := getenv(ignoreEndpointsVar); {
	case v == "":
	case strings.EqualFold(v, "true"):
		e.endpoints.ignore = true
	case strings.EqualFold(v, "false"):
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want true or false", ignoreEndpointsVar, v))
	}
	if !e.endpoints.ignore {
		e.endpoints.global = getenv(endpointVar)
	}
	return e, errors.Join(errs...)
}

// staticCredentials hands out the environment's credentials. Lambda
// refreshes the execution role's credentials by starting a new execution
// environment, so they never need refreshing here.
type staticCredentials struct{ v aws.Credentials }

// Retrieve implements aws.CredentialsProvider.
func (s staticCredentials) Retrieve(context.Context) (aws.Credentials, error) { return s.v, nil }

// endpointSource answers the service clients' endpoint questions the way the
// SDK's environment configuration does. A client built with NewFromConfig
// takes aws.Config.BaseEndpoint (AWS_ENDPOINT_URL) and then, when its own
// variable is set, asks every entry of ConfigSources for its service's
// endpoint: AWS_ENDPOINT_URL_ followed by its SDK service ID in upper case
// with spaces as underscores (AWS_ENDPOINT_URL_SECRETS_MANAGER,
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_API_GATEWAY,
// AWS_ENDPOINT_URL_APIGATEWAYV2, AWS_ENDPOINT_URL_LAMBDA,
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER). An empty variable counts as
// unset. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns all of them off.
type endpointSource struct {
	getenv func(string) string
	global string
	ignore bool
}

// serviceEndpointVar is the variable that sets one service's endpoint, for
// the SDK service ID sdkID ("Secrets Manager" → AWS_ENDPOINT_URL_SECRETS_MANAGER).
func serviceEndpointVar(sdkID string) string {
	return endpointVar + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
}

// GetServiceBaseEndpoint implements the SDK's
// configsources.ServiceBaseEndpointProvider.
func (s endpointSource) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if s.ignore {
		return "", false, nil
	}
	if v := s.getenv(serviceEndpointVar(sdkID)); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints implements the SDK's
// configsources.IgnoreConfiguredEndpointsProvider.
func (s endpointSource) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return s.ignore, s.ignore, nil
}
