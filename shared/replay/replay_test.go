package replay_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/apigw-guard/guard/internal/moto"
	"github.com/apigw-guard/guard/shared/replay"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemory(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	m := replay.NewMemory(3, replay.WithClock(c.now))
	ctx := context.Background()
	seen := func(key string, until time.Duration) bool {
		t.Helper()
		s, err := m.Seen(ctx, key, c.t.Add(until))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if seen("a", 300*time.Second) {
		t.Fatal("first a: seen, want new")
	}
	if !seen("a", 300*time.Second) {
		t.Fatal("second a: new, want seen")
	}
	if seen("b", 100*time.Second) || seen("c", 200*time.Second) {
		t.Fatal("b or c: seen, want new")
	}
	// Full: d evicts b, whose window ends soonest.
	if seen("d", 250*time.Second) {
		t.Fatal("d: seen, want new")
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	if !seen("a", 300*time.Second) || !seen("c", 200*time.Second) || !seen("d", 250*time.Second) {
		t.Fatal("a, c, d must still be remembered")
	}
	if seen("b", 100*time.Second) {
		t.Fatal("b was evicted, so it is new again (best effort)")
	}
	// After its window an entry is forgotten.
	c.t = c.t.Add(301 * time.Second)
	if seen("a", 300*time.Second) {
		t.Fatal("a after its window: seen, want new")
	}
	if m.Len() != 1 {
		t.Fatalf("Len after expiry = %d, want 1 (expired entries pruned)", m.Len())
	}
	// An entry whose window has already ended is not stored.
	if seen("e", -time.Second) || seen("e", -time.Second) || m.Len() != 1 {
		t.Fatalf("expired e stored: Len %d", m.Len())
	}
}

func TestMemoryConcurrent(t *testing.T) {
	m := replay.NewMemory(0)
	until := time.Now().Add(time.Minute)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s, _ := m.Seen(context.Background(), strconv.Itoa(i), until)
				if !s {
					fresh.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 200 {
		t.Fatalf("%d keys recorded as new, want exactly 200 (each once)", fresh.Load())
	}
}

// fakeTable applies the Table's condition the way DynamoDB does.
type fakeTable struct {
	mu    sync.Mutex
	items map[string]int64
	err   error
	in    *dynamodb.PutItemInput
}

func (f *fakeTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	pk := in.Item["pk"].(*types.AttributeValueMemberS).Value
	exp, _ := strconv.ParseInt(in.Item["expiresAt"].(*types.AttributeValueMemberN).Value, 10, 64)
	now, _ := strconv.ParseInt(in.ExpressionAttributeValues[":now"].(*types.AttributeValueMemberN).Value, 10, 64)
	if old, ok := f.items[pk]; ok && old > now {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	f.items[pk] = exp
	return &dynamodb.PutItemOutput{}, nil
}

func TestTable(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	f := &fakeTable{items: map[string]int64{}}
	g := replay.NewTable(f, "nonces", replay.WithTableClock(c.now))
	ctx := context.Background()
	if s, err := g.Seen(ctx, "k1", c.t.Add(300*time.Second)); s || err != nil {
		t.Fatalf("first k1 = %v, %v; want new", s, err)
	}
	if got := aws.ToString(f.in.TableName); got != "nonces" {
		t.Errorf("table = %q, want nonces", got)
	}
	if got := f.items["sig#k1"]; got != c.t.Unix()+301 {
		t.Errorf("expiresAt = %d, want %d", got, c.t.Unix()+301)
	}
	if s, err := g.Seen(ctx, "k1", c.t.Add(300*time.Second)); !s || err != nil {
		t.Fatalf("second k1 = %v, %v; want seen", s, err)
	}
	// An expired entry that TTL has not deleted yet does not count.
	c.t = c.t.Add(302 * time.Second)
	if s, err := g.Seen(ctx, "k1", c.t.Add(300*time.Second)); s || err != nil {
		t.Fatalf("k1 after its window = %v, %v; want new", s, err)
	}
	f.err = errors.New("throttled")
	if _, err := g.Seen(ctx, "k2", c.t.Add(time.Minute)); err == nil {
		t.Fatal("a failing table must be an error (the caller fails closed)")
	}
}

// TestTableMoto runs the condition against moto's DynamoDB, which
// evaluates condition expressions like AWS.
func TestTableMoto(t *testing.T) {
	if !moto.Available() {
		t.Skip("moto_server not installed (pip install \"moto[server]\")")
	}
	ctx := context.Background()
	srv, err := moto.Start(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("nonces"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	g := replay.NewTable(db, "nonces", replay.WithTableClock(c.now))
	for i, want := range []bool{false, true, true} {
		s, err := g.Seen(ctx, "abc", c.t.Add(10*time.Second))
		if err != nil || s != want {
			t.Fatalf("call %d: Seen = %v, %v; want %v", i, s, err, want)
		}
	}
	c.t = c.t.Add(12 * time.Second)
	if s, err := g.Seen(ctx, "abc", c.t.Add(10*time.Second)); s || err != nil {
		t.Fatalf("after the window: Seen = %v, %v; want new", s, err)
	}
	bad := replay.NewTable(db, "no-such-table")
	if _, err := bad.Seen(ctx, "x", time.Now().Add(time.Minute)); err == nil {
		t.Fatal("missing table: want an error")
	}
}
