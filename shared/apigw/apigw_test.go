package apigw

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "token-authorizer", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("{{token}}"), []byte("abc.def.ghi"))
}

func TestDecodeFixtures(t *testing.T) {
	cases := []struct {
		file string
		want Request
	}{
		{"rest-token.json", Request{Kind: RESTToken, ARN: "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/orders", Authorization: "Bearer abc.def.ghi"}},
		{"rest-request.json", Request{Kind: RESTRequest, ARN: "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/dev/GET/orders/42",
			Authorization: "Bearer abc.def.ghi", Method: "GET", Path: "/orders/42", RouteKey: "GET /orders/{id}",
			SourceIP: "203.0.113.10", RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}},
		{"http-v2.json", Request{Kind: HTTPv2, ARN: "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/orders/42",
			Authorization: "Bearer abc.def.ghi", Method: "GET", Path: "/dev/orders/42", RouteKey: "GET /orders/{id}",
			SourceIP: "203.0.113.10", RequestID: "JKJaXmPLvHcESHA="}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Decode(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if got.Kind != w.Kind || got.ARN != w.ARN || got.Authorization != w.Authorization || got.Method != w.Method ||
				got.Path != w.Path || got.RouteKey != w.RouteKey || got.SourceIP != w.SourceIP || got.RequestID != w.RequestID {
				t.Fatalf("Decode = %+v\nwant %+v", got, w)
			}
			if w.Kind != RESTToken {
				if got.Headers["host"] == "" || got.Headers["Host"] != "" {
					t.Errorf("headers not lower-cased: %v", got.Headers)
				}
				if got.PathParams["id"] != "42" || got.Query["expand"] != "items" || got.StageVars["env"] != "dev" {
					t.Errorf("params: path %v query %v stage %v", got.PathParams, got.Query, got.StageVars)
				}
			}
		})
	}
}

func TestDecodeHTTPv1(t *testing.T) {
	ev := `{"version":"1.0","type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/orders",
		"identitySource":"Bearer x","authorizationToken":"Bearer x","resource":"/orders","path":"/orders","httpMethod":"GET",
		"headers":{"Authorization":"Bearer x"},"requestContext":{"identity":{"sourceIp":"198.51.100.1"},"requestId":"r1"}}`
	r, err := Decode([]byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != HTTPv1 || r.Authorization != "Bearer x" || r.SourceIP != "198.51.100.1" || r.RouteKey != "GET /orders" {
		t.Fatalf("Decode = %+v", r)
	}
}

func TestBearerToken(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc", "abc", true},
		{"Bearer abc==", "abc==", true},
		{"Bearer a-b_c~d+e/f", "a-b_c~d+e/f", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic dXNlcjpw", "", false},
		{"Bearerabc", "", false},
		{"Bearer abc def", "", false},
		{"Bearer abc=def", "", false},
		{"Bearer =abc", "", false},
		{"Bearer abc\n", "", false},
		{"Bearer\tabc", "", false},
		{"abc.def.ghi", "", false},
	}
	for _, tc := range cases {
		got, err := BearerToken(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFailClosedHidesCause(t *testing.T) {
	err := NewFailClosed(errors.New("secret arn:aws:secretsmanager:... not found"))
	if err.Error() != "authorizer unavailable" || errors.Unwrap(err) == nil {
		t.Fatalf("FailClosed = %q, unwrap %v", err.Error(), errors.Unwrap(err))
	}
	if ErrUnauthorized.Error() != "Unauthorized" {
		t.Fatalf("ErrUnauthorized = %q; API Gateway needs exactly Unauthorized", ErrUnauthorized)
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"rest-token.json", "rest-request.json", "http-v2.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"version":"1.0","type":"REQUEST","methodArn":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err == nil && (r.ARN == "" || r.Kind == 0) {
			t.Fatalf("Decode accepted %q without an ARN or kind: %+v", b, r)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc.def.ghi")
	f.Add("bearer  x==")
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := BearerToken(header)
		if err == nil && (tok == "" || strings.ContainsAny(tok, " \t\r\n")) {
			t.Fatalf("BearerToken(%q) = %q", header, tok)
		}
	})
}

// BenchmarkDecode decodes each sample event kind with a 1 KB token in it,
// the size of a typical Cognito access token.
func BenchmarkDecode(b *testing.B) {
	tok := strings.Repeat("a", 300) + "." + strings.Repeat("b", 400) + "." + strings.Repeat("c", 342)
	for _, name := range []string{"rest-token.json", "rest-request.json", "http-v2.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", "token-authorizer", name))
		if err != nil {
			b.Fatal(err)
		}
		ev := bytes.ReplaceAll(raw, []byte("{{token}}"), []byte(tok))
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(ev)))
			for b.Loop() {
				if _, err := Decode(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
