package clientcert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/apigw-guard/guard/shared/clientcert"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type certInfo struct {
	pem         string
	fingerprint string
	ev          *events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert
}

// issue makes a CA-signed client certificate and the clientCert block API
// Gateway would send for it.
func issue(t *testing.T, cn string, serial int64, notBefore, notAfter time.Time) certInfo {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Partner CA", Organization: []string{"Example"}},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return certInfo{pem: p, fingerprint: hex.EncodeToString(sum[:]), ev: &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{
		ClientCertPem: p, SubjectDN: "CN=" + cn + ",O=Example", IssuerDN: "CN=Example Partner CA,O=Example",
		SerialNumber: colonHex(big.NewInt(serial).Bytes()),
		Validity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCertValidity{
			NotBefore: notBefore.UTC().Format("Jan _2 15:04:05 2006 GMT"), NotAfter: notAfter.UTC().Format("Jan _2 15:04:05 2006 GMT")},
	}}
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = hex.EncodeToString([]byte{x})
	}
	return strings.Join(parts, ":")
}

func TestCheck(t *testing.T) {
	good := issue(t, "partner-a.example.com", 0xa1b2c3, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	expired := issue(t, "partner-a.example.com", 0xa1b2c3, now.AddDate(-2, 0, 0), now.Add(-time.Second))
	early := issue(t, "partner-a.example.com", 0xa1b2c3, now.Add(time.Hour), now.AddDate(1, 0, 0))
	other := issue(t, "partner-b.example.com", 7, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	noPEM := *good.ev
	noPEM.ClientCertPem = ""
	badPEM := *good.ev
	badPEM.ClientCertPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	twoPEM := *good.ev
	twoPEM.ClientCertPem = good.pem + other.pem
	badDate := *good.ev
	badDate.ClientCertPem = ""
	badDate.Validity.NotAfter = "someday"
	// The PEM and API Gateway's dates disagree: both must hold.
	datesExpired := *good.ev
	datesExpired.Validity.NotAfter = "Jan  1 00:00:00 2020 GMT"

	cases := []struct {
		name  string
		rules clientcert.Rules
		cert  *events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert
		want  error
	}{
		{"no lists: any valid certificate", clientcert.Rules{}, good.ev, nil},
		{"subject as API Gateway reports it", clientcert.Rules{Subjects: []string{"CN=partner-a.example.com,O=Example"}}, good.ev, nil},
		{"subject as RFC 2253 renders the PEM", clientcert.Rules{Subjects: []string{"CN=partner-a.example.com,O=Example"}}, &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{ClientCertPem: good.pem, SubjectDN: "partner-a.example.com"}, nil},
		{"subject mismatch", clientcert.Rules{Subjects: []string{"CN=partner-a.example.com,O=Example"}}, other.ev, clientcert.ErrNotAllowed},
		{"subject differs in case", clientcert.Rules{Subjects: []string{"cn=partner-a.example.com,o=example"}}, good.ev, clientcert.ErrNotAllowed},
		{"issuer", clientcert.Rules{Issuers: []string{"CN=Example Partner CA,O=Example"}}, good.ev, nil},
		{"issuer mismatch", clientcert.Rules{Issuers: []string{"CN=Other CA"}}, good.ev, clientcert.ErrNotAllowed},
		{"serial with colons and upper case", clientcert.Rules{Serials: []string{"00:A1:B2:C3"}}, good.ev, nil},
		{"serial mismatch", clientcert.Rules{Serials: []string{"a1b2c4"}}, good.ev, clientcert.ErrNotAllowed},
		{"serial from the event without PEM", clientcert.Rules{Serials: []string{"a1b2c3"}}, &noPEM, nil},
		{"fingerprint", clientcert.Rules{Fingerprints: []string{strings.ToUpper(good.fingerprint)}}, good.ev, nil},
		{"fingerprint with colons", clientcert.Rules{Fingerprints: []string{colonHex(mustHex(good.fingerprint))}}, good.ev, nil},
		{"fingerprint mismatch", clientcert.Rules{Fingerprints: []string{other.fingerprint}}, good.ev, clientcert.ErrNotAllowed},
		{"fingerprint needs the PEM", clientcert.Rules{Fingerprints: []string{good.fingerprint}}, &noPEM, clientcert.ErrMalformed},
		{"every configured list must hold", clientcert.Rules{Subjects: []string{"CN=partner-a.example.com,O=Example"}, Serials: []string{"7"}}, good.ev, clientcert.ErrNotAllowed},
		{"several lists all holding", clientcert.Rules{Subjects: []string{"CN=x", "CN=partner-a.example.com,O=Example"}, Issuers: []string{"CN=Example Partner CA,O=Example"}, Fingerprints: []string{good.fingerprint}}, good.ev, nil},
		{"expired", clientcert.Rules{}, expired.ev, clientcert.ErrExpired},
		{"expired even when allowed by fingerprint", clientcert.Rules{Fingerprints: []string{expired.fingerprint}}, expired.ev, clientcert.ErrExpired},
		{"not yet valid", clientcert.Rules{}, early.ev, clientcert.ErrNotYetValid},
		{"API Gateway's dates say expired", clientcert.Rules{}, &datesExpired, clientcert.ErrExpired},
		{"dates only (AWS sample shape)", clientcert.Rules{}, &noPEM, nil},
		{"no certificate", clientcert.Rules{}, nil, clientcert.ErrNoCertificate},
		{"empty certificate block", clientcert.Rules{}, &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{}, clientcert.ErrNoCertificate},
		{"PEM that does not parse", clientcert.Rules{}, &badPEM, clientcert.ErrMalformed},
		{"two PEM blocks", clientcert.Rules{}, &twoPEM, clientcert.ErrMalformed},
		{"date that does not parse", clientcert.Rules{}, &badDate, clientcert.ErrMalformed},
		{"no validity at all", clientcert.Rules{}, &events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert{SubjectDN: "CN=x", SerialNumber: "01"}, clientcert.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := clientcert.New(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			info, err := m.Check(tc.cert, now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (info.SubjectDN == "" || info.Serial == "" || info.NotAfter.IsZero()) {
				t.Fatalf("Check = %+v, want subject, serial and validity", info)
			}
		})
	}
	m, _ := clientcert.New(clientcert.Rules{})
	info, err := m.Check(good.ev, now)
	if err != nil || info.Fingerprint != good.fingerprint || info.Serial != "a1b2c3" || info.SubjectDN != "CN=partner-a.example.com,O=Example" {
		t.Fatalf("Check = %+v, %v; want fingerprint %s, serial a1b2c3", info, err, good.fingerprint)
	}
	// The validity boundaries are inclusive.
	edge := issue(t, "edge", 9, now, now)
	if _, err := m.Check(edge.ev, now); err != nil {
		t.Fatalf("at notBefore == notAfter == now: %v", err)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestNewRejects(t *testing.T) {
	for name, r := range map[string]clientcert.Rules{
		"empty subject":         {Subjects: []string{" "}},
		"empty issuer":          {Issuers: []string{""}},
		"serial not hex":        {Serials: []string{"12g4"}},
		"serial empty":          {Serials: []string{""}},
		"short fingerprint":     {Fingerprints: []string{strings.Repeat("a", 40)}},
		"fingerprint not hex":   {Fingerprints: []string{strings.Repeat("z", 64)}},
		"fingerprint too long":  {Fingerprints: []string{strings.Repeat("a", 66)}},
		"too many fingerprints": {Fingerprints: make([]string, 1001)},
	} {
		if _, err := clientcert.New(r); !errors.Is(err, clientcert.ErrInvalidRules) {
			t.Errorf("%s: New = %v, want ErrInvalidRules", name, err)
		}
	}
}
