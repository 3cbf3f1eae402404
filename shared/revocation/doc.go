// Package revocation holds the revocation table's writer ([Writer]) and the
// authorizers' local view of it ([View]).
//
// # How to hold it
//
// Build one [View] per process at init (in main, after the AWS config) and
// share it: it is safe for concurrent use, makes no network call until its
// first [View.Check], and from then on at most one table call per refresh
// interval, never one per request. Build one [Writer] per process; it is
// stateless apart from its options and safe for concurrent use.
//
// # Table schema
//
// One DynamoDB table, on-demand, TTL enabled on expiresAt, with one global
// secondary index:
//
//	pk         S  partition key of the table:
//	              "sub#<issuer>#<sub>"  a subject, scoped to one issuer, or
//	              "sub#*#<sub>"         a subject under any issuer ([AnyIssuer]);
//	              "jti#<jti>"           a single token.
//	              An issuer never contains '#' (OIDC issuers are URLs without a
//	              fragment), so a key names exactly one (issuer, sub) pair.
//	revokedAt  N  unix seconds. A subject entry denies tokens whose iat is
//	              before it, and tokens without iat; a token with iat >=
//	              revokedAt (a new login after the account was re-enabled) is
//	              allowed. A jti entry denies its token whatever its iat.
//	reason     S  free text for audits, at most 1024 bytes.
//	expiresAt  N  unix seconds; the table's TTL attribute. At least revokedAt
//	              plus the longest token lifetime, so the entry outlives every
//	              token it denies. Readers ignore entries past it, because
//	              DynamoDB deletes expired items lazily (hours to days) and
//	              returns them until then.
//	updatedAt  N  unix milliseconds of the last change, by the writer's clock.
//	gsi1pk     S  the constant "rev".
//
//	GSI "gsi1": partition key gsi1pk, sort key updatedAt; projection INCLUDE
//	revokedAt, expiresAt (and reason, if wanted for audits) or ALL.
//
// # Reading only what changed
//
// Every entry sits under the one GSI partition "rev", sorted by updatedAt. A
// warm [View] asks for `gsi1pk = "rev" AND updatedAt >= since` once per
// refresh interval: a single Query call that returns only entries changed
// since its previous refresh (plus the overlap below), usually none. Only when
// more than one 1 MB page changed in one interval does it follow
// LastEvaluatedKey within the same refresh: correctness over call count.
//
// GSIs are eventually consistent and writers' clocks are not the reader's, so
// an entry can become visible in the index slightly after a later updatedAt
// was already read. The lower bound is therefore not the newest updatedAt
// seen but the reader's own clock at the start of its previous successful
// refresh minus an overlap (default 10 s, [WithOverlap]); entries in the
// overlap are read again and merged idempotently. The cost is re-reading the
// few entries written in the last ~12 s on every refresh.
//
// A cold reader loads the full set with the same Query and no lower bound
// (paginated, filtered to unexpired entries); every [WithFullReload] interval
// (default 5 min) a warm reader does the same, which drops entries deleted by
// hand and bounds the effect of anything an incremental read missed.
//
// Trade-off: the constant partition key puts every entry in one GSI
// partition (about 3000 RCU and 1000 WCU per second). Writes are rare
// (revocations), and warm reads are cheap: 1000 warm authorizer environments
// refreshing every 2 s make 500 small queries per second, about 250 RCU.
// Full loads are the expensive part: each reads the whole unexpired set, so
// a burst of cold starts over a large set can throttle the index (and GSI
// write throttling would then back-pressure revocation writes). TTL keeps the
// set bounded (entries live only as long as the longest token lifetime); if it
// still grows beyond a few thousand entries, shard gsi1pk ("rev#0".."rev#N")
// and query the shards (N calls per refresh).
//
// # Writing
//
// [Writer.Revoke] is an idempotent conditional update: it stores an entry
// only if none exists or the existing one has an earlier revokedAt, so a
// repeated event changes nothing, an old event replayed after a newer one
// cannot lower revokedAt, and a new revocation after a re-enable raises it.
// It never shortens an existing expiry. To lift a subject revocation, do
// nothing: tokens issued after revokedAt are already allowed. Deleting an
// entry by hand takes effect at the readers' next full reload.
//
// # Failure
//
// When the table cannot be read for longer than [WithMaxStaleness] (default
// 10 s), [View.Check] follows the [FailMode]: [FailClosed] (the default)
// returns an error wrapping [ErrStale], so the authorizer answers 500;
// [FailOpen] keeps answering from the last view (an empty one if none was
// ever loaded) and counts each such answer in [Stats].StaleAllowed. Before the
// maximum staleness is reached a failed refresh is retried at most once per
// refresh interval, answering from the last view meanwhile; a view that has
// never loaded retries on every Check (one call in flight at a time).
package revocation
