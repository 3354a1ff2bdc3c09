package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"trenv-bench/results"
)

// TestParseAnswer: a 200 needs a JSON object with a numeric latency;
// anything else wraps ErrNoLatency (upstream fails it without retrying).
func TestParseAnswer(t *testing.T) {
	var pp fastjson.ParserPool
	for _, tc := range []struct {
		body    string
		latency float64
		kind    string
		err     error // nil, ErrNoLatency or ErrBadLatency (which wraps it)
	}{
		{`{"latency": 0.05}`, 0.05, "", nil},
		{`{"latency": 3, "start_kind": "cold", "startup_s": 0.4}`, 3, "cold", nil},
		{`{"start_kind": "reuse", "latency": 6E1}`, 60, "reuse", nil},
		{`{"latency": 0}`, 0, "", nil},
		{``, 0, "", ErrNoLatency},
		{`not json`, 0, "", ErrNoLatency},
		{"\x00\xff{", 0, "", ErrNoLatency},
		{`[1, 2]`, 0, "", ErrNoLatency},
		{`"latency"`, 0, "", ErrNoLatency},
		{`{}`, 0, "", ErrNoLatency},
		{`{"data": 1}`, 0, "", ErrNoLatency},
		{`{"latency": null}`, 0, "", ErrNoLatency},
		{`{"latency": "0.05"}`, 0, "", ErrNoLatency},
		{`{"latency": true}`, 0, "", ErrNoLatency},
		{`{"latency": {"s": 1}}`, 0, "", ErrNoLatency},
		{`{"latency": 1} trailing`, 0, "", ErrNoLatency},
		{`{"latency": -1e-3}`, 0, "", ErrBadLatency},
		{`{"latency": 60.001}`, 0, "", ErrBadLatency},
		{`{"latency": 1e17}`, 0, "", ErrBadLatency},
		{`{"latency": 1e400}`, 0, "", ErrBadLatency},
		{`{"latency": NaN}`, 0, "", ErrNoLatency},
		{`{"latency": -inf}`, 0, "", ErrNoLatency},
		{`{"latency": 01}`, 0, "", ErrNoLatency},
		{`{"latency": 1.}`, 0, "", ErrNoLatency},
		{`{"latency": 0.5, "latency": 2}`, 2, "", nil},
		{`{"Latency": 0.5}`, 0, "", ErrNoLatency},
		{`{"lat\u0065ncy": 0.5, "start_kind": "c\u006fld"}`, 0.5, "cold", nil},
		{`{"latency": 0.5, "start_kind": 3}`, 0.5, "", nil},
		{`{"latency": 0.5, "x": [1, {"latency": 9}]}`, 0.5, "", nil},
		{`null`, 0, "", ErrNoLatency},
		{` {"latency": 1} ` + "\n", 1, "", nil},
	} {
		var res Response
		err := parseAnswer(&pp, []byte(tc.body), &res)
		lat, kind := res.LatencyS, res.StartKind
		if tc.err != nil {
			if !errors.Is(err, tc.err) || (tc.err == ErrNoLatency) == errors.Is(err, ErrBadLatency) {
				t.Errorf("%q: error %v, want %v", tc.body, err, tc.err)
			}
			if valid := json.Valid([]byte(tc.body)); valid == strings.Contains(fmt.Sprint(err), "not valid JSON") {
				t.Errorf("%q: error %v: says \"not valid JSON\" only where the body is not", tc.body, err)
			}
			continue
		}
		if err != nil || lat != tc.latency || kind != tc.kind {
			t.Errorf("%q: %v %q %v, want %v %q", tc.body, lat, kind, err, tc.latency, tc.kind)
		}
	}
}

// referenceAnswer is parseAnswer as encoding/json does it: the body
// decoded into a map (exact keys, the last of a duplicate), then the same
// rules on the raw values. It returns the latency, the start kind, whether
// the served pair was taken, and the error class (nil, ErrNoLatency or
// ErrBadLatency).
func referenceAnswer(body []byte) (lat float64, kind string, served bool, class error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return 0, "", false, ErrNoLatency
	}
	raw, ok := m["latency"]
	if !ok || string(raw) == "null" {
		return 0, "", false, ErrNoLatency
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, "", false, ErrNoLatency
	}
	lat, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || lat < 0 || lat > MaxLatency {
		return 0, "", false, ErrBadLatency
	}
	if k, ok := m["start_kind"]; ok && len(k) > 0 && k[0] == '"' {
		json.Unmarshal(k, &kind)
	}
	num := func(key string) bool {
		r, ok := m[key]
		if !ok || len(r) == 0 || (r[0] != '-' && (r[0] < '0' || r[0] > '9')) {
			return false
		}
		v, err := strconv.ParseFloat(string(r), 64)
		return err == nil && v >= 0 && v <= 2*MaxLatency
	}
	return lat, kind, num("served_model_s") && num("served_wall_s"), nil
}

// FuzzParseAnswer checks parseAnswer against encoding/json: the same
// verdict (ok, no latency, bad latency) and the same values on every body.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{`{"latency": 0.05}`, `{"latency": 3, "start_kind": "cold"}`, `{"latency": 1e400}`,
		`{"latency": 0.5, "latency": -2}`, `{"latency": 0.1, "served_model_s": 0.2, "served_wall_s": 0.01}`,
		`{"latency": 0.1, "served_model_s": 0.2, "served_wall_s": "x"}`, `[{"latency": 1}]`, `{"latency": 1}}`,
		`{"start_kind": "\ud800", "latency": 0}`, `{"a": {"b": [1, 2, null, true, "s"]}, "latency": 6E1}`} {
		f.Add([]byte(s))
	}
	var pp fastjson.ParserPool
	f.Fuzz(func(t *testing.T, body []byte) {
		var got Response
		err := parseAnswer(&pp, body, &got)
		lat, kind, served, class := referenceAnswer(body)
		switch {
		case class == nil && err != nil:
			t.Fatalf("%q: %v, encoding/json reads latency %v", body, err, lat)
		case class != nil && !errors.Is(err, class):
			t.Fatalf("%q: error %v, want %v", body, err, class)
		case class == ErrNoLatency && errors.Is(err, ErrBadLatency):
			t.Fatalf("%q: error %v, want no latency", body, err)
		case class != nil:
			return
		}
		if got.LatencyS != lat || got.Served != served {
			t.Fatalf("%q: latency %v served %v, encoding/json %v %v", body, got.LatencyS, got.Served, lat, served)
		}
		// encoding/json replaces invalid UTF-16 and UTF-8 with U+FFFD;
		// only kinds that can be valid need to agree.
		if results.StartKind(kind).Valid() != results.StartKind(got.StartKind).Valid() || (results.StartKind(kind).Valid() && kind != got.StartKind) {
			t.Fatalf("%q: start kind %q, encoding/json %q", body, got.StartKind, kind)
		}
	})
}

// BenchmarkParseAnswer is one answer of the twin.
func BenchmarkParseAnswer(b *testing.B) {
	body := []byte(`{"latency": 0.041237, "start_kind": "switch", "served_model_s": 0.0512, "served_wall_s": 0.0513}`)
	var pp fastjson.ParserPool
	var r Response
	b.ReportAllocs()
	for b.Loop() {
		if err := parseAnswer(&pp, body, &r); err != nil {
			b.Fatal(err)
		}
	}
	if math.IsNaN(r.LatencyS) {
		b.Fatal("no latency")
	}
}
