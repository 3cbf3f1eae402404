package clientcert

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The errors [Matcher.Check] returns. Compare with errors.Is.
var (
	// ErrNoCertificate: the request carries no client certificate (mutual
	// TLS is off for the domain, or the default endpoint was used).
	ErrNoCertificate = errors.New("no client certificate")
	// ErrMalformed: the PEM or a validity date does not parse, or a rule
	// needs the PEM and there is none.
	ErrMalformed = errors.New("malformed client certificate")
	// ErrExpired: now is after the certificate's notAfter.
	ErrExpired = errors.New("client certificate expired")
	// ErrNotYetValid: now is before the certificate's notBefore.
	ErrNotYetValid = errors.New("client certificate not yet valid")
	// ErrNotAllowed: the certificate is outside a configured list.
	ErrNotAllowed = errors.New("client certificate not allowed")
)

// ErrInvalidRules is wrapped by the errors [New] returns.
var ErrInvalidRules = errors.New("invalid client certificate rules")

// Rules are allow lists. Every list that is not empty must hold the
// certificate (a certificate passes when it is in each configured list);
// within a list any entry will do. The JSON names are the configuration's.
type Rules struct {
	// Subjects are subject DNs, compared exactly with the certificate's
	// subject as API Gateway reports it (subjectDN) or as RFC 2253 renders
	// the PEM's subject ("CN=client.example.com,O=Example").
	Subjects []string `json:"subjects,omitempty"`
	// Issuers are issuer DNs, compared the same way.
	Issuers []string `json:"issuers,omitempty"`
	// Serials are serial numbers in hex, with or without colons, any case
	// ("0a:1b", "A1B"); leading zeros do not matter.
	Serials []string `json:"serials,omitempty"`
	// Fingerprints are SHA-256 fingerprints of the certificate's DER
	// encoding, 64 hex digits, with or without colons, any case.
	Fingerprints []string `json:"fingerprints,omitempty"`
}

// Matcher checks certificates against [Rules].
type Matcher struct {
	subjects, issuers, serials, fingerprints []string
}

// maxEntries bounds each list.
const maxEntries = 1000

// New validates rules and returns their Matcher. Serials must be hex and
// fingerprints 32 bytes of hex; DNs must be non-empty. Errors wrap
// [ErrInvalidRules] and name the entry.
func New(r Rules) (*Matcher, error) {
	m := &Matcher{}
	for _, l := range []struct {
		name string
		in   []string
	}{{"subjects", r.Subjects}, {"issuers", r.Issuers}, {"serials", r.Serials}, {"fingerprints", r.Fingerprints}} {
		if len(l.in) > maxEntries {
			return nil, fmt.Errorf("%w: %s has more than %d entries", ErrInvalidRules, l.name, maxEntries)
		}
	}
	for i, s := range r.Subjects {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%w: subjects[%d] is empty", ErrInvalidRules, i)
		}
		m.subjects = append(m.subjects, s)
	}
	for i, s := range r.Issuers {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%w: issuers[%d] is empty", ErrInvalidRules, i)
		}
		m.issuers = append(m.issuers, s)
	}
	for i, s := range r.Serials {
		n, ok := normalizeSerial(s)
		if !ok {
			return nil, fmt.Errorf("%w: serials[%d] %q is not hex", ErrInvalidRules, i, s)
		}
		m.serials = append(m.serials, n)
	}
	for i, s := range r.Fingerprints {
		n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
		if b, err := hex.DecodeString(n); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%w: fingerprints[%d] %q is not a SHA-256 fingerprint (64 hex digits)", ErrInvalidRules, i, s)
		}
		m.fingerprints = append(m.fingerprints, n)
	}
	return m, nil
}

// Empty reports whether no list is configured (every certificate passes
// the lists; Check still needs one and still checks its validity).
func (m *Matcher) Empty() bool {
	return m == nil || len(m.subjects)+len(m.issuers)+len(m.serials)+len(m.fingerprints) == 0
}

// NeedsPEM reports whether the rules can only be checked with the PEM.
func (m *Matcher) NeedsPEM() bool { return m != nil && len(m.fingerprints) > 0 }

// Certificate is what Check learned about a certificate that passed.
type Certificate struct {
	SubjectDN, IssuerDN, Serial, Fingerprint string
	NotBefore, NotAfter                      time.Time
}

// Check verifies c at now: it must be present, its validity window (from
// the PEM when present, and from the validity dates API Gateway reports)
// must hold now, and it must be in every configured list. Errors wrap
// [ErrNoCertificate], [ErrMalformed], [ErrExpired], [ErrNotYetValid] or
// [ErrNotAllowed].
func (m *Matcher) Check(c *events.APIGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert, now time.Time) (Certificate, error) {
	if c == nil || c.ClientCertPem == "" && c.SubjectDN == "" && c.SerialNumber == "" {
		return Certificate{}, ErrNoCertificate
	}
	info := Certificate{SubjectDN: c.SubjectDN, IssuerDN: c.IssuerDN}
	var subjects, issuers []string
	if c.SubjectDN != "" {
		subjects = append(subjects, c.SubjectDN)
	}
	if c.IssuerDN != "" {
		issuers = append(issuers, c.IssuerDN)
	}
	var windows [][2]time.Time
	if c.ClientCertPem != "" {
		cert, err := parsePEM(c.ClientCertPem)
		if err != nil {
			return Certificate{}, err
		}
		sum := sha256.Sum256(cert.Raw)
		info.Fingerprint = hex.EncodeToString(sum[:])
		info.Serial = cert.SerialNumber.Text(16)
		if info.SubjectDN == "" {
			info.SubjectDN = cert.Subject.String()
		}
		if info.IssuerDN == "" {
			info.IssuerDN = cert.Issuer.String()
		}
		subjects = append(subjects, cert.Subject.String())
		issuers = append(issuers, cert.Issuer.String())
		windows = append(windows, [2]time.Time{cert.NotBefore, cert.NotAfter})
	} else if m.NeedsPEM() {
		return Certificate{}, fmt.Errorf("%w: a fingerprint rule needs the certificate PEM", ErrMalformed)
	}
	if info.Serial == "" {
		s, ok := normalizeSerial(c.SerialNumber)
		if !ok {
			return Certificate{}, fmt.Errorf("%w: serial number is not hex", ErrMalformed)
		}
		info.Serial = s
	}
	if v := c.Validity; v.NotBefore != "" || v.NotAfter != "" {
		nb, err1 := parseDate(v.NotBefore)
		na, err2 := parseDate(v.NotAfter)
		if err1 != nil || err2 != nil {
			return Certificate{}, fmt.Errorf("%w: validity dates %q, %q", ErrMalformed, v.NotBefore, v.NotAfter)
		}
		windows = append(windows, [2]time.Time{nb, na})
	}
	if len(windows) == 0 {
		return Certificate{}, fmt.Errorf("%w: no validity window (no PEM and no validity dates)", ErrMalformed)
	}
	for _, w := range windows {
		switch {
		case now.Before(w[0]):
			return Certificate{}, fmt.Errorf("%w: notBefore %s", ErrNotYetValid, w[0].UTC().Format(time.RFC3339))
		case now.After(w[1]):
			return Certificate{}, fmt.Errorf("%w: notAfter %s", ErrExpired, w[1].UTC().Format(time.RFC3339))
		}
		info.NotBefore, info.NotAfter = w[0], w[1]
	}
	switch {
	case len(m.subjects) > 0 && !anyIn(subjects, m.subjects):
		return Certificate{}, fmt.Errorf("%w: subject", ErrNotAllowed)
	case len(m.issuers) > 0 && !anyIn(issuers, m.issuers):
		return Certificate{}, fmt.Errorf("%w: issuer", ErrNotAllowed)
	case len(m.serials) > 0 && !slices.Contains(m.serials, info.Serial):
		return Certificate{}, fmt.Errorf("%w: serial number", ErrNotAllowed)
	case len(m.fingerprints) > 0 && !slices.Contains(m.fingerprints, info.Fingerprint):
		return Certificate{}, fmt.Errorf("%w: fingerprint", ErrNotAllowed)
	}
	return info, nil
}

func anyIn(have, allowed []string) bool {
	for _, h := range have {
		if slices.Contains(allowed, h) {
			return true
		}
	}
	return false
}

// maxPEM bounds the certificate we parse.
const maxPEM = 16 << 10

func parsePEM(s string) (*x509.Certificate, error) {
	if len(s) > maxPEM {
		return nil, fmt.Errorf("%w: PEM of %d bytes", ErrMalformed, len(s))
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("%w: not one PEM CERTIFICATE block", ErrMalformed)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return cert, nil
}

// dateLayouts are the validity formats: API Gateway's (OpenSSL's, "May 28
// 12:30:02 2019 GMT", with the day space-padded) and RFC 3339.
var dateLayouts = []string{"Jan _2 15:04:05 2006 MST", "Jan 2 15:04:05 2006 MST", time.RFC3339}

func parseDate(s string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q", s)
}

// normalizeSerial turns "0A:1b" into "a1b": hex, lower case, no colons, no
// leading zeros ("0" for zero).
func normalizeSerial(s string) (string, bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if s == "" || len(s) > 128 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return s, true
}
