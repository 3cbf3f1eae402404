package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/apigw-guard/guard/internal/rie"
)

// Restartable is a function process that can be restarted, like
// *rie.Function.
type Restartable interface {
	Invoker
	Running() bool
	Restart(ctx context.Context) error
}

// Supervise returns an Invoker that restarts f when an invocation finds it
// crashed (the emulator answered 502, or could not be reached) before
// returning that invocation's outcome, so the caller still answers the
// failed request with API Gateway's 500/502 and the next request finds the
// function running. Restarts are serialised.
func Supervise(name string, f Restartable, log *slog.Logger) Invoker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &supervised{name: name, f: f, log: log}
}

type supervised struct {
	name string
	f    Restartable
	log  *slog.Logger
	mu   sync.Mutex
	gen  int // restarts so far
}

func (s *supervised) Invoke(ctx context.Context, payload []byte) (rie.Result, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	res, err := s.f.Invoke(ctx, payload)
	if ctx.Err() != nil {
		return res, err // the caller gave up; the function may be fine
	}
	if err != nil || res.Status == http.StatusBadGateway || !s.f.Running() {
		s.restart(gen)
	}
	return res, err
}

// restart restarts the function unless another caller already did since
// generation gen failed.
func (s *supervised) restart(gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	s.gen++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.f.Restart(ctx); err != nil {
		s.log.Error("restart crashed function", "function", s.name, "err", err)
		return
	}
	s.log.Warn("restarted crashed function", "function", s.name)
}
