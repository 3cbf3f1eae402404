// Package gateway is a local API Gateway: it serves a SAM template's REST
// and HTTP APIs on one port with API Gateway's Lambda authorizer semantics,
// so that what works locally works, and fails, the same way once deployed.
//
// URL scheme: each API is served under its local id (the logical id in
// lower case), then its stage, as the execute-api host and stage would be:
//
//	https://{id}.execute-api.us-east-1.amazonaws.com/dev/orders
//	http://127.0.0.1:3000/{id}/dev/orders
//
// An HTTP API on its $default stage has no stage segment. The same port
// serves the API Gateway management calls (FlushStageAuthorizersCache,
// FlushStageCache, ResetAuthorizersCache) for SDK clients whose endpoint is
// the gateway, and the Lambda Invoke API for the template's functions.
//
// Each call goes through API Gateway's steps in its order: route match
// ({param}, {proxy+}, ANY, $default; the most specific route wins), identity
// sources present and non-empty (else 401, the authorizer is not invoked),
// the TOKEN validation expression (else 401), the authorizer result cache
// (keyed by the identity-source values; TTL from the template, 0 disables),
// the authorizer invocation with API Gateway's event for its type and
// payload format, the decision (a cached REST or HTTP IAM policy is
// evaluated again against every new method ARN with shared/policy), on REST
// methods with ApiKeyRequired the API key the authorizer returned
// (usageIdentifierKey, which must be one of [WithAPIKeys]), and the Lambda
// proxy integration. Failures answer API Gateway's gateway responses:
// status, body and x-amzn-ErrorType.
//
// Build one [Gateway] per template with [New]; it is an http.Handler safe
// for concurrent use. Functions are [Invoker]s: *rie.Function wrapped by
// [Supervise] in the local stack, in-process fakes in tests.
package gateway
