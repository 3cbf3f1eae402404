package observe

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// ErrInvalidRate means a sample rate is not a number in 0..1.
var ErrInvalidRate = errors.New("sample rate must be a number from 0 to 1")

// Sampler keeps a fixed fraction of events, chosen by a hash of a key (the
// request id): the same key is always kept or always dropped, so every line
// of a kept invocation is kept, and a sampled-out one leaves no partial
// trail. Sample only what metrics already count in full (the authorizer
// samples its allow decisions, never its denials or errors).
//
// The zero value keeps everything. A Sampler is a value: copy it freely.
type Sampler struct {
	set  bool
	rate float64
	max  uint64 // keep when hash <= max
}

// NewSampler returns a Sampler that keeps about rate (0..1) of all keys.
func NewSampler(rate float64) (Sampler, error) {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return Sampler{}, fmt.Errorf("%w: %v", ErrInvalidRate, rate)
	}
	s := Sampler{set: true, rate: rate}
	switch {
	case rate == 1:
		s.max = math.MaxUint64
	case rate > 0:
		if f := rate * float64(math.MaxUint64); f < float64(math.MaxUint64) {
			s.max = uint64(f)
		} else {
			s.max = math.MaxUint64
		}
	}
	return s, nil
}

// ParseSampleRate reads a rate such as "0.1"; "" means 1 (keep all).
func ParseSampleRate(s string) (Sampler, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Sampler{}, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Sampler{}, fmt.Errorf("%w: %q", ErrInvalidRate, s)
	}
	return NewSampler(r)
}

// Rate returns the fraction kept.
func (s Sampler) Rate() float64 {
	if !s.set {
		return 1
	}
	return s.rate
}

// Keep reports whether the event with this key is kept.
func (s Sampler) Keep(key string) bool {
	switch {
	case !s.set || s.rate == 1:
		return true
	case s.rate == 0:
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64() <= s.max
}
