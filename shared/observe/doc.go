// Package observe holds the suite's observability conventions:
//
//   - JSON logs that follow Lambda's log format with the request id on every
//     line ([NewLogger]), with redaction: a [Secret] prints REDACTED, and so
//     do attributes named like credentials and anything shaped like a JWT,
//     so that tokens, signatures and secrets can never be printed;
//   - CloudWatch Embedded Metric Format metrics ([Metrics]): one JSON line
//     per [Record.Flush] on stdout, turned into metrics by CloudWatch Logs,
//     with bounded, low-cardinality dimensions;
//   - deterministic log sampling by request id ([Sampler]);
//   - the environment variables every function reads for these
//     ([SettingsFrom]).
//
// Build the logger and the [Metrics] once in main and share them; both are
// safe for concurrent use. A [Record] belongs to one invocation.
//
// Tracing (AWS X-Ray) is not here but in shared/trace, so that binaries
// which do not trace do not link the X-Ray SDK.
package observe
