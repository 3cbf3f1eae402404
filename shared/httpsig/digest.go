package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
)

// checkContentDigest refuses a covered Content-Digest value (RFC 9530) that
// the validation layer could not use: it must be a dictionary of byte
// sequences (strictly parsed, no repeated keys) with a sha-256 or sha-512
// member of the right length. The authorizer cannot see the body; the
// validation layer checks the digest against it.
func checkContentDigest(v string) error {
	members, err := parseDictionary(v)
	if err != nil {
		return err
	}
	usable := false
	for _, m := range members {
		if m.inner || m.item.bare.kind != kindBytes {
			return fmt.Errorf("member %q is not a byte sequence", m.key)
		}
		switch {
		case m.key == "sha-256" && len(m.item.bare.data) == sha256.Size,
			m.key == "sha-512" && len(m.item.bare.data) == sha512.Size:
			usable = true
		case m.key == "sha-256", m.key == "sha-512":
			return fmt.Errorf("member %q has the wrong length", m.key)
		}
	}
	if !usable {
		return fmt.Errorf("no sha-256 or sha-512 member")
	}
	return nil
}
