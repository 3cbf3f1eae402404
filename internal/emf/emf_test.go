package emf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/observe"
)

func TestParseReadsWhatObserveWrites(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString(`{"level":"INFO","message":"a log line"}` + "\n")
	m, err := observe.NewMetrics(&buf, "guard/test")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Record(observe.Dimension{Name: "Service", Value: "s"}, observe.Dimension{Name: "Outcome", Value: "allow"}).
		Rollup("Service").Count("Decisions", 1).Add("Sizes", observe.Bytes, 2).Add("Sizes", observe.Bytes, 3).Property("requestId", "r1").Flush(); err != nil {
		t.Fatal(err)
	}
	docs, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("%d docs, want 1 (log lines skipped)", len(docs))
	}
	d := docs[0]
	if v, ok := d.Value("Decisions"); !ok || v != 1 || d.Units["Decisions"] != "Count" || d.Dim("Outcome") != "allow" ||
		d.Fields["requestId"] != "r1" || !d.HasDimensionSet("Service", "Outcome") || !d.HasDimensionSet("Service") || d.Namespace != "guard/test" {
		t.Errorf("doc = %v", d)
	}
	if _, ok := d.Value("Sizes"); ok || len(Find(docs, "Sizes")) != 1 {
		t.Errorf("Sizes: want a multi-value metric")
	}
}

func TestParseRejects(t *testing.T) {
	for name, line := range map[string]string{
		"not JSON":          `{"_aws":`,
		"no timestamp":      `{"_aws":{"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"A":"a","M":1}`,
		"dimension missing": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"M":1}`,
		"metric missing":    `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"A":"a"}`,
		"metric a string":   `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"A":"a","M":"1"}`,
		"unknown _aws key":  `{"_aws":{"Timestamp":1,"X":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["A"]],"Metrics":[{"Name":"M"}]}]},"A":"a","M":1}`,
	} {
		if _, err := Parse([]byte(line + "\n")); err == nil || !strings.Contains(err.Error(), "EMF line") {
			t.Errorf("%s: err = %v, want a rejection", name, err)
		}
	}
}
