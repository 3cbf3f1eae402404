package keyring

// Key is one verification key. A Key is immutable once built and safe to share
// between goroutines.
type Key struct {
	// ID is the key's kid: the JWK's own kid, else its RFC 7638 thumbprint.
	ID string
	// Alg is the single JWA algorithm this key verifies (RS256, PS256, ES256,
	// ES384, ES512, EdDSA, HS256, HS384, HS512). It comes from the key, never
	// from a token.
	Alg string
	// Material is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or
	// []byte for a symmetric (oct) key.
	Material any
	// Origin says where the key came from, for logs: "AWSCURRENT",
	// "AWSPREVIOUS" or "jwks".
	Origin string
}
