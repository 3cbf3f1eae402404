package observe

import "log/slog"

// Secret is a value that must never reach a log: a token, a signature, key
// material, a client secret. Logging it prints REDACTED.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String keeps fmt from printing the value too.
func (Secret) String() string { return "REDACTED" }

// GoString keeps %#v from printing the value.
func (Secret) GoString() string { return "REDACTED" }
