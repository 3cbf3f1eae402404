package observe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestMetrics(t *testing.T, opts ...MetricsOption) (*Metrics, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	m, err := NewMetrics(&buf, "guard/test", append([]MetricsOption{WithClock(func() time.Time { return fixed })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m, &buf
}

// lines decodes every line of buf as one JSON object.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		out = append(out, doc)
	}
	return out
}

func TestRecordFlushWritesOneEMFLine(t *testing.T) {
	m, buf := newTestMetrics(t)
	err := m.Record(Dimension{"Service", "token-authorizer"}, Dimension{"Outcome", "deny"}, Dimension{"Reason", "not_entitled"}).
		Rollup("Service", "Outcome").
		Count("Decisions", 1).
		Duration("DecisionLatency", 1500*time.Microsecond).
		Property("requestId", "req-1").
		Flush()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requestId":"req-1","Service":"token-authorizer","Outcome":"deny","Reason":"not_entitled","Decisions":1,"DecisionLatency":1.5,` +
		`"_aws":{"Timestamp":1772366400000,"CloudWatchMetrics":[{"Namespace":"guard/test",` +
		`"Dimensions":[["Service","Outcome","Reason"],["Service","Outcome"]],` +
		`"Metrics":[{"Name":"Decisions","Unit":"Count"},{"Name":"DecisionLatency","Unit":"Milliseconds"}]}]}}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("line =\n%s\nwant\n%s", got, want)
	}
}

func TestRecordRepeatedValuesAndReuse(t *testing.T) {
	m, buf := newTestMetrics(t)
	r := m.Record(Dimension{"Service", "cache-invalidator"})
	r.Duration("FlushLatency", 20*time.Millisecond).Duration("FlushLatency", 30*time.Millisecond)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil { // nothing left: writes nothing
		t.Fatal(err)
	}
	r.Count("Revocations", 2)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	docs := lines(t, buf)
	if len(docs) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(docs), buf)
	}
	vals, ok := docs[0]["FlushLatency"].([]any)
	if !ok || len(vals) != 2 || vals[0] != 20.0 || vals[1] != 30.0 {
		t.Errorf("FlushLatency = %v, want [20 30]", docs[0]["FlushLatency"])
	}
	if docs[1]["Revocations"] != 2.0 || docs[1]["FlushLatency"] != nil || docs[1]["Service"] != "cache-invalidator" {
		t.Errorf("second line = %v, want Revocations 2 with the dimension and no FlushLatency", docs[1])
	}
}

func TestRecordErrorsWriteNothing(t *testing.T) {
	tests := []struct {
		name string
		fill func(*Record)
		dims []Dimension // bad ones fail every flush, not just the first
	}{
		{"NaN", func(r *Record) { r.Add("X", Count, math.NaN()) }, nil},
		{"Inf", func(r *Record) { r.Add("X", Count, math.Inf(1)) }, nil},
		{"empty metric name", func(r *Record) { r.Count("", 1) }, nil},
		{"reserved name", func(r *Record) { r.Count("_aws", 1) }, nil},
		{"long name", func(r *Record) { r.Count(strings.Repeat("n", 256), 1) }, nil},
		{"unit changes", func(r *Record) { r.Add("X", Count, 1).Add("X", Milliseconds, 1) }, nil},
		{"metric named like dimension", func(r *Record) { r.Count("Outcome", 1) }, []Dimension{{"Outcome", "allow"}}},
		{"property named like metric", func(r *Record) { r.Count("X", 1).Property("X", "y") }, nil},
		{"rollup of unknown dim", func(r *Record) { r.Rollup("Nope").Count("X", 1) }, []Dimension{{"Outcome", "allow"}}},
		{"duplicate dimension", func(r *Record) { r.Count("X", 1) }, []Dimension{{"A", "1"}, {"A", "2"}}},
		{"empty dimension name", func(r *Record) { r.Count("X", 1) }, []Dimension{{"", "1"}}},
		{"too many values", func(r *Record) {
			for range maxValuesPerMetric + 1 {
				r.Count("X", 1)
			}
		}, nil},
		{"too many metrics", func(r *Record) {
			for i := range maxMetrics + 1 {
				r.Count(fmt.Sprint("M", i), 1)
			}
		}, nil},
		{"too many dimensions", func(r *Record) { r.Count("X", 1) }, func() []Dimension {
			var d []Dimension
			for i := range maxDimensions + 1 {
				d = append(d, Dimension{fmt.Sprint("D", i), "v"})
			}
			return d
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, buf := newTestMetrics(t)
			r := m.Record(tt.dims...)
			tt.fill(r)
			err := r.Flush()
			if !errors.Is(err, ErrInvalidMetric) {
				t.Fatalf("Flush() = %v, want ErrInvalidMetric", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q, want nothing", buf)
			}
			// A bad metric fails one flush; bad dimensions fail them all.
			err = r.Count("Y", 1).Flush()
			if badDims := r.dimErr != nil; badDims != (err != nil) {
				t.Errorf("second Flush() = %v, want an error: %v", err, badDims)
			}
		})
	}
}

func TestDimensionValuesAreBounded(t *testing.T) {
	m, buf := newTestMetrics(t, WithMaxDimensionValues(2))
	for _, v := range []string{"allow", "deny", "allow", "user-42", "", strings.Repeat("x", 65), "deny"} {
		if err := m.Record(Dimension{"Outcome", v}).Count("Decisions", 1).Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, d := range lines(t, buf) {
		got = append(got, d["Outcome"].(string))
	}
	want := []string{"allow", "deny", "allow", Other, Other, Other, "deny"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Outcome values = %v, want %v", got, want)
	}
}

func TestNewMetricsRejects(t *testing.T) {
	var buf bytes.Buffer
	for _, tt := range []struct {
		name string
		w    *bytes.Buffer
		ns   string
		opts []MetricsOption
	}{
		{"nil writer", nil, "ns", nil},
		{"empty namespace", &buf, "", nil},
		{"colon namespace", &buf, ":ns", nil},
		{"long namespace", &buf, strings.Repeat("n", 256), nil},
		{"no dimension values", &buf, "ns", []MetricsOption{WithMaxDimensionValues(0)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.w == nil {
				_, err = NewMetrics(nil, tt.ns, tt.opts...)
			} else {
				_, err = NewMetrics(tt.w, tt.ns, tt.opts...)
			}
			if !errors.Is(err, ErrInvalidMetric) {
				t.Errorf("NewMetrics = %v, want ErrInvalidMetric", err)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestFlushReportsWriteError(t *testing.T) {
	m, err := NewMetrics(failingWriter{}, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Record().Count("X", 1).Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush() = %v, want the writer's error", err)
	}
}

// lockedBuffer lets concurrent flushes prove that lines never interleave.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Two writes per line would interleave; Flush must write a line at once.
	return b.buf.Write(p)
}

func TestConcurrentFlushesWriteWholeLines(t *testing.T) {
	var w lockedBuffer
	m, err := NewMetrics(&w, "ns")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if err := m.Record(Dimension{"Worker", fmt.Sprint(i)}).Count("N", 1).Flush(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	docs := lines(t, &w.buf)
	if len(docs) != 400 {
		t.Fatalf("%d lines, want 400", len(docs))
	}
}

func BenchmarkRecordFlush(b *testing.B) {
	var buf bytes.Buffer
	m, err := NewMetrics(&buf, "guard/bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := m.Record(Dimension{"Service", "token-authorizer"}, Dimension{"Outcome", "allow"}, Dimension{"Reason", "ok"}).
			Rollup("Service", "Outcome").Count("Decisions", 1).Duration("DecisionLatency", time.Millisecond).Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleMetrics() {
	var out strings.Builder
	m, _ := NewMetrics(&out, "guard/example", WithClock(func() time.Time { return time.UnixMilli(1700000000000) }))
	_ = m.Record(Dimension{"Service", "key-rotator"}, Dimension{"Step", "finishSecret"}).
		Count("RotationSteps", 1).
		Flush()
	fmt.Print(out.String())
	// Output:
	// {"Service":"key-rotator","Step":"finishSecret","RotationSteps":1,"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"guard/example","Dimensions":[["Service","Step"]],"Metrics":[{"Name":"RotationSteps","Unit":"Count"}]}]}}
}

func splitLines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
