package token

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"testing"
)

// TestHMACSum checks the allocation-free HMAC against crypto/hmac for
// every hash, keys shorter than, equal to and longer than a block, and
// inputs of several lengths.
func TestHMACSum(t *testing.T) {
	hashes := []struct {
		h   crypto.Hash
		new func() hash.Hash
	}{
		{crypto.SHA256, sha256.New},
		{crypto.SHA384, sha512.New384},
		{crypto.SHA512, sha512.New},
	}
	for _, hh := range hashes {
		for _, keyLen := range []int{0, 1, 32, 48, 63, 64, 65, 127, 128, 129, 300} {
			for _, inLen := range []int{0, 1, 55, 64, 119, 128, 1000} {
				t.Run(fmt.Sprintf("%v/key%d/in%d", hh.h, keyLen, inLen), func(t *testing.T) {
					key := bytes.Repeat([]byte{0xa5}, keyLen)
					for i := range key {
						key[i] ^= byte(i)
					}
					in := bytes.Repeat([]byte("x.y"), inLen)[:inLen]
					buf := append(make([]byte, scratchSize), in...)
					got := hmacSum(hh.h, key, buf, nil)
					mac := hmac.New(hh.new, key)
					mac.Write(in)
					if want := mac.Sum(nil); !bytes.Equal(got, want) {
						t.Fatalf("hmacSum = %x, want %x", got, want)
					}
					if !bytes.Equal(buf[scratchSize:], in) {
						t.Fatal("hmacSum changed the input")
					}
				})
			}
		}
	}
}

// TestVerifySignatureClearsScratch checks that no key-derived bytes stay
// in the buffer the Claims keep alive.
func TestVerifySignatureClearsScratch(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 32)
	in := []byte("header.payload")
	mac := hmac.New(sha256.New, key)
	mac.Write(in)
	buf := append(make([]byte, scratchSize), in...)
	if r, err := verifySignature(algHS256, key, buf, mac.Sum(nil)); err != nil {
		t.Fatalf("verifySignature = %s, %v; want success", r, err)
	}
	if !bytes.Equal(buf[:scratchSize], make([]byte, scratchSize)) {
		t.Error("scratch not cleared after the HMAC check")
	}
}

func TestVerifySignatureNilMaterial(t *testing.T) {
	for a := algorithm(1); a < algCount; a++ {
		for _, material := range []any{nil, (*struct{})(nil), "string", []byte(nil)} {
			buf := append(make([]byte, scratchSize), "a.b"...)
			sig := make([]byte, max(algs[a].sigSize, 256))
			r, err := verifySignature(a, material, buf, sig)
			if err == nil || (r != ReasonUnsupportedAlg && r != ReasonBadSignature) {
				t.Errorf("%s with %T: reason %q, err %v; want a refusal", a, material, r, err)
			}
		}
	}
}
