// Package credential holds the request authorizer's credentials secret: the
// shared HMAC keys that sign requests (RFC 9421 keyids) and the API
// clients' salted secret hashes, read from the AWSCURRENT and AWSPREVIOUS
// versions of one Secrets Manager secret so that a rotation never refuses a
// caller.
//
// # The secret
//
// Each version's SecretString is one JSON object (at most 64 KiB, strict:
// unknown or repeated member names are errors):
//
//	{
//	  "hmac": {
//	    "partner-a": "q1mBfM0y…base64 of at least 32 random bytes…=",
//	    "partner-b": {"key": "…base64…", "usage_key": "API key value for usage plans"}
//	  },
//	  "clients": {
//	    "ops-console": {
//	      "kdf": "pbkdf2-sha256", "iterations": 100000,
//	      "salt": "…base64 of at least 16 bytes…",
//	      "hash": "…base64 of the 32-byte PBKDF2-HMAC-SHA256 of the secret…",
//	      "usage_key": "optional API key value"
//	    }
//	  }
//	}
//
// "hmac" maps a keyid to its key (standard padded base64); "clients" maps a
// client id to the hash of its secret, never the secret itself. Build
// entries with [NewClientEntry] and secrets with [GenerateSecret]. Key ids
// are 1 to 128 characters of A-Z a-z 0-9 and . _ ~ : @ / + = -; client ids
// the same without : @ / + = (a client id travels in HTTP Basic
// credentials). iterations is between [MinIterations] and [MaxIterations].
//
// # Rotation
//
// A rotation writes a new version (the old one becomes AWSPREVIOUS). Both
// versions verify: a keyid or client present in either works, and when a
// key or secret changed, the old and the new one both work until the next
// rotation. An unknown keyid or client, or a mismatch, makes the [Store]
// re-read the secret once (the [secretver.Reader]'s cool-down applies), so
// a new version is accepted within seconds.
//
// # How to hold it
//
// Build one [Store] at init over a [secretver.Reader] and share it; it is
// safe for concurrent use. Each version is parsed once (memoised by version
// ID). Successful client verifications are cached in memory, keyed by a
// keyed hash of (client id, secret, version ID), so the deliberately slow
// key derivation runs once per client and version, not per request;
// failures are never cached. Nothing here logs, and no error carries a
// secret, a key or a hash.
package credential
