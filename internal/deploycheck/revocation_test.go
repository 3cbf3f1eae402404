package deploycheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// checkRevocation checks what makes a revocation take effect everywhere:
// response caching is off on the REST API (a cached authenticated response
// would outlive the revocation), and the invalidator takes SQS batches with
// partial-batch failure reporting and a dead-letter queue.
func checkRevocation(tp tmpl) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	for _, api := range tp.ofType("AWS::Serverless::Api") {
		p := tp.props(api)
		if v, ok := p["CacheClusterEnabled"]; !ok || v != false {
			bad("%s: CacheClusterEnabled is %v, want false", api, v)
		}
		for _, ms := range list(p["MethodSettings"]) {
			m := obj(ms)
			if m["ResourcePath"] == "/*" && m["HttpMethod"] == "*" && m["CachingEnabled"] != false {
				bad("%s: the /* method setting has CachingEnabled %v, want false", api, m["CachingEnabled"])
			}
		}
	}
	queues := 0
	for id, ev := range obj(tp.props("CacheInvalidatorFunction")["Events"]) {
		e := obj(ev)
		if e["Type"] != "SQS" {
			continue
		}
		queues++
		props := obj(e["Properties"])
		if !slices.Contains(list(props["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
			bad("CacheInvalidatorFunction event %s: no ReportBatchItemFailures", id)
		}
		// !GetAtt Queue.Arn reads as "Queue.Arn" or as ["Queue", "Arn"].
		var queue string
		switch g := obj(props["Queue"])["Fn::GetAtt"].(type) {
		case string:
			queue, _, _ = strings.Cut(g, ".")
		case []any:
			if len(g) == 2 {
				queue = fmt.Sprint(g[0])
			}
		}
		if tp.resource(queue)["Type"] != "AWS::SQS::Queue" {
			bad("CacheInvalidatorFunction event %s: the queue is not a queue of this template", id)
			continue
		}
		if obj(tp.props(queue)["RedrivePolicy"])["deadLetterTargetArn"] == nil {
			bad("queue %s has no dead-letter queue", queue)
		}
	}
	if queues == 0 {
		bad("CacheInvalidatorFunction has no SQS event")
	}
	return problems
}

func TestRevocationWiring(t *testing.T) {
	tp := readTemplate(t)
	expectNone(t, checkRevocation(tp))

	t.Run("response cache on", func(t *testing.T) {
		c := tp.clone(t)
		c.props("RestApi")["CacheClusterEnabled"] = true
		expectProblem(t, checkRevocation(c), "RestApi: CacheClusterEnabled is true")
	})
	t.Run("no partial batch failures", func(t *testing.T) {
		c := tp.clone(t)
		delete(obj(obj(obj(c.props("CacheInvalidatorFunction")["Events"])["RevocationMessages"])["Properties"]), "FunctionResponseTypes")
		expectProblem(t, checkRevocation(c), "no ReportBatchItemFailures")
	})
	t.Run("no dead-letter queue", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.props("RevocationQueue"), "RedrivePolicy")
		expectProblem(t, checkRevocation(c), "queue RevocationQueue has no dead-letter queue")
	})
}
