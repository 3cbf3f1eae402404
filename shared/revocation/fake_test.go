package revocation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeTable is an in-memory stand-in for the revocation table and its GSI.
// It understands exactly the expressions this package sends and fails the
// test's call with an error on anything else.
type fakeTable struct {
	mu       sync.Mutex
	items    map[string]map[string]types.AttributeValue
	hidden   map[string]bool // items not yet visible in the GSI
	pageSize int             // 0: unlimited

	updateErr error
	queryErr  error
	block     chan struct{} // when non-nil, Query waits for it to close
	entered   chan struct{} // when non-nil, Query signals here before blocking
	endless   bool          // always return a LastEvaluatedKey

	updates int
	queries []*dynamodb.QueryInput
}

func newFakeTable() *fakeTable {
	return &fakeTable{items: map[string]map[string]types.AttributeValue{}, hidden: map[string]bool{}}
}

func (f *fakeTable) put(item map[string]types.AttributeValue) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[item[attrPK].(*types.AttributeValueMemberS).Value] = item
}

func (f *fakeTable) queryCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queries)
}

func (f *fakeTable) lastQuery() *dynamodb.QueryInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queries[len(f.queries)-1]
}

func nval(av types.AttributeValue) (int64, bool) {
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(n.Value, 10, 64)
	return x, err == nil
}

func (f *fakeTable) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates++
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	key := in.Key[attrPK].(*types.AttributeValueMemberS).Value
	old, exists := f.items[key]
	v := in.ExpressionAttributeValues
	r, _ := nval(v[":r"])
	oldR, _ := nval(old[attrRevokedAt])
	oldE, _ := nval(old[attrExpiresAt])
	var ok bool
	switch aws.ToString(in.ConditionExpression) {
	case "attribute_not_exists(#pk) OR (#r < :r AND #e <= :e)":
		e, _ := nval(v[":e"])
		ok = !exists || (oldR < r && oldE <= e)
	case "attribute_exists(#pk) AND #r < :r":
		ok = exists && oldR < r
	default:
		return nil, fmt.Errorf("fake: unexpected condition %q", aws.ToString(in.ConditionExpression))
	}
	if !ok {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	item := map[string]types.AttributeValue{attrPK: in.Key[attrPK]}
	for k, val := range old {
		item[k] = val
	}
	for ph, name := range in.ExpressionAttributeNames {
		if val, set := v[":"+ph[1:]]; set && ph != "#pk" {
			item[name] = val
		}
	}
	f.items[key] = item
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeTable) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.mu.Lock()
	f.queries = append(f.queries, in)
	block, entered := f.block, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	if aws.ToString(in.IndexName) != DefaultIndex {
		return nil, errors.New("fake: unknown index")
	}
	v := in.ExpressionAttributeValues
	since := int64(-1 << 63)
	switch aws.ToString(in.KeyConditionExpression) {
	case "#g = :g":
	case "#g = :g AND #u >= :since":
		since, _ = nval(v[":since"])
	default:
		return nil, fmt.Errorf("fake: unexpected key condition %q", aws.ToString(in.KeyConditionExpression))
	}
	now, _ := nval(v[":now"])
	var keys []string
	for k, it := range f.items {
		g, _ := it[attrGSIPK].(*types.AttributeValueMemberS)
		u, hasU := nval(it[attrUpdatedAt])
		if g == nil || g.Value != gsiPartition || !hasU || u < since || f.hidden[k] {
			continue
		}
		if e, present := it[attrExpiresAt]; present {
			if x, isN := nval(e); !isN || x <= now {
				continue // the filter drops expired and non-numeric expiries
			}
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ua, _ := nval(f.items[a][attrUpdatedAt])
		ub, _ := nval(f.items[b][attrUpdatedAt])
		if ua != ub {
			return int(ua - ub)
		}
		return compareStrings(a, b)
	})
	start := 0
	if in.ExclusiveStartKey != nil {
		last := in.ExclusiveStartKey[attrPK].(*types.AttributeValueMemberS).Value
		start = slices.Index(keys, last) + 1
	}
	end := len(keys)
	if f.pageSize > 0 && start+f.pageSize < end {
		end = start + f.pageSize
	}
	// Like DynamoDB (and the SDK's decoding of its "Items":[]), an empty
	// page has an empty, non-nil Items.
	out := &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{}}
	for _, k := range keys[start:end] {
		out.Items = append(out.Items, f.items[k])
	}
	if end < len(keys) || f.endless {
		lastKey := "none"
		if end > 0 {
			lastKey = keys[end-1]
		}
		out.LastEvaluatedKey = map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: lastKey}}
	}
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// item builds a table item as the writer would store it.
func item(pk string, revokedAt, expiresAt, updatedAtMs int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:        &types.AttributeValueMemberS{Value: pk},
		attrRevokedAt: number(revokedAt),
		attrExpiresAt: number(expiresAt),
		attrUpdatedAt: number(updatedAtMs),
		attrReason:    &types.AttributeValueMemberS{Value: "test"},
		attrGSIPK:     &types.AttributeValueMemberS{Value: gsiPartition},
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
