package replay

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"
)

// parseAnswer reads into resp the required numeric "latency" (seconds) of
// a JSON object, and the optional string "start_kind" and the twin's
// "served_model_s" and "served_wall_s" (both or neither, each a number of
// seconds from 0 to 2 × MaxLatency; otherwise ignored). The body must be
// valid JSON (RFC 8259); keys match exactly, and of a key given twice the
// last counts, as in a JSON object decoded into a map. It parses with
// fastjson, with a parser from pp: without reflection or allocation, where
// encoding/json's Unmarshal into a struct was a tenth of the replayer's CPU
// per request.
func parseAnswer(pp *fastjson.ParserPool, body []byte, resp *Response) error {
	if err := fastjson.ValidateBytes(body); err != nil {
		return fmt.Errorf("%w: the answer is not valid JSON: %v", ErrNoLatency, err)
	}
	p := pp.Get()
	defer pp.Put(p)
	v, err := p.ParseBytes(body) // valid: cannot fail
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoLatency, err)
	}
	obj, err := v.Object()
	if err != nil {
		return fmt.Errorf("%w: the answer is not a JSON object", ErrNoLatency)
	}
	var lat, kind, model, wall *fastjson.Value
	obj.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "latency":
			lat = v
		case "start_kind":
			kind = v
		case "served_model_s":
			model = v
		case "served_wall_s":
			wall = v
		}
	})
	if resp.LatencyS, err = latencyOf(lat); err != nil {
		return err
	}
	if kind != nil && kind.Type() == fastjson.TypeString {
		resp.StartKind = string(kind.GetStringBytes())
	}
	m, okM := servedSeconds(model)
	w, okW := servedSeconds(wall)
	if okM && okW {
		resp.Served, resp.ServedModelS, resp.ServedWallS = true, m, w
	}
	return nil
}

// servedSeconds reads a served_* field: a number from 0 to 2 × MaxLatency.
func servedSeconds(v *fastjson.Value) (float64, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(v.MarshalTo(nil)), 64)
	if err != nil || x < 0 || x > 2*MaxLatency {
		return 0, false
	}
	return x, true
}

// latencyOf reads the required numeric "latency", in seconds.
func latencyOf(v *fastjson.Value) (float64, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return 0, fmt.Errorf("%w: the answer has none", ErrNoLatency)
	}
	var buf [32]byte
	raw := string(v.MarshalTo(buf[:0])) // a number as the answer wrote it
	if v.Type() != fastjson.TypeNumber {
		return 0, fmt.Errorf("%w: latency is %s", ErrNoLatency, truncate(raw, 64))
	}
	x, err := strconv.ParseFloat(raw, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%w: latency %s is out of range", ErrBadLatency, truncate(raw, 64))
	case err != nil:
		return 0, fmt.Errorf("%w: latency %s: %v", ErrNoLatency, truncate(raw, 64), err)
	case x < 0 || x > MaxLatency:
		return 0, fmt.Errorf("%w: latency %s s, want 0 to %g s", ErrBadLatency, truncate(raw, 64), MaxLatency)
	}
	return x, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
