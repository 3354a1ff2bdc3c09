package sim

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// MinFitSamples is the fewest observations Fit fits a distribution to;
// entries with fewer keep their value from the base model.
const MinFitSamples = 3

// Fitted says what Fit changed: one line per fitted number.
type Fitted struct {
	Function, Field, Method string
	Samples                 int
	MedianMs, Sigma         float64
}

// Fit returns a copy of base whose start-up and warm execution
// distributions are fitted to faasd's metrics of a real run: for the run's
// start method (method, pool as the run used them), start-new-latency fits
// that method's start-up (a cold start in TrEnv mode), switch-latency
// TrEnv's repurposing on the pool, and reuse-exec-latency each function's
// warm execution (copies are scaled back to their base by their variant
// factor). Each fitted number's source says "fitted: <label>, n samples,
// <from>". Log-normal fits: median = exp(mean ln x), sigma = sd(ln x).
func Fit(base *calibration.Model, m *results.Metrics, method, pool, from string) (*calibration.Model, []Fitted, error) {
	cfg := Config{Method: method, Pool: pool, MemBytes: 1}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	out := cloneModel(base)
	var fitted []Fitted
	// Observations per base function; with scale, copies' values are
	// divided by their variant factor.
	collect := func(label string, scale bool) map[string][]float64 {
		per := map[string][]float64{}
		for key, vals := range m.LatencyMs[label] {
			base, factor := key, 1.0
			if _, own := out.Functions[key]; !own {
				b, ok := calibration.SplitCopy(key)
				_, vf, err := out.Cost(key)
				if !ok || err != nil {
					continue // not a function the model knows
				}
				base, factor = b, vf
			}
			for _, v := range vals {
				x := float64(v)
				if scale && factor > 0 {
					x /= factor
				}
				if x > 0 {
					per[base] = append(per[base], x)
				}
			}
		}
		return per
	}
	apply := func(label, field, key string, scale bool, set func(f *calibration.Function, d calibration.Dist)) {
		per := collect(label, scale)
		for _, name := range slices.Sorted(maps.Keys(per)) {
			xs := per[name]
			if len(xs) < MinFitSamples {
				continue
			}
			med, sigma := logNormalFit(xs)
			f := out.Functions[name]
			set(&f, calibration.Dist{MedianMs: med, Sigma: sigma,
				Source: fmt.Sprintf("fitted: %s, %d samples, %s", label, len(xs), from)})
			out.Functions[name] = f
			fitted = append(fitted, Fitted{Function: name, Field: field, Method: key, Samples: len(xs), MedianMs: med, Sigma: sigma})
		}
	}
	startKey := cfg.startCost()
	setStartup := func(key string) func(f *calibration.Function, d calibration.Dist) {
		return func(f *calibration.Function, d calibration.Dist) {
			s := make(map[string]calibration.Dist, len(f.Startup))
			for k, v := range f.Startup {
				s[k] = v
			}
			s[key] = d
			f.Startup = s
		}
	}
	apply(results.LabelStartNewLatency, "startup", startKey, false, setStartup(startKey))
	if cfg.trenv() {
		apply(results.LabelSwitchLatency, "startup", cfg.switchCost(), false, setStartup(cfg.switchCost()))
	}
	apply(results.LabelReuseExecLatency, "exec", "", true, func(f *calibration.Function, d calibration.Dist) {
		f.Exec = d
	})
	return out, fitted, nil
}

// logNormalFit returns the median (exp of the mean log) and the standard
// deviation of the logs.
func logNormalFit(xs []float64) (median, sigma float64) {
	var sum float64
	for _, x := range xs {
		sum += math.Log(x)
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		d := math.Log(x) - mean
		ss += d * d
	}
	if len(xs) > 1 {
		sigma = math.Sqrt(ss / float64(len(xs)-1))
	}
	return math.Exp(mean), sigma
}

// cloneModel copies the maps Fit changes, so base stays as it was.
func cloneModel(m *calibration.Model) *calibration.Model {
	c := *m
	c.Functions = make(map[string]calibration.Function, len(m.Functions))
	for k, v := range m.Functions {
		c.Functions[k] = v
	}
	return &c
}
