// Package samtemplate reads an AWS SAM template into the model the local
// gateway serves: REST APIs (AWS::Serverless::Api) and HTTP APIs
// (AWS::Serverless::HttpApi), their routes (functions' Api and HttpApi
// events), their Lambda authorizers (TOKEN, REQUEST and HTTP API payload 1.0
// and 2.0, with identity sources, validation expression, result TTL and
// simple responses) and every function with its environment.
//
// Intrinsic functions (!Ref, !GetAtt, !Sub, !Join, !Select, !Split,
// !FindInMap, !Base64) are resolved to local values: parameters to their
// defaults (or overrides), pseudo parameters to [StackName], [Region] and
// [AccountID], resources to local names and ARNs (a Secrets Manager secret's
// Ref is its Name, a function's Arn a local Lambda ARN). Only the properties
// the gateway uses are resolved, so an unsupported intrinsic elsewhere (an
// IAM policy, say) does no harm. Conditions are evaluated with the same
// values: a function or API whose Condition is false does not exist locally.
//
// A template the gateway cannot serve faithfully (an OpenAPI
// DefinitionBody, a Cognito or JWT authorizer, a resource policy that could
// deny a local caller, an API key read from the x-api-key header, an
// unresolvable reference) is refused with an [*Error] naming the resource and
// the property. The package uses gopkg.in/yaml.v3 directly rather than
// goformation: goformation's intrinsic handlers silently drop references they
// cannot resolve (Fn::Sub replaces them with ""), and its typed structs lose
// the line numbers, so a template could not be refused clearly.
//
// A [Template] is immutable after [Parse] returns; share it freely.
package samtemplate
