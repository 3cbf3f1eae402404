package httpsig

import (
	"encoding/base64"
	"testing"
	"time"
)

// RFC 9421 Appendix B.2.5: "Signing a Request Using hmac-sha256" over the
// test request of Appendix B.2 with the shared secret of Appendix B.1.4.
func TestRFC9421HMACVector(t *testing.T) {
	key, err := base64.StdEncoding.DecodeString("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==")
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{Method: "POST", Authority: "example.com", Path: "/foo", Query: "param=Value&Pet=dog",
		Header: map[string]string{
			"date":         "Tue, 20 Apr 2021 02:07:55 GMT",
			"content-type": "application/json",
		}}
	const input = `sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`
	const wantSig = "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="
	v := &Verifier{}
	sig, err := v.parse(input, "sig-b25=:"+wantSig+":")
	if err != nil {
		t.Fatal(err)
	}
	base, err := buildBase(r, sig)
	if err != nil {
		t.Fatal(err)
	}
	const wantBase = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n" +
		"\"@authority\": example.com\n" +
		"\"content-type\": application/json\n" +
		"\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""
	if base != wantBase {
		t.Fatalf("base =\n%s\nwant\n%s", base, wantBase)
	}
	if _, ok := macMatch([]Key{{Secret: key}}, []byte(base), sig.sig); !ok {
		t.Fatal("the RFC 9421 B.2.5 signature does not verify")
	}
	got, err := Sign(r, "sig-b25", []string{"date", "@authority", "content-type"},
		Params{Created: timeUnix(1618884473), KeyID: "test-shared-secret"}, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.SignatureInput != input || got.Signature != "sig-b25=:"+wantSig+":" {
		t.Fatalf("Sign = %+v\nwant input %s and signature %s", got, input, wantSig)
	}
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }
