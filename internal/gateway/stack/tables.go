package stack

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/apigw-guard/guard/internal/samtemplate"
)

// LocalDynamoDB returns a DynamoDB client for a local endpoint (moto).
func LocalDynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       samtemplate.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// createTables creates the template's DynamoDB tables in the local DynamoDB,
// on demand, with their indexes and TTL setting. An existing table is left
// as it is.
func createTables(ctx context.Context, db *dynamodb.Client, tables []*samtemplate.Table) error {
	for _, t := range tables {
		in := &dynamodb.CreateTableInput{TableName: aws.String(t.Name), BillingMode: ddbtypes.BillingModePayPerRequest}
		for _, a := range t.AttributeDefinitions {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
				AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType)})
		}
		in.KeySchema = keySchema(t.KeySchema)
		for _, g := range t.GlobalSecondaryIndexes {
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
				IndexName: aws.String(g.IndexName),
				KeySchema: keySchema(g.KeySchema),
				Projection: &ddbtypes.Projection{
					ProjectionType:   ddbtypes.ProjectionType(g.Projection.ProjectionType),
					NonKeyAttributes: g.Projection.NonKeyAttributes,
				},
			})
		}
		_, err := db.CreateTable(ctx, in)
		var inUse *ddbtypes.ResourceInUseException
		switch {
		case errors.As(err, &inUse):
			continue
		case err != nil:
			return fmt.Errorf("create table %s (%s): %w", t.Name, t.LogicalID, err)
		}
		if ttl := t.TimeToLiveSpecification; ttl.Enabled && ttl.AttributeName != "" {
			if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(t.Name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
					AttributeName: aws.String(ttl.AttributeName), Enabled: aws.Bool(true)},
			}); err != nil {
				return fmt.Errorf("enable TTL on %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

func keySchema(in []samtemplate.KeyElement) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, 0, len(in))
	for _, k := range in {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}
