// Package clientcert applies allow rules to the client certificate API
// Gateway passes to a Lambda authorizer when mutual TLS is on
// (requestContext.identity.clientCert for REST and HTTP API payload 1.0,
// requestContext.authentication.clientCert for payload 2.0).
//
// API Gateway has already checked the certificate chain against the
// domain's truststore before the authorizer runs; these rules narrow which
// of the trusted certificates may call a route: by subject DN, issuer DN,
// serial number or SHA-256 fingerprint, and only within the certificate's
// validity window.
//
// How to hold it: build a *[Matcher] at init with [New] and share it; it is
// immutable and safe for concurrent use. Per request call [Matcher.Check]
// with the event's certificate and the current time.
package clientcert
