package gateway

import (
	"encoding/json"
	"io"
	"sync"
)

// accessEntry is one access-log line. Field names follow API Gateway's
// $context variables. It never holds a token, an identity-source value, a
// query string or a body.
type accessEntry struct {
	RequestID            string  `json:"requestId"`
	IP                   string  `json:"ip"`
	RequestTime          string  `json:"requestTime"`
	HTTPMethod           string  `json:"httpMethod"`
	RouteKey             string  `json:"routeKey,omitempty"`
	Status               int     `json:"status"`
	Protocol             string  `json:"protocol"`
	ResponseLength       int     `json:"responseLength"`
	API                  string  `json:"apiId"`
	Stage                string  `json:"stage"`
	LatencyMS            float64 `json:"responseLatencyMs"`
	Authorizer           string  `json:"authorizer,omitempty"`
	AuthorizerCache      string  `json:"authorizerCache"` // hit, miss, disabled, none
	AuthorizerStatus     int     `json:"authorizerStatus,omitempty"`
	AuthorizerLatencyMS  float64 `json:"authorizerLatencyMs"`
	AuthorizerError      string  `json:"authorizerError,omitempty"`
	IntegrationStatus    int     `json:"integrationStatus,omitempty"`
	IntegrationLatencyMS float64 `json:"integrationLatencyMs"`
	FunctionError        string  `json:"functionError,omitempty"`
	ErrorType            string  `json:"errorType,omitempty"`
}

type accessLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *accessLog) write(e accessEntry) {
	if l == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(b)
}
