package apigw

import (
	"os"
	"path/filepath"
	"testing"
)

func requestFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "request-authorizer", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeRequestFields covers what the request authorizer needs beyond
// the token authorizer: the path as the client sent it, the raw or
// multi-valued query and headers, and the client certificate of all three
// payloads.
func TestDecodeRequestFields(t *testing.T) {
	r, err := Decode(requestFixture(t, "rest-signed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestPath != "/dev/webhooks/orders" || r.Path != "/webhooks/orders" || r.RawQuery != "" || r.ClientCert != nil {
		t.Errorf("REST: RequestPath %q Path %q RawQuery %q", r.RequestPath, r.Path, r.RawQuery)
	}
	if got := r.MultiHeaders["content-type"]; len(got) != 1 || got[0] != "application/json" {
		t.Errorf("REST MultiHeaders[content-type] = %v", got)
	}
	if r.SourceIP != "198.51.100.23" {
		t.Errorf("REST SourceIP = %q", r.SourceIP)
	}

	r, err = Decode(requestFixture(t, "http-v2-signed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestPath != "/dev/webhooks/orders" || r.RawQuery != "source=shop&attempt=1" || r.MultiHeaders != nil {
		t.Errorf("HTTP 2.0: RequestPath %q RawQuery %q", r.RequestPath, r.RawQuery)
	}

	r, err = Decode(requestFixture(t, "http-v1-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != HTTPv1 || r.RequestPath != "/dev/admin/users" || r.SourceIP != "198.51.100.77" {
		t.Errorf("HTTP 1.0: kind %v RequestPath %q SourceIP %q", r.Kind, r.RequestPath, r.SourceIP)
	}

	for _, name := range []string{"rest-mtls.json", "http-v2-mtls.json"} {
		r, err = Decode(requestFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		c := r.ClientCert
		if c == nil || c.SubjectDN != "CN=partner-a.example.com,O=Example Corp" || c.IssuerDN != "CN=Example Partner CA,O=Example Corp" ||
			c.SerialNumber == "" || c.Validity.NotAfter != "Jan  1 00:00:00 2031 GMT" || len(c.ClientCertPem) < 100 {
			t.Errorf("%s: ClientCert = %+v", name, c)
		}
	}
}

func TestDecodeMultiHeadersLowerCased(t *testing.T) {
	ev := `{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/x",
		"headers":{"X-A":"2"},"multiValueHeaders":{"X-A":["1","2"]},"requestContext":{"path":"/dev/x"}}`
	r, err := Decode([]byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.MultiHeaders["x-a"]; len(got) != 2 || got[0] != "1" || got[1] != "2" || r.Headers["x-a"] != "2" {
		t.Fatalf("MultiHeaders = %v, Headers = %v", r.MultiHeaders, r.Headers)
	}
}
