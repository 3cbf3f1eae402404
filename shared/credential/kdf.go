package credential

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// KDF is the one key derivation function a client entry may name:
// PBKDF2-HMAC-SHA256 (RFC 8018) from the standard library.
const KDF = "pbkdf2-sha256"

// Iteration bounds. DefaultIterations is what [NewClientEntry] uses: the
// secrets [GenerateSecret] makes carry 256 random bits, so the derivation
// need not make guessing slow, only make a leaked hash useless for a
// secret chosen by a person; its cost (a few tens of milliseconds on one
// core, more on a small Lambda) is paid once per client and secret version,
// then the verification is cached. MaxIterations bounds what one request
// can cost whatever the secret says.
const (
	MinIterations     = 10_000
	DefaultIterations = 100_000
	MaxIterations     = 1_000_000
)

// Client secret length bounds, in bytes. Authenticate refuses anything
// outside them before deriving anything.
const (
	MinSecretLength = 16
	MaxSecretLength = 512
)

// GenerateSecret returns a new client secret: 32 random bytes in unpadded
// base64url (43 characters). Give it to the client once; store only
// [NewClientEntry]'s hash of it.
func GenerateSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewClientEntry hashes secret with a fresh 16-byte salt and iterations
// (0 means [DefaultIterations]).
func NewClientEntry(secret string, iterations int) (ClientEntry, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return ClientEntry{}, fmt.Errorf("credential: iterations %d: want %d to %d", iterations, MinIterations, MaxIterations)
	}
	if len(secret) < MinSecretLength || len(secret) > MaxSecretLength {
		return ClientEntry{}, fmt.Errorf("credential: secret is %d bytes, want %d to %d", len(secret), MinSecretLength, MaxSecretLength)
	}
	salt := make([]byte, MinSaltLength)
	if _, err := rand.Read(salt); err != nil {
		return ClientEntry{}, err
	}
	h, err := derive(secret, salt, iterations)
	if err != nil {
		return ClientEntry{}, err
	}
	return ClientEntry{KDF: KDF, Iterations: iterations, Salt: salt, Hash: h}, nil
}

func derive(secret string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, secret, salt, iterations, HashLength)
}

// matches reports, in constant time, whether derived is e's hash.
func (e ClientEntry) matches(derived []byte) bool { return hmac.Equal(derived, e.Hash) }
