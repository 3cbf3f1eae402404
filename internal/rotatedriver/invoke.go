package rotatedriver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/apigw-guard/guard/internal/rie"
)

// Invoker runs the rotation function once.
type Invoker interface {
	// Invoke sends event and returns an error when the invocation or the
	// function failed.
	Invoke(ctx context.Context, event []byte) error
}

// InvokerFunc adapts a function to [Invoker].
type InvokerFunc func(ctx context.Context, event []byte) error

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, event []byte) error { return f(ctx, event) }

// FunctionError is the error a rotation function returned, as Lambda
// reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// RIE returns an Invoker for a function running under the emulator.
func RIE(f *rie.Function) Invoker {
	return InvokerFunc(func(ctx context.Context, event []byte) error {
		res, err := f.Invoke(ctx, event)
		if err != nil {
			return err
		}
		if res.Err != nil {
			return &FunctionError{Type: res.Err.Type, Message: res.Err.Message}
		}
		return nil
	})
}

// URL returns an Invoker that POSTs events to an emulator's invoke URL
// (…/2015-03-31/functions/function/invocations), such as the ones the
// local stack file lists. A nil client means http.DefaultClient.
func URL(url string, client *http.Client) Invoker {
	if client == nil {
		client = http.DefaultClient
	}
	return InvokerFunc(func(ctx context.Context, event []byte) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("invoke %s: %w", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return fmt.Errorf("invoke %s: read the answer: %w", url, err)
		}
		var fe struct {
			Type    string  `json:"errorType"`
			Message *string `json:"errorMessage"`
		}
		if json.Unmarshal(body, &fe) == nil && fe.Message != nil {
			return &FunctionError{Type: fe.Type, Message: *fe.Message}
		}
		if resp.StatusCode != http.StatusOK || !json.Valid(body) {
			return &FunctionError{Type: "Runtime.Error", Message: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))}
		}
		return nil
	})
}
