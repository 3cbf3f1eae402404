package revocation

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

// DefaultMaxTokenLifetime is the longest token lifetime a [Writer] assumes
// unless told otherwise: one day, the longest access or ID token Amazon
// Cognito issues.
const DefaultMaxTokenLifetime = 24 * time.Hour

// SkewMargin is added to every entry's lifetime: a verifier accepts a token
// until its exp plus its clock skew, so an entry that ended exactly a token
// lifetime after revokedAt would let a revoked token through for that long.
// It is the largest CLOCK_SKEW_SECONDS the token authorizer accepts.
const SkewMargin = 5 * time.Minute

// UpdateItemAPI is the part of the DynamoDB client a [Writer] uses.
// *dynamodb.Client implements it.
type UpdateItemAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// A Writer stores revocations. It is safe for concurrent use.
type Writer struct {
	db          UpdateItemAPI
	table       string
	maxLifetime time.Duration
	now         func() time.Time
}

// A WriterOption changes one of a [Writer]'s defaults.
type WriterOption func(*Writer)

// WithMaxTokenLifetime sets the longest lifetime of any token the readers
// accept, so that every entry outlives the tokens it denies. The default is
// [DefaultMaxTokenLifetime]; values below one minute are raised to one minute.
func WithMaxTokenLifetime(d time.Duration) WriterOption {
	return func(w *Writer) { w.maxLifetime = max(d, time.Minute) }
}

// NewWriter returns a Writer for the table.
func NewWriter(db UpdateItemAPI, table string, opts ...WriterOption) *Writer {
	w := &Writer{db: db, table: table, maxLifetime: DefaultMaxTokenLifetime, now: time.Now}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Revoke stores e. It is idempotent: created is true when this call changed
// the table (a new entry, or a later RevokedAt for an existing one) and false
// when an entry with the same or a later RevokedAt was already there, in which
// case nothing changes. It never lowers revokedAt and never shortens an
// existing expiry. It returns an error wrapping [ErrInvalidEntry] for a bad
// entry, [ErrExpiredEntry] (writing nothing) for one whose tokens have all
// expired, and the DynamoDB error, wrapped, when the table cannot be written.
func (w *Writer) Revoke(ctx context.Context, e Entry) (created bool, err error) {
	key, err := e.Key()
	if err != nil {
		return false, err
	}
	now := w.now()
	revokedAt := e.RevokedAt
	if revokedAt.IsZero() {
		revokedAt = now
	}
	r := ceilUnix(revokedAt)
	exp := r + int64((w.maxLifetime+SkewMargin+time.Second-1)/time.Second)
	if !e.ExpiresAt.IsZero() {
		exp = max(exp, ceilUnix(e.ExpiresAt))
	}
	if exp <= now.Unix() { // readers keep an entry while now < expiresAt
		return false, ErrExpiredEntry
	}
	reason := e.Reason
	if reason == "" {
		reason = "unspecified"
	}

	names := map[string]string{
		"#pk": attrPK, "#r": attrRevokedAt, "#why": attrReason,
		"#u": attrUpdatedAt, "#g": attrGSIPK, "#e": attrExpiresAt,
	}
	values := map[string]types.AttributeValue{
		":r":   number(r),
		":e":   number(exp),
		":why": &types.AttributeValueMemberS{Value: reason},
		":u":   number(now.UnixMilli()),
		":g":   &types.AttributeValueMemberS{Value: gsiPartition},
	}
	keyAttr := map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: key}}

	// New entry, or a later revocation whose expiry is no earlier than the
	// stored one: write everything.
	_, err = w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(w.table),
		Key:                       keyAttr,
		UpdateExpression:          aws.String("SET #r = :r, #e = :e, #why = :why, #u = :u, #g = :g"),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR (#r < :r AND #e <= :e)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return true, nil
	}
	if !conditionFailed(err) {
		return false, fmt.Errorf("revoke %s: %w", kindOf(key), err)
	}

	// A later revocation, but the stored expiry is later still: raise
	// revokedAt and keep the expiry.
	delete(names, "#e")
	delete(values, ":e")
	_, err = w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(w.table),
		Key:                       keyAttr,
		UpdateExpression:          aws.String("SET #r = :r, #why = :why, #u = :u, #g = :g"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #r < :r"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	switch {
	case err == nil:
		return true, nil
	case conditionFailed(err):
		// The stored revocation is at least as recent: nothing to do.
		return false, nil
	default:
		return false, fmt.Errorf("revoke %s: %w", kindOf(key), err)
	}
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// kindOf names the kind of entry for error messages without echoing the
// identifiers themselves.
func kindOf(key string) string {
	if len(key) >= len(jtiPrefix) && key[:len(jtiPrefix)] == jtiPrefix {
		return "token"
	}
	return "subject"
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
