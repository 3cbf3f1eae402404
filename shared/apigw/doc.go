// Package apigw normalises the API Gateway Lambda authorizer events (REST
// TOKEN and REQUEST, payload 1.0; HTTP API payload 1.0 and 2.0) into one
// [Request] view, and holds the outcomes API Gateway understands.
//
// The functions are pure and safe for concurrent use. Header names in a
// [Request] are lower-cased, as HTTP APIs send them.
package apigw
