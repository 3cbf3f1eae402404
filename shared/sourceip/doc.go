// Package sourceip decides whether a caller's source address passes CIDR
// allow and deny rules, for IPv4 and IPv6.
//
// How to hold it: parse the rules once at init with [Parse] and share the
// *[Rules]; it is immutable and safe for concurrent use. Per request, pass
// the address API Gateway reports in the request context
// (requestContext.identity.sourceIp for REST and HTTP API payload 1.0,
// requestContext.http.sourceIp for payload 2.0), never X-Forwarded-For,
// which the client writes.
//
// Addresses and prefixes are compared in one form: an IPv4-mapped IPv6
// address (::ffff:192.0.2.1) is the IPv4 address, and a mapped prefix
// (::ffff:192.0.2.0/120) is the IPv4 prefix (192.0.2.0/24). So 0.0.0.0/0
// matches every IPv4 caller, including one API Gateway reports in mapped
// form, and ::/0 matches every IPv6 caller but no IPv4 caller: to match
// everyone list both.
package sourceip
