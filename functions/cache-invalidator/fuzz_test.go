package main

import (
	"testing"
	"time"
)

// FuzzParseRequest feeds arbitrary events to the parser: it must never
// panic, and whatever it accepts must be writable.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		`{"subject":"alice","reason":"x"}`,
		`{"jti":"t","revokedAt":"2025-06-12T14:00:00Z"}`,
		`{"detail-type":"access.revoked","source":"x","time":"2025-06-12T14:03:27Z","detail":{"subject":"a"}}`,
		`{"detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","time":"2025-06-12T14:03:27Z","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"AdminDisableUser","eventTime":"2025-06-12T14:05:08Z","requestParameters":{"userPoolId":"us-east-1_Ab1","username":"a"},"additionalEventData":{"sub":"s"}}}`,
		`{"Records":[]}`,
		`null`, `[]`, `{}`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2025, 6, 12, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := parseRequest(raw, now, now)
		if err != nil || req.skip != "" {
			return
		}
		e := req.entry
		if e.Subject == "" && e.JTI == "" {
			// A CloudTrail request: the handler fills the subject in.
			if req.userPoolID == "" || (req.username == "" && req.sub == "") {
				t.Fatalf("accepted a CloudTrail request naming no user: %+v", req)
			}
			e.Subject = req.sub + req.username
			if _, err := e.Key(); err != nil && e.Issuer == "" {
				t.Fatalf("CloudTrail request without an issuer: %+v", req)
			}
			return
		}
		if _, err := e.Key(); err != nil {
			t.Fatalf("accepted an entry that cannot be stored: %+v: %v", e, err)
		}
		if e.RevokedAt.IsZero() || e.RevokedAt.After(now.Add(maxFutureSkew)) {
			t.Fatalf("RevokedAt = %v out of range", e.RevokedAt)
		}
	})
}
