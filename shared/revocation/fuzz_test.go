package revocation

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzEntryKey checks that a key, when one is built, names exactly the
// entry's (issuer, subject) or jti, so two different entries never share one.
func FuzzEntryKey(f *testing.F) {
	f.Add("https://idp.example.com", "alice", "")
	f.Add("", "a#b", "")
	f.Add("*", "", "tok")
	f.Add("https://a#b", "c", "")
	f.Fuzz(func(t *testing.T, issuer, sub, jti string) {
		e := Entry{Issuer: issuer, Subject: sub, JTI: jti}
		key, err := e.Key()
		if err != nil {
			return
		}
		if !wellFormedKey(key) {
			t.Fatalf("Key() = %q is not well formed", key)
		}
		if jti != "" {
			if key != "jti#"+jti {
				t.Fatalf("Key() = %q, want jti#%s", key, jti)
			}
			return
		}
		gotIss, gotSub, _ := strings.Cut(strings.TrimPrefix(key, subjectPrefix), "#")
		if gotIss != e.issuer() || gotSub != sub {
			t.Fatalf("Key() = %q splits into (%q, %q), want (%q, %q)", key, gotIss, gotSub, e.issuer(), sub)
		}
	})
}

// FuzzDecodeItem feeds table items with arbitrary attribute text to the
// reader: it must never panic, and must fail closed.
func FuzzDecodeItem(f *testing.F) {
	f.Add("sub#*#alice", "1700000000", "1700086400", "iss", "alice", int64(1699999999))
	f.Add("jti#x", "NaN", "", "", "", int64(0))
	f.Add("sub##", "-1", "99999999999999999999", "", "#", int64(-5))
	f.Fuzz(func(t *testing.T, pk, revokedAt, expiresAt, iss, sub string, iat int64) {
		it := map[string]types.AttributeValue{
			attrPK:        &types.AttributeValueMemberS{Value: pk},
			attrRevokedAt: &types.AttributeValueMemberN{Value: revokedAt},
			attrExpiresAt: &types.AttributeValueMemberN{Value: expiresAt},
		}
		key, r, ok := decodeItem(it)
		if !ok {
			return
		}
		if key != pk {
			t.Fatalf("key = %q, want %q", key, pk)
		}
		s := &snapshot{entries: map[string]record{key: r}}
		_ = s.revoked(time.Now().Unix(), iss, sub, sub, time.Unix(iat, 0))
		_ = s.revoked(time.Now().Unix(), iss, sub, "", time.Time{})
	})
}

// BenchmarkCheck measures the hot path: a warm view of 10,000 entries.
func BenchmarkCheck(b *testing.B) {
	db := newFakeTable()
	exp := time.Now().Unix() + 3600
	for i := range 10_000 {
		db.put(item("sub#*#user-"+strconv.Itoa(i), time.Now().Unix(), exp, int64(i)))
	}
	v := NewView(db, "t", WithRefreshInterval(time.Hour))
	ctx := context.Background()
	iat := time.Now().Add(-time.Hour)
	if got, _ := v.Check(ctx, "https://idp.example.com", "user-42", "", iat); !got {
		b.Fatal("user-42 not revoked")
	}
	b.Run("revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = v.Check(ctx, "https://idp.example.com", "user-42", "jti-42", iat)
		}
	})
	b.Run("not revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = v.Check(ctx, "https://idp.example.com", "someone-else", "jti-x", iat)
		}
	})
}
