//go:build !notrace

package trace

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// Linked reports whether this binary links the X-Ray SDK (it is built
// without the notrace tag).
const Linked = true

// defaultMode is the mode of an empty setting.
const defaultMode = XRay

// configure sets the SDK's process-wide configuration; the SDK keeps it in
// globals, so the last call wins.
func configure(log *slog.Logger) error {
	xray.SetLogger(sdkLogger{log})
	err := xray.Configure(xray.Config{
		// A call outside a traced invocation is not an error here.
		ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy(),
	})
	if err != nil {
		return fmt.Errorf("configure X-Ray: %w", err)
	}
	return nil
}

func instrumentAWS(cfg *aws.Config) { awsv2.AWSV2Instrumentor(&cfg.APIOptions) }

func start(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return ctx, noEnd
	}
	return ctx, seg.Close
}

func annotate(ctx context.Context, key, value string) {
	if seg := xray.GetSegment(ctx); seg != nil {
		_ = seg.AddAnnotation(key, value)
	}
}

// sdkLogger passes the SDK's warnings and errors to slog; its debug and
// info chatter (every segment begun and closed) is dropped.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	switch level {
	case xraylog.LogLevelWarn:
		l.log.Warn("x-ray: " + msg.String())
	case xraylog.LogLevelError:
		l.log.Error("x-ray: " + msg.String())
	}
}
