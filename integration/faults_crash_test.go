//go:build integration

package integration

import (
	"syscall"
	"testing"
	"time"
)

// TestFaultFunctionKilledMidInvocation kills a function process (the
// bootstrap under its emulator) while it holds an invocation, for the
// authorizer and for the backend, through the REST and the HTTP API. The
// process is frozen first (SIGSTOP), so that the invocation is certainly in
// flight when SIGKILL lands. The gateway must answer the way API Gateway
// does (authorizer failure 500; REST integration failure 502, HTTP API 500),
// at once rather than after the function timeout, and the next request must
// be served normally.
func TestFaultFunctionKilledMidInvocation(t *testing.T) {
	s := startStack(t, map[string]string{"AuthorizerTtlSeconds": "0"}, nil)
	tok, err := s.Keys.Current.Sign(claims("orders:read"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, function, path string
		code                 int
		body                 string
	}{
		{"REST authorizer", "TokenAuthorizerFunction", "/restapi/dev/orders", 500, `{"message":null}`},
		{"HTTP authorizer", "TokenAuthorizerFunction", "/httpapi/dev/orders", 500, `{"message":"Internal Server Error"}`},
		{"REST backend", "EchoBackendFunction", "/restapi/dev/orders", 502, `{"message":"Internal server error"}`},
		{"HTTP backend", "EchoBackendFunction", "/httpapi/dev/orders", 500, `{"message":"Internal Server Error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := get(t, s, tc.path, tok); code != 200 {
				t.Fatalf("before the kill: %d %s, want 200", code, body)
			}
			fn := s.Function(tc.function)
			pid := functionPID(t, fn.PID())
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			type answer struct {
				code    int
				body    string
				latency time.Duration
			}
			done := make(chan answer, 1)
			go func() {
				start := time.Now()
				code, body := get(t, s, tc.path, tok)
				done <- answer{code, body, time.Since(start)}
			}()
			time.Sleep(300 * time.Millisecond) // the event reaches the frozen process
			select {
			case a := <-done:
				t.Fatalf("answered %d %s while the function was frozen", a.code, a.body)
			default:
			}
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			var a answer
			select {
			case a = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("no answer 15 s after the kill")
			}
			t.Logf("killed mid-invocation: %d %s after %v", a.code, a.body, a.latency.Round(time.Millisecond))
			if a.code != tc.code || a.body != tc.body {
				t.Errorf("killed mid-invocation: %d %s, want %d %s", a.code, a.body, tc.code, tc.body)
			}
			if a.latency > 5*time.Second {
				t.Errorf("the failed request took %v: the gateway waited for the function timeout", a.latency)
			}
			start := time.Now()
			code, body := get(t, s, tc.path, tok)
			t.Logf("next request: %d after %v; function pid %d -> %d", code, time.Since(start).Round(time.Millisecond), pid, functionPID(t, fn.PID()))
			if code != 200 {
				t.Errorf("next request: %d %s, want 200", code, body)
			}
		})
	}
}
