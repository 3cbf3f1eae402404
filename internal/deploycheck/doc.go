// Package deploycheck proves, without an AWS account, that template.yaml
// deploys what the project promises. It has no code outside its tests,
// which read the template with goformation (github.com/awslabs/goformation/v7)
// and the Makefile with make itself, and check that:
//
//   - every AWS::Serverless::Function has a build-<LogicalId> target that
//     builds an existing functions/ or examples/ folder (and packages the
//     files its environment names), and every functions/ folder is deployed;
//   - every API route, REST and HTTP, has an authorizer unless it is listed
//     as public, the authorizer's ROUTES cover it, its cache key covers
//     what the decision depends on, and partner routes are metered;
//   - the WAF web ACL has the managed rule groups, the rate-based rule, the
//     body-size rule and logging, with the documented limits;
//   - no IAM statement allows a wildcard action or any resource;
//   - every alarm has a threshold and notifies the alarm topic, and every
//     function has Errors and Throttles alarms;
//   - every function traces (X-Ray Active) and logs JSON into a log group
//     with a retention;
//   - the sensitive routes are throttled at burst 100 / rate 50 by default;
//   - each authorizer, built as sam build builds it (linux/arm64), links
//     neither the SDK's config loader nor the X-Ray SDK and is at most
//     10 MB.
//
// Each check is a function over the parsed template that returns the
// problems it finds; each test runs it on template.yaml (no problems) and
// on copies broken on purpose (the expected problem), so that a check that
// can no longer fail is itself a failure.
//
// Why goformation's intrinsics processor and not its typed template alone:
// CloudFormation stringifies a Ref to a Number parameter where a string is
// expected (an environment variable) but not where a number is (a WAF
// limit), so no single resolution fits goformation's typed structs for the
// whole template, and its types lag SAM (no LoggingConfig on functions).
// The checks therefore read the template with intrinsic functions kept in
// long form (so that "Limit is !Ref WafRateLimit" is visible as such), and
// decode single resources into goformation's typed structs after resolving
// them with chosen parameter values where that is the stronger assertion.
package deploycheck
