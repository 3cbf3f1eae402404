package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// typicalOrder returns a realistic order body of about 2 KB.
func typicalOrder() string {
	items := []map[string]any{}
	for i := range 20 {
		items = append(items, map[string]any{
			"sku":  fmt.Sprintf("TEA-%03d", i),
			"qty":  1 + i%5,
			"note": "Please wrap it; it's a gift for Siobhán O'Brien.",
		})
	}
	b, _ := json.Marshal(map[string]any{
		"customer":    map[string]any{"name": "Siobhán O'Brien", "email": "siobhan@example.com"},
		"items":       items,
		"description": "Leave at the door if nobody answers -- the porch is covered. Call 555-0100 first; thanks!",
		"metadata":    map[string]any{"channel": "web", "campaign": "spring-2025", "referrer": "newsletter"},
		"tags":        []string{"gift", "express", "fragile"},
		"amount":      123.45,
	})
	return string(b)
}

func BenchmarkValidate2KB(b *testing.B) {
	v := testValidator(b)
	body := typicalOrder()
	req := jsonPost("/orders", body)
	if err := v.Validate(context.Background(), req); err != nil {
		b.Fatalf("typical order rejected: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Validate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJSON2KB(b *testing.B) {
	body := []byte(typicalOrder())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseJSON(body, testLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInspect(b *testing.B) {
	s := "Please wrap it; it's a gift for Siobhán O'Brien."
	b.ReportAllocs()
	for b.Loop() {
		if inspect(s, inspectStrict) != "" {
			b.Fatal("flagged")
		}
	}
}

// BenchmarkSchemaOnly measures the JSON Schema library's share of
// BenchmarkValidate2KB: the same body, already parsed, against the same
// compiled schema.
func BenchmarkSchemaOnly(b *testing.B) {
	v := testValidator(b)
	rt := v.routes["POST /orders"]
	doc, err := parseJSON([]byte(typicalOrder()), rt.limits)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rt.schema.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
