package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandleREST(t *testing.T) {
	ev := `{"resource":"/orders/{id}","path":"/orders/7","httpMethod":"GET","pathParameters":{"id":"7"},
	"requestContext":{"requestId":"r1","authorizer":{"principalId":"alice","integrationLatency":3,"email":"a@example.com","tenant":"42"}}}`
	out, err := handle(context.Background(), json.RawMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := out.(events.APIGatewayProxyResponse)
	if !ok || resp.StatusCode != 200 {
		t.Fatalf("response = %#v, want a 200 APIGatewayProxyResponse", out)
	}
	var got echo
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.API != "REST" || got.Route != "/orders/{id}" || got.PrincipalID != "alice" || got.RequestID != "r1" || got.PathParameters["id"] != "7" {
		t.Errorf("echo = %+v", got)
	}
	if got.Authorizer["email"] != "a@example.com" || got.Authorizer["tenant"] != "42" || len(got.Authorizer) != 2 {
		t.Errorf("authorizer = %v, want email and tenant only", got.Authorizer)
	}
}

func TestHandleHTTP(t *testing.T) {
	ev := `{"version":"2.0","routeKey":"GET /orders","rawPath":"/dev/orders","requestContext":{"requestId":"r2",
	"http":{"method":"GET","path":"/dev/orders"},"authorizer":{"lambda":{"sub":"bob","tenant":42,"admin":true}}}}`
	out, err := handle(context.Background(), json.RawMessage(ev))
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok || resp.StatusCode != 200 {
		t.Fatalf("response = %#v, want a 200 APIGatewayV2HTTPResponse", out)
	}
	var got echo
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.API != "HTTP" || got.Route != "GET /orders" || got.Method != "GET" || got.Path != "/dev/orders" {
		t.Errorf("echo = %+v", got)
	}
	if got.Authorizer["tenant"] != float64(42) || got.Authorizer["admin"] != true {
		t.Errorf("authorizer = %v, want typed values", got.Authorizer)
	}
}

func TestHandleRejectsOtherEvents(t *testing.T) {
	for _, ev := range []string{`{}`, `[1]`, `{"version":"2.0","routeKey":5}`} {
		if _, err := handle(context.Background(), json.RawMessage(ev)); !errors.Is(err, errNotAProxyEvent) {
			t.Errorf("handle(%s) err = %v, want errNotAProxyEvent", ev, err)
		}
	}
}
