package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Mode says whether a function traces with X-Ray.
type Mode string

// The modes.
const (
	// XRay traces AWS calls and the invocation into the trace Lambda
	// started (sampled as Lambda decided). The default setting, unless the
	// binary is built with the notrace tag.
	XRay Mode = "xray"
	// Off traces nothing beyond what Lambda records itself.
	Off Mode = "off"
)

// ErrBadMode means a tracing setting is neither xray nor off.
var ErrBadMode = errors.New("tracing mode must be xray or off")

// ErrNotLinked means X-Ray was asked for in a binary built with the
// notrace tag. Compare with errors.Is.
var ErrNotLinked = errors.New("this binary is built without X-Ray (notrace build tag)")

// ParseMode reads a setting such as the TRACING variable: "xray" (also
// "on", "true", "active") is [XRay]; "off" (also "false", "none",
// "passthrough") is [Off]; "" is [XRay] in a binary that links X-Ray and
// [Off] in a notrace build. Case and spaces do not matter.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return defaultMode, nil
	case "xray", "on", "true", "active":
		return XRay, nil
	case "off", "false", "none", "passthrough":
		return Off, nil
	}
	return "", fmt.Errorf("%w: %q", ErrBadMode, s)
}

// An Option changes one of [New]'s defaults.
type Option func(*options)

type options struct {
	mode Mode
	log  *slog.Logger
}

// WithMode sets the mode; the default is [Off], so that nothing of X-Ray
// runs unless main asks for it.
func WithMode(m Mode) Option { return func(o *options) { o.mode = m } }

// WithLogger receives the X-Ray SDK's own warnings and errors (a segment
// it could not send, say); default slog.Default() at the call to [New].
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Tracer traces one function. The zero value and a nil *Tracer trace
// nothing.
type Tracer struct {
	on bool
}

// New returns a Tracer. With [XRay] it configures the X-Ray SDK once for
// the process: segments go to the daemon Lambda runs (AWS_XRAY_DAEMON_ADDRESS),
// and work outside a traced invocation (tests, tools) is simply not traced
// instead of logging "segment not found". It fails on an unknown mode, and
// with [ErrNotLinked] for XRay in a notrace build (the Tracer it returns
// then traces nothing, so a caller may log and carry on).
func New(opts ...Option) (*Tracer, error) {
	o := options{mode: Off}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	switch o.mode {
	case Off:
		return &Tracer{}, nil
	case XRay:
		if err := configure(o.log); err != nil {
			return &Tracer{}, err
		}
		return &Tracer{on: true}, nil
	}
	return &Tracer{}, fmt.Errorf("%w: %q", ErrBadMode, o.mode)
}

// Enabled reports whether the Tracer traces.
func (t *Tracer) Enabled() bool { return t != nil && t.on }

// InstrumentAWS makes every client built from cfg afterwards record each
// call (service, operation, region, request id, status) as a subsegment of
// the trace in its context, and pass the trace header on. Call it before
// the clients are built. It does nothing when the Tracer is off.
func (t *Tracer) InstrumentAWS(cfg *aws.Config) {
	if t.Enabled() {
		instrumentAWS(cfg)
	}
}

// Start begins a subsegment called name in the invocation's trace and
// returns the context that carries it (give it to every AWS call) and the
// function that ends it, recording err as the subsegment's fault when it is
// not nil. When the Tracer is off, or ctx belongs to no traced invocation,
// it returns ctx and a function that does nothing.
func (t *Tracer) Start(ctx context.Context, name string) (context.Context, func(err error)) {
	if !t.Enabled() {
		return ctx, noEnd
	}
	return start(ctx, name)
}

// Annotate adds an indexed annotation (searchable in the X-Ray console, so
// never a secret) to the subsegment in ctx. It does nothing without one.
func (t *Tracer) Annotate(ctx context.Context, key, value string) {
	if t.Enabled() {
		annotate(ctx, key, value)
	}
}

func noEnd(error) {}
