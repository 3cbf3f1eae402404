package deploycheck

import (
	"fmt"
	"slices"
	"testing"
)

// checkRevocation checks what makes a revocation take effect everywhere:
// response caching is off on the REST API (a cached authenticated response
// would outlive the revocation), and the invalidator takes SQS batches with
// partial-batch failure reporting and a dead-letter queue (through an
// AWS::Lambda::EventSourceMapping: see checkIAM on SAM's SQS events).
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
	for _, id := range tp.ofType("AWS::Lambda::EventSourceMapping") {
		props := tp.props(id)
		if fn, _ := refOf(props["FunctionName"]); fn != "CacheInvalidatorFunction" {
			continue
		}
		queue, _, _ := getAttOf(props["EventSourceArn"])
		if tp.resource(queue)["Type"] != "AWS::SQS::Queue" {
			continue
		}
		queues++
		if !slices.Contains(list(props["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
			bad("%s: no ReportBatchItemFailures", id)
		}
		if obj(tp.props(queue)["RedrivePolicy"])["deadLetterTargetArn"] == nil {
			bad("queue %s has no dead-letter queue", queue)
		}
		// Lambda polls the queue with the function's role.
		granted := map[string]bool{}
		walkStatements(tp.props("CacheInvalidatorFunction")["Policies"], func(st map[string]any) {
			if r, _, _ := getAttOf(st["Resource"]); st["Effect"] == "Allow" && r == queue {
				actions, _ := stringValues(st["Action"])
				for _, a := range actions {
					granted[a] = true
				}
			}
		})
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			if !granted[a] {
				bad("%s: CacheInvalidatorFunction's role has no %s on %s", id, a, queue)
			}
		}
	}
	if queues == 0 {
		bad("no event source mapping feeds CacheInvalidatorFunction from a queue of this template")
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
		delete(c.props("CacheInvalidatorFunctionRevocationMessages"), "FunctionResponseTypes")
		expectProblem(t, checkRevocation(c), "CacheInvalidatorFunctionRevocationMessages: no ReportBatchItemFailures")
	})
	t.Run("no queue mapping", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.resources(), "CacheInvalidatorFunctionRevocationMessages")
		expectProblem(t, checkRevocation(c), "no event source mapping feeds CacheInvalidatorFunction")
	})
	t.Run("queue not readable", func(t *testing.T) {
		c := tp.clone(t)
		walkStatements(c.props("CacheInvalidatorFunction")["Policies"], func(st map[string]any) {
			if r, _, _ := getAttOf(st["Resource"]); r == "RevocationQueue" {
				st["Action"] = []any{"sqs:ReceiveMessage"}
			}
		})
		expectProblem(t, checkRevocation(c), "CacheInvalidatorFunction's role has no sqs:DeleteMessage on RevocationQueue")
	})
	t.Run("no dead-letter queue", func(t *testing.T) {
		c := tp.clone(t)
		delete(c.props("RevocationQueue"), "RedrivePolicy")
		expectProblem(t, checkRevocation(c), "queue RevocationQueue has no dead-letter queue")
	})
}
