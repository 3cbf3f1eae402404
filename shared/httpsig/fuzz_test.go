package httpsig_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/httpsig"
)

// FuzzVerify feeds arbitrary Signature-Input and Signature fields to the
// verifier: it must never panic, every refusal must carry a Reason from the
// fixed set, and nothing but a correctly signed request verifies.
func FuzzVerify(f *testing.F) {
	good := sign(f, request(), components, httpsig.Params{Alg: true, Nonce: "n"}, keyA)
	f.Add(good.Header["signature-input"], good.Header["signature"])
	f.Add(`sig1=("@method");created=1;keyid="partner-a"`, `sig1=:AAAA:`)
	f.Add(`sig1=("@method" "@authority" "@path" "content-digest");created=1800000000;keyid="partner-a";expires=1`, `sig1=:`+"YWJj"+`:`)
	f.Add(`sig1=(), sig2=("x");created=1`, `sig1=:`)
	known := map[httpsig.Reason]bool{}
	for _, r := range []httpsig.Reason{httpsig.ReasonMissing, httpsig.ReasonMalformed, httpsig.ReasonComponents,
		httpsig.ReasonExpired, httpsig.ReasonFuture, httpsig.ReasonUnknownKey, httpsig.ReasonBadSignature,
		httpsig.ReasonReplay, httpsig.ReasonKeysUnavailable, httpsig.ReasonReplayUnavailable} {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, input, sig string) {
		v, err := httpsig.NewVerifier(keys(), httpsig.WithClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		r := request()
		r.Header["signature-input"], r.Header["signature"] = input, sig
		res, err := v.Verify(context.Background(), r)
		if err != nil {
			if !known[httpsig.ReasonOf(err)] {
				t.Fatalf("unknown reason %q for %v", httpsig.ReasonOf(err), err)
			}
			return
		}
		// The only MAC the fuzzer knows is the good one: anything that
		// verifies must carry it (over an input that serializes the same).
		goodMAC := strings.TrimSuffix(strings.TrimPrefix(good.Header["signature"], "sig1=:"), ":")
		if res.KeyID != "partner-a" || !strings.Contains(sig, goodMAC) {
			t.Fatalf("verified a forged signature: input %q signature %q", input, sig)
		}
	})
}
