package deploycheck

import (
	"fmt"
	"slices"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
)

// alarmTopics are what every alarm action must name: the created topic or
// the one given as a parameter.
var alarmTopics = []string{"AlarmTopic", "AlarmTopicArn"}

// checkAlarms: every alarm has a threshold (a number, or a Number parameter
// with a default) over one metric or one metric-math expression, a
// comparison, and actions that all notify the alarm topic; every function
// has an Errors and a Throttles alarm, under the function's own Condition.
func checkAlarms(tp tmpl, params cloudformation.Parameters) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	lambdaAlarms := map[string][]string{} // function → metric names
	for _, id := range tp.ofType("AWS::CloudWatch::Alarm") {
		p := tp.props(id)
		switch th := p["Threshold"]; {
		case th == nil && p["ThresholdMetricId"] == nil:
			bad("%s: no Threshold", id)
		case th != nil:
			if _, ok := number(th); !ok {
				name, isRef := refOf(th)
				d, hasDefault := paramDefault(params, name)
				if !isRef || params[name].Type != "Number" || !hasDefault {
					bad("%s: Threshold %v is neither a number nor a Number parameter with a default", id, th)
				} else if _, ok := number(d); !ok {
					bad("%s: Threshold parameter %s defaults to %v, not a number", id, name, d)
				}
			}
		}
		if p["ComparisonOperator"] == nil {
			bad("%s: no ComparisonOperator", id)
		}
		if metrics := list(p["Metrics"]); metrics != nil {
			returned := 0
			for _, m := range metrics {
				if obj(m)["ReturnData"] == true {
					returned++
					if obj(m)["Expression"] == nil && obj(m)["MetricStat"] == nil {
						bad("%s: the returned metric has neither an Expression nor a MetricStat", id)
					}
				}
			}
			if returned != 1 {
				bad("%s: %d metrics with ReturnData true, want exactly 1 (the value compared with the threshold)", id, returned)
			}
		} else if p["MetricName"] == nil || p["Namespace"] == nil {
			bad("%s: neither MetricName and Namespace nor Metrics", id)
		}
		actions := list(p["AlarmActions"])
		if len(actions) == 0 {
			bad("%s: no AlarmActions (nobody is told)", id)
		}
		for _, a := range actions {
			r := refs(a)
			if len(r) == 0 || slices.ContainsFunc(r, func(s string) bool { return !slices.Contains(alarmTopics, s) }) {
				bad("%s: alarm action %v does not notify the alarm topic", id, a)
			}
		}
		if p["Namespace"] == "AWS/Lambda" {
			for _, d := range list(p["Dimensions"]) {
				if obj(d)["Name"] == "FunctionName" {
					if fn, ok := refOf(obj(d)["Value"]); ok {
						if c, fc := tp.resource(id)["Condition"], tp.resource(fn)["Condition"]; c != fc {
							bad("%s: Condition %v, but its function %s has Condition %v", id, c, fn, fc)
						}
						m, _ := p["MetricName"].(string)
						lambdaAlarms[fn] = append(lambdaAlarms[fn], m)
					}
				}
			}
		}
	}
	for _, fn := range tp.ofType("AWS::Serverless::Function") {
		for _, m := range []string{"Errors", "Throttles"} {
			if !slices.Contains(lambdaAlarms[fn], m) {
				bad("%s has no %s alarm", fn, m)
			}
		}
	}
	return problems
}

func TestAlarms(t *testing.T) {
	tp := readTemplate(t)
	params := tp.parameters(t)
	expectNone(t, checkAlarms(tp, params))
	if n := len(tp.ofType("AWS::CloudWatch::Alarm")); n < 20 {
		t.Errorf("%d alarms, want at least 20", n)
	}

	t.Run("no actions", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.props("ValidatorErrorsAlarm"), "AlarmActions")
		expectProblem(t, checkAlarms(c, params), "ValidatorErrorsAlarm: no AlarmActions")
	})
	t.Run("action elsewhere", func(t *testing.T) {
		c := tp.clone(t)
		c.props("RestApi4xxAlarm")["AlarmActions"] = []any{"arn:aws:sns:us-east-1:123456789012:other"}
		expectProblem(t, checkAlarms(c, params), "RestApi4xxAlarm: alarm action arn:aws:sns:us-east-1:123456789012:other does not notify the alarm topic")
	})
	t.Run("no threshold", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.props("WafBlockedRatioAlarm"), "Threshold")
		expectProblem(t, checkAlarms(c, params), "WafBlockedRatioAlarm: no Threshold")
	})
	t.Run("threshold parameter without default", func(t *testing.T) {
		p := cloudformation.Parameters{}
		for k, v := range params {
			p[k] = v
		}
		q := p["ClientErrorAlarmThreshold"]
		q.Default = nil
		p["ClientErrorAlarmThreshold"] = q
		expectProblem(t, checkAlarms(tp, p), "RestApi4xxAlarm: Threshold map[Ref:ClientErrorAlarmThreshold] is neither a number nor a Number parameter with a default")
	})
	t.Run("metric math without a returned expression", func(t *testing.T) {
		c := tp.clone(t)
		for _, m := range list(c.props("WafBlockedRatioAlarm")["Metrics"]) {
			obj(m)["ReturnData"] = false
		}
		expectProblem(t, checkAlarms(c, params), "WafBlockedRatioAlarm: 0 metrics with ReturnData true")
	})
	t.Run("function without a throttles alarm", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "RequestAuthorizerThrottlesAlarm")
		expectProblem(t, checkAlarms(c, params), "RequestAuthorizerFunction has no Throttles alarm")
	})
	t.Run("alarm on a conditional function without its condition", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resource("CertificateEchoErrorsAlarm"), "Condition")
		expectProblem(t, checkAlarms(c, params), "CertificateEchoErrorsAlarm: Condition <nil>, but its function CertificateEchoFunction has Condition HasTruststore")
	})
}
