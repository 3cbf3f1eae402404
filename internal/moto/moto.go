// Package moto runs moto's server, the local stand-in for Secrets Manager and
// DynamoDB that speaks the real AWS wire protocol.
package moto

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/apigw-guard/guard/internal/procs"
)

// Server is one running moto_server on loopback.
type Server struct {
	// Endpoint is the base URL to give SDK clients (BaseEndpoint or
	// AWS_ENDPOINT_URL_*).
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// Available reports whether moto_server can be found.
func Available() bool {
	_, err := procs.Tool("MOTO_SERVER", "moto_server")
	return err == nil
}

// Start launches moto_server on a free loopback port (or port, when not 0)
// and waits until it answers.
func Start(ctx context.Context, port int, log io.Writer) (*Server, error) {
	bin, err := procs.Tool("MOTO_SERVER", "moto_server")
	if err != nil {
		return nil, fmt.Errorf("%w (install with: pip install \"moto[server]\")", err)
	}
	if port == 0 {
		if port, err = procs.FreePort(); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = io.Discard
	}
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
	cmd, err := procs.Start(bin, []string{"-H", "127.0.0.1", "-p", fmt.Sprint(port)}, env, log)
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://" + procs.Addr(port), cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := procs.WaitTCP(wctx, procs.Addr(port), s.exited); err != nil {
		s.Stop()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	return s, nil
}

// Stop ends the server. Safe to call twice.
func (s *Server) Stop() { procs.Stop(s.cmd, s.exited, 3*time.Second) }
