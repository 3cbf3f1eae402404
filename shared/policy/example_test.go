package policy_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/apigw-guard/guard/shared/policy"
)

func ExampleRules_Policy() {
	// At init: the route table from the ROUTES env var.
	rules, err := policy.ParseRules([]byte(`[
		{"route":"GET /orders","scopes":["orders:read"]},
		{"route":"GET /orders/{id}","scopes":["orders:read"]},
		{"route":"GET /orders/{id}/secret","scopes":["admin"]},
		{"route":"POST /admin/users","scopes":["admin"]}]`))
	if err != nil {
		fmt.Println(err)
		return
	}

	// Per request: the event's methodArn and the caller's entitlements.
	arn, err := policy.ParseARN("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders/42")
	if err != nil {
		fmt.Println(err)
		return
	}
	doc := rules.Policy(arn, rules.Entitled([]string{"orders:read"}, nil))
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)

	// The cached answer also decides the caller's next requests.
	for _, next := range []string{"GET/orders", "GET/orders/7", "GET/orders/7/secret", "POST/admin/users"} {
		fmt.Println(next, policy.Evaluate(doc, "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/"+next))
	}
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Action": "execute-api:Invoke",
	//       "Effect": "Allow",
	//       "Resource": [
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders",
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders/*"
	//       ]
	//     },
	//     {
	//       "Action": "execute-api:Invoke",
	//       "Effect": "Deny",
	//       "Resource": [
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders/*/*",
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*//*",
	//         "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/*/"
	//       ]
	//     }
	//   ]
	// }
	// GET/orders Allow
	// GET/orders/7 Allow
	// GET/orders/7/secret Deny
	// POST/admin/users NotAllowed
}

func ExampleContext() {
	ctx := policy.Context(map[string]any{
		"sub":    "alice",
		"admin":  false,
		"groups": []any{"analysts", "ops"},
		"claims": map[string]any{"nested": true},
	})
	b, _ := json.Marshal(ctx)
	fmt.Println(string(b))
	// Output: {"admin":false,"groups":"analysts,ops","sub":"alice"}
}
