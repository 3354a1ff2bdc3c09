package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Labels of the 17 metrics faasd registers, and of peak-mem
// (spec/trenv-stack.md §2.8, spec/upstream-tooling.md §3.7).
//
// Latency metrics map a key (mostly the service name, "pyaes_1") to the
// milliseconds of each event in emission order; counters map a key to a
// count; invoke-count is one count, peak-mem one number of bytes.
const (
	LabelStartNewLatency        = "start-new-latency"         // latency: cold, CRIU, lazy, FaaSnap, REAP starts
	LabelStartNewExecLatency    = "start-new-exec-latency"    // latency: proxy time after such a start
	LabelStartNewCount          = "start-new-count"           // counter
	LabelSwitchLatency          = "switch-latency"            // latency: TrEnv repurposing
	LabelSwitchExecLatency      = "switch-exec-latency"       // latency: proxy time after a switch
	LabelSwitchCount            = "switch-count"              // counter
	LabelReuseLatency           = "reuse-latency"             // latency: warm reuse
	LabelReuseExecLatency       = "reuse-exec-latency"        // latency: proxy time after a reuse
	LabelReuseCount             = "reuse-count"               // counter
	LabelEndToEndLatency        = "end-to-end-latency"        // latency: startup + exec
	LabelInvokeCount            = "invoke-count"              // one counter
	LabelPrepareSwitchFSLatency = "prepare-switch-fs-latency" // latency, keyed by lambda name
	LabelCRIUSwrkLatency        = "criu-swrk-latency"         // latency
	LabelCRIUSwitchKillLatency  = "criu-switch-kill-latency"  // latency
	LabelCRIUCmdStartLatency    = "criu-cmd-start-latency"    // latency
	LabelNetworkOverhead        = "network-overhead"          // latency, keyed "cni" or "faasnap"
	LabelCRIUHandleNSLatency    = "criu-handle-ns-latency"    // latency, registered but never emitted
	// LabelPeakMem is the object that ends the dump: faasd's accounting
	// peak, in bytes. It is not one of the 17 registered metrics.
	LabelPeakMem = "peak-mem"
)

// MetricsHeader is the first line of faasd's metrics dump.
const MetricsHeader = "Metrics:"

type metricKind int

const (
	kindUnknown metricKind = iota
	kindLatency
	kindCount
	kindInvokeCount
	kindPeakMem
)

func kindOf(label string) metricKind {
	switch label {
	case LabelStartNewLatency, LabelStartNewExecLatency,
		LabelSwitchLatency, LabelSwitchExecLatency,
		LabelReuseLatency, LabelReuseExecLatency,
		LabelEndToEndLatency, LabelPrepareSwitchFSLatency,
		LabelCRIUSwrkLatency, LabelCRIUSwitchKillLatency, LabelCRIUCmdStartLatency,
		LabelNetworkOverhead, LabelCRIUHandleNSLatency:
		return kindLatency
	case LabelStartNewCount, LabelSwitchCount, LabelReuseCount:
		return kindCount
	case LabelInvokeCount:
		return kindInvokeCount
	case LabelPeakMem:
		return kindPeakMem
	}
	return kindUnknown
}

// LatencyLabels returns the 13 latency metric labels, sorted; a new slice
// each call.
func LatencyLabels() []string {
	return sorted(LabelStartNewLatency, LabelStartNewExecLatency,
		LabelSwitchLatency, LabelSwitchExecLatency,
		LabelReuseLatency, LabelReuseExecLatency,
		LabelEndToEndLatency, LabelPrepareSwitchFSLatency,
		LabelCRIUSwrkLatency, LabelCRIUSwitchKillLatency, LabelCRIUCmdStartLatency,
		LabelNetworkOverhead, LabelCRIUHandleNSLatency)
}

// CountLabels returns the 3 per-key counter labels, sorted; a new slice each
// call.
func CountLabels() []string {
	return sorted(LabelStartNewCount, LabelSwitchCount, LabelReuseCount)
}

// Labels returns the labels of the 17 metrics faasd registers (latencies,
// counters and invoke-count; not peak-mem), sorted: the order of the lines
// Metrics.WriteTo writes. A new slice each call.
func Labels() []string {
	return sorted(append(append(LatencyLabels(), CountLabels()...), LabelInvokeCount)...)
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// DurationMs converts a duration to a metric value the way faasd does:
// float32(d.Microseconds()) / 1000, in float32. Microseconds are truncated,
// and from 16 384 ms upward float32 no longer holds every microsecond.
func DurationMs(d time.Duration) float32 {
	return float32(float32(d.Microseconds()) / 1000)
}

// Metrics is faasd's in-memory metric log: what GET /system/metrics dumps
// (metrics.output, warmup_metrics.output) and metrics.json holds. The zero
// value is empty and ready to use; maps are made when first needed. A Metrics
// is not safe for concurrent use.
type Metrics struct {
	// LatencyMs maps a latency label (LatencyLabels) to key → values in
	// milliseconds, in emission order. Values are finite.
	LatencyMs map[string]map[string][]float32
	// Counts maps a counter label (CountLabels) to key → count (≥ 0).
	Counts map[string]map[string]int
	// InvokeCount is the number of invocations that got an upstream
	// response (≥ 0).
	InvokeCount int
	// PeakMem is faasd's accounting peak, in bytes (≥ 0): the high-water
	// mark of the declared memory limits of live instances. Reset keeps it.
	PeakMem int64
}

// AddLatency appends d, converted by DurationMs, to the values of key under
// the latency metric label. label must be one of LatencyLabels; any other is
// a programming error and panics.
func (m *Metrics) AddLatency(label, key string, d time.Duration) {
	m.AddLatencyMs(label, key, DurationMs(d))
}

// AddLatencyMs appends a value already in milliseconds (as DurationMs gives
// it) to key's values under the latency metric label; it panics as
// AddLatency does.
func (m *Metrics) AddLatencyMs(label, key string, ms float32) {
	if kindOf(label) != kindLatency {
		panic(fmt.Sprintf("results: AddLatency: %q is not a latency metric", label))
	}
	if m.LatencyMs == nil {
		m.LatencyMs = make(map[string]map[string][]float32)
	}
	byKey := m.LatencyMs[label]
	if byKey == nil {
		byKey = make(map[string][]float32)
		m.LatencyMs[label] = byKey
	}
	byKey[key] = append(byKey[key], ms)
}

// AddCount adds n to the count of key under the counter label. label must be
// one of CountLabels; any other is a programming error and panics.
func (m *Metrics) AddCount(label, key string, n int) {
	if kindOf(label) != kindCount {
		panic(fmt.Sprintf("results: AddCount: %q is not a counter metric", label))
	}
	if m.Counts == nil {
		m.Counts = make(map[string]map[string]int)
	}
	byKey := m.Counts[label]
	if byKey == nil {
		byKey = make(map[string]int)
		m.Counts[label] = byKey
	}
	byKey[key] += n
}

// Reset does what DELETE /system/metrics does: it empties every latency
// metric and counter (their keys go; each metric then prints as "{}") and
// sets InvokeCount to 0. It keeps PeakMem.
func (m *Metrics) Reset() {
	m.LatencyMs = nil
	m.Counts = nil
	m.InvokeCount = 0
}

// check reports the first reason m cannot be written: a label in the wrong
// map or unknown, a non-finite value, a negative count.
func (m *Metrics) check() error {
	for _, label := range slices.Sorted(maps.Keys(m.LatencyMs)) {
		if kindOf(label) != kindLatency {
			return fmt.Errorf("%w: %q in LatencyMs", ErrUnknownMetric, label)
		}
		for key, vs := range m.LatencyMs[label] {
			for _, v := range vs {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%w: %s %q holds %v", ErrBadValue, label, key, v)
				}
			}
		}
	}
	for _, label := range slices.Sorted(maps.Keys(m.Counts)) {
		if kindOf(label) != kindCount {
			return fmt.Errorf("%w: %q in Counts", ErrUnknownMetric, label)
		}
		for key, n := range m.Counts[label] {
			if n < 0 {
				return fmt.Errorf("%w: %s %q is %d", ErrBadValue, label, key, n)
			}
		}
	}
	if m.InvokeCount < 0 {
		return fmt.Errorf("%w: %s is %d", ErrBadValue, LabelInvokeCount, m.InvokeCount)
	}
	if m.PeakMem < 0 {
		return fmt.Errorf("%w: %s is %d", ErrBadValue, LabelPeakMem, m.PeakMem)
	}
	return nil
}

// latencyDataOf returns the data of a latency label as it is marshalled:
// never a nil map or a nil slice (which encoding/json would print as null).
func (m *Metrics) latencyDataOf(label string) map[string][]float32 {
	data := m.LatencyMs[label]
	if data == nil {
		return map[string][]float32{}
	}
	for _, vs := range data {
		if vs == nil {
			data = maps.Clone(data)
			for k, vs := range data {
				if vs == nil {
					data[k] = []float32{}
				}
			}
			break
		}
	}
	return data
}

func (m *Metrics) countDataOf(label string) map[string]int {
	if data := m.Counts[label]; data != nil {
		return data
	}
	return map[string]int{}
}

// dataOf returns the data of any label, as it is marshalled.
func (m *Metrics) dataOf(label string) any {
	switch kindOf(label) {
	case kindLatency:
		return m.latencyDataOf(label)
	case kindCount:
		return m.countDataOf(label)
	case kindInvokeCount:
		return m.InvokeCount
	case kindPeakMem:
		return m.PeakMem
	}
	panic("results: unknown metric " + label)
}

// metricLine is one object of the dump, as faasd marshals it: label first,
// then data.
type metricLine struct {
	Label string `json:"label"`
	Data  any    `json:"data"`
}

// WriteTo writes m in faasd's /system/metrics text format, byte for byte as
// faasd serves it except for the line order: the line "Metrics:", then one
// compact JSON object {"label":…,"data":…} per registered metric, each
// followed by "\n", then {"label":"peak-mem","data":<bytes>} without a
// trailing newline:
//
//	Metrics:
//	{"label":"criu-cmd-start-latency","data":{}}
//	…
//	{"label":"switch-latency","data":{"pyaes_1":[3.412,2.958]}}
//	{"label":"peak-mem","data":34359738368}
//
// All 17 metrics are always written, "data":{} when empty; keys inside data
// are sorted, values printed by encoding/json (Go's shortest float32 form:
// 3.412, 5, 0.05; strings escaped HTML-safe, as json.Marshal does). faasd prints the 17 lines in random order (Go map
// iteration); WriteTo prints them sorted by label, which any parser of the
// upstream format accepts and which makes equal metrics equal files.
//
// It checks m first and writes nothing if m holds an unknown label, a
// non-finite value or a negative count (errors wrapping ErrUnknownMetric or
// ErrBadValue). It implements io.WriterTo.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	if err := m.check(); err != nil {
		return 0, fmt.Errorf("results: writing metrics: %w", err)
	}
	size := len(MetricsHeader) + 64*(len(Labels())+1)
	for _, data := range m.LatencyMs {
		for key, vs := range data {
			size += len(key) + 8 + 10*len(vs) // most values print in 6 to 9 bytes and a comma
		}
	}
	b := make([]byte, 0, size)
	b = append(b, MetricsHeader+"\n"...)
	for _, label := range append(Labels(), LabelPeakMem) {
		if kindOf(label) == kindLatency {
			// The long lines, written by hand as json.Marshal writes them.
			b = appendLatencyLine(b, label, m.latencyDataOf(label))
		} else {
			line, err := json.Marshal(metricLine{Label: label, Data: m.dataOf(label)})
			if err != nil {
				return 0, fmt.Errorf("results: writing metrics: %s: %w", label, err)
			}
			b = append(b, line...)
		}
		if label != LabelPeakMem {
			b = append(b, '\n')
		}
	}
	n, err := w.Write(b)
	return int64(n), err
}

var _ io.WriterTo = (*Metrics)(nil)

// appendLatencyLine appends {"label":label,"data":{…}} byte for byte as
// json.Marshal(metricLine{label, data}) does (keys sorted; a nil list is
// null), without reflection: a run's latency lists hold a few floats per
// request. The values are finite (check).
func appendLatencyLine(b []byte, label string, data map[string][]float32) []byte {
	b = append(b, `{"label":`...)
	b = appendJSONString(b, label)
	b = append(b, `,"data":{`...)
	for i, key := range slices.Sorted(maps.Keys(data)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, key)
		b = append(b, ':')
		vs := data[key]
		if vs == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, v := range vs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONFloat32(b, v)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...)
}

// appendJSONString appends s as encoding/json writes a string: plain
// ASCII without quotes, backslashes, control or HTML characters as it is,
// anything else through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat32 appends a finite float32 as encoding/json does: the
// shortest decimal that reads back as the same float32, in exponent form
// below 1e-6 or from 1e21 on, with the exponent's leading zero dropped.
func appendJSONFloat32(b []byte, v float32) []byte {
	f := float64(v)
	format := byte('f')
	if abs := float32(math.Abs(f)); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 32)
	if format == 'e' {
		// e-09 → e-9, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// WriteJSON writes m as metrics.json: one JSON object with every metric,
// empty ones included, labels and keys sorted, one label per line, ending
// with a newline:
//
//	{
//	  "latency_ms": {
//	    "criu-cmd-start-latency": {},
//	    …
//	    "switch-latency": {"pyaes_1":[3.412,2.958]}
//	  },
//	  "counts": {
//	    "reuse-count": {},
//	    "start-new-count": {"dynamic-html_1":12},
//	    "switch-count": {}
//	  },
//	  "invoke_count": 4338,
//	  "peak_mem_bytes": 34359738368
//	}
//
// latency_ms maps a latency label to key → milliseconds (float32 values, as
// in the text dump); counts maps a counter label to key → count;
// invoke_count is faasd's invoke-count; peak_mem_bytes its peak-mem, in
// bytes. ParseMetricsJSON reads it back. Like WriteTo it checks m first.
func (m *Metrics) WriteJSON(w io.Writer) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("results: writing metrics JSON: %w", err)
	}
	b := []byte("{\n")
	section := func(name string, labels []string) error {
		b = append(b, "  "...)
		b = strconv.AppendQuote(b, name)
		b = append(b, ": {\n"...)
		for i, label := range labels {
			data, err := json.Marshal(m.dataOf(label))
			if err != nil {
				return fmt.Errorf("results: writing metrics JSON: %s: %w", label, err)
			}
			b = append(b, "    "...)
			b = strconv.AppendQuote(b, label) // labels are plain ASCII
			b = append(b, ": "...)
			b = append(b, data...)
			if i < len(labels)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		b = append(b, "  },\n"...)
		return nil
	}
	if err := section("latency_ms", LatencyLabels()); err != nil {
		return err
	}
	if err := section("counts", CountLabels()); err != nil {
		return err
	}
	b = fmt.Appendf(b, "  \"invoke_count\": %d,\n  \"peak_mem_bytes\": %d\n}\n", m.InvokeCount, m.PeakMem)
	_, err := w.Write(b)
	return err
}

// ParseMetrics reads faasd's /system/metrics text (see WriteTo) as faasd
// serves it: the line "Metrics:", then the 17 registered metrics and
// peak-mem, one JSON object per line, in any order. The last line may or may
// not end in a newline; lines may end in "\r\n"; blank lines may only end
// the input. Every object must appear exactly once, with data of its kind:
// latency data an object of arrays of numbers in float32 range, counter data
// an object of non-negative integers, invoke-count and peak-mem
// non-negative integers. Errors are *ParseError values naming path, line and
// metric label. Keys with an empty array are kept; metrics with no keys
// leave no entry in the maps.
func ParseMetrics(r io.Reader, path string) (*Metrics, error) {
	br := bufio.NewReader(r)
	m := &Metrics{}
	seen := make(map[string]bool)
	errorf := func(line int, label, format string, args ...any) error {
		return &ParseError{Path: path, Line: line, Column: label, Err: fmt.Errorf(format, args...)}
	}
	blank := 0 // line number of the first blank line not yet followed by input
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, &ParseError{Path: path, Line: lineNo, Err: err}
		}
		eof := err == io.EOF
		if eof && len(line) == 0 {
			if lineNo == 1 {
				return nil, errorf(1, "", "%w: empty input, want %q", ErrHeader, MetricsHeader)
			}
			break
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		switch {
		case lineNo == 1:
			if string(line) != MetricsHeader {
				return nil, errorf(1, "", "%w: got %s, want %q", ErrHeader, quoteCell(string(line)), MetricsHeader)
			}
		case len(bytes.TrimSpace(line)) == 0:
			if blank == 0 {
				blank = lineNo
			}
		default:
			if blank != 0 {
				return nil, errorf(blank, "", "%w: blank line before the end of the input", ErrSyntax)
			}
			label, err := m.parseLine(line, seen)
			if err != nil {
				return nil, &ParseError{Path: path, Line: lineNo, Column: label, Err: err}
			}
		}
		if eof {
			break
		}
	}
	var missing []string
	for _, label := range append(Labels(), LabelPeakMem) {
		if !seen[label] {
			missing = append(missing, label)
		}
	}
	if len(missing) > 0 {
		return nil, errorf(0, "", "%w: %s", ErrMissingMetric, strings.Join(missing, ", "))
	}
	return m, nil
}

// parseLine reads one metric object into m, returning its label (once known).
func (m *Metrics) parseLine(line []byte, seen map[string]bool) (string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return "", jsonError(err)
	}
	if obj == nil {
		return "", fmt.Errorf("%w: got null, want an object {\"label\":…,\"data\":…}", ErrBadValue)
	}
	for k := range obj {
		if k != "label" && k != "data" {
			return "", fmt.Errorf("%w: unexpected member %s", ErrBadValue, quoteCell(k))
		}
	}
	rawLabel, ok := obj["label"]
	if !ok {
		return "", fmt.Errorf("%w: no \"label\"", ErrMissing)
	}
	var label string
	if len(rawLabel) == 0 || rawLabel[0] != '"' {
		return "", fmt.Errorf("%w: label %s is not a string", ErrBadValue, quoteCell(string(rawLabel)))
	}
	if err := json.Unmarshal(rawLabel, &label); err != nil {
		return "", jsonError(err)
	}
	kind := kindOf(label)
	if kind == kindUnknown {
		return label, fmt.Errorf("%w: %s", ErrUnknownMetric, quoteCell(label))
	}
	if seen[label] {
		return label, ErrDuplicateMetric
	}
	seen[label] = true
	raw, ok := obj["data"]
	if !ok {
		return label, fmt.Errorf("%w: no \"data\"", ErrMissing)
	}
	return label, m.setData(label, kind, raw)
}

// setData decodes the data of a metric of the given kind into m.
func (m *Metrics) setData(label string, kind metricKind, raw []byte) error {
	switch kind {
	case kindLatency:
		var d latencyData
		if err := json.Unmarshal(raw, &d); err != nil {
			return jsonError(err)
		}
		if len(d) > 0 {
			if m.LatencyMs == nil {
				m.LatencyMs = make(map[string]map[string][]float32)
			}
			m.LatencyMs[label] = d.values()
		}
	case kindCount:
		var d countData
		if err := json.Unmarshal(raw, &d); err != nil {
			return jsonError(err)
		}
		if len(d) > 0 {
			if m.Counts == nil {
				m.Counts = make(map[string]map[string]int)
			}
			m.Counts[label] = d.values()
		}
	case kindInvokeCount, kindPeakMem:
		var n countValue
		if err := json.Unmarshal(raw, &n); err != nil {
			return jsonError(err)
		}
		if kind == kindPeakMem {
			m.PeakMem = int64(n)
		} else if int64(n) > math.MaxInt {
			return fmt.Errorf("%w: %d is out of range", ErrBadValue, n)
		} else {
			m.InvokeCount = int(n)
		}
	}
	return nil
}

// jsonError classifies an error of encoding/json: ours pass unchanged, a
// syntax error wraps ErrSyntax, anything else ErrBadValue.
func jsonError(err error) error {
	if errors.Is(err, ErrBadValue) || errors.Is(err, ErrMissing) || errors.Is(err, ErrSyntax) {
		return err
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return fmt.Errorf("%w: %w", ErrBadValue, err)
}

// msValue is one latency value, decoded strictly: a JSON number in float32
// range (not null, not a string).
type msValue float32

func (v *msValue) UnmarshalJSON(b []byte) error {
	if !isNumber(b) {
		return fmt.Errorf("%w: %s is not a number", ErrBadValue, quoteCell(string(b)))
	}
	x, err := strconv.ParseFloat(string(b), 32)
	if err != nil {
		return fmt.Errorf("%w: %s is out of float32 range", ErrBadValue, quoteCell(string(b)))
	}
	*v = msValue(x)
	return nil
}

// msArray is the array of one key of a latency metric (not null).
type msArray []msValue

func (a *msArray) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '[' {
		return fmt.Errorf("%w: %s is not an array of milliseconds", ErrBadValue, quoteCell(string(b)))
	}
	return json.Unmarshal(b, (*[]msValue)(a))
}

// latencyData is the data of a latency metric (not null).
type latencyData map[string]msArray

func (d *latencyData) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: %s is not an object of arrays", ErrBadValue, quoteCell(string(b)))
	}
	return json.Unmarshal(b, (*map[string]msArray)(d))
}

func (d latencyData) values() map[string][]float32 {
	out := make(map[string][]float32, len(d))
	for k, a := range d {
		vs := make([]float32, len(a))
		for i, v := range a {
			vs[i] = float32(v)
		}
		out[k] = vs
	}
	return out
}

// countValue is one count, decoded strictly: a JSON integer ≥ 0 that fits
// int64 (not null, not 1.0, not 1e3).
type countValue int64

func (v *countValue) UnmarshalJSON(b []byte) error {
	if !isNumber(b) {
		return fmt.Errorf("%w: %s is not an integer", ErrBadValue, quoteCell(string(b)))
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%w: %s is not a non-negative integer", ErrBadValue, quoteCell(string(b)))
	}
	*v = countValue(n)
	return nil
}

// countData is the data of a counter metric (not null).
type countData map[string]countValue

func (d *countData) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: %s is not an object of counts", ErrBadValue, quoteCell(string(b)))
	}
	return json.Unmarshal(b, (*map[string]countValue)(d))
}

func (d countData) values() map[string]int {
	out := make(map[string]int, len(d))
	for k, n := range d {
		out[k] = int(n)
	}
	return out
}

// isNumber reports whether a valid JSON literal is a number.
func isNumber(b []byte) bool {
	return len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9')
}

// metricsJSON is the structure of metrics.json.
type metricsJSON struct {
	LatencyMs    map[string]latencyData `json:"latency_ms"`
	Counts       map[string]countData   `json:"counts"`
	InvokeCount  countValue             `json:"invoke_count"`
	PeakMemBytes countValue             `json:"peak_mem_bytes"`
}

// ParseMetricsJSON reads metrics.json as WriteJSON writes it. Members may
// come in any order and be absent (absent means empty or 0); unknown members
// and labels are errors, as are values ParseMetrics would reject. Errors are
// *ParseError values naming path and, for syntax and type errors, the line.
func ParseMetricsJSON(r io.Reader, path string) (*Metrics, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	if rest := bytes.TrimLeft(data, " \t\r\n"); len(rest) > 0 && rest[0] != '{' {
		return nil, &ParseError{Path: path, Line: lineOf(data, int64(len(data)-len(rest))),
			Err: fmt.Errorf("%w: %s… is not an object", ErrBadValue, quoteCell(string(rest[:min(len(rest), 8)])))}
	}
	var mj metricsJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(&mj)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = fmt.Errorf("%w: data after the object", ErrSyntax)
		}
	}
	if err != nil {
		pe := &ParseError{Path: path, Err: jsonError(err)}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			pe.Line = lineOf(data, se.Offset)
		case errors.As(err, &te):
			pe.Line = lineOf(data, te.Offset)
		case err == io.EOF:
			pe.Err = fmt.Errorf("%w: empty input", ErrSyntax)
		}
		return nil, pe
	}
	m := &Metrics{}
	for _, label := range slices.Sorted(maps.Keys(mj.LatencyMs)) {
		if kindOf(label) != kindLatency {
			return nil, &ParseError{Path: path, Column: label,
				Err: fmt.Errorf("%w: %s in latency_ms", ErrUnknownMetric, quoteCell(label))}
		}
		if d := mj.LatencyMs[label]; len(d) > 0 {
			if m.LatencyMs == nil {
				m.LatencyMs = make(map[string]map[string][]float32)
			}
			m.LatencyMs[label] = d.values()
		}
	}
	for _, label := range slices.Sorted(maps.Keys(mj.Counts)) {
		if kindOf(label) != kindCount {
			return nil, &ParseError{Path: path, Column: label,
				Err: fmt.Errorf("%w: %s in counts", ErrUnknownMetric, quoteCell(label))}
		}
		if d := mj.Counts[label]; len(d) > 0 {
			if m.Counts == nil {
				m.Counts = make(map[string]map[string]int)
			}
			m.Counts[label] = d.values()
		}
	}
	if int64(mj.InvokeCount) > math.MaxInt {
		return nil, &ParseError{Path: path, Column: "invoke_count",
			Err: fmt.Errorf("%w: %d is out of range", ErrBadValue, mj.InvokeCount)}
	}
	m.InvokeCount = int(mj.InvokeCount)
	m.PeakMem = int64(mj.PeakMemBytes)
	return m, nil
}

// lineOf returns the 1-based line holding byte offset off of data.
func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}
