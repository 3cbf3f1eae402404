package replay

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// PutItemAPI is the part of the DynamoDB client a [Table] uses.
type PutItemAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Table is a replay guard over a DynamoDB table whose partition key is the
// string attribute "pk". Each entry also has "expiresAt" (epoch seconds, a
// number): set the table's TTL on it.
type Table struct {
	api   PutItemAPI
	table string
	now   func() time.Time
}

// A TableOption changes one of a [Table]'s defaults.
type TableOption func(*Table)

// WithTableClock replaces time.Now, for tests.
func WithTableClock(now func() time.Time) TableOption {
	return func(t *Table) {
		if now != nil {
			t.now = now
		}
	}
}

// NewTable returns a Table guard over the named table.
func NewTable(api PutItemAPI, table string, opts ...TableOption) *Table {
	t := &Table{api: api, table: table, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// keyPrefix namespaces the entries, should the table hold other items.
const keyPrefix = "sig#"

// Seen writes the entry unless an unexpired one exists (a conditional
// PutItem) and reports a replay when it did. Any other DynamoDB error is
// returned: the caller must fail closed.
func (t *Table) Seen(ctx context.Context, key string, until time.Time) (bool, error) {
	now := t.now()
	_, err := t.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.table),
		Item: map[string]types.AttributeValue{
			"pk":        &types.AttributeValueMemberS{Value: keyPrefix + key},
			"expiresAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(until.Unix()+1, 10)},
		},
		// TTL deletes late, so an expired entry may still be there.
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR expiresAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	if err == nil {
		return false, nil
	}
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return true, nil
	}
	return false, fmt.Errorf("replay table %s: %w", t.table, err)
}
