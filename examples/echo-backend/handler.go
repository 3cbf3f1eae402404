package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
)

// echo is the response body: who called which route, and what the
// authorizer said about them.
type echo struct {
	API            string            `json:"api"`   // "REST" or "HTTP"
	Route          string            `json:"route"` // resource path or route key
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	PathParameters map[string]string `json:"pathParameters,omitempty"`
	PrincipalID    string            `json:"principalId,omitempty"`
	// Authorizer is the authorizer's context: strings for a REST API, the
	// returned JSON types for an HTTP API.
	Authorizer map[string]any `json:"authorizer"`
	RequestID  string         `json:"requestId"`
}

// errNotAProxyEvent is returned for an event that is neither a REST nor an
// HTTP API proxy event.
var errNotAProxyEvent = errors.New("not an API Gateway proxy event")

// handle answers both payload formats; "version": "2.0" marks an HTTP API's.
func handle(_ context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Version    string `json:"version"`
		HTTPMethod string `json:"httpMethod"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, errNotAProxyEvent
	}
	switch {
	case probe.Version == "2.0":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, errNotAProxyEvent
		}
		return httpResponse(ev), nil
	case probe.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, errNotAProxyEvent
		}
		return restResponse(ev), nil
	}
	return nil, errNotAProxyEvent
}

func restResponse(ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	e := echo{API: "REST", Route: ev.Resource, Method: ev.HTTPMethod, Path: ev.Path,
		PathParameters: ev.PathParameters, RequestID: ev.RequestContext.RequestID, Authorizer: map[string]any{}}
	for k, v := range ev.RequestContext.Authorizer {
		switch k {
		case "principalId":
			e.PrincipalID, _ = v.(string)
		case "integrationLatency":
		default:
			e.Authorizer[k] = v
		}
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: body(e)}
}

func httpResponse(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	e := echo{API: "HTTP", Route: ev.RouteKey, Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath,
		PathParameters: ev.PathParameters, RequestID: ev.RequestContext.RequestID, Authorizer: map[string]any{}}
	if a := ev.RequestContext.Authorizer; a != nil && a.Lambda != nil {
		e.Authorizer = a.Lambda
		if p, ok := a.Lambda["principalId"].(string); ok {
			e.PrincipalID = p
		}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: body(e)}
}

func body(e echo) string {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return `{"message":"encode failed"}`
	}
	return string(b) + "\n"
}
