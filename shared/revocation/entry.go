package revocation

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AnyIssuer as an [Entry]'s Issuer revokes the subject under every issuer.
const AnyIssuer = "*"

// DefaultIndex is the name of the GSI a [View] queries unless told otherwise
// with [WithIndex].
const DefaultIndex = "gsi1"

// Attribute names and fixed values of the table; see the package comment.
const (
	attrPK        = "pk"
	attrRevokedAt = "revokedAt"
	attrReason    = "reason"
	attrExpiresAt = "expiresAt"
	attrUpdatedAt = "updatedAt"
	attrGSIPK     = "gsi1pk"
	gsiPartition  = "rev"

	subjectPrefix = "sub#"
	jtiPrefix     = "jti#"
)

// Limits on an entry's fields, in bytes. DynamoDB allows a partition key of
// 2048 bytes; both parts of a subject key together stay below that.
const (
	maxIDLen     = 1000
	maxReasonLen = 1024
)

// ErrInvalidEntry means an [Entry] cannot be stored: it names neither or both
// of a subject and a token, or a field is empty, too long, not UTF-8, or an
// issuer contains '#'. Compare with errors.Is.
var ErrInvalidEntry = errors.New("invalid revocation entry")

// ErrExpiredEntry means an entry would be expired the moment it is written:
// its RevokedAt is more than the writer's maximum token lifetime plus
// [SkewMargin] ago (and its ExpiresAt, if set, is past), so every token it
// would revoke has expired already. Nothing is written, and nothing needs to be: a late or replayed
// revocation event is done, not failed. Compare with errors.Is.
var ErrExpiredEntry = errors.New("revocation entry already expired")

// An Entry revokes either every token of a subject issued before RevokedAt,
// or one token by its jti. Exactly one of Subject and JTI is set.
type Entry struct {
	// Issuer scopes a subject revocation to one token issuer (the iss claim).
	// Empty or [AnyIssuer] means every issuer. Ignored for a jti entry.
	Issuer string
	// Subject is the sub claim to revoke.
	Subject string
	// JTI is the jti claim of the single token to revoke.
	JTI string
	// RevokedAt is when the revocation happened; zero means now. It is stored
	// rounded up to the next whole second, because iat has whole seconds: a
	// token issued in the same second is treated as issued before.
	RevokedAt time.Time
	// Reason is kept for audits; at most 1024 bytes.
	Reason string
	// ExpiresAt is when the entry may be forgotten. It is raised to at least
	// RevokedAt plus the writer's maximum token lifetime plus [SkewMargin];
	// zero means exactly that.
	ExpiresAt time.Time
}

// Key returns the entry's partition key, or an error wrapping
// [ErrInvalidEntry].
func (e Entry) Key() (string, error) {
	if err := e.validate(); err != nil {
		return "", err
	}
	if e.JTI != "" {
		return jtiPrefix + e.JTI, nil
	}
	return subjectPrefix + e.issuer() + "#" + e.Subject, nil
}

func (e Entry) issuer() string {
	if e.Issuer == "" {
		return AnyIssuer
	}
	return e.Issuer
}

func (e Entry) validate() error {
	switch {
	case e.Subject == "" && e.JTI == "":
		return fmt.Errorf("%w: neither subject nor jti is set", ErrInvalidEntry)
	case e.Subject != "" && e.JTI != "":
		return fmt.Errorf("%w: both subject and jti are set", ErrInvalidEntry)
	}
	if e.JTI != "" {
		if e.Issuer != "" && e.Issuer != AnyIssuer {
			return fmt.Errorf("%w: a jti entry cannot be scoped to an issuer", ErrInvalidEntry)
		}
		if err := checkID("jti", e.JTI); err != nil {
			return err
		}
	} else {
		if err := checkID("subject", e.Subject); err != nil {
			return err
		}
		if err := checkID("issuer", e.issuer()); err != nil {
			return err
		}
		if strings.Contains(e.Issuer, "#") {
			return fmt.Errorf("%w: issuer contains '#'", ErrInvalidEntry)
		}
	}
	if len(e.Reason) > maxReasonLen || !utf8.ValidString(e.Reason) {
		return fmt.Errorf("%w: reason is longer than %d bytes or not UTF-8", ErrInvalidEntry, maxReasonLen)
	}
	return nil
}

func checkID(name, v string) error {
	switch {
	case len(v) > maxIDLen:
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidEntry, name, maxIDLen)
	case !utf8.ValidString(v):
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidEntry, name)
	case strings.TrimSpace(v) != v:
		return fmt.Errorf("%w: %s has leading or trailing space", ErrInvalidEntry, name)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidEntry, name)
		}
	}
	return nil
}

// ceilUnix returns t in unix seconds, rounded up to the next whole second.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}
