//go:build notrace

package trace

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Linked reports whether this binary links the X-Ray SDK (it is built
// without the notrace tag).
const Linked = false

// defaultMode is the mode of an empty setting.
const defaultMode = Off

func configure(*slog.Logger) error { return ErrNotLinked }

func instrumentAWS(*aws.Config) {}

func start(ctx context.Context, _ string) (context.Context, func(error)) { return ctx, noEnd }

func annotate(context.Context, string, string) {}
