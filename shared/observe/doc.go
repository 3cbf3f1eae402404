// Package observe holds the suite's logging conventions: JSON logs that
// follow Lambda's log format with the request id on every line, and a
// redaction type so that tokens, signatures and secrets can never be printed.
package observe
