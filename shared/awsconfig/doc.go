// Package awsconfig builds the one AWS SDK configuration a function uses for
// all its clients, from what Lambda puts in the environment: the region
// (AWS_REGION, else AWS_DEFAULT_REGION), the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the
// endpoints from the standard AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// variables, resolved as the SDK resolves them (which is how the local stack
// points the real clients at local servers). The clients retry with the
// SDK's standard retryer, and share one HTTP client that keeps connections
// alive between warm invocations and never waits longer than a request can
// afford.
//
// It stands in for config.LoadDefaultConfig, which a Lambda function does not
// need: that loader links the shared-config-file loaders and the SSO,
// SSO-OIDC, STS, sign-in and IMDS clients, about 2 MB of a linux/arm64
// binary that imports nothing else of them. Profiles, web identity, container
// and instance-metadata credentials, AWS_CA_BUNDLE, AWS_RETRY_MODE,
// AWS_MAX_ATTEMPTS and the FIPS and dual-stack endpoint switches are
// therefore not read. Load fails when the region or the static credentials
// are missing, so a misconfigured environment is reported at init, not at the
// first AWS call.
//
// Call [Load] once in main, before lambda.Start, and build every client from
// its result. The configuration and the clients built from it are safe for
// concurrent use.
package awsconfig
