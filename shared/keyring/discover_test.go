package keyring_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/keyring"
)

func TestDiscover(t *testing.T) {
	tests := []struct {
		name string
		// path is where the issuer lives on the test server; the document's
		// issuer and jwks_uri are built from the server's URL unless set.
		path     string
		docIss   func(base string) string
		jwksURI  func(base string) string
		status   int
		body     string
		wantURI  func(base string) string
		wantErr  string
		issuerIn func(base string) string
	}{
		{
			name:    "issuer at the root",
			docIss:  func(b string) string { return b },
			jwksURI: func(b string) string { return b + "/keys" },
			wantURI: func(b string) string { return b + "/keys" },
		},
		{
			name:     "issuer with a path and trailing slash",
			path:     "/realms/guard/",
			issuerIn: func(b string) string { return b + "/realms/guard/" },
			docIss:   func(b string) string { return b + "/realms/guard/" },
			jwksURI:  func(b string) string { return b + "/realms/guard/certs" },
			wantURI:  func(b string) string { return b + "/realms/guard/certs" },
		},
		{
			name:    "https jwks_uri elsewhere",
			docIss:  func(b string) string { return b },
			jwksURI: func(string) string { return "https://keys.example/jwks.json" },
			wantURI: func(string) string { return "https://keys.example/jwks.json" },
		},
		{
			name:    "issuer mismatch",
			docIss:  func(string) string { return "https://evil.example" },
			jwksURI: func(b string) string { return b + "/keys" },
			wantErr: `names issuer "https://evil.example"`,
		},
		{
			name:    "issuer differs by a trailing slash",
			docIss:  func(b string) string { return b + "/" },
			jwksURI: func(b string) string { return b + "/keys" },
			wantErr: "names issuer",
		},
		{
			name:    "plain http jwks_uri",
			docIss:  func(b string) string { return b },
			jwksURI: func(string) string { return "http://keys.example/jwks.json" },
			wantErr: "not https",
		},
		{
			name:    "no jwks_uri",
			docIss:  func(b string) string { return b },
			jwksURI: func(string) string { return "" },
			wantErr: "no jwks_uri",
		},
		{name: "not found", status: http.StatusNotFound, wantErr: "status 404"},
		{name: "not JSON", body: "<html>", wantErr: "decode configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != strings.TrimSuffix(tt.path, "/")+"/.well-known/openid-configuration" {
					http.NotFound(w, r)
					return
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
					return
				}
				if tt.body != "" {
					_, _ = w.Write([]byte(tt.body))
					return
				}
				doc := map[string]string{"issuer": tt.docIss(base), "authorization_endpoint": base + "/authorize"}
				if u := tt.jwksURI(base); u != "" {
					doc["jwks_uri"] = u
				}
				_ = json.NewEncoder(w).Encode(doc)
			}))
			defer srv.Close()
			base = srv.URL
			iss := base
			if tt.issuerIn != nil {
				iss = tt.issuerIn(base)
			}
			got, err := keyring.Discover(context.Background(), srv.Client(), iss)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if want := tt.wantURI(base); got != want {
				t.Errorf("jwks_uri = %q, want %q", got, want)
			}
		})
	}
}

func TestDiscoverRefusesPlainHTTPIssuer(t *testing.T) {
	_, err := keyring.Discover(context.Background(), nil, "http://issuer.example")
	if err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("err = %v, want a refusal of a plain http issuer", err)
	}
}

// TestDiscoverThenFetch wires discovery to a JWKS source, as main does.
func TestDiscoverThenFetch(t *testing.T) {
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": base, "jwks_uri": base + "/.well-known/jwks.json"})
	})
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(set(t, rsaSig("cognito-kid")))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL

	uri, err := keyring.Discover(context.Background(), srv.Client(), base)
	if err != nil {
		t.Fatal(err)
	}
	r := newRing(t, map[string]keyring.Source{base: keyring.FromJWKS(base, uri, srv.Client())})
	k, err := r.Key(context.Background(), base, "cognito-kid")
	if err != nil || k.Alg != "RS256" {
		t.Errorf("Key = alg %q, %v; want RS256", k.Alg, err)
	}
}
