package deploycheck

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// allowedManagedPolicies are the AWS managed policies a role may attach.
// AmazonAPIGatewayPushToCloudWatchLogs names its logs: actions one by one
// (it is the role API Gateway's account setting needs for REST logs).
var allowedManagedPolicies = []string{"AmazonAPIGatewayPushToCloudWatchLogs"}

// samManagedPolicyEvents are the SAM function event types for which SAM
// attaches an AWS managed policy to the role it generates, with the read
// actions on every resource of the kind (serverless-application-model#2118):
// write an AWS::Lambda::EventSourceMapping and a statement naming the
// source instead.
var samManagedPolicyEvents = map[string]string{
	"SQS":      "AWSLambdaSQSQueueExecutionRole",
	"Kinesis":  "AWSLambdaKinesisExecutionRole",
	"DynamoDB": "AWSLambdaDynamoDBExecutionRole",
	"MSK":      "AWSLambdaMSKExecutionRole",
}

// checkIAM finds every IAM statement in the template (function Policies,
// roles, managed and inline policies, resource policies, both branches of
// every Fn::If) and refuses an Allow with a wildcard or computed action,
// NotAction, or an identity statement on any resource ("*"). Function
// Policies entries that are not statements (managed policy names, SAM
// policy templates) are refused too: their statements cannot be checked;
// so are function events for which SAM attaches a managed policy
// ([samManagedPolicyEvents]).
func checkIAM(tp tmpl) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	ids := make([]string, 0, len(tp.resources()))
	for id := range tp.resources() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	statements := 0
	for _, id := range ids {
		props := tp.props(id)
		if obj(tp.resource(id))["Type"] == "AWS::Serverless::Function" {
			events := obj(props["Events"])
			names := make([]string, 0, len(events))
			for name := range events {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				typ, _ := obj(events[name])["Type"].(string)
				if policy, ok := samManagedPolicyEvents[typ]; ok {
					bad("%s: event %s (%s) makes SAM attach %s, which reads every %s source; use an AWS::Lambda::EventSourceMapping", id, name, typ, policy, typ)
				}
			}
			pol := props["Policies"]
			if s, ok := pol.(string); ok {
				pol = []any{s}
			}
			for _, p := range list(pol) {
				switch {
				case isString(p):
					bad("%s: Policies names the managed policy %v, whose statements cannot be checked", id, p)
				case obj(p)["Statement"] == nil && !isIntrinsic(p):
					for k := range obj(p) {
						bad("%s: Policies uses the SAM policy template %s; write the statements instead", id, k)
					}
				}
			}
		}
		for _, arn := range list(props["ManagedPolicyArns"]) {
			vals, _ := stringValues(arn)
			if sub, ok := obj(arn)["Fn::Sub"].(string); ok {
				vals = append(vals, sub)
			}
			ok := false
			for _, v := range vals {
				for _, name := range allowedManagedPolicies {
					ok = ok || strings.HasSuffix(v, ":policy/"+name) || strings.HasSuffix(v, "/service-role/"+name)
				}
			}
			if !ok {
				bad("%s: ManagedPolicyArns %v is not one of %v", id, arn, allowedManagedPolicies)
			}
		}
		walkStatements(props, func(st map[string]any) {
			statements++
			effect, _ := st["Effect"].(string)
			if effect != "Allow" {
				return
			}
			sid, _ := st["Sid"].(string)
			where := id
			if sid != "" {
				where += " (" + sid + ")"
			}
			if st["NotAction"] != nil {
				bad("%s: an Allow with NotAction allows every other action", where)
			}
			actions, computed := stringValues(st["Action"])
			if computed {
				bad("%s: an Allow with a computed Action cannot be checked", where)
			}
			if len(actions) == 0 && st["NotAction"] == nil {
				bad("%s: an Allow without actions", where)
			}
			for _, a := range actions {
				if strings.Contains(a, "*") {
					bad("%s: Allow of %q (wildcard action)", where, a)
				}
			}
			if st["NotResource"] != nil {
				bad("%s: an Allow with NotResource allows every other resource", where)
			}
			resources, _ := stringValues(st["Resource"])
			for _, r := range resources {
				if r == "*" && st["Principal"] == nil {
					bad("%s: Allow on every resource (\"*\"); name the resources", where)
				}
			}
		})
	}
	if statements == 0 {
		bad("no IAM statement found: the walk is broken")
	}
	return problems
}

func isString(v any) bool { _, ok := v.(string); return ok }

// walkStatements calls fn for every mapping under v that is an IAM
// statement (has Effect and Action or NotAction), including inside Fn::If.
func walkStatements(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if x["Effect"] != nil && (x["Action"] != nil || x["NotAction"] != nil) {
			fn(x)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkStatements(x[k], fn)
		}
	case []any:
		for _, c := range x {
			walkStatements(c, fn)
		}
	}
}

func TestNoWildcardIAM(t *testing.T) {
	tp := readTemplate(t)
	expectNone(t, checkIAM(tp))

	// policy returns the statements of function id's first inline policy.
	policy := func(c tmpl, id string) map[string]any {
		return obj(list(c.props(id)["Policies"])[0])
	}
	add := func(c tmpl, id string, st map[string]any) {
		p := policy(c, id)
		p["Statement"] = append(list(p["Statement"]), st)
	}
	t.Run("service-wide wildcard", func(t *testing.T) {
		c := tp.clone(t)
		add(c, "TokenAuthorizerFunction", map[string]any{"Effect": "Allow", "Action": []any{"dynamodb:Query", "dynamodb:*"}, "Resource": "arn:aws:dynamodb:us-east-1:1:table/t"})
		expectProblem(t, checkIAM(c), `TokenAuthorizerFunction: Allow of "dynamodb:*"`)
	})
	t.Run("star action", func(t *testing.T) {
		c := tp.clone(t)
		add(c, "ValidatorFunction", map[string]any{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:lambda:us-east-1:1:function:f"})
		expectProblem(t, checkIAM(c), `ValidatorFunction: Allow of "*"`)
	})
	t.Run("wildcard inside Fn::If", func(t *testing.T) {
		c := tp.clone(t)
		st := list(policy(c, "RequestAuthorizerFunction")["Statement"])
		for _, s := range st {
			if branches := list(obj(s)["Fn::If"]); len(branches) == 3 {
				obj(branches[1])["Action"] = "dynamodb:Put*"
			}
		}
		expectProblem(t, checkIAM(c), `RequestAuthorizerFunction: Allow of "dynamodb:Put*"`)
	})
	t.Run("any resource", func(t *testing.T) {
		c := tp.clone(t)
		add(c, "JwksFunction", map[string]any{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"})
		expectProblem(t, checkIAM(c), `JwksFunction: Allow on every resource`)
	})
	t.Run("NotAction", func(t *testing.T) {
		c := tp.clone(t)
		add(c, "KeyRotatorFunction", map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})
		expectProblem(t, checkIAM(c), "KeyRotatorFunction: an Allow with NotAction")
	})
	t.Run("role with wildcard", func(t *testing.T) {
		c := tp.clone(t)
		c.props("ApiGatewayCloudWatchRole")["Policies"] = []any{map[string]any{"PolicyName": "p", "PolicyDocument": map[string]any{
			"Statement": []any{map[string]any{"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:us-east-1:1:log-group:x"}}}}}
		expectProblem(t, checkIAM(c), `ApiGatewayCloudWatchRole (Logs): Allow of "logs:*"`)
	})
	t.Run("SAM SQS event", func(t *testing.T) {
		c := tp.clone(t)
		obj(c.props("CacheInvalidatorFunction")["Events"])["Queue"] = map[string]any{
			"Type": "SQS", "Properties": map[string]any{"Queue": map[string]any{"Fn::GetAtt": "RevocationQueue.Arn"}}}
		expectProblem(t, checkIAM(c), "CacheInvalidatorFunction: event Queue (SQS) makes SAM attach AWSLambdaSQSQueueExecutionRole")
	})
	t.Run("managed policy", func(t *testing.T) {
		c := tp.clone(t)
		c.props("EchoBackendFunction")["Policies"] = []any{"AdministratorAccess"}
		expectProblem(t, checkIAM(c), "EchoBackendFunction: Policies names the managed policy AdministratorAccess")
		c.props("ApiGatewayCloudWatchRole")["ManagedPolicyArns"] = []any{"arn:aws:iam::aws:policy/PowerUserAccess"}
		expectProblem(t, checkIAM(c), "ApiGatewayCloudWatchRole: ManagedPolicyArns arn:aws:iam::aws:policy/PowerUserAccess")
	})
}
