package observe

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units the suite uses (CloudWatch accepts more).
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
	Bytes        Unit = "Bytes"
	Percent      Unit = "Percent"
	NoUnit       Unit = "None"
)

// Limits of one Embedded Metric Format document, as CloudWatch sets them.
const (
	maxDimensions      = 30  // per dimension set
	maxMetrics         = 100 // per document
	maxValuesPerMetric = 100
	maxNameLen         = 255
	maxNamespaceLen    = 255
	maxDimValueLen     = 64 // ours: a longer value is not a category

	// DefaultMaxDimensionValues bounds the distinct values one dimension may
	// take in a [Metrics]; see [WithMaxDimensionValues].
	DefaultMaxDimensionValues = 50
	// Other replaces a dimension value beyond the bound, or an empty or
	// overlong one.
	Other = "other"
)

// ErrInvalidMetric means a record broke an Embedded Metric Format rule (a
// bad name, a value that is not a finite number, too many metrics); the
// record is not written. Compare with errors.Is.
var ErrInvalidMetric = errors.New("invalid metric")

// Dimension is one dimension of a metric: a name and a value from a small,
// fixed set (an outcome, a reason, a function), never an id, a user or a
// path. Each distinct combination of values is a separate, billed metric.
type Dimension struct {
	Name, Value string
}

// Metrics writes CloudWatch Embedded Metric Format (EMF) documents: each
// [Record.Flush] writes one JSON object on one line, which CloudWatch Logs
// turns into metrics when it reaches a Lambda function's log group (write to
// os.Stdout). No API call, no agent, no IAM permission.
//
// Dimension values are bounded: once a dimension has taken
// [DefaultMaxDimensionValues] distinct values, new ones are recorded as
// [Other], so a bug that puts an id into a dimension cannot create
// unbounded metrics.
//
// Build one at init; it is safe for concurrent use and never interleaves
// lines.
type Metrics struct {
	w         io.Writer
	namespace string
	now       func() time.Time
	maxValues int

	mu   sync.Mutex
	seen map[string]map[string]bool // dimension name → values seen
}

// A MetricsOption changes one of a [Metrics]' defaults.
type MetricsOption func(*Metrics)

// WithClock sets the clock that timestamps documents; default time.Now.
func WithClock(now func() time.Time) MetricsOption {
	return func(m *Metrics) { m.now = now }
}

// WithMaxDimensionValues bounds the distinct values of each dimension;
// default [DefaultMaxDimensionValues].
func WithMaxDimensionValues(n int) MetricsOption {
	return func(m *Metrics) { m.maxValues = n }
}

// NewMetrics returns a Metrics that writes documents in namespace to w.
func NewMetrics(w io.Writer, namespace string, opts ...MetricsOption) (*Metrics, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: nil writer", ErrInvalidMetric)
	}
	if namespace == "" || len(namespace) > maxNamespaceLen || namespace[0] == ':' {
		return nil, fmt.Errorf("%w: namespace %q: want 1 to %d characters, not starting with ':'", ErrInvalidMetric, namespace, maxNamespaceLen)
	}
	m := &Metrics{w: w, namespace: namespace, now: time.Now, maxValues: DefaultMaxDimensionValues, seen: map[string]map[string]bool{}}
	for _, o := range opts {
		o(m)
	}
	if m.maxValues < 1 {
		return nil, fmt.Errorf("%w: max dimension values %d: want at least 1", ErrInvalidMetric, m.maxValues)
	}
	return m, nil
}

// bound returns the value to record for dimension name: v, or [Other] when
// v is empty, too long, or one value too many.
func (m *Metrics) bound(name, v string) string {
	if v == "" || len(v) > maxDimValueLen {
		return Other
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vals := m.seen[name]
	if vals == nil {
		vals = map[string]bool{}
		m.seen[name] = vals
	}
	if vals[v] {
		return v
	}
	if len(vals) >= m.maxValues {
		return Other
	}
	vals[v] = true
	return v
}

// Record starts a document whose metrics all carry dims. A Record belongs
// to one goroutine; flush it once its values are in.
func (m *Metrics) Record(dims ...Dimension) *Record {
	r := &Record{m: m, dims: make([]Dimension, 0, len(dims))}
	for _, d := range dims {
		if err := checkName("dimension", d.Name); err != nil {
			r.dimErr = cmp.Or(r.dimErr, err)
			continue
		}
		if slices.ContainsFunc(r.dims, func(x Dimension) bool { return x.Name == d.Name }) {
			r.dimErr = cmp.Or(r.dimErr, fmt.Errorf("%w: dimension %q given twice", ErrInvalidMetric, d.Name))
			continue
		}
		r.dims = append(r.dims, Dimension{Name: d.Name, Value: m.bound(d.Name, d.Value)})
	}
	if len(r.dims) > maxDimensions {
		r.dimErr = cmp.Or(r.dimErr, fmt.Errorf("%w: %d dimensions, at most %d", ErrInvalidMetric, len(r.dims), maxDimensions))
	}
	return r
}

// Record is one document in the making: dimensions, metric values and
// properties. Its methods return the Record so calls chain; the first
// error is kept and returned by [Record.Flush]. A bad dimension given to
// [Metrics.Record] fails every flush of the record.
type Record struct {
	m       *Metrics
	dims    []Dimension
	rollups [][]string
	metrics []metricValues
	props   []property
	err     error // of this flush's calls
	dimErr  error // of the dimensions: sticks

	// Room for the usual few metrics and properties, so that a record
	// costs one allocation, not one per value.
	metricsBuf [4]metricValues
	propsBuf   [2]property
}

// metricValues is one metric's values: first, then the rest (most metrics
// get one value per record).
type metricValues struct {
	name  string
	unit  Unit
	first float64
	rest  []float64
}

func (mv *metricValues) count() int { return 1 + len(mv.rest) }

type property struct{ key, value string }

func (r *Record) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func checkName(kind, name string) error {
	if name == "" || len(name) > maxNameLen || name == "_aws" {
		return fmt.Errorf("%w: %s name %q: want 1 to %d characters, not _aws", ErrInvalidMetric, kind, name, maxNameLen)
	}
	return nil
}

// Rollup also aggregates the record's metrics over a subset of its
// dimensions (in CloudWatch, one more metric per value combination). With
// dimensions Service, Outcome and Reason, Rollup("Service", "Outcome")
// gives per-outcome totals whatever the reason; Rollup() gives one total.
func (r *Record) Rollup(names ...string) *Record {
	for _, n := range names {
		if !r.isDimension(n) {
			r.fail(fmt.Errorf("%w: rollup dimension %q is not one of the record's", ErrInvalidMetric, n))
			return r
		}
	}
	r.rollups = append(r.rollups, slices.Clone(names))
	return r
}

// Add records value for the metric name. Adding the same name again keeps
// every value (CloudWatch aggregates them); the unit must not change.
func (r *Record) Add(name string, unit Unit, value float64) *Record {
	if err := checkName("metric", name); err != nil {
		r.fail(err)
		return r
	}
	if math.IsNaN(value) || math.IsInf(value, 0) {
		r.fail(fmt.Errorf("%w: metric %q: %v is not a finite number", ErrInvalidMetric, name, value))
		return r
	}
	if r.isProperty(name) || r.isDimension(name) {
		r.fail(fmt.Errorf("%w: metric %q has the name of a dimension or property", ErrInvalidMetric, name))
		return r
	}
	for i := range r.metrics {
		mv := &r.metrics[i]
		if mv.name != name {
			continue
		}
		switch {
		case mv.unit != unit:
			r.fail(fmt.Errorf("%w: metric %q recorded in %s and %s", ErrInvalidMetric, name, mv.unit, unit))
		case mv.count() == maxValuesPerMetric:
			r.fail(fmt.Errorf("%w: metric %q has more than %d values", ErrInvalidMetric, name, maxValuesPerMetric))
		default:
			mv.rest = append(mv.rest, value)
		}
		return r
	}
	if len(r.metrics) == maxMetrics {
		r.fail(fmt.Errorf("%w: more than %d metrics in one record", ErrInvalidMetric, maxMetrics))
		return r
	}
	if r.metrics == nil {
		r.metrics = r.metricsBuf[:0]
	}
	r.metrics = append(r.metrics, metricValues{name: name, unit: unit, first: value})
	return r
}

// Count adds n to the counter name.
func (r *Record) Count(name string, n float64) *Record { return r.Add(name, Count, n) }

// Duration records d in milliseconds.
func (r *Record) Duration(name string, d time.Duration) *Record {
	return r.Add(name, Milliseconds, float64(d.Microseconds())/1000)
}

// Property adds a field that is logged with the document but is not a
// dimension, such as the request id for correlating with the logs. High
// cardinality is fine here; secrets are not: properties are plain log text.
func (r *Record) Property(key, value string) *Record {
	if err := checkName("property", key); err != nil {
		r.fail(err)
		return r
	}
	if r.isDimension(key) || slices.ContainsFunc(r.metrics, func(mv metricValues) bool { return mv.name == key }) {
		r.fail(fmt.Errorf("%w: property %q has the name of a dimension or metric", ErrInvalidMetric, key))
		return r
	}
	for i := range r.props {
		if r.props[i].key == key {
			r.props[i].value = value
			return r
		}
	}
	if r.props == nil {
		r.props = r.propsBuf[:0]
	}
	r.props = append(r.props, property{key, value})
	return r
}

func (r *Record) isDimension(name string) bool {
	return slices.ContainsFunc(r.dims, func(d Dimension) bool { return d.Name == name })
}

func (r *Record) isProperty(name string) bool {
	return slices.ContainsFunc(r.props, func(p property) bool { return p.key == name })
}

// bufPool holds encoding buffers, so that a flush does not allocate one.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Flush writes the record as one line and empties its metrics, keeping its
// dimensions and rollups for reuse. A record without metrics writes
// nothing. It returns the first error of the record's calls (then nothing
// is written and the record is emptied), or the writer's error.
func (r *Record) Flush() error {
	defer func() { r.metrics, r.props, r.err = r.metrics[:0], r.props[:0], nil }()
	if err := cmp.Or(r.dimErr, r.err); err != nil {
		return err
	}
	if len(r.metrics) == 0 {
		return nil
	}
	bp := bufPool.Get().(*[]byte)
	line := r.encode((*bp)[:0])
	r.m.mu.Lock()
	_, err := r.m.w.Write(line)
	r.m.mu.Unlock()
	if cap(line) <= 64<<10 { // do not keep a freak buffer
		*bp = line
		bufPool.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// encode appends the record as one EMF JSON object and a newline: the
// properties (sorted), the dimensions, the metrics, then the _aws metadata.
func (r *Record) encode(b []byte) []byte {
	b = append(b, '{')
	slices.SortFunc(r.props, func(x, y property) int { return strings.Compare(x.key, y.key) })
	for _, p := range r.props {
		b = appendString(b, p.key)
		b = append(b, ':')
		b = appendString(b, p.value)
		b = append(b, ',')
	}
	for _, d := range r.dims {
		b = appendString(b, d.Name)
		b = append(b, ':')
		b = appendString(b, d.Value)
		b = append(b, ',')
	}
	for _, mv := range r.metrics {
		b = appendString(b, mv.name)
		b = append(b, ':')
		if len(mv.rest) == 0 {
			b = strconv.AppendFloat(b, mv.first, 'g', -1, 64)
		} else {
			b = append(b, '[')
			b = strconv.AppendFloat(b, mv.first, 'g', -1, 64)
			for _, v := range mv.rest {
				b = append(b, ',')
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
			b = append(b, ']')
		}
		b = append(b, ',')
	}
	b = append(b, `"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, r.m.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = appendString(b, r.m.namespace)
	b = append(b, `,"Dimensions":[`...)
	b = appendNames(b, r.dims, nil)
	for _, set := range r.rollups {
		b = append(b, ',')
		b = appendNames(b, nil, set)
	}
	b = append(b, `],"Metrics":[`...)
	for i, mv := range r.metrics {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = appendString(b, mv.name)
		b = append(b, `,"Unit":`...)
		b = appendString(b, string(mv.unit))
		b = append(b, '}')
	}
	return append(b, "]}]}}\n"...)
}

// appendNames appends a dimension set: the names of dims, or names.
func appendNames(b []byte, dims []Dimension, names []string) []byte {
	b = append(b, '[')
	for i, d := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, d.Name)
	}
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, ']')
}

// plain reports whether s is printable ASCII without '"' or '\\', which
// JSON takes as is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string, as encoding/json would (invalid
// UTF-8 becomes U+FFFD; <, > and & are left alone: this is a log, not HTML).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	if plain(s) { // the usual case: names, outcomes, ids
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
