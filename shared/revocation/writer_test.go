package revocation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestEntryKey(t *testing.T) {
	tests := []struct {
		name    string
		e       Entry
		want    string
		wantErr bool
	}{
		{name: "subject under any issuer", e: Entry{Subject: "u-1"}, want: "sub#*#u-1"},
		{name: "explicit any issuer", e: Entry{Issuer: "*", Subject: "u-1"}, want: "sub#*#u-1"},
		{name: "scoped subject", e: Entry{Issuer: "https://idp.example.com", Subject: "u-1"}, want: "sub#https://idp.example.com#u-1"},
		{name: "subject containing #", e: Entry{Issuer: "https://idp.example.com", Subject: "a#b"}, want: "sub#https://idp.example.com#a#b"},
		{name: "token", e: Entry{JTI: "j-1"}, want: "jti#j-1"},
		{name: "token with any issuer", e: Entry{Issuer: "*", JTI: "j-1"}, want: "jti#j-1"},
		{name: "neither", e: Entry{Reason: "x"}, wantErr: true},
		{name: "both", e: Entry{Subject: "u", JTI: "j"}, wantErr: true},
		{name: "issuer with #", e: Entry{Issuer: "https://idp#x", Subject: "u"}, wantErr: true},
		{name: "token scoped to issuer", e: Entry{Issuer: "https://idp", JTI: "j"}, wantErr: true},
		{name: "subject too long", e: Entry{Subject: strings.Repeat("a", maxIDLen+1)}, wantErr: true},
		{name: "control character", e: Entry{Subject: "u\n1"}, wantErr: true},
		{name: "not UTF-8", e: Entry{JTI: "\xff"}, wantErr: true},
		{name: "padded", e: Entry{Subject: " u"}, wantErr: true},
		{name: "reason too long", e: Entry{Subject: "u", Reason: strings.Repeat("r", maxReasonLen+1)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.e.Key()
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidEntry) {
					t.Fatalf("Key() error = %v, want ErrInvalidEntry", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Key() = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func attrN(t *testing.T, it map[string]types.AttributeValue, name string) int64 {
	t.Helper()
	n, ok := nval(it[name])
	if !ok {
		t.Fatalf("attribute %s = %#v, want a number", name, it[name])
	}
	return n
}

func attrS(t *testing.T, it map[string]types.AttributeValue, name string) string {
	t.Helper()
	s, ok := it[name].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("attribute %s = %#v, want a string", name, it[name])
	}
	return s.Value
}

func TestRevokeStoresEntry(t *testing.T) {
	db := newFakeTable()
	now := time.Unix(1_700_000_000, 500_000_000)
	w := NewWriter(db, "revocations", WithMaxTokenLifetime(time.Hour))
	w.now = func() time.Time { return now }

	created, err := w.Revoke(context.Background(), Entry{Issuer: "https://idp", Subject: "u-1", Reason: "offboarded"})
	if err != nil || !created {
		t.Fatalf("Revoke = %v, %v; want true, nil", created, err)
	}
	it := db.items["sub#https://idp#u-1"]
	if it == nil {
		t.Fatalf("no item stored; items = %v", db.items)
	}
	if got, want := attrN(t, it, attrRevokedAt), int64(1_700_000_001); got != want {
		t.Errorf("revokedAt = %d, want %d (rounded up)", got, want)
	}
	if got, want := attrN(t, it, attrExpiresAt), int64(1_700_000_001+3600+300); got != want {
		t.Errorf("expiresAt = %d, want %d", got, want)
	}
	if got, want := attrN(t, it, attrUpdatedAt), now.UnixMilli(); got != want {
		t.Errorf("updatedAt = %d, want %d", got, want)
	}
	if got := attrS(t, it, attrReason); got != "offboarded" {
		t.Errorf("reason = %q, want offboarded", got)
	}
	if got := attrS(t, it, attrGSIPK); got != "rev" {
		t.Errorf("gsi1pk = %q, want rev", got)
	}
}

func TestRevokeIdempotence(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	type step struct {
		e           Entry
		wantCreated bool
		wantR       int64
		wantE       int64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "repeated event changes nothing",
			steps: []step{
				{e: Entry{Subject: "u", RevokedAt: base}, wantCreated: true, wantR: base.Unix(), wantE: base.Unix() + 86400 + 300},
				{e: Entry{Subject: "u", RevokedAt: base}, wantCreated: false, wantR: base.Unix(), wantE: base.Unix() + 86400 + 300},
			},
		},
		{
			name: "older event replayed after a newer one",
			steps: []step{
				{e: Entry{Subject: "u", RevokedAt: base.Add(time.Hour)}, wantCreated: true, wantR: base.Unix() + 3600, wantE: base.Unix() + 3600 + 86400 + 300},
				{e: Entry{Subject: "u", RevokedAt: base}, wantCreated: false, wantR: base.Unix() + 3600, wantE: base.Unix() + 3600 + 86400 + 300},
			},
		},
		{
			name: "newer revocation raises revokedAt and expiry",
			steps: []step{
				{e: Entry{Subject: "u", RevokedAt: base}, wantCreated: true, wantR: base.Unix(), wantE: base.Unix() + 86400 + 300},
				{e: Entry{Subject: "u", RevokedAt: base.Add(time.Hour)}, wantCreated: true, wantR: base.Unix() + 3600, wantE: base.Unix() + 3600 + 86400 + 300},
			},
		},
		{
			name: "newer revocation never shortens a longer expiry",
			steps: []step{
				{e: Entry{Subject: "u", RevokedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour)}, wantCreated: true, wantR: base.Unix(), wantE: base.Unix() + 30*86400},
				{e: Entry{Subject: "u", RevokedAt: base.Add(time.Hour)}, wantCreated: true, wantR: base.Unix() + 3600, wantE: base.Unix() + 30*86400},
			},
		},
		{
			name: "an expiry below the token lifetime is raised",
			steps: []step{
				{e: Entry{JTI: "j", RevokedAt: base, ExpiresAt: base.Add(time.Minute)}, wantCreated: true, wantR: base.Unix(), wantE: base.Unix() + 86400 + 300},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newFakeTable()
			w := NewWriter(db, "revocations")
			for i, s := range tt.steps {
				w.now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
				key, _ := s.e.Key()
				before := db.items[key]
				created, err := w.Revoke(context.Background(), s.e)
				if err != nil || created != s.wantCreated {
					t.Fatalf("step %d: Revoke = %v, %v; want %v, nil", i, created, err, s.wantCreated)
				}
				it := db.items[key]
				if got := attrN(t, it, attrRevokedAt); got != s.wantR {
					t.Errorf("step %d: revokedAt = %d, want %d", i, got, s.wantR)
				}
				if got := attrN(t, it, attrExpiresAt); got != s.wantE {
					t.Errorf("step %d: expiresAt = %d, want %d", i, got, s.wantE)
				}
				if !created && attrN(t, it, attrUpdatedAt) != attrN(t, before, attrUpdatedAt) {
					t.Errorf("step %d: updatedAt changed on a no-op", i)
				}
			}
		})
	}
}

func TestRevokeDefaultsAndErrors(t *testing.T) {
	t.Run("zero time means now and empty reason is filled", func(t *testing.T) {
		db := newFakeTable()
		w := NewWriter(db, "t")
		w.now = func() time.Time { return time.Unix(1_700_000_000, 0) }
		if _, err := w.Revoke(context.Background(), Entry{JTI: "j"}); err != nil {
			t.Fatal(err)
		}
		it := db.items["jti#j"]
		if got := attrN(t, it, attrRevokedAt); got != 1_700_000_000 {
			t.Errorf("revokedAt = %d, want 1700000000", got)
		}
		if got := attrS(t, it, attrReason); got != "unspecified" {
			t.Errorf("reason = %q, want unspecified", got)
		}
	})
	t.Run("invalid entry makes no call", func(t *testing.T) {
		db := newFakeTable()
		_, err := NewWriter(db, "t").Revoke(context.Background(), Entry{})
		if !errors.Is(err, ErrInvalidEntry) {
			t.Fatalf("err = %v, want ErrInvalidEntry", err)
		}
		if db.updates != 0 {
			t.Errorf("updates = %d, want 0", db.updates)
		}
	})
	t.Run("entry whose tokens have all expired is not written", func(t *testing.T) {
		now := time.Unix(1_700_000_000, 0)
		for _, tc := range []struct {
			name    string
			e       Entry
			expired bool
		}{
			{"revoked a lifetime and the skew margin ago", Entry{Subject: "s", RevokedAt: now.Add(-DefaultMaxTokenLifetime - SkewMargin)}, true},
			{"revoked two days ago", Entry{JTI: "j", RevokedAt: now.Add(-48 * time.Hour)}, true},
			{"revoked a lifetime ago: a token may still pass within the skew", Entry{Subject: "s", RevokedAt: now.Add(-DefaultMaxTokenLifetime)}, false},
			{"revoked a second less than a lifetime and the margin ago", Entry{Subject: "s", RevokedAt: now.Add(-DefaultMaxTokenLifetime - SkewMargin + time.Second)}, false},
			{"old, but kept until a later ExpiresAt", Entry{Subject: "s", RevokedAt: now.Add(-48 * time.Hour), ExpiresAt: now.Add(time.Minute)}, false},
		} {
			db := newFakeTable()
			w := NewWriter(db, "t")
			w.now = func() time.Time { return now }
			created, err := w.Revoke(context.Background(), tc.e)
			if tc.expired {
				if !errors.Is(err, ErrExpiredEntry) || created || db.updates != 0 {
					t.Errorf("%s: Revoke = %v, %v with %d updates; want ErrExpiredEntry and no write", tc.name, created, err, db.updates)
				}
				continue
			}
			if err != nil || !created || db.updates != 1 {
				t.Errorf("%s: Revoke = %v, %v with %d updates; want it written", tc.name, created, err, db.updates)
			}
		}
	})
	t.Run("table error is wrapped", func(t *testing.T) {
		db := newFakeTable()
		boom := errors.New("throttled")
		db.updateErr = boom
		created, err := NewWriter(db, "t").Revoke(context.Background(), Entry{Subject: "secret-sub"})
		if created || !errors.Is(err, boom) {
			t.Fatalf("Revoke = %v, %v; want false, wrapping %v", created, err, boom)
		}
		if strings.Contains(err.Error(), "secret-sub") {
			t.Errorf("error %q echoes the subject", err)
		}
	})
}
