package keyring_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/apigw-guard/guard/shared/keyring"
)

// A key without kid is named by its RFC 7638 thumbprint; alg is required.
func ExampleParseKeys() {
	keys, err := keyring.ParseKeys([]byte(`{"kty":"RSA","alg":"RS256","e":"AQAB",
	 "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`), "AWSCURRENT")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(keys[0].ID, keys[0].Alg, keys[0].Origin)

	_, err = keyring.ParseKeys([]byte(`{"kty":"oct","k":"c2hvcnQ","alg":"HS256"}`), "AWSCURRENT")
	fmt.Println(err)
	// Output:
	// NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs RS256 AWSCURRENT
	// key 0: alg HS256: oct key has 5 bytes, want at least 32
}

// Callers branch on the two sentinels: an unknown key is the token's fault
// (401), unavailable keys are the verifier's (500).
func ExampleRing_Key() {
	src := &fakeSource{keys: []keyring.Key{{ID: "k1", Alg: "HS256", Material: make([]byte, 32), Origin: "AWSCURRENT"}}}
	ring, err := keyring.NewRing(map[string]keyring.Source{"https://guard.example": src})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, kid := range []string{"k1", "k9"} {
		k, err := ring.Key(context.Background(), "https://guard.example", kid)
		switch {
		case errors.Is(err, keyring.ErrUnknownKey):
			fmt.Println(kid, "unknown")
		case errors.Is(err, keyring.ErrKeysUnavailable):
			fmt.Println(kid, "unavailable")
		default:
			fmt.Println(kid, k.Alg, k.Origin)
		}
	}
	// Output:
	// k1 HS256 AWSCURRENT
	// k9 unknown
}
