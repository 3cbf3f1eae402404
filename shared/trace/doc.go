// Package trace is the suite's one seam to AWS X-Ray: the only package that
// imports the X-Ray SDK. It traces the AWS SDK calls a function makes
// ([Tracer.InstrumentAWS]) and the invocation around them ([Tracer.Start]),
// under the segment Lambda itself records when the function's tracing mode
// is Active.
//
// The SDK costs init time and binary size (it pulls in aws-sdk-go v1, gRPC
// and fasthttp), so only the functions whose work is AWS calls use it: the
// key rotator and the cache invalidator. The authorizers do not import this
// package; Lambda's own segment (init, invocation, overhead) covers them.
//
// Two switches:
//
//   - at run time, the [Mode] main reads from its configuration
//     (TRACING=off) and passes to [New]: with [Off], New configures nothing
//     of X-Ray, adds no middleware and starts no subsegment, so a call costs
//     nothing; the SDK's package initialisation still runs, since it is
//     linked;
//   - at build time, the notrace build tag (go build -tags notrace) compiles
//     a no-op in place of the SDK: the binary neither links nor initialises
//     X-Ray, an empty setting means [Off], and [New] reports [ErrNotLinked]
//     when [XRay] is asked for explicitly.
//
// Build one [Tracer] in main, before the AWS clients; it is safe for
// concurrent use.
package trace
