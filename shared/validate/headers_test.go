package validate

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestSecureHeaders(t *testing.T) {
	tests := []struct {
		name       string
		single     map[string]string
		multi      map[string][]string
		authorized bool
		want       map[string]string // "" means absent
	}{
		{
			name:   "JSON response, not authorized",
			single: map[string]string{"Content-Type": "application/json"},
			want: map[string]string{
				"Strict-Transport-Security": HSTS, "X-Content-Type-Options": "nosniff",
				"Referrer-Policy": "no-referrer", "Cache-Control": "", "Content-Security-Policy": "",
			},
		},
		{
			name:       "authorized response is no-store",
			single:     map[string]string{"Content-Type": "application/json", "cache-control": "public, max-age=600"},
			authorized: true,
			want:       map[string]string{"Cache-Control": "no-store", "cache-control": ""},
		},
		{
			name:       "backend's no-store is kept",
			single:     map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store, private"},
			authorized: true,
			want:       map[string]string{"Cache-Control": "no-store, private"},
		},
		{
			name:   "unauthorized response keeps its caching",
			single: map[string]string{"Content-Type": "application/json", "Cache-Control": "max-age=60"},
			want:   map[string]string{"Cache-Control": "max-age=60"},
		},
		{
			name:   "HTML gets a CSP",
			single: map[string]string{"content-type": "text/html; charset=utf-8"},
			want:   map[string]string{"Content-Security-Policy": CSP},
		},
		{
			name: "no Content-Type gets a CSP",
			want: map[string]string{"Content-Security-Policy": CSP},
		},
		{
			name:   "SVG gets a CSP",
			single: map[string]string{"Content-Type": "image/svg+xml"},
			want:   map[string]string{"Content-Security-Policy": CSP},
		},
		{
			name:   "backend CSP is kept",
			single: map[string]string{"Content-Type": "text/html", "Content-Security-Policy": "default-src 'self'"},
			want:   map[string]string{"Content-Security-Policy": "default-src 'self'"},
		},
		{
			name:   "stronger HSTS is kept",
			single: map[string]string{"Content-Type": "application/json", "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload"},
			want:   map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload"},
		},
		{
			name:   "weaker HSTS is raised, preload kept",
			single: map[string]string{"Content-Type": "application/json", "strict-transport-security": "max-age=300; preload"},
			want:   map[string]string{"Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload", "strict-transport-security": ""},
		},
		{
			name:   "long HSTS without includeSubDomains gains it",
			single: map[string]string{"Content-Type": "application/json", "Strict-Transport-Security": "max-age=63072000"},
			want:   map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains"},
		},
		{
			name:   "weaker Referrer-Policy is replaced",
			single: map[string]string{"Content-Type": "application/json", "Referrer-Policy": "unsafe-url"},
			want:   map[string]string{"Referrer-Policy": "no-referrer"},
		},
		{
			name:   "multi-value header replaced in both maps",
			single: map[string]string{"Content-Type": "application/json"},
			multi:  map[string][]string{"X-Content-Type-Options": {"bogus"}, "Set-Cookie": {"a=1", "b=2"}},
			want:   map[string]string{"X-Content-Type-Options": "nosniff"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := events.APIGatewayProxyResponse{Headers: tt.single, MultiValueHeaders: tt.multi}
			SecureV1(&resp, tt.authorized)
			for k, want := range tt.want {
				got, ok := resp.Headers[k]
				if want == "" && ok {
					t.Errorf("header %s = %q, want absent", k, got)
				} else if want != "" && got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if _, ok := resp.MultiValueHeaders["X-Content-Type-Options"]; ok {
				t.Error("multi-value X-Content-Type-Options survived, want it replaced")
			}
			if tt.multi != nil && len(resp.MultiValueHeaders["Set-Cookie"]) != 2 {
				t.Errorf("Set-Cookie = %q, want the backend's two cookies untouched", resp.MultiValueHeaders["Set-Cookie"])
			}
		})
	}

	// V2 with nil headers gets a map.
	r2 := events.APIGatewayV2HTTPResponse{StatusCode: 200}
	SecureV2(&r2, true)
	if r2.Headers["Cache-Control"] != "no-store" || r2.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Errorf("SecureV2(nil headers) = %v, want security headers", r2.Headers)
	}
}
