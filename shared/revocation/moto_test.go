package revocation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// startMoto starts moto's server on a free port and returns a real DynamoDB
// client pointed at it. It skips the test when moto_server is not on PATH.
func startMoto(t *testing.T) *dynamodb.Client {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// createTable creates the revocation table as the package comment describes.
func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrGSIPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrUpdatedAt), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(DefaultIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSIPK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrUpdatedAt), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionTypeInclude,
				NonKeyAttributes: []string{attrRevokedAt, attrExpiresAt, attrReason},
			},
		}},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrExpiresAt), Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("enable TTL: %v", err)
	}
}

func TestAgainstMoto(t *testing.T) {
	db := startMoto(t)
	const table = "revocations"
	createTable(t, db, table)
	ctx := context.Background()
	w := NewWriter(db, table)
	now := time.Now()
	iatBefore := now.Add(-time.Hour)

	// An expired entry that DynamoDB (and moto) still returns.
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      item("sub#*#expired", now.Unix()-7200, now.Unix()-60, now.UnixMilli()),
	})
	if err != nil {
		t.Fatal(err)
	}

	created, err := w.Revoke(ctx, Entry{Issuer: "https://idp.example.com", Subject: "alice", Reason: "offboarded"})
	if err != nil || !created {
		t.Fatalf("Revoke = %v, %v; want true, nil", created, err)
	}
	created, err = w.Revoke(ctx, Entry{Issuer: "https://idp.example.com", Subject: "alice", RevokedAt: now.Add(-time.Minute)})
	if err != nil || created {
		t.Fatalf("Revoke of an older event = %v, %v; want false, nil", created, err)
	}

	var generations []uint64
	v := NewView(db, table, WithRefreshInterval(50*time.Millisecond), WithOnChange(func(g uint64) { generations = append(generations, g) }))
	check := func(iss, sub, jti string, iat time.Time) bool {
		t.Helper()
		got, err := v.Check(ctx, iss, sub, jti, iat)
		if err != nil {
			t.Fatalf("Check(%q, %q, %q) error: %v", iss, sub, jti, err)
		}
		return got
	}
	if !check("https://idp.example.com", "alice", "", iatBefore) {
		t.Error("alice not revoked")
	}
	if check("https://other.example.com", "alice", "", iatBefore) {
		t.Error("alice revoked under another issuer")
	}
	if check("https://idp.example.com", "alice", "", now.Add(2*time.Second)) {
		t.Error("a token issued after the revocation was denied")
	}
	if check("", "expired", "", iatBefore) {
		t.Error("an expired entry was honoured")
	}
	if check("", "", "tok-1", time.Time{}) {
		t.Error("tok-1 revoked before it was written")
	}

	// Incremental refresh picks up a new entry.
	if _, err := w.Revoke(ctx, Entry{JTI: "tok-1", Reason: "leaked"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if !check("", "", "tok-1", time.Time{}) {
		t.Error("incremental refresh missed tok-1")
	}
	st := v.Stats()
	if st.FullLoads != 1 || st.Refreshes < 2 || st.Entries != 2 || st.RefreshErrors != 0 {
		t.Errorf("Stats = %+v; want 1 full load, >=2 refreshes, 2 entries, no errors", st)
	}
	if len(generations) != 2 {
		t.Errorf("onChange calls = %v, want 2", generations)
	}

	// A later revocation with an explicitly longer first expiry takes the
	// second, expiry-keeping path against real conditions.
	long := now.Add(30 * 24 * time.Hour)
	if _, err := w.Revoke(ctx, Entry{Subject: "bob", RevokedAt: now.Add(-time.Hour), ExpiresAt: long}); err != nil {
		t.Fatal(err)
	}
	created, err = w.Revoke(ctx, Entry{Subject: "bob", RevokedAt: now})
	if err != nil || !created {
		t.Fatalf("later Revoke = %v, %v; want true, nil", created, err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: "sub#*#bob"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrN(t, out.Item, attrRevokedAt); got != ceilUnix(now) {
		t.Errorf("revokedAt = %d, want %d", got, ceilUnix(now))
	}
	if got := attrN(t, out.Item, attrExpiresAt); got != ceilUnix(long) {
		t.Errorf("expiresAt = %d, want %d (kept)", got, ceilUnix(long))
	}
	time.Sleep(100 * time.Millisecond)
	if !check("", "bob", "", now.Add(-time.Second)) {
		t.Error("bob not revoked after the raised revocation")
	}

	// A table that does not exist fails closed once stale.
	bad := NewView(db, "missing", WithRefreshInterval(10*time.Millisecond))
	if _, err := bad.Check(ctx, "", "alice", "", iatBefore); !errors.Is(err, ErrStale) {
		t.Errorf("missing table: err = %v, want ErrStale", err)
	}
}
