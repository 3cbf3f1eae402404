package deploycheck

import (
	"fmt"
	"slices"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/wafv2"
)

// requiredRuleGroups are the AWS managed rule groups the web ACL must run
// in blocking mode: SQL injection, cross-site scripting (the common rule
// set's CrossSiteScripting_* rules), IP reputation and anonymous IPs.
var requiredRuleGroups = []string{
	"AWSManagedRulesSQLiRuleSet",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesAnonymousIpList",
}

// maxBody is the body size above which the web ACL blocks (1 MB).
const maxBody = 1048576

// checkWebACL checks a web ACL resolved with WafRateLimit = rateLimit.
func checkWebACL(acl *wafv2.WebACL, rateLimit int) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if acl.DefaultAction == nil || acl.DefaultAction.Allow == nil {
		bad("the web ACL's DefaultAction is not Allow (the rules block, the rest passes)")
	}
	groups := map[string]bool{}
	var rate, size bool
	priorities := map[int]string{}
	for _, r := range acl.Rules {
		if other, dup := priorities[r.Priority]; dup {
			bad("rules %s and %s share priority %d", other, r.Name, r.Priority)
		}
		priorities[r.Priority] = r.Name
		st := r.Statement
		if st == nil {
			bad("rule %s has no statement", r.Name)
			continue
		}
		if g := st.ManagedRuleGroupStatement; g != nil {
			switch {
			case g.VendorName != "AWS":
				bad("rule %s: vendor %q", r.Name, g.VendorName)
			case r.OverrideAction == nil || r.OverrideAction.None == nil:
				bad("rule %s: %s does not block (OverrideAction is not None)", r.Name, g.Name)
			default:
				groups[g.Name] = true
			}
		}
		blocks := r.Action != nil && r.Action.Block != nil
		if s := st.RateBasedStatement; s != nil {
			window := 300
			if s.EvaluationWindowSec != nil {
				window = *s.EvaluationWindowSec
			}
			switch {
			case s.Limit != rateLimit:
				bad("rule %s: rate limit %d, want %d (WafRateLimit)", r.Name, s.Limit, rateLimit)
			case s.AggregateKeyType != "IP":
				bad("rule %s: aggregates by %q, want IP", r.Name, s.AggregateKeyType)
			case window != 300:
				bad("rule %s: window %d s, want 300 (requests per 5 minutes)", r.Name, window)
			case !blocks:
				bad("rule %s: the rate-based rule does not block", r.Name)
			default:
				rate = true
			}
		}
		if s := st.SizeConstraintStatement; s != nil && s.FieldToMatch != nil && s.FieldToMatch.Body != nil {
			switch {
			case s.ComparisonOperator != "GT" || s.Size != maxBody:
				bad("rule %s: body size %s %v, want GT %d (1 MB)", r.Name, s.ComparisonOperator, s.Size, maxBody)
			case !blocks:
				bad("rule %s: the body-size rule does not block", r.Name)
			default:
				size = true
			}
		}
	}
	for _, g := range requiredRuleGroups {
		if !groups[g] {
			bad("the web ACL does not block with the managed rule group %s", g)
		}
	}
	if !rate {
		bad("the web ACL has no blocking per-IP rate-based rule of WafRateLimit requests per 5 minutes")
	}
	if !size {
		bad("the web ACL has no blocking rule for bodies over %d bytes", maxBody)
	}
	return problems
}

// checkWAFWiring: the WafRateLimit parameter's default, the association
// with the REST API stage, and the logging configuration.
func checkWAFWiring(tp tmpl, params map[string]any) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if d, ok := params["WafRateLimit"]; !ok || d != 1000.0 {
		bad("WafRateLimit defaults to %v, want 1000 (requests per IP per 5 minutes)", d)
	}
	acls := tp.ofType("AWS::WAFv2::WebACL")
	if len(acls) != 1 {
		bad("%d web ACLs, want 1", len(acls))
		return problems
	}
	acl := acls[0]
	if scope := tp.props(acl)["Scope"]; scope != "REGIONAL" {
		bad("%s: Scope %v, want REGIONAL (API Gateway stages)", acl, scope)
	}
	associated := false
	for _, id := range tp.ofType("AWS::WAFv2::WebACLAssociation") {
		p := tp.props(id)
		if a, attr, _ := getAttOf(p["WebACLArn"]); a == acl && attr == "Arn" && slices.Contains(refs(p["ResourceArn"]), "RestApi") {
			associated = true
		}
	}
	if !associated {
		bad("%s is not associated with the RestApi stage", acl)
	}
	logged := false
	for _, id := range tp.ofType("AWS::WAFv2::LoggingConfiguration") {
		p := tp.props(id)
		a, attr, _ := getAttOf(p["ResourceArn"])
		if a != acl || attr != "Arn" {
			continue
		}
		logged = true
		if len(list(p["LogDestinationConfigs"])) == 0 {
			bad("%s: no LogDestinationConfigs", id)
		}
		var redacted []string
		for _, f := range list(p["RedactedFields"]) {
			if h, ok := obj(obj(f)["SingleHeader"])["Name"].(string); ok {
				redacted = append(redacted, h)
			}
		}
		if !slices.Contains(redacted, "authorization") {
			bad("%s: WAF logs would carry the Authorization header (bearer tokens); redact it", id)
		}
	}
	if !logged {
		bad("%s has no AWS::WAFv2::LoggingConfiguration", acl)
	}
	return problems
}

func webACL(t *testing.T, tp tmpl, params map[string]any) *wafv2.WebACL {
	t.Helper()
	var acl wafv2.WebACL
	tp.resolved(t, "WebAcl", params, &acl)
	return &acl
}

func TestWebACL(t *testing.T) {
	tp := readTemplate(t)
	defaults := map[string]any{}
	for name, p := range tp.parameters(t) {
		defaults[name] = p.Default
	}
	expectNone(t, checkWAFWiring(tp, defaults))
	expectNone(t, checkWebACL(webACL(t, tp, nil), 1000))
	// The limit is the parameter, not a number that happens to equal it.
	expectNone(t, checkWebACL(webACL(t, tp, map[string]any{"WafRateLimit": 4321}), 4321))

	rules := func(c tmpl) []any { return list(c.props("WebAcl")["Rules"]) }
	rule := func(c tmpl, name string) map[string]any {
		for _, r := range rules(c) {
			if obj(r)["Name"] == name {
				return obj(r)
			}
		}
		t.Fatalf("no WAF rule %s", name)
		return nil
	}
	t.Run("missing SQL injection group", func(t *testing.T) {
		c := tp.clone(t)
		c.props("WebAcl")["Rules"] = slices.DeleteFunc(rules(c), func(r any) bool { return obj(r)["Name"] == "SqlInjection" })
		expectProblem(t, checkWebACL(webACL(t, c, nil), 1000), "managed rule group AWSManagedRulesSQLiRuleSet")
	})
	t.Run("group only counted", func(t *testing.T) {
		c := tp.clone(t)
		rule(c, "AnonymousIp")["OverrideAction"] = map[string]any{"Count": map[string]any{}}
		expectProblem(t, checkWebACL(webACL(t, c, nil), 1000), "rule AnonymousIp: AWSManagedRulesAnonymousIpList does not block")
	})
	t.Run("literal rate limit", func(t *testing.T) {
		c := tp.clone(t)
		obj(obj(rule(c, "RateLimitPerIp")["Statement"])["RateBasedStatement"])["Limit"] = 1000
		expectProblem(t, checkWebACL(webACL(t, c, map[string]any{"WafRateLimit": 4321}), 4321), "rate limit 1000, want 4321")
	})
	t.Run("rate limit default", func(t *testing.T) {
		d := map[string]any{}
		for k, v := range defaults {
			d[k] = v
		}
		d["WafRateLimit"] = 2000.0
		expectProblem(t, checkWAFWiring(tp, d), "WafRateLimit defaults to 2000")
	})
	t.Run("body size", func(t *testing.T) {
		c := tp.clone(t)
		obj(obj(rule(c, "BodySizeLimit")["Statement"])["SizeConstraintStatement"])["Size"] = 8192
		expectProblem(t, checkWebACL(webACL(t, c, nil), 1000), "rule BodySizeLimit: body size GT 8192")
	})
	t.Run("no logging", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "WafLogging")
		expectProblem(t, checkWAFWiring(c, defaults), "WebAcl has no AWS::WAFv2::LoggingConfiguration")
	})
	t.Run("not associated", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "WebAclAssociation")
		expectProblem(t, checkWAFWiring(c, defaults), "WebAcl is not associated with the RestApi stage")
	})
}
