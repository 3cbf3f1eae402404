package validate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/apigw-guard/guard/shared/validate"
	"github.com/aws/aws-lambda-go/events"
)

func Example() {
	rules := []byte(`{
	  "routes": {
	    "POST /users": {
	      "schema": {
	        "type": "object",
	        "properties": {"name": {"type": "string"}, "email": {"type": "string"}}
	      }
	    }
	  }
	}`)
	v, err := validate.New(rules, validate.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	event := events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /users",
		Headers:  map[string]string{"content-type": "application/json"},
		Body:     `{"name": "Mallory", "userId": "admin", "role": "superuser"}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"},
		},
	}
	err = v.Validate(context.Background(), validate.RequestV2(&event))
	resp := validate.ProblemV2(err)
	fmt.Println(resp.StatusCode, resp.Headers["Content-Type"])
	fmt.Println(resp.Body)
	// Output:
	// 400 application/problem+json
	// {"type":"tag:apigw-guard.github.io,2025:problems/privileged-field","title":"Privileged field","status":400,"detail":"The request sets a field that clients may never set.","pointer":"#/role"}
}
