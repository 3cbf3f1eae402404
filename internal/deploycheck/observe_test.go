package deploycheck

import (
	"fmt"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
)

// checkObservability: every function (Globals merged) traces with X-Ray
// Active and logs JSON with explicit levels into a log group of its own
// with a retention; the REST API traces too.
func checkObservability(tp tmpl) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	groups := map[string]map[string]any{} // function → its log group's properties
	for _, id := range tp.ofType("AWS::Logs::LogGroup") {
		p := tp.props(id)
		if sub, ok := p["LogGroupName"].(map[string]any); ok {
			for _, r := range refs(sub) {
				if obj(tp.resource(r))["Type"] == "AWS::Serverless::Function" {
					groups[r] = p
				}
			}
		}
	}
	for _, id := range tp.ofType("AWS::Serverless::Function") {
		fp := tp.functionProps(id)
		if tr := fp["Tracing"]; tr != "Active" {
			bad("%s: Tracing is %v, want Active", id, tr)
		}
		lc := obj(fp["LoggingConfig"])
		if f := lc["LogFormat"]; f != "JSON" {
			bad("%s: LoggingConfig.LogFormat is %v, want JSON", id, f)
		}
		for _, k := range []string{"ApplicationLogLevel", "SystemLogLevel"} {
			if lc[k] == nil {
				bad("%s: LoggingConfig.%s is not set", id, k)
			}
		}
		g, ok := groups[id]
		switch {
		case !ok:
			bad("%s has no AWS::Logs::LogGroup /aws/lambda/${%s} (Lambda would create one that never expires)", id, id)
		case g["RetentionInDays"] == nil:
			bad("%s's log group has no RetentionInDays", id)
		}
	}
	for _, id := range tp.ofType("AWS::Serverless::Api") {
		if tp.props(id)["TracingEnabled"] != true {
			bad("%s: TracingEnabled is not true", id)
		}
	}
	return problems
}

func TestFunctionsTraceAndLogJSON(t *testing.T) {
	tp := readTemplate(t)
	expectNone(t, checkObservability(tp))
	if g := obj(obj(tp["Globals"])["Function"]); g["Tracing"] != "Active" || obj(g["LoggingConfig"])["LogFormat"] != "JSON" {
		t.Errorf("Globals.Function = %v, want Tracing Active and JSON logs for every function", g)
	}

	t.Run("globals without tracing", func(t *testing.T) {
		c := tp.clone(t)
		obj(obj(c["Globals"])["Function"])["Tracing"] = "PassThrough"
		expectProblem(t, checkObservability(c), "TokenAuthorizerFunction: Tracing is PassThrough, want Active")
	})
	t.Run("function overrides the log format", func(t *testing.T) {
		c := tp.clone(t)
		c.props("ValidatorFunction")["LoggingConfig"] = map[string]any{"LogFormat": "Text"}
		p := checkObservability(c)
		expectProblem(t, p, "ValidatorFunction: LoggingConfig.LogFormat is Text, want JSON")
		for _, s := range p {
			if s == "ValidatorFunction: LoggingConfig.ApplicationLogLevel is not set" {
				t.Errorf("the function's LoggingConfig did not merge with Globals: %q", s)
			}
		}
	})
	t.Run("no log group", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "RequestAuthorizerLogGroup")
		expectProblem(t, checkObservability(c), "RequestAuthorizerFunction has no AWS::Logs::LogGroup")
	})
	t.Run("API without tracing", func(t *testing.T) {
		c := tp.clone(t)
		c.props("RestApi")["TracingEnabled"] = false
		expectProblem(t, checkObservability(c), "RestApi: TracingEnabled is not true")
	})
}

// Sensitive routes: burst 100, rate 50 by default, on both APIs.
const (
	sensitiveBurst = 100.0
	sensitiveRate  = 50.0
)

// checkThrottling: the sensitive-route parameters' defaults, the REST
// method settings and the HTTP route settings of POST /admin/users that use
// them, and a stage-wide default for every other route.
func checkThrottling(tp tmpl, params cloudformation.Parameters) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	for name, want := range map[string]float64{"SensitiveBurstLimit": sensitiveBurst, "SensitiveRateLimit": sensitiveRate} {
		if d, _ := paramDefault(params, name); d != want {
			bad("%s defaults to %v, want %v", name, d, want)
		}
	}
	refIs := func(v any, name string) bool { r, ok := refOf(v); return ok && r == name }
	var restSensitive, restDefault bool
	for _, ms := range list(tp.props("RestApi")["MethodSettings"]) {
		m := obj(ms)
		switch {
		case m["ResourcePath"] == "/~1admin~1users" && m["HttpMethod"] == "POST":
			restSensitive = refIs(m["ThrottlingBurstLimit"], "SensitiveBurstLimit") && refIs(m["ThrottlingRateLimit"], "SensitiveRateLimit")
			if !restSensitive {
				bad("RestApi POST /admin/users method settings: burst %v rate %v, want Ref SensitiveBurstLimit and SensitiveRateLimit", m["ThrottlingBurstLimit"], m["ThrottlingRateLimit"])
			}
		case m["ResourcePath"] == "/*" && m["HttpMethod"] == "*":
			restDefault = m["ThrottlingBurstLimit"] != nil && m["ThrottlingRateLimit"] != nil
		}
	}
	if !restSensitive {
		bad("RestApi has no throttling method setting for POST /admin/users (ResourcePath /~1admin~1users)")
	}
	if !restDefault {
		bad("RestApi has no stage-wide throttling (ResourcePath /*, HttpMethod *)")
	}
	hp := tp.props("HttpApi")
	rs := obj(obj(hp["RouteSettings"])["POST /admin/users"])
	if !refIs(rs["ThrottlingBurstLimit"], "SensitiveBurstLimit") || !refIs(rs["ThrottlingRateLimit"], "SensitiveRateLimit") {
		bad("HttpApi POST /admin/users route settings: burst %v rate %v, want Ref SensitiveBurstLimit and SensitiveRateLimit", rs["ThrottlingBurstLimit"], rs["ThrottlingRateLimit"])
	}
	if d := obj(hp["DefaultRouteSettings"]); d["ThrottlingBurstLimit"] == nil || d["ThrottlingRateLimit"] == nil {
		bad("HttpApi has no stage-wide throttling (DefaultRouteSettings)")
	}
	return problems
}

func TestSensitiveThrottling(t *testing.T) {
	tp := readTemplate(t)
	params := tp.parameters(t)
	expectNone(t, checkThrottling(tp, params))

	t.Run("default raised", func(t *testing.T) {
		p := cloudformation.Parameters{}
		for k, v := range params {
			p[k] = v
		}
		q := p["SensitiveBurstLimit"]
		q.Default = 200.0
		p["SensitiveBurstLimit"] = q
		expectProblem(t, checkThrottling(tp, p), "SensitiveBurstLimit defaults to 200, want 100")
	})
	t.Run("REST method setting gone", func(t *testing.T) {
		c := tp.clone(t)
		p := c.props("RestApi")
		p["MethodSettings"] = list(p["MethodSettings"])[:1]
		expectProblem(t, checkThrottling(c, params), "RestApi has no throttling method setting for POST /admin/users")
	})
	t.Run("HTTP route setting uses the stage limits", func(t *testing.T) {
		c := tp.clone(t)
		rs := obj(obj(c.props("HttpApi")["RouteSettings"])["POST /admin/users"])
		rs["ThrottlingRateLimit"] = map[string]any{"Ref": "ThrottlingRateLimit"}
		expectProblem(t, checkThrottling(c, params), "HttpApi POST /admin/users route settings")
	})
}
