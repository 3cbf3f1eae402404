package observe

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// A LogOption changes one of [NewLogger]'s defaults.
type LogOption func(*logOptions)

type logOptions struct {
	w     io.Writer
	level slog.Leveler
}

// WithWriter makes the logger write JSON lines in Lambda's format to w
// (tests, local tools) instead of following the function's LoggingConfig on
// stdout.
func WithWriter(w io.Writer) LogOption { return func(o *logOptions) { o.w = w } }

// WithLevel sets the minimum level of a logger built [WithWriter]; default
// Info. Without a writer, the function's LoggingConfig sets the level.
func WithLevel(l slog.Leveler) LogOption { return func(o *logOptions) { o.level = l } }

// NewLogger returns the logger every function uses: Lambda's structured log
// format (on stdout it follows the function's LoggingConfig, that is
// AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL, as read by aws-lambda-go),
// with "timestamp" and "message" keys and the request id taken from each
// call's context, so use the ...Context methods with the invocation's ctx.
//
// Whatever the caller logs passes through redaction first (see [Secret]):
// attributes whose key names a credential (authorization, cookie, token,
// secret, password, signature, api key, private key and their spellings)
// are printed as REDACTED, in groups and in string maps such as headers too,
// and anything shaped like a JWT inside a message, a string or an error is
// replaced by REDACTED. Build one in main and share it; it is safe for
// concurrent use.
func NewLogger(opts ...LogOption) *slog.Logger {
	var o logOptions
	for _, opt := range opts {
		opt(&o)
	}
	var h slog.Handler
	if o.w == nil {
		h = lambdacontext.NewLogHandler()
	} else {
		h = requestIDHandler{slog.NewJSONHandler(o.w, &slog.HandlerOptions{Level: o.level, ReplaceAttr: lambdacontext.ReplaceAttr})}
	}
	return slog.New(redactHandler{h})
}

// RequestID returns the invocation's request id, or "" outside Lambda.
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// requestIDHandler adds the request id the way aws-lambda-go's handler
// does, for loggers that do not write to stdout.
type requestIDHandler struct{ next slog.Handler }

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	return h.next.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.next.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.next.WithGroup(name)}
}
