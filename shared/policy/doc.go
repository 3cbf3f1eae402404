// Package policy turns route rules and a caller's entitlements into a
// cache-safe API Gateway authorizer answer, and evaluates IAM policies the
// way API Gateway does.
//
// How to hold it: parse the route table once at init with [ParseRules]
// (the ROUTES env var, read by main, never by this package) and keep the
// *[Rules]; its table is immutable and it is safe for concurrent use. The
// first [Rules.Policy] for an entitlement set runs a search over the table
// and caches the result in the Rules, so later calls only build the
// document.
//
// Per request: [ParseARN] the event's methodArn (REST, HTTP 1.0) or
// routeArn (HTTP 2.0), take [Rules.Entitled] for the caller's scopes and
// groups, answer [Rules.Policy] for that ARN's API and stage, and build the
// context with [Context]. API Gateway caches that answer by identity source
// and applies it to every method the caller calls next, so Policy covers
// every route of the stage the caller may call, and nothing else; see
// [Rules.Policy] for the construction and for the overlaps IAM patterns
// cannot express, where it prefers a false 403 to a false allow.
//
// The local gateway decides requests with [Rules.Match] (which route API
// Gateway would select) and [Evaluate] (what API Gateway decides under the
// returned policy: [Allow], an explicit [Deny], or [NotAllowed]); it parses
// the authorizer's policy with [ParseDocument], whose errors mean API
// Gateway would answer 500.
//
// AWS facts this package relies on, from the API Gateway developer guide:
// execute-api ARNs are arn:{partition}:execute-api:{region}:{account}:
// {apiId}/{stage}/{METHOD}/{path}, at most 1600 bytes; a policy Resource is
// at most 512 characters; in a Resource '*' matches any run of characters
// including '/', and '?' one character; an explicit Deny beats any Allow;
// the HTTP API $default route's ARN is …/{stage}/$default; HTTP API route
// selection prefers the most specific path and a specific method over ANY.
package policy
