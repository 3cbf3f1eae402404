package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
)

// minRSABits is the smallest RSA modulus accepted, per NIST SP 800-131A.
const minRSABits = 2048

// algorithm is a JWA signature algorithm this package implements. The zero
// value is no algorithm.
type algorithm uint8

const (
	algRS256 algorithm = iota + 1
	algRS384
	algRS512
	algPS256
	algPS384
	algPS512
	algES256
	algES384
	algES512
	algEdDSA
	algHS256
	algHS384
	algHS512
	algCount
)

type family uint8

const (
	familyPKCS1 family = iota + 1
	familyPSS
	familyECDSA
	familyEdDSA
	familyHMAC
)

type algInfo struct {
	name   string
	family family
	hash   crypto.Hash
	// sigSize is the exact signature length for fixed-size schemes and
	// the minimum for RSA.
	sigSize int
	curve   elliptic.Curve // ECDSA only
}

var algs = [algCount]algInfo{
	algRS256: {"RS256", familyPKCS1, crypto.SHA256, minRSABits / 8, nil},
	algRS384: {"RS384", familyPKCS1, crypto.SHA384, minRSABits / 8, nil},
	algRS512: {"RS512", familyPKCS1, crypto.SHA512, minRSABits / 8, nil},
	algPS256: {"PS256", familyPSS, crypto.SHA256, minRSABits / 8, nil},
	algPS384: {"PS384", familyPSS, crypto.SHA384, minRSABits / 8, nil},
	algPS512: {"PS512", familyPSS, crypto.SHA512, minRSABits / 8, nil},
	algES256: {"ES256", familyECDSA, crypto.SHA256, 64, elliptic.P256()},
	algES384: {"ES384", familyECDSA, crypto.SHA384, 96, elliptic.P384()},
	algES512: {"ES512", familyECDSA, crypto.SHA512, 132, elliptic.P521()},
	algEdDSA: {"EdDSA", familyEdDSA, 0, ed25519.SignatureSize, nil},
	algHS256: {"HS256", familyHMAC, crypto.SHA256, sha256.Size, nil},
	algHS384: {"HS384", familyHMAC, crypto.SHA384, sha512.Size384, nil},
	algHS512: {"HS512", familyHMAC, crypto.SHA512, sha512.Size, nil},
}

// pssOptions follow RFC 7518 §3.5: the salt is as long as the hash.
var pssOptions = [...]*rsa.PSSOptions{
	crypto.SHA256: {SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256},
	crypto.SHA384: {SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA384},
	crypto.SHA512: {SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA512},
}

// lookupAlg returns the algorithm named exactly name, or zero.
func lookupAlg(name []byte) algorithm {
	switch string(name) {
	case "RS256":
		return algRS256
	case "RS384":
		return algRS384
	case "RS512":
		return algRS512
	case "PS256":
		return algPS256
	case "PS384":
		return algPS384
	case "PS512":
		return algPS512
	case "ES256":
		return algES256
	case "ES384":
		return algES384
	case "ES512":
		return algES512
	case "EdDSA":
		return algEdDSA
	case "HS256":
		return algHS256
	case "HS384":
		return algHS384
	case "HS512":
		return algHS512
	}
	return 0
}

func (a algorithm) String() string {
	if a == 0 || a >= algCount {
		return "invalid"
	}
	return algs[a].name
}

// isNone reports whether name spells "none" in any letter case.
func isNone(name []byte) bool {
	return len(name) == 4 && (name[0]|0x20) == 'n' && (name[1]|0x20) == 'o' &&
		(name[2]|0x20) == 'n' && (name[3]|0x20) == 'e'
}

// errBadSignature is the cause of every ReasonBadSignature.
var errBadSignature = errors.New("signature does not verify")

// scratchSize is the room verifySignature needs in front of the signing
// input: an HMAC block (at most 128 bytes) right before the input, or a
// digest (64) and a DER signature (at most 141) at the start.
const scratchSize = 256

// verifySignature checks sig over the signing input with key material
// meant for alg a. buf holds scratchSize bytes of scratch followed by the
// signing input; the scratch is overwritten, and cleared again before
// returning, so that the hot path does not allocate. A key that cannot
// serve a (wrong type, wrong curve, too weak) yields ReasonUnsupportedAlg;
// a signature that does not verify yields ReasonBadSignature.
func verifySignature(a algorithm, material any, buf, sig []byte) (Reason, error) {
	scratch, input := buf[:scratchSize], buf[scratchSize:]
	defer clear(scratch)
	info := &algs[a]
	switch info.family {
	case familyPKCS1, familyPSS:
		pub, ok := material.(*rsa.PublicKey)
		if !ok || pub == nil || pub.N == nil {
			return ReasonUnsupportedAlg, fmt.Errorf("%s needs an RSA public key, key holds %T", info.name, material)
		}
		if bits := pub.N.BitLen(); bits < minRSABits {
			return ReasonUnsupportedAlg, fmt.Errorf("RSA key of %d bits refused, need %d", bits, minRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return ReasonUnsupportedAlg, errors.New("RSA key has an invalid public exponent")
		}
		if len(sig) != (pub.N.BitLen()+7)/8 {
			return ReasonBadSignature, errBadSignature
		}
		digest := sum(info.hash, input, scratch[:0])
		var err error
		if info.family == familyPKCS1 {
			err = rsa.VerifyPKCS1v15(pub, info.hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(pub, info.hash, digest, sig, pssOptions[info.hash])
		}
		if err != nil {
			return ReasonBadSignature, errBadSignature
		}
	case familyECDSA:
		pub, ok := material.(*ecdsa.PublicKey)
		if !ok || pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
			return ReasonUnsupportedAlg, fmt.Errorf("%s needs an ECDSA public key, key holds %T", info.name, material)
		}
		if pub.Curve != info.curve {
			return ReasonUnsupportedAlg, fmt.Errorf("%s needs a key on %s", info.name, info.curve.Params().Name)
		}
		if len(sig) != info.sigSize {
			return ReasonBadSignature, errBadSignature
		}
		digest := sum(info.hash, input, scratch[:0])
		half := info.sigSize / 2
		der := appendDERSignature(scratch[64:64], sig[:half], sig[half:])
		if !ecdsa.VerifyASN1(pub, digest, der) {
			return ReasonBadSignature, errBadSignature
		}
	case familyEdDSA:
		pub, ok := material.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return ReasonUnsupportedAlg, fmt.Errorf("EdDSA needs an Ed25519 public key, key holds %T", material)
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, input, sig) {
			return ReasonBadSignature, errBadSignature
		}
	case familyHMAC:
		secret, ok := material.([]byte)
		if !ok {
			return ReasonUnsupportedAlg, fmt.Errorf("%s needs a symmetric key, key holds %T", info.name, material)
		}
		if len(secret) < info.hash.Size() {
			return ReasonUnsupportedAlg, fmt.Errorf("%s key of %d bits refused, need %d", info.name, 8*len(secret), 8*info.hash.Size())
		}
		if len(sig) != info.hash.Size() {
			return ReasonBadSignature, errBadSignature
		}
		var mac [64]byte
		if !hmac.Equal(hmacSum(info.hash, secret, buf, mac[:0]), sig) {
			return ReasonBadSignature, errBadSignature
		}
	default:
		return ReasonUnsupportedAlg, errors.New("no such algorithm")
	}
	return "", nil
}

// hmacSum appends HMAC-h(key, input) (RFC 2104) to dst, where buf holds
// scratchSize bytes of scratch followed by input. It writes the inner
// padded key into the scratch right before the input, so that the inner
// hash runs over one contiguous slice: crypto/hmac would allocate two
// hash states per call.
func hmacSum(h crypto.Hash, key, buf, dst []byte) []byte {
	block := 64
	if h != crypto.SHA256 {
		block = 128
	}
	var k [64]byte
	if len(key) > block {
		key = sum(h, key, k[:0])
	}
	pad := buf[scratchSize-block : scratchSize]
	copy(pad, key)
	clear(pad[len(key):])
	for i := range pad {
		pad[i] ^= 0x36
	}
	var outer [128 + 64]byte
	for i := range block {
		outer[i] = pad[i] ^ (0x36 ^ 0x5c)
	}
	inner := sum(h, buf[scratchSize-block:], outer[block:block])
	clear(k[:])
	defer clear(outer[:])
	return sum(h, outer[:block+len(inner)], dst)
}

// sum appends the digest of input under h (SHA-256, -384 or -512) to dst.
func sum(h crypto.Hash, input, dst []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(input)
		return append(dst, s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(input)
		return append(dst, s[:]...)
	default:
		s := sha512.Sum512(input)
		return append(dst, s[:]...)
	}
}

// appendDERSignature appends the ASN.1 DER form of the ECDSA signature
// (r, s), given as big-endian unsigned integers, to dst. JWS carries r||s
// (RFC 7518 §3.4); crypto/ecdsa verifies DER, and building it directly
// avoids a round trip through math/big.
func appendDERSignature(dst, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	n := derIntLen(r) + derIntLen(s)
	dst = append(dst, 0x30)
	if n >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(n))
	dst = appendDERInt(dst, r)
	return appendDERInt(dst, s)
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// derIntLen is the encoded length of a non-negative INTEGER whose
// minimal big-endian magnitude is b.
func derIntLen(b []byte) int {
	if len(b) == 0 || b[0]&0x80 != 0 {
		return 2 + len(b) + 1
	}
	return 2 + len(b)
}

func appendDERInt(dst, b []byte) []byte {
	dst = append(dst, 0x02, byte(derIntLen(b)-2))
	if len(b) == 0 || b[0]&0x80 != 0 {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}
