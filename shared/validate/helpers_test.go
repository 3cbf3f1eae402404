package validate

import (
	"io"
	"log/slog"

	"github.com/corazawaf/libinjection-go"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func libinjectionSQLi(s string) (bool, string) { return libinjection.IsSQLi(s) }
func libinjectionXSS(s string) bool            { return libinjection.IsXSS(s) }
