package replay

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultMemorySize is a [Memory]'s default capacity: with the default
// 300 s window it holds about 330 signed requests a second per execution
// environment, far more than one environment serves.
const DefaultMemorySize = 100_000

// Memory is a bounded in-process replay guard. Build one with [NewMemory].
type Memory struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	until map[string]time.Time
	order expiryHeap
}

// A MemoryOption changes one of a [Memory]'s defaults.
type MemoryOption func(*Memory)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) {
		if now != nil {
			m.now = now
		}
	}
}

// NewMemory returns a Memory holding at most size entries (size <= 0 means
// [DefaultMemorySize]).
func NewMemory(size int, opts ...MemoryOption) *Memory {
	if size <= 0 {
		size = DefaultMemorySize
	}
	m := &Memory{max: size, now: time.Now, until: map[string]time.Time{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Seen records key until the given time and reports whether an unexpired
// entry for key already existed. It never fails.
func (m *Memory) Seen(_ context.Context, key string, until time.Time) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(now)
	if u, ok := m.until[key]; ok && u.After(now) {
		return true, nil
	}
	if !until.After(now) {
		return false, nil // nothing to remember: the window has ended
	}
	for len(m.until) >= m.max {
		e := heap.Pop(&m.order).(entry)
		delete(m.until, e.key)
	}
	m.until[key] = until
	heap.Push(&m.order, entry{key: key, until: until})
	return false, nil
}

// Len returns the number of entries held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.until)
}

// prune drops expired entries. m.mu is held.
func (m *Memory) prune(now time.Time) {
	for len(m.order) > 0 && !m.order[0].until.After(now) {
		e := heap.Pop(&m.order).(entry)
		delete(m.until, e.key)
	}
}

type entry struct {
	key   string
	until time.Time
}

// expiryHeap orders entries by the end of their window.
type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
