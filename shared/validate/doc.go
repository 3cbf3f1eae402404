// Package validate rejects bad API Gateway requests before business code runs:
// server-side JSON Schema, size and shape limits, a strict JSON pre-parser, a
// mass-assignment guard, SQL injection and XSS detection, Content-Digest
// verification, RFC 9457 problem responses and security response headers. It
// works on REST API (payload 1.0) and HTTP API (payload 2.0) proxy events.
//
// Build one [Validator] at init with [New] and share it: it is immutable and
// safe for concurrent use, and all schemas are compiled by New. Per request:
//
//	req := validate.RequestV2(&event)
//	if err := v.Validate(ctx, req); err != nil {
//		return validate.ProblemV2(err), nil // 400, 404, 413 or 415 problem+json
//	}
//	resp := handle(ctx, event)
//	validate.SecureV2(&resp, req.Authorized)
//
// # Rules
//
// The configuration is plain JSON (the comments below are explanation only),
// given to New as bytes (embed a file with
// go:embed, or read one named by the environment in main). Unknown fields are
// errors. Routes are keyed "METHOD /resource" as in API Gateway ("POST
// /orders", "GET /orders/{id}"); a request matches "METHOD /resource", then
// "ANY /resource", then "$default". A request with no matching rules is
// rejected (404): the validator fails closed.
//
//	{
//	  "defaults": {
//	    "maxBodyBytes": 1048576,          // 0..10 MiB, default 1 MiB
//	    "maxDepth": 32,                   // 1..1000
//	    "maxMembers": 10000,              // members + elements, 1..1e6
//	    "privilegedFields": ["role", "isAdmin", "userId", "tenantId"],
//	                                      // default: role, roles, isAdmin, userId,
//	                                      // tenantId, permissions, groups, ownerId
//	    "inspectHeaders": ["referer"],    // headers scanned for injection
//	    "requireContentDigest": false
//	  },
//	  "schemas": { "Address": { ... } },  // shared, "$ref": "/schemas/Address"
//	  "routes": {
//	    "POST /orders/{id}": {
//	      "contentTypes": ["application/json"],        // default with a schema
//	      "schema": { "type": "object", "properties": { ... } },
//	      "path":    { "id":    { "pattern": "[0-9a-f-]{36}", "required": true } },
//	      "query":   { "dryRun": { "enum": ["true", "false"] } },
//	      "headers": { "x-request-id": { "maxLength": 64 } },
//	      "additionalQuery": false,       // unknown query parameters rejected
//	      "inspect": { "/description": "text", "/items/*/note": "text" },
//	      "allowPrivilegedFields": ["userId"],
//	      "privilegedFields": ["discount"],
//	      "maxBodyBytes": 16384
//	    }
//	  }
//	}
//
// A route with a schema takes JSON (application/json, or the +json types it
// lists, such as "application/merge-patch+json" or "application/*+json"); a
// route without one may list form (application/x-www-form-urlencoded), text
// (text/plain, text/*) or binary types; a route that lists none accepts no
// body. A JSON route rejects a request with a missing or different
// Content-Type (415) even when the body is empty, and a JSON, form or text
// body must be UTF-8 (a charset other than utf-8 is 415).
//
// Schemas follow their "$schema" (draft-04, as API Gateway models use, up to
// 2020-12); without one they are 2020-12. Formats are asserted. A $ref can
// reach only the same document and the configuration's "schemas" (at
// "/schemas/<name>"): nothing is loaded from files or the network.
//
// Parameter rules: "pattern" is a Go regexp that must match the whole value;
// "maxLength" counts characters (default 1024); "enum" lists the allowed
// values; "multiple" allows a repeated parameter (a repeat is otherwise
// invalid, against parameter pollution); "inspect" sets the injection mode.
// Every path and query value, and every header named in inspectHeaders or
// headers, is inspected.
//
// # Body checks, in order
//
// The pre-parser reads the body once, iteratively (no recursion, so 1e6 '['
// stop at maxDepth + 1 steps), and rejects malformed JSON, invalid UTF-8 and
// unpaired surrogates, duplicate member names at any depth (compared with
// case folding, as Go's encoding/json matches fields), numbers that a float64
// cannot hold exactly (integers beyond ±2^53, decimals that do not
// round-trip), and documents deeper or larger than the route allows.
//
// The mass-assignment guard then rejects privileged fields (configured names
// matched at any depth ignoring case, '_', '-' and '.': "user_id" is
// "userId"), in bodies, form fields and query names, and unknown members:
// members the schema does not declare, even if it forgot
// additionalProperties: false. How allOf, anyOf, oneOf, patternProperties and
// friends count is described in guard.go; in short, a member any applicable
// subschema declares is known, and "additionalProperties": true (or a schema)
// is the explicit way to accept free-form members.
//
// Then the schema, then injection: every string value and member name is
// inspected, together with each form obtained by undoing up to three layers
// of percent-encoding, HTML character references and fullwidth characters.
// libinjection's SQLi and XSS detectors run on each form, plus rules for what
// libinjection misses: javascript:/vbscript: URLs (with tab, newline and
// entity obfuscation), data:text/html URLs, <script and other active tags
// (including split tags), on*= event handler attributes, "admin' #"-style
// comment-outs and bare "or 1=1" tautologies. A field set to "text" mode
// (descriptions, comments that may quote code or SQL) gets the XSS checks
// only; "off" skips both.
//
// # Rejections
//
// A rejection is a [*Problem]: 400 for rule breaches, 413 for size, 415 for
// media type, 404 for an unknown route. Its type URI names the rule, its
// pointer locates the value as an RFC 6901 pointer in URI fragment form, and
// it never carries a value from the request. One warn-level JSON log line per
// rejection records the rule, status, route and location.
//
// # Content-Digest
//
// When a request carries Content-Digest (RFC 9530), every sha-256 and
// sha-512 member must match the body (after base64 decoding of API Gateway's
// isBase64Encoded bodies). A header without either, or not a valid
// structured-field dictionary of byte sequences, or with a repeated key, is
// rejected. A request authorizer never sees the body: it can verify a
// signature that covers the Content-Digest header, and this package proves
// the header describes the body. Set requireContentDigest on routes whose
// signatures must cover the body.
package validate
