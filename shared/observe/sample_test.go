package observe

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestSamplerKeepsAboutTheRate(t *testing.T) {
	for _, rate := range []float64{0, 0.01, 0.1, 0.5, 0.9, 1} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			s, err := NewSampler(rate)
			if err != nil {
				t.Fatal(err)
			}
			const n = 20000
			kept := 0
			for i := range n {
				if s.Keep(fmt.Sprintf("c0ffee%02d-%d-4e5a-9f00-%012d", i%97, i, i)) {
					kept++
				}
			}
			got := float64(kept) / n
			if math.Abs(got-rate) > 0.02 {
				t.Errorf("kept %.3f of keys, want %.2f ± 0.02", got, rate)
			}
			if s.Rate() != rate {
				t.Errorf("Rate() = %v, want %v", s.Rate(), rate)
			}
		})
	}
}

func TestSamplerIsDeterministic(t *testing.T) {
	s, err := NewSampler(0.5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		key := fmt.Sprint("request-", i)
		if first := s.Keep(key); s.Keep(key) != first {
			t.Fatalf("Keep(%q) changed its answer", key)
		}
	}
}

func TestZeroSamplerKeepsAll(t *testing.T) {
	var s Sampler
	if !s.Keep("any") || s.Rate() != 1 {
		t.Errorf("zero Sampler: Keep = %v, Rate = %v; want true, 1", s.Keep("any"), s.Rate())
	}
}

func TestParseSampleRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{"", 1, false}, {"1", 1, false}, {"0", 0, false}, {" 0.25 ", 0.25, false},
		{"1.5", 0, true}, {"-0.1", 0, true}, {"NaN", 0, true}, {"ten percent", 0, true},
	}
	for _, tt := range tests {
		s, err := ParseSampleRate(tt.in)
		if tt.err {
			if !errors.Is(err, ErrInvalidRate) {
				t.Errorf("ParseSampleRate(%q) error = %v, want ErrInvalidRate", tt.in, err)
			}
			continue
		}
		if err != nil || s.Rate() != tt.want {
			t.Errorf("ParseSampleRate(%q) = %v, %v; want rate %v", tt.in, s.Rate(), err, tt.want)
		}
	}
}

func FuzzParseSampleRate(f *testing.F) {
	for _, s := range []string{"", "0.1", "1", "2", "-1", "NaN", "Inf", "1e-300"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sm, err := ParseSampleRate(s)
		if err != nil {
			return
		}
		if r := sm.Rate(); r < 0 || r > 1 || math.IsNaN(r) {
			t.Fatalf("ParseSampleRate(%q) accepted rate %v", s, r)
		}
		sm.Keep(s)
	})
}
