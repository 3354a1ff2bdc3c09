package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// sortedDump returns an upstream dump with its 17 metric lines sorted: what
// WriteTo writes for the same metrics.
func sortedDump(t *testing.T, upstream string) string {
	t.Helper()
	lines := strings.Split(upstream, "\n")
	if len(lines) != 19 || lines[0] != MetricsHeader {
		t.Fatalf("sample has %d lines, want 19 starting with %q", len(lines), MetricsHeader)
	}
	metrics := slices.Clone(lines[1:18])
	slices.Sort(metrics) // {"label":"… sorts by label
	return strings.Join(append(append([]string{MetricsHeader}, metrics...), lines[18]), "\n")
}

func TestParseMetricsUpstreamSample(t *testing.T) {
	data, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMetrics(bytes.NewReader(data), "testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.LatencyMs[LabelSwitchLatency]["pyaes_1"], []float32{3.412, 2.958}; !slices.Equal(got, want) {
		t.Errorf("switch-latency pyaes_1 = %v, want %v", got, want)
	}
	if got, want := m.LatencyMs[LabelEndToEndLatency]["dynamic-html_1"], []float32{16384.002}; !slices.Equal(got, want) {
		t.Errorf("end-to-end-latency dynamic-html_1 = %v, want %v", got, want)
	}
	if got, want := m.LatencyMs[LabelNetworkOverhead]["cni"], []float32{88.731, 90.002, 5}; !slices.Equal(got, want) {
		t.Errorf("network-overhead cni = %v, want %v", got, want)
	}
	if got := m.Counts[LabelSwitchCount]; !reflect.DeepEqual(got, map[string]int{"pyaes_1": 2, "video-processing_1": 1}) {
		t.Errorf("switch-count = %v", got)
	}
	if _, ok := m.LatencyMs[LabelCRIUHandleNSLatency]; ok {
		t.Error("an empty metric left an entry")
	}
	if m.InvokeCount != 6 || m.PeakMem != 34359738368 {
		t.Errorf("invoke-count %d, peak-mem %d; want 6, 34359738368", m.InvokeCount, m.PeakMem)
	}

	var out bytes.Buffer
	n, err := m.WriteTo(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, out.Len())
	}
	if got, want := out.String(), sortedDump(t, string(data)); got != want {
		t.Errorf("re-serialised:\n%s\nwant (the sample, lines sorted):\n%s", got, want)
	}
}

func TestDurationMs(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string // as encoding/json and the dump print it
	}{
		{3412 * time.Microsecond, "3.412"},
		{3412*time.Microsecond + 999*time.Nanosecond, "3.412"}, // µs truncated
		{5 * time.Millisecond, "5"},
		{50 * time.Microsecond, "0.05"},
		{time.Microsecond, "0.001"},
		{999 * time.Nanosecond, "0"},
		{0, "0"},
		{41200 * time.Microsecond, "41.2"},
		{16383999 * time.Microsecond, "16383.999"}, // last value exact to the µs
		{16384001 * time.Microsecond, "16384.002"}, // float32 steps by 1/512 ms from 16 384 ms
		{16384 * time.Millisecond, "16384"},
		{123456789 * time.Microsecond, "123456.79"},
		{-1500 * time.Microsecond, "-1.5"},
	}
	for _, tt := range tests {
		v := DurationMs(tt.d)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("DurationMs(%v) = %s, want %s", tt.d, b, tt.want)
		}
		var m Metrics
		m.AddLatency(LabelReuseLatency, "f", tt.d)
		var out bytes.Buffer
		if _, err := m.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if line := `{"label":"reuse-latency","data":{"f":[` + tt.want + `]}}` + "\n"; !strings.Contains(out.String(), line) {
			t.Errorf("dump of %v lacks %q:\n%s", tt.d, line, out.String())
		}
	}
}

// emptyDump is the dump of empty metrics with peak-mem 0.
const emptyDump = `Metrics:
{"label":"criu-cmd-start-latency","data":{}}
{"label":"criu-handle-ns-latency","data":{}}
{"label":"criu-switch-kill-latency","data":{}}
{"label":"criu-swrk-latency","data":{}}
{"label":"end-to-end-latency","data":{}}
{"label":"invoke-count","data":0}
{"label":"network-overhead","data":{}}
{"label":"prepare-switch-fs-latency","data":{}}
{"label":"reuse-count","data":{}}
{"label":"reuse-exec-latency","data":{}}
{"label":"reuse-latency","data":{}}
{"label":"start-new-count","data":{}}
{"label":"start-new-exec-latency","data":{}}
{"label":"start-new-latency","data":{}}
{"label":"switch-count","data":{}}
{"label":"switch-exec-latency","data":{}}
{"label":"switch-latency","data":{}}
{"label":"peak-mem","data":0}`

func TestWriteToEmpty(t *testing.T) {
	var m Metrics
	var out bytes.Buffer
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != emptyDump {
		t.Errorf("got\n%s\nwant\n%s", out.String(), emptyDump)
	}
	// Present but empty maps and nil slices print the same way as absent ones.
	m.LatencyMs = map[string]map[string][]float32{LabelSwitchLatency: {}}
	m.Counts = map[string]map[string]int{LabelSwitchCount: {}}
	out.Reset()
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != emptyDump {
		t.Errorf("empty maps: got\n%s", out.String())
	}
	m.LatencyMs[LabelSwitchLatency]["f"] = nil
	out.Reset()
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `{"label":"switch-latency","data":{"f":[]}}`) {
		t.Errorf("nil slice: got\n%s", out.String())
	}
}

func TestMetricsAddAndReset(t *testing.T) {
	var m Metrics
	m.PeakMem = 17920000000
	m.AddLatency(LabelSwitchLatency, "pyaes_1", 3412*time.Microsecond)
	m.AddLatency(LabelSwitchLatency, "pyaes_1", 2958*time.Microsecond)
	m.AddLatency(LabelNetworkOverhead, "cni", 5*time.Millisecond)
	m.AddCount(LabelSwitchCount, "pyaes_1", 1)
	m.AddCount(LabelSwitchCount, "pyaes_1", 1)
	m.InvokeCount = 2
	var out bytes.Buffer
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`{"label":"switch-latency","data":{"pyaes_1":[3.412,2.958]}}` + "\n",
		`{"label":"network-overhead","data":{"cni":[5]}}` + "\n",
		`{"label":"switch-count","data":{"pyaes_1":2}}` + "\n",
		`{"label":"invoke-count","data":2}` + "\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("dump lacks %q", line)
		}
	}
	if !strings.HasSuffix(out.String(), "\n"+`{"label":"peak-mem","data":17920000000}`) {
		t.Errorf("dump does not end with peak-mem without a newline: %q", out.String())
	}

	m.Reset()
	if m.PeakMem != 17920000000 {
		t.Errorf("Reset changed PeakMem to %d", m.PeakMem)
	}
	out.Reset()
	if _, err := m.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(emptyDump, `"peak-mem","data":0`, `"peak-mem","data":17920000000`, 1); out.String() != want {
		t.Errorf("after Reset:\n%s\nwant\n%s", out.String(), want)
	}
}

func TestAddPanicsOnWrongLabel(t *testing.T) {
	for _, tt := range []struct {
		name string
		add  func(*Metrics)
	}{
		{"latency as count", func(m *Metrics) { m.AddCount(LabelSwitchLatency, "f", 1) }},
		{"count as latency", func(m *Metrics) { m.AddLatency(LabelSwitchCount, "f", time.Second) }},
		{"invoke-count", func(m *Metrics) { m.AddCount(LabelInvokeCount, "f", 1) }},
		{"unknown", func(m *Metrics) { m.AddLatency("switch-latencies", "f", time.Second) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.add(&Metrics{})
		})
	}
}

func TestWriteToRejects(t *testing.T) {
	nan32 := float32(nan)
	tests := []struct {
		name string
		m    Metrics
		want error
	}{
		{"unknown latency label", Metrics{LatencyMs: map[string]map[string][]float32{"cold-latency": {"f": {1}}}}, ErrUnknownMetric},
		{"count label as latency", Metrics{LatencyMs: map[string]map[string][]float32{LabelSwitchCount: {"f": {1}}}}, ErrUnknownMetric},
		{"latency label as count", Metrics{Counts: map[string]map[string]int{LabelSwitchLatency: {"f": 1}}}, ErrUnknownMetric},
		{"NaN", Metrics{LatencyMs: map[string]map[string][]float32{LabelSwitchLatency: {"f": {1, nan32}}}}, ErrBadValue},
		{"negative count", Metrics{Counts: map[string]map[string]int{LabelSwitchCount: {"f": -1}}}, ErrBadValue},
		{"negative invoke-count", Metrics{InvokeCount: -1}, ErrBadValue},
		{"negative peak-mem", Metrics{PeakMem: -1}, ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := tt.m.WriteTo(&out); !errors.Is(err, tt.want) {
				t.Errorf("WriteTo: %v, want %v", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("WriteTo wrote %q", out.String())
			}
			if err := tt.m.WriteJSON(&out); !errors.Is(err, tt.want) {
				t.Errorf("WriteJSON: %v, want %v", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("WriteJSON wrote %q", out.String())
			}
		})
	}
}

func TestParseMetricsVariants(t *testing.T) {
	data, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseMetrics(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	lines := strings.Split(s, "\n")
	reversed := slices.Clone(lines[1:])
	slices.Reverse(reversed) // peak-mem first
	for name, input := range map[string]string{
		"trailing newline":        s + "\n",
		"trailing blank lines":    s + "\n\n  \n",
		"CRLF":                    strings.ReplaceAll(s, "\n", "\r\n") + "\r\n",
		"sorted, as WriteTo":      sortedDump(t, s),
		"peak-mem first":          MetricsHeader + "\n" + strings.Join(reversed, "\n"),
		"spaces inside the JSON":  strings.ReplaceAll(strings.ReplaceAll(s, `":`, `" : `), ",", ", "),
		"data before label":       strings.Replace(s, `{"label":"invoke-count","data":6}`, `{"data":6,"label":"invoke-count"}`, 1),
		"other number spellings":  strings.Replace(s, `[3.412,2.958]`, `[3.4120,2958e-3]`, 1),
		"repeated key, last wins": strings.Replace(s, `"data":{"pyaes_1":2}`, `"data":{"pyaes_1":7,"pyaes_1":2}`, 1),
	} {
		got, err := ParseMetrics(strings.NewReader(input), "")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// An empty array is kept; null is not an empty array.
	got, err := ParseMetrics(strings.NewReader(strings.Replace(s, `"data":{"pyaes_1":[0.05,0.061]}`, `"data":{"pyaes_1":[]}`, 1)), "")
	if err != nil {
		t.Fatal(err)
	}
	if vs, ok := got.LatencyMs[LabelReuseLatency]["pyaes_1"]; !ok || vs == nil || len(vs) != 0 {
		t.Errorf("empty array read as %#v, %v", vs, ok)
	}
}

func TestParseMetricsErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	// lineOf returns the line number of the line of s holding sub.
	lineOf := func(sub string) int {
		i := strings.Index(s, sub)
		if i < 0 {
			t.Fatalf("sample lacks %q", sub)
		}
		return 1 + strings.Count(s[:i], "\n")
	}
	const inv = `{"label":"invoke-count","data":6}`
	const sw = `{"label":"switch-count","data":{"pyaes_1":2,"video-processing_1":1}}`
	const sl = `{"label":"switch-latency","data":{"pyaes_1":[3.412,2.958],"video-processing_1":[12.5]}}`
	tests := []struct {
		name   string
		input  string
		want   error
		line   int
		column string
	}{
		{"empty", "", ErrHeader, 1, ""},
		{"no header", s[len("Metrics:\n"):], ErrHeader, 1, ""},
		{"header with space", "Metrics: \n" + s[len("Metrics:\n"):], ErrHeader, 1, ""},
		{"header only", "Metrics:\n", ErrMissingMetric, 0, ""},
		{"missing metric", strings.Replace(s, inv+"\n", "", 1), ErrMissingMetric, 0, ""},
		{"missing peak-mem", s[:strings.LastIndex(s, "\n")], ErrMissingMetric, 0, ""},
		{"duplicate", strings.Replace(s, inv, inv+"\n"+inv, 1), ErrDuplicateMetric, lineOf(inv) + 1, LabelInvokeCount},
		{"unknown label", strings.Replace(s, `"invoke-count"`, `"invoke-counts"`, 1), ErrUnknownMetric, lineOf(inv), "invoke-counts"},
		{"label not a string", strings.Replace(s, `"label":"invoke-count"`, `"label":7`, 1), ErrBadValue, lineOf(inv), ""},
		{"no label", strings.Replace(s, inv, `{"data":6}`, 1), ErrMissing, lineOf(inv), ""},
		{"no data", strings.Replace(s, inv, `{"label":"invoke-count"}`, 1), ErrMissing, lineOf(inv), LabelInvokeCount},
		{"extra member", strings.Replace(s, inv, `{"label":"invoke-count","data":6,"unit":"n"}`, 1), ErrBadValue, lineOf(inv), ""},
		{"not JSON", strings.Replace(s, inv, `label=invoke-count data=6`, 1), ErrSyntax, lineOf(inv), ""},
		{"two objects on a line", strings.Replace(s, inv, inv+inv, 1), ErrSyntax, lineOf(inv), ""},
		{"array line", strings.Replace(s, inv, `[1]`, 1), ErrBadValue, lineOf(inv), ""},
		{"null line", strings.Replace(s, inv, `null`, 1), ErrBadValue, lineOf(inv), ""},
		{"null invoke-count", strings.Replace(s, inv, `{"label":"invoke-count","data":null}`, 1), ErrBadValue, lineOf(inv), LabelInvokeCount},
		{"float invoke-count", strings.Replace(s, inv, `{"label":"invoke-count","data":6.0}`, 1), ErrBadValue, lineOf(inv), LabelInvokeCount},
		{"negative invoke-count", strings.Replace(s, inv, `{"label":"invoke-count","data":-6}`, 1), ErrBadValue, lineOf(inv), LabelInvokeCount},
		{"string invoke-count", strings.Replace(s, inv, `{"label":"invoke-count","data":"6"}`, 1), ErrBadValue, lineOf(inv), LabelInvokeCount},
		{"huge peak-mem", strings.Replace(s, "34359738368", "1e30", 1), ErrBadValue, 19, LabelPeakMem},
		{"null counter data", strings.Replace(s, sw, `{"label":"switch-count","data":null}`, 1), ErrBadValue, lineOf(sw), LabelSwitchCount},
		{"counter as latency", strings.Replace(s, sw, `{"label":"switch-count","data":{"pyaes_1":[2]}}`, 1), ErrBadValue, lineOf(sw), LabelSwitchCount},
		{"fractional count", strings.Replace(s, sw, `{"label":"switch-count","data":{"pyaes_1":2.5}}`, 1), ErrBadValue, lineOf(sw), LabelSwitchCount},
		{"null latency data", strings.Replace(s, sl, `{"label":"switch-latency","data":null}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"latency data an array", strings.Replace(s, sl, `{"label":"switch-latency","data":[3.412]}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"null latency array", strings.Replace(s, sl, `{"label":"switch-latency","data":{"pyaes_1":null}}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"null latency value", strings.Replace(s, sl, `{"label":"switch-latency","data":{"pyaes_1":[3.412,null]}}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"string latency value", strings.Replace(s, sl, `{"label":"switch-latency","data":{"pyaes_1":["3.412"]}}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"latency beyond float32", strings.Replace(s, sl, `{"label":"switch-latency","data":{"pyaes_1":[1e39]}}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"counter data for latency", strings.Replace(s, sl, `{"label":"switch-latency","data":{"pyaes_1":3}}`, 1), ErrBadValue, lineOf(sl), LabelSwitchLatency},
		{"blank line inside", strings.Replace(s, inv+"\n", inv+"\n\n", 1), ErrSyntax, lineOf(inv) + 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetrics(strings.NewReader(tt.input), "run/metrics.output")
			if m != nil {
				t.Error("metrics returned with an error")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is a %T, want *ParseError", err)
			}
			if pe.Path != "run/metrics.output" || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("error at %q line %d label %q, want line %d label %q (%v)",
					pe.Path, pe.Line, pe.Column, tt.line, tt.column, err)
			}
		})
	}
}

// sampleJSON is metrics.json of a small Metrics.
const sampleJSON = `{
  "latency_ms": {
    "criu-cmd-start-latency": {},
    "criu-handle-ns-latency": {},
    "criu-switch-kill-latency": {},
    "criu-swrk-latency": {},
    "end-to-end-latency": {"pyaes_1":[47.13,44.4]},
    "network-overhead": {"cni":[5]},
    "prepare-switch-fs-latency": {},
    "reuse-exec-latency": {},
    "reuse-latency": {},
    "start-new-exec-latency": {},
    "start-new-latency": {},
    "switch-exec-latency": {},
    "switch-latency": {"pyaes_1":[3.412,2.958]}
  },
  "counts": {
    "reuse-count": {},
    "start-new-count": {},
    "switch-count": {"pyaes_1":2}
  },
  "invoke_count": 2,
  "peak_mem_bytes": 34359738368
}
`

func TestMetricsJSON(t *testing.T) {
	m := &Metrics{
		LatencyMs: map[string]map[string][]float32{
			LabelSwitchLatency:   {"pyaes_1": {3.412, 2.958}},
			LabelEndToEndLatency: {"pyaes_1": {47.13, 44.4}},
			LabelNetworkOverhead: {"cni": {5}},
		},
		Counts:      map[string]map[string]int{LabelSwitchCount: {"pyaes_1": 2}},
		InvokeCount: 2,
		PeakMem:     34359738368,
	}
	var out bytes.Buffer
	if err := m.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != sampleJSON {
		t.Errorf("got\n%s\nwant\n%s", out.String(), sampleJSON)
	}
	if !json.Valid(out.Bytes()) {
		t.Error("not valid JSON")
	}
	got, err := ParseMetricsJSON(&out, "metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}

	// The whole upstream sample survives text → JSON → metrics.
	data, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	m, err = ParseMetrics(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := m.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	if got, err = ParseMetricsJSON(&out, ""); err != nil {
		t.Fatal(err)
	} else if !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}
}

func TestParseMetricsJSONErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   error
		line   int
		column string
	}{
		{"empty", "", ErrSyntax, 0, ""},
		{"syntax", "{\n  \"invoke_count\": 2,\n  oops\n}", ErrSyntax, 3, ""},
		{"trailing data", `{"invoke_count": 2} {}`, ErrSyntax, 0, ""},
		{"unknown member", `{"invoke_counts": 2}`, ErrBadValue, 0, ""},
		{"string count", "{\n\"invoke_count\": \"2\"}", ErrBadValue, 0, ""},
		{"wrong type", "{\n\"latency_ms\": [1]}", ErrBadValue, 2, ""},
		{"unknown label", `{"latency_ms": {"switch-count": {}}}`, ErrUnknownMetric, 0, LabelSwitchCount},
		{"unknown count label", `{"counts": {"switch-latency": {}}}`, ErrUnknownMetric, 0, LabelSwitchLatency},
		{"null value", `{"latency_ms": {"switch-latency": {"f": [null]}}}`, ErrBadValue, 0, ""},
		{"negative peak", `{"peak_mem_bytes": -1}`, ErrBadValue, 0, ""},
		{"null", "\n null", ErrBadValue, 2, ""},
		{"array", `[]`, ErrBadValue, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMetricsJSON(strings.NewReader(tt.input), "metrics.json")
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is a %T, want *ParseError", err)
			}
			if pe.Path != "metrics.json" || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("error at line %d column %q, want line %d column %q (%v)", pe.Line, pe.Column, tt.line, tt.column, err)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	labels := Labels()
	if len(labels) != 17 || !slices.IsSorted(labels) {
		t.Errorf("Labels() = %v: want 17, sorted", labels)
	}
	if len(LatencyLabels()) != 13 || len(CountLabels()) != 3 {
		t.Errorf("%d latency and %d counter labels, want 13 and 3", len(LatencyLabels()), len(CountLabels()))
	}
	if slices.Contains(labels, LabelPeakMem) {
		t.Error("Labels() holds peak-mem")
	}
	Labels()[0] = "changed"
	if Labels()[0] == "changed" {
		t.Error("Labels() shares its slice")
	}
}

// FuzzParseMetrics checks that the parser never panics, reports every
// problem as a *ParseError, and that whatever it accepts WriteTo writes and
// ParseMetrics reads back equal, written the same the second time; likewise
// through WriteJSON and ParseMetricsJSON.
func FuzzParseMetrics(f *testing.F) {
	data, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(append(slices.Clone(data), '\n'))
	f.Add([]byte(emptyDump))
	f.Add([]byte("Metrics:\n"))
	f.Add([]byte(""))
	f.Add([]byte(strings.Replace(emptyDump, `"data":{}`, `"data":{"a":[1e-7,-0,3.4028235e38]}`, 1)))
	f.Add([]byte(strings.Replace(emptyDump, `"data":{}`, `"data":{"\u003cf\u003e":[],"\ud800":[1]}`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetrics(bytes.NewReader(data), "fuzz")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			return
		}
		var out1 bytes.Buffer
		if _, err := m.WriteTo(&out1); err != nil {
			t.Fatalf("WriteTo of accepted metrics: %v", err)
		}
		m2, err := ParseMetrics(bytes.NewReader(out1.Bytes()), "out1")
		if err != nil {
			t.Fatalf("reading what WriteTo wrote: %v\n%s", err, out1.String())
		}
		var out2 bytes.Buffer
		if _, err := m2.WriteTo(&out2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out1.Bytes(), out2.Bytes()) {
			t.Fatalf("second write differs:\n%s\n%s", out1.String(), out2.String())
		}
		m3, err := ParseMetrics(bytes.NewReader(out2.Bytes()), "out2")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m2, m3) {
			t.Fatalf("metrics changed on a second round trip:\n%+v\n%+v", m2, m3)
		}
		var js bytes.Buffer
		if err := m2.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		m4, err := ParseMetricsJSON(&js, "json")
		if err != nil {
			t.Fatalf("reading what WriteJSON wrote: %v", err)
		}
		if !reflect.DeepEqual(m2, m4) {
			t.Fatalf("metrics changed through JSON:\n%+v\n%+v", m2, m4)
		}
	})
}

// TestLatencyLineAsJSON: the latency lines WriteTo writes by hand are
// byte for byte what json.Marshal writes for the same label and data:
// floats of every magnitude (the exponent form below 1e-6 and from 1e21
// on), negative zero, subnormals, keys that need escaping, nil and empty
// lists, an empty map.
func TestLatencyLineAsJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-6, 9.999999e-7, 1e21, 9.99999e20, 1e-45,
		math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 3.412, 2.958, 0.1, 1234567.8, 1e-9, 1.5e-10}
	keys := []string{"pyaes_1", "dynamic-html", "a\"b", "<tag>&", "ü", "tab\there", "\u2028", "x\x7fy", ""}
	for round := range 200 {
		data := map[string][]float32{}
		for k := range rng.IntN(len(keys) + 1) {
			var vs []float32
			switch rng.IntN(4) {
			case 0: // nil
			case 1:
				vs = []float32{}
			default:
				for range rng.IntN(20) + 1 {
					var v float32
					if rng.IntN(3) == 0 {
						v = special[rng.IntN(len(special))]
					} else {
						v = float32(math.Pow(10, rng.Float64()*74-37) * (rng.Float64() - 0.3))
					}
					vs = append(vs, v)
				}
			}
			data[keys[k]] = vs
		}
		want, err := json.Marshal(metricLine{Label: LabelSwitchLatency, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendLatencyLine(nil, LabelSwitchLatency, data); !bytes.Equal(got, want) {
			t.Fatalf("round %d:\n got %s\nwant %s", round, got, want)
		}
	}
}
