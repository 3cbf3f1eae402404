// Package replay remembers accepted request signatures until their window
// ends, so a captured signed request cannot be sent again.
//
// Two guards implement the same method, Seen(ctx, key, until) (bool,
// error), which records key and reports whether it was already recorded:
//
//   - [Memory] is per execution environment and best effort: API Gateway
//     spreads requests over many Lambda execution environments, each with
//     its own Memory, so a replay that lands on another environment passes.
//     It costs nothing and needs no table. Its size is bounded; when full it
//     forgets the entries whose windows end soonest.
//   - [Table] uses a DynamoDB table shared by every environment: a
//     conditional PutItem that fails when an unexpired entry exists. It
//     catches every replay, at the cost of one write per signed request.
//     Enable the table's TTL on expiresAt so old entries go away; Table
//     treats an expired entry that TTL has not yet deleted as absent.
//
// How to hold them: build one at init and share it; both are safe for
// concurrent use. A request that fails after its signature was recorded
// (a 500, a timeout) must be signed again to be retried.
package replay
