package trace

import (
	"context"
	"errors"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		err  bool
	}{
		{"", defaultMode, false}, {"xray", XRay, false}, {" X-Ray ", "", true}, {"On", XRay, false}, {"active", XRay, false},
		{"off", Off, false}, {"OFF ", Off, false}, {"false", Off, false}, {"PassThrough", Off, false},
		{"otel", "", true}, {"1", "", true},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if tt.err {
			if !errors.Is(err, ErrBadMode) {
				t.Errorf("ParseMode(%q) = %q, %v; want ErrBadMode", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestOffTracesNothing(t *testing.T) {
	for name, tr := range map[string]*Tracer{"nil": nil, "zero": {}, "off": mustNew(t, WithMode(Off))} {
		t.Run(name, func(t *testing.T) {
			if tr.Enabled() {
				t.Fatal("Enabled() = true")
			}
			cfg := awsConfig()
			tr.InstrumentAWS(&cfg)
			if len(cfg.APIOptions) != 0 {
				t.Errorf("%d API options added, want none", len(cfg.APIOptions))
			}
			ctx := context.WithValue(context.Background(), ctxKey{}, 1)
			got, end := tr.Start(ctx, "x")
			end(errors.New("ignored"))
			tr.Annotate(got, "k", "v")
			if got != ctx {
				t.Error("Start changed the context")
			}
		})
	}
}

func TestNewRejectsUnknownMode(t *testing.T) {
	tr, err := New(WithMode("otel"))
	if !errors.Is(err, ErrBadMode) || tr.Enabled() {
		t.Errorf("New(otel) = %v, %v; want ErrBadMode and a Tracer that is off", tr.Enabled(), err)
	}
}

type ctxKey struct{}

func mustNew(t *testing.T, opts ...Option) *Tracer {
	t.Helper()
	tr, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
