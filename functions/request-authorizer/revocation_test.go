package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apigw-guard/guard/shared/revocation"
)

// fakeRevocations is a revocation view: revoked principals by issuer, or an
// error for every check.
type fakeRevocations struct {
	revoked map[string]bool // issuer + "#" + principal
	err     error
	checks  int
}

func (f *fakeRevocations) Check(_ context.Context, issuer, sub, jti string, issuedAt time.Time) (bool, error) {
	f.checks++
	if f.err != nil {
		return false, f.err
	}
	if jti != "" || !issuedAt.IsZero() {
		return false, errors.New("the request authorizer checks principals only, with no issue time")
	}
	return f.revoked[issuer+"#"+sub] || f.revoked[revocation.AnyIssuer+"#"+sub], nil
}

func TestRevokedPrincipals(t *testing.T) {
	cases := []struct {
		name    string
		view    *fakeRevocations
		payload func(t *testing.T) []byte
		want    string
		reason  string
	}{
		{"credentials of a revoked client: 401", &fakeRevocations{revoked: map[string]bool{RevocationIssuer + "#ops": true}},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
			}, "unauthorized", "revoked"},
		{"revoked under every issuer: 401", &fakeRevocations{revoked: map[string]bool{revocation.AnyIssuer + "#ops": true}},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
			}, "unauthorized", "revoked"},
		{"another principal revoked: allowed", &fakeRevocations{revoked: map[string]bool{RevocationIssuer + "#someone-else": true}},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
			}, "allow", "ok"},
		{"revoked under another issuer only: allowed", &fakeRevocations{revoked: map[string]bool{"https://auth.example.com#ops": true}},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
			}, "allow", "ok"},
		{"view stale beyond its limit: fail closed", &fakeRevocations{err: revocation.ErrStale},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", opsNewSecret), setSourceIP("10.1.2.3"))
			}, "error:FailClosed", "revocations_unavailable"},
		{"bad credentials are refused before any revocation check", &fakeRevocations{err: revocation.ErrStale},
			func(t *testing.T) []byte {
				return edit(t, withBasic(t, "rest-credentials.json", "ops", "wrong-secret-0123456789"), setSourceIP("10.1.2.3"))
			}, "unauthorized", "bad_credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			f.h.revoked = tc.view
			got := f.run(t, tc.payload(t))
			if got.outcome != tc.want || !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Fatalf("outcome = %s, want %s with reason %s; log: %s", got.outcome, tc.want, tc.reason, f.logs)
			}
			if tc.reason == "bad_credentials" && tc.view.checks != 0 {
				t.Errorf("%d revocation checks for unauthenticated credentials, want 0", tc.view.checks)
			}
		})
	}
}

func TestRevokedSignatureKey(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.h.revoked = &fakeRevocations{revoked: map[string]bool{RevocationIssuer + "#partner-a": true}}
	if got := f.run(t, signed(t, "rest-signed.json", signOpts{})); got.outcome != "unauthorized" || !strings.Contains(f.logs.String(), `"reason":"revoked"`) {
		t.Fatalf("signed by a revoked keyid: outcome %s, want unauthorized; log: %s", got.outcome, f.logs)
	}
}

func TestRevocationSettingsAreRead(t *testing.T) {
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": testRoutes, "REVOCATION_TABLE": "revocations",
			"REVOCATION_REFRESH_SECONDS": "3", "REVOCATION_FAIL_MODE": "open"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.revocation.Table != "revocations" || cfg.revocation.Refresh != 3*time.Second || cfg.revocation.FailMode != revocation.FailOpen {
		t.Errorf("revocation settings = %+v", cfg.revocation)
	}
	_, err = loadConfig(func(k string) string {
		return map[string]string{"CREDENTIALS_SECRET_ID": "s", "ROUTES": testRoutes, "REVOCATION_FAIL_MODE": "maybe"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "REVOCATION_FAIL_MODE") {
		t.Errorf("bad fail mode: err = %v", err)
	}
}
