// Package emf reads CloudWatch Embedded Metric Format lines back, for the
// tests of the functions that write them: it checks each document against
// the parts of the specification CloudWatch enforces and gives tests the
// names, dimensions and values to assert.
package emf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Doc is one EMF document.
type Doc struct {
	Namespace string
	// Dimensions are the dimension sets, each a list of names.
	Dimensions [][]string
	// Units maps each metric's name to its unit.
	Units map[string]string
	// Fields are the document's top-level members other than _aws:
	// dimension values, metric values (float64 or []any) and properties.
	Fields    map[string]any
	Timestamp int64
}

// Dim returns the value of dimension name, "" if absent.
func (d Doc) Dim(name string) string {
	s, _ := d.Fields[name].(string)
	return s
}

// Value returns the single value of metric name, and false if the document
// has no such metric or several values of it.
func (d Doc) Value(name string) (float64, bool) {
	if _, ok := d.Units[name]; !ok {
		return 0, false
	}
	v, ok := d.Fields[name].(float64)
	return v, ok
}

// HasDimensionSet reports whether names (in this order) is one of the sets.
func (d Doc) HasDimensionSet(names ...string) bool {
	return slices.ContainsFunc(d.Dimensions, func(set []string) bool { return slices.Equal(set, names) })
}

// Parse reads every line of out that is an EMF document (lines without an
// _aws member, such as log lines, are skipped) and checks it.
func Parse(out []byte) ([]Doc, error) {
	var docs []Doc
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		d, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("EMF line %s: %w", line, err)
		}
		docs = append(docs, d)
	}
	return docs, sc.Err()
}

func parseLine(line []byte) (Doc, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return Doc{}, err
	}
	var meta struct {
		Timestamp         *int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw["_aws"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return Doc{}, fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil || len(meta.CloudWatchMetrics) != 1 {
		return Doc{}, fmt.Errorf("_aws needs a Timestamp and one CloudWatchMetrics directive")
	}
	cw := meta.CloudWatchMetrics[0]
	d := Doc{Namespace: cw.Namespace, Dimensions: cw.Dimensions, Units: map[string]string{}, Fields: map[string]any{}, Timestamp: *meta.Timestamp}
	for k, v := range raw {
		if k == "_aws" {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return Doc{}, err
		}
		d.Fields[k] = x
	}
	if d.Namespace == "" || len(d.Dimensions) == 0 || len(cw.Metrics) == 0 {
		return Doc{}, fmt.Errorf("directive needs a Namespace, dimension sets and metrics")
	}
	for _, set := range d.Dimensions {
		if len(set) > 30 {
			return Doc{}, fmt.Errorf("dimension set %v: more than 30", set)
		}
		for _, name := range set {
			if _, ok := d.Fields[name].(string); !ok {
				return Doc{}, fmt.Errorf("dimension %q has no string value", name)
			}
		}
	}
	for _, m := range cw.Metrics {
		d.Units[m.Name] = m.Unit
		switch v := d.Fields[m.Name].(type) {
		case float64:
		case []any:
			for _, x := range v {
				if _, ok := x.(float64); !ok {
					return Doc{}, fmt.Errorf("metric %q: value %v is not a number", m.Name, x)
				}
			}
		default:
			return Doc{}, fmt.Errorf("metric %q has no numeric value", m.Name)
		}
	}
	return d, nil
}

// Find returns the documents that carry metric name.
func Find(docs []Doc, name string) []Doc {
	var out []Doc
	for _, d := range docs {
		if _, ok := d.Units[name]; ok {
			out = append(out, d)
		}
	}
	return out
}

// String summarises d for failure messages.
func (d Doc) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v", d.Namespace, d.Dimensions)
	for name := range d.Units {
		fmt.Fprintf(&b, " %s=%v", name, d.Fields[name])
	}
	return b.String()
}
