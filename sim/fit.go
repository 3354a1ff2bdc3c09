package sim

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// MinFitSamples is the fewest observations a number is fitted from;
// numbers with fewer keep their value from the base model.
const MinFitSamples = 3

// maxNonPositiveShare is the largest share of reuse observations whose
// e2e_ms − func_ms − http_overhead_ms may be ≤ 0 (they are dropped) before
// the platform's reuse cost is left unfitted: more means the base model's
// HTTP overhead is larger than what the run measured.
const maxNonPositiveShare = 0.01

// ErrFit is wrapped by the errors of a Fitter: an invalid base model or
// options, records that contradict the run's method, requests and metrics
// mixed, nothing to fit.
var ErrFit = errors.New("sim: cannot fit")

// FitOptions configures a Fitter.
type FitOptions struct {
	// Method and Pool are the run's start method and TrEnv memory pool, as
	// in Config ("" pool = cxl).
	Method, Pool string
	// Run names the run in every fitted number's source, e.g.
	// "runs/w1-criu-host (criu, target host)". Required.
	Run string
	// KeepExec keeps the base model's exec (warm execution on local DRAM)
	// and fits the warm_exec_factor of the run's start method instead:
	// for a run on a slower memory tier (TrEnv, FaaSnap) whose DRAM times
	// were fitted from a cold or CRIU run first. A cold run's warm factor is
	// 1 by definition, so KeepExec with method cold is an error.
	KeepExec bool
}

// Fitted is one number Fit set.
type Fitted struct {
	// Function is the base function, "" for a platform cost.
	Function string
	// Field is "exec", "startup", "first_exec_factor", "warm_exec_factor"
	// or "platform.reuse".
	Field string
	// Method is the method key of a per-method field, else "".
	Method string
	// Samples is how many observations the number was fitted from.
	Samples int
	// MedianMs and Sigma are a fitted distribution's; Value a fitted
	// factor's (the other fields are 0).
	MedianMs, Sigma, Value float64
}

// FunctionCounts are the observations Fit had of one base function (its
// copies included), by start kind.
type FunctionCounts struct {
	Function string
	Kinds    map[results.StartKind]int
}

// FitReport says what Fit read and what it changed.
type FitReport struct {
	// Timed is true when the observations were requests with start kinds
	// (requests.csv), false when they were faasd's metric lists.
	Timed bool
	// Functions lists, per base function in name order, the observations
	// by start kind.
	Functions []FunctionCounts
	// Skipped counts requests not used: not ok, without a start kind or a
	// func_ms, or of a function the model does not know.
	Skipped int
	// Fitted lists every number set, in function order.
	Fitted []Fitted
	// Notes say what was kept from the base model and why.
	Notes []string
}

// Fitter fits a cost model to one run of one start method. Feed it the
// run's requests.csv rows (AddRequest) — or, when the target did not record
// start kinds (a real faasd does not), faasd's metrics of each phase
// (AddMetrics) — then call Fit.
//
// Each observation lands where the model would have produced it, with the
// model's own composition (calibration's package comment) inverted:
//
//   - exec (warm, local DRAM) from reused instances' execution times,
//     divided by the variant factor of a copy and by the base model's
//     warm_exec_factor of what started the instance. In TrEnv mode that is
//     a cold start or a switch, and the records do not say which: when a
//     function had both and their factors differ, the times are fitted as
//     a two-component log-normal mixture (see mixFit). With KeepExec, exec
//     stays and the method's warm factor is fitted the same way;
//   - first_exec_factor[M] as the ratio of the first executions' median
//     (after start kind cold/restore, key M = the method, or cold in TrEnv
//     mode; after a switch, key trenv-cxl or trenv-rdma) to exec's median;
//   - startup[M] from the start-up time (e2e_ms − func_ms −
//     http_overhead_ms of the base), using only starts that found a free
//     start worker, divided by the base model's concurrent-start slowdown
//     (1 + slowdown × other starts running; for a repurpose, other
//     repurposes in their start-up): the engine adds both again;
//   - platform.reuse from reuses, pooled over functions.
//
// The model shares the host's threads and the page-in devices among what
// runs at once (sim/README.md, "Contention"), which stretches start-ups
// and executions under load; the fit is of the uncontended service times,
// so it leaves out every start-up and execution that may have shared a
// resource beyond its capacity, as the records and the base model's
// resource numbers show (see contended), and says how many per function.
//
// Distributions are log-normal: median = exp(mean ln x), sigma = sd(ln x).
// HTTP overhead, concurrent-start slowdowns, resident memory and variants
// are kept from the base model (a run's records cannot separate them).
// Requests need their arrival and start-up times to find concurrent
// starts; metrics have none, so from metrics start-ups include start-worker
// waits and concurrency (a note says so).
type Fitter struct {
	base *calibration.Model
	opts FitOptions
	cfg  Config

	names  []string       // base functions seen, by index
	index  map[string]int // base function → index
	phases map[string]int // phase → index, for timed observations
	obs    []fitObs
	kinds  [][3]int // per function, observations by class (classStartNew, classSwitch, classReuse)
	timed  bool     // a request with a start kind was added
	metric bool     // metrics were added

	skipped int
	unknown map[string]int // functions the model has no cost for → requests
}

// fitObs is one invocation.
type fitObs struct {
	fn      int32
	class   uint8   // classStartNew, classSwitch, classReuse
	phase   int32   // index into phases; -1 when untimed
	arrive  float64 // ms since the phase started, of the successful attempt; NaN untimed
	startup float64 // ms from arrival to the start of execution; NaN unknown
	exec    float64 // ms of execution, a copy's scaled to its base; NaN unknown
	execRaw float64 // ms of execution as recorded; NaN unknown
}

// NewFitter returns a Fitter of a run with opts, starting from base.
func NewFitter(base *calibration.Model, opts FitOptions) (*Fitter, error) {
	cfg := Config{Method: opts.Method, Pool: opts.Pool, MemBytes: 1}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(opts.Run) == "" {
		return nil, fmt.Errorf("%w: FitOptions.Run is empty: the fitted numbers' sources must name the run", ErrFit)
	}
	if err := base.Validate(nil); err != nil {
		return nil, fmt.Errorf("%w: the base model: %w", ErrFit, err)
	}
	if opts.KeepExec && cfg.Method == MethodCold {
		return nil, fmt.Errorf("%w: keeping exec fits the run method's warm_exec_factor, and a cold start's is 1 by definition: fit exec from this run instead", ErrFit)
	}
	return &Fitter{base: base, opts: opts, cfg: cfg,
		index: map[string]int{}, phases: map[string]int{}, unknown: map[string]int{}}, nil
}

// function returns the index of a function's base and the factor its
// execution is scaled by (a copy's variant factor, times the stretch of a
// guest with fewer vCPUs than the function's threads, see execThreads), or
// ok false if the model does not know it.
func (f *Fitter) function(name string) (int32, float64, bool) {
	cost, variant, err := f.base.Cost(name)
	if err != nil || !(variant > 0) {
		f.unknown[name]++
		return 0, 0, false
	}
	if f.cfg.Method == MethodFaaSnap || f.cfg.Method == MethodREAP {
		_, stretch := execThreads(cost, int32(f.base.Platform.VMVCPUs.Value))
		variant *= stretch
	}
	base := name
	if _, own := f.base.Functions[name]; !own {
		base, _ = calibration.SplitCopy(name)
	}
	i, ok := f.index[base]
	if !ok {
		i = len(f.names)
		f.index[base] = i
		f.names = append(f.names, base)
		f.kinds = append(f.kinds, [3]int{})
	}
	return int32(i), variant, true
}

// classOfKind maps a request's start kind to its metrics class, checking
// that the run's method produces it.
func (f *Fitter) classOfKind(k results.StartKind) (int, error) {
	want := results.StartRestore
	if f.cfg.startCost() == calibration.MethodCold {
		want = results.StartCold
	}
	switch {
	case k == want:
		return classStartNew, nil
	case k == results.StartReuse:
		return classReuse, nil
	case k == results.StartSwitch && f.cfg.trenv():
		return classSwitch, nil
	}
	expect := []string{string(want), string(results.StartReuse)}
	if f.cfg.trenv() {
		expect = []string{string(want), string(results.StartSwitch), string(results.StartReuse)}
	}
	return 0, fmt.Errorf("%w: start_kind %q, which a %s run does not produce (expected %s): is the run's method right?",
		ErrFit, k, f.cfg.Method, strings.Join(expect, ", "))
}

// AddRequest adds one row of requests.csv. Rows that are not ok, have no
// start kind or func_ms, or name a function the model does not know are
// counted and skipped. A start kind the run's method cannot produce (say,
// restore in a TrEnv run) is an error wrapping ErrFit, as is a request
// after AddMetrics.
func (f *Fitter) AddRequest(r *results.Request) error {
	if f.metric {
		return fmt.Errorf("%w: requests added after metrics: fit from one or the other", ErrFit)
	}
	if r.Status != results.StatusOK || r.StartKind == results.StartUnknown ||
		!finite(r.E2EMs) || !finite(r.FuncMs) || !finite(r.DoneS) {
		f.skipped++
		return nil
	}
	class, err := f.classOfKind(r.StartKind)
	if err != nil {
		return fmt.Errorf("request of %s in phase %s: %w", r.Function, r.Phase, err)
	}
	fn, variant, ok := f.function(r.Function)
	if !ok {
		f.skipped++
		return nil
	}
	p, ok := f.phases[r.Phase]
	if !ok {
		p = len(f.phases)
		f.phases[r.Phase] = p
	}
	f.timed = true
	f.kinds[fn][class]++
	overhead := f.base.Platform.HTTPOverheadMs.Value
	f.obs = append(f.obs, fitObs{
		fn: fn, class: uint8(class), phase: int32(p),
		arrive:  r.DoneS*1000 - r.E2EMs,
		startup: r.E2EMs - r.FuncMs - overhead,
		exec:    r.FuncMs / variant,
		execRaw: r.FuncMs,
	})
	return nil
}

// AddMetrics adds faasd's metrics of one phase (metrics.output or
// warmup_metrics.output): the start-new, switch and reuse latency lists and
// their execution lists, paired by position. It is an error wrapping ErrFit
// after requests with start kinds were added (they hold the same
// invocations).
func (f *Fitter) AddMetrics(m *results.Metrics) error {
	if f.timed {
		return fmt.Errorf("%w: metrics added after requests with start kinds: fit from one or the other", ErrFit)
	}
	f.metric = true
	for c, labels := range classLabels {
		if c == classSwitch && !f.cfg.trenv() && (len(m.LatencyMs[labels[0]]) > 0 || len(m.LatencyMs[labels[1]]) > 0) {
			return fmt.Errorf("%w: %s has entries, which a %s run does not produce: is the run's method right?", ErrFit, labels[0], f.cfg.Method)
		}
		lat, exe := m.LatencyMs[labels[0]], m.LatencyMs[labels[1]]
		union := maps.Clone(lat)
		maps.Copy(union, exe)
		for _, key := range slices.Sorted(maps.Keys(union)) {
			fn, variant, ok := f.function(key)
			if !ok {
				continue
			}
			n := max(len(lat[key]), len(exe[key]))
			f.kinds[fn][c] += n
			for i := 0; i < n; i++ {
				o := fitObs{fn: fn, class: uint8(c), phase: -1, arrive: math.NaN(), startup: math.NaN(), exec: math.NaN(), execRaw: math.NaN()}
				if i < len(lat[key]) {
					o.startup = float64(lat[key][i])
				}
				if i < len(exe[key]) {
					o.exec = float64(exe[key][i]) / variant
				}
				f.obs = append(f.obs, o)
			}
		}
	}
	return nil
}

// Timed reports whether requests with start kinds were added: if not (a
// target that does not record them), add the run's metrics instead.
func (f *Fitter) Timed() bool { return f.timed }

// logStats accumulates the logs of positive values.
type logStats struct {
	n         int
	sum, sum2 float64
}

func (s *logStats) add(x float64) {
	l := math.Log(x)
	s.n++
	s.sum += l
	s.sum2 += l * l
}

func (s *logStats) mean() float64 { return s.sum / float64(s.n) }

// variance of the logs, with n−1 (0 for one value).
func (s *logStats) variance() float64 {
	if s.n < 2 {
		return 0
	}
	m := s.mean()
	return max(0, (s.sum2-float64(s.n)*m*m)/float64(s.n-1))
}

// perFunction is what Fit gathers of one function.
type perFunction struct {
	reuseExec   []float64   // ln of the reuses' execution times
	firstExec   [2]logStats // by class: classStartNew, classSwitch
	startup     [2]logStats
	startupSeen [2]int // start-ups observed (clean or not)
	// observations left out because they may have shared a resource:
	// reuses' executions, first executions and start-ups by class
	sharedReuse int
	sharedFirst [2]int
	sharedStart [2]int
}

// Fit returns a copy of the base model with every number the observations
// determine fitted (see Fitter), and a report. The copy passes Validate if
// the base did. It is an error wrapping ErrFit if nothing could be fitted.
func (f *Fitter) Fit() (*calibration.Model, *FitReport, error) {
	rep := &FitReport{Timed: f.timed, Skipped: f.skipped}
	others, waited := f.concurrency()
	cpu, startDev, execDev := f.contended(waited)
	startKey, switchKey := f.cfg.startCost(), f.cfg.switchCost()
	keys := [2]string{startKey, switchKey}
	slowdown := [2]float64{f.base.Platform.ConcurrentStartSlowdown[startKey].Value, f.base.Platform.ConcurrentStartSlowdown[switchKey].Value}

	per := make([]perFunction, len(f.names))
	var reuse logStats
	reuseNonPositive := 0
	for i, o := range f.obs {
		p := &per[o.fn]
		switch o.class {
		case classReuse:
			switch {
			case cpu[i]:
				p.sharedReuse++
			case o.exec > 0:
				p.reuseExec = append(p.reuseExec, math.Log(o.exec))
			}
			if finite(o.startup) && !waited[i] {
				if o.startup > 0 {
					reuse.add(o.startup)
				} else {
					reuseNonPositive++
				}
			}
		default:
			c := o.class
			switch {
			case cpu[i] || execDev[i]:
				p.sharedFirst[c]++
			case o.exec > 0:
				p.firstExec[c].add(o.exec)
			}
			if finite(o.startup) {
				p.startupSeen[c]++
				switch {
				case waited[i] || !(o.startup > 0):
				case cpu[i] || startDev[i]:
					p.sharedStart[c]++
				default:
					p.startup[c].add(o.startup / (1 + slowdown[c]*float64(others[i])))
				}
			}
		}
	}

	out := cloneModel(f.base)
	note := func(format string, args ...any) { rep.Notes = append(rep.Notes, fmt.Sprintf(format, args...)) }
	src := func(format string, args ...any) string {
		return calibration.FittedPrefix + " " + f.opts.Run + ": " + fmt.Sprintf(format, args...)
	}
	order := make([]int, len(f.names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(f.names[a], f.names[b]) })

	startKind := results.StartRestore
	if startKey == calibration.MethodCold {
		startKind = results.StartCold
	}
	kindOf := [3]results.StartKind{startKind, results.StartSwitch, results.StartReuse}
	overhead := fmt.Sprintf("e2e_ms − func_ms − http_overhead_ms (%g ms)", f.base.Platform.HTTPOverheadMs.Value)
	execWhat, startWhat := "func_ms", overhead
	if !f.timed {
		execWhat, startWhat = "faasd's exec latency", "faasd's start-up latency"
	}

	for _, i := range order {
		name := f.names[i]
		p := &per[i]
		counts := FunctionCounts{Function: name, Kinds: map[results.StartKind]int{}}
		for c, k := range kindOf {
			if n := f.kinds[i][c]; n > 0 {
				counts.Kinds[k] = n
			}
		}
		rep.Functions = append(rep.Functions, counts)
		fn := cloneFunction(out.Functions[name])

		// A reused instance ran with the warm factor of what started it: the
		// start key, or in TrEnv mode also a switch. startShare is the share
		// of the function's instances the start key made (TrEnv mode: a
		// first guess of the share of reuses, which the mixture fit refines).
		nStart, nSwitch := f.kinds[i][classStartNew], f.kinds[i][classSwitch]
		wStart, wSwitch := fn.WarmExecFactor[startKey].Value, fn.WarmExecFactor[switchKey].Value
		startShare := 1.0
		if f.cfg.trenv() && nStart+nSwitch > 0 {
			startShare = float64(nStart) / float64(nStart+nSwitch)
		}
		how := fmt.Sprintf("warm_exec_factor %s %g", startKey, wStart)
		switch {
		case startShare == 0:
			how = fmt.Sprintf("warm_exec_factor %s %g", switchKey, wSwitch)
		case startShare < 1:
			how = fmt.Sprintf("warm_exec_factor %s %g or %s %g, whichever started the instance (%d starts, %d switches: a two-component log-normal mixture)",
				startKey, wStart, switchKey, wSwitch, nStart, nSwitch)
		}
		execMu := math.Log(fn.Exec.MedianMs)
		ys := p.reuseExec
		switch {
		case len(ys) < MinFitSamples:
			what := "exec"
			if f.opts.KeepExec {
				what = "warm_exec_factor"
			}
			note("%s: %d reuses, fewer than %d: %s kept", name, len(ys), MinFitSamples, what)
		case f.cfg.trenv() && nStart+nSwitch == 0:
			note("%s: reuses but no start or switch to say which warm_exec_factor they ran with: exec kept", name)
		case f.cfg.trenv() && name == SeedFunction:
			note("%s: TrEnv's idle-pool seeds run it, and reusing a seed is its first execution: exec kept", name)
		case !f.opts.KeepExec:
			mu, _, sigma, _ := mixFit(ys, math.NaN(), math.Log(wStart), math.Log(wSwitch), startShare)
			fn.Exec = calibration.Dist{MedianMs: math.Exp(mu), Sigma: sigma,
				Source: src("%s of %d reuses ÷ the base's %s", execWhat, len(ys), how)}
			execMu = mu
			rep.Fitted = append(rep.Fitted, Fitted{Function: name, Field: "exec", Samples: len(ys), MedianMs: fn.Exec.MedianMs, Sigma: sigma})
		case f.cfg.trenv() && nSwitch == 0:
			note("%s: no instance switched: warm_exec_factor %s kept", name, switchKey)
		default: // KeepExec: the warm factor of the run's method (TrEnv: its switch)
			key, share := startKey, 0.0 // a baseline's: all reuses have the fitted offset
			if f.cfg.trenv() {
				key, share = switchKey, startShare
			}
			_, lnW, _, _ := mixFit(ys, execMu, math.Log(wStart), math.NaN(), share)
			v := math.Exp(lnW)
			fn.WarmExecFactor[key] = calibration.Number{Value: v,
				Source: src("%s of %d reuses ÷ the base's exec median %.4g ms (the other instances: the base's %s)", execWhat, len(ys), fn.Exec.MedianMs, how)}
			rep.Fitted = append(rep.Fitted, Fitted{Function: name, Field: "warm_exec_factor", Method: key, Samples: len(ys), Value: v})
		}

		if p.sharedReuse > 0 {
			note("%s: %d reuses left out of exec: they may have shared the host's threads beyond its %g", name, p.sharedReuse, f.base.Platform.HostThreads.Value)
		}
		for c := range 2 {
			if c == classSwitch && !f.cfg.trenv() {
				continue
			}
			key, kind := keys[c], kindOf[c]
			if n := p.sharedFirst[c]; n > 0 {
				note("%s: %d first executions after %s left out: they may have shared the host's threads or their page-in device beyond capacity", name, n, kind)
			}
			if n := p.sharedStart[c]; n > 0 {
				note("%s: %d %s start-ups left out: they may have shared the host's threads or their page-in device beyond capacity", name, n, kind)
			}
			if fe := &p.firstExec[c]; fe.n >= MinFitSamples {
				v := math.Exp(fe.mean() - execMu)
				fn.FirstExecFactor[key] = calibration.Number{Value: v,
					Source: src("median %s of %d first executions after %s ÷ the exec median %.4g ms%s", execWhat, fe.n, kind, math.Exp(execMu), shared(p.sharedFirst[c]))}
				rep.Fitted = append(rep.Fitted, Fitted{Function: name, Field: "first_exec_factor", Method: key, Samples: fe.n, Value: v})
			} else if fe.n > 0 || p.sharedFirst[c] > 0 {
				note("%s: %d first executions after %s ran alone, fewer than %d: first_exec_factor %s kept", name, fe.n, kind, MinFitSamples, key)
			}
			st := &p.startup[c]
			if st.n < MinFitSamples {
				if p.startupSeen[c] > 0 {
					note("%s: %d of %d %s start-ups found a free start worker and ran alone, fewer than %d: startup %s kept",
						name, st.n, p.startupSeen[c], kind, MinFitSamples, key)
				}
				continue
			}
			var which string
			switch {
			case !f.timed:
				which = fmt.Sprintf("%d %s starts (faasd's lists have no times: waits for a start worker and concurrent starts not taken out)", st.n, kind)
			case c == classStartNew:
				which = fmt.Sprintf("the %d of %d %s requests that found a free start worker, ÷ (1 + %g × other starts running)%s",
					st.n, p.startupSeen[c], kind, slowdown[c], shared(p.sharedStart[c]))
			default:
				which = fmt.Sprintf("the %d of %d %s requests that did not wait for a start worker, ÷ (1 + %g × other repurposes in their start-up)%s",
					st.n, p.startupSeen[c], kind, slowdown[c], shared(p.sharedStart[c]))
			}
			fn.Startup[key] = calibration.Dist{MedianMs: math.Exp(st.mean()), Sigma: math.Sqrt(st.variance()),
				Source: src("%s of %s", startWhat, which)}
			rep.Fitted = append(rep.Fitted, Fitted{Function: name, Field: "startup", Method: key, Samples: st.n,
				MedianMs: fn.Startup[key].MedianMs, Sigma: fn.Startup[key].Sigma})
		}
		out.Functions[name] = fn
	}
	if !f.timed && len(f.obs) > 0 {
		note("start-ups from faasd's metrics include waits for a start worker and the slowdown of concurrent starts, which the model adds again, and nothing that shared the host's threads or a page-in device can be left out: fit from a run whose target records start kinds, or one with sparse starts")
	}

	total := reuse.n + reuseNonPositive
	switch {
	case reuse.n < MinFitSamples:
	case float64(reuseNonPositive) > maxNonPositiveShare*float64(total):
		note("%d of %d reuses took no longer than func_ms + http_overhead_ms %g: platform.reuse kept (the base's HTTP overhead is too large for this run)",
			reuseNonPositive, total, f.base.Platform.HTTPOverheadMs.Value)
	default:
		d := calibration.Dist{MedianMs: math.Exp(reuse.mean()), Sigma: math.Sqrt(reuse.variance())}
		what := "faasd's reuse latency"
		if f.timed {
			what = overhead
		}
		d.Source = src("%s of %d reuses of %d functions", what, reuse.n, len(f.names))
		if reuseNonPositive > 0 {
			d.Source += fmt.Sprintf(" (%d non-positive dropped)", reuseNonPositive)
		}
		out.Platform.Reuse = d
		rep.Fitted = append(rep.Fitted, Fitted{Field: "platform.reuse", Samples: reuse.n, MedianMs: d.MedianMs, Sigma: d.Sigma})
	}

	for _, name := range slices.Sorted(maps.Keys(f.unknown)) {
		note("%s: not in the cost model: %d observations skipped", name, f.unknown[name])
	}
	if len(rep.Fitted) == 0 {
		return nil, rep, fmt.Errorf("%w: no number has %d or more observations (%d requests skipped)", ErrFit, MinFitSamples, f.skipped)
	}
	return out, rep, nil
}

// concurrency finds, in each timed phase, the starts that used a start
// worker (class start-new) and how many others ran when each arrived, and
// for each repurpose (class switch) how many other repurposes were in
// their start-up when it arrived. It returns, per observation, that number
// of others and whether the observation may have waited for a start
// worker: it arrived when as many starts as there are workers were in
// progress (a start queued or was refused and retried; a reuse or switch
// after such a refusal carries the wait), or, for a start, while one that
// may have waited was still in progress (its interval then does not show
// when it held a worker). The others of a start or repurpose that did not
// wait are exact: each start in progress at its arrival holds a worker,
// and each repurpose in its start-up counts for the platform's slowdown.
func (f *Fitter) concurrency() (others []int, waited []bool) {
	others = make([]int, len(f.obs))
	waited = make([]bool, len(f.obs))
	if !f.timed {
		return others, waited
	}
	workers, _ := f.cfg.startWorkers()
	byPhase := make([][]int, len(f.phases))
	for i, o := range f.obs {
		if o.phase >= 0 && finite(o.arrive) && finite(o.startup) {
			byPhase[o.phase] = append(byPhase[o.phase], i)
		}
	}
	for _, idx := range byPhase {
		// Starts before other arrivals at the same instant: the engine
		// decides in arrival order, and a start that arrived first holds
		// its worker when the next decision is made.
		slices.SortStableFunc(idx, func(a, b int) int {
			if c := cmp.Compare(f.obs[a].arrive, f.obs[b].arrive); c != 0 {
				return c
			}
			return cmp.Compare(f.obs[a].class, f.obs[b].class)
		})
		var active, switching endHeap
		for _, i := range idx {
			o := f.obs[i]
			for active.Len() > 0 && active.items[0].end <= o.arrive {
				heap.Pop(&active)
			}
			for switching.Len() > 0 && switching.items[0].end <= o.arrive {
				heap.Pop(&switching)
			}
			busy := active.Len()
			full := busy >= workers
			switch o.class {
			case classReuse:
				waited[i] = full
			case classSwitch:
				waited[i] = full
				others[i] = switching.Len()
				heap.Push(&switching, startSpan{end: o.arrive + o.startup, waited: full})
			default:
				others[i] = busy
				waited[i] = full || active.mayHaveWaited > 0
				heap.Push(&active, startSpan{end: o.arrive + o.startup, waited: full})
			}
		}
	}
	return others, waited
}

// startSpan is a start in progress: when it ends, and whether it may have
// waited for a worker.
type startSpan struct {
	end    float64
	waited bool
}

// endHeap is a min-heap of starts in progress by end, counting those that
// may have waited.
type endHeap struct {
	items         []startSpan
	mayHaveWaited int
}

func (h *endHeap) Len() int           { return len(h.items) }
func (h *endHeap) Less(i, j int) bool { return h.items[i].end < h.items[j].end }
func (h *endHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *endHeap) Push(x any) {
	s := x.(startSpan)
	if s.waited {
		h.mayHaveWaited++
	}
	h.items = append(h.items, s)
}
func (h *endHeap) Pop() any {
	s := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	if s.waited {
		h.mayHaveWaited--
	}
	return s
}

// mixFit fits the ln execution times ys of reused instances to
// y = mu + offset + sigma·z: offset is a on the share of reuses whose
// instance was started one way and b on the rest, the other way. With mu
// NaN it fits mu (a and b known); otherwise mu is known and it fits b (b
// NaN). share is the first guess of the share; with share 0 or 1, or a = b,
// it is a plain log-normal fit, else a maximum-likelihood fit of the
// mixture (EM) that also fits the share. It returns mu, b, sigma (the
// standard deviation of the logs, with n−1) and the share.
func mixFit(ys []float64, mu, a, b, share float64) (float64, float64, float64, float64) {
	fitMu := math.IsNaN(mu)
	n := float64(len(ys))
	var mean float64
	for _, y := range ys {
		mean += y
	}
	mean /= n
	sd := func(off func(i int) float64, dof float64) float64 {
		var ss float64
		for i, y := range ys {
			d := y - mu - off(i)
			ss += d * d
		}
		return math.Sqrt(ss / max(1, dof))
	}
	if share == 1 || share == 0 || (fitMu && a == b) {
		if share == 1 {
			b = a // every reuse has offset a
		}
		if fitMu {
			mu = mean - b
		} else {
			b = mean - mu
		}
		return mu, b, sd(func(int) float64 { return b }, n-1), share
	}
	if fitMu {
		mu = mean - share*a - (1-share)*b
	} else {
		b = (mean - mu - share*a) / (1 - share)
	}
	// Start from the whole spread (an upper bound) and iterate EM: r[i] is
	// the probability that reuse i ran on an instance of the first kind.
	sigma := sd(func(int) float64 { return share*a + (1-share)*b }, n) + 1e-9
	r := make([]float64, len(ys))
	for iter := 0; iter < 1000; iter++ {
		var sr, num, den float64
		for i, y := range ys {
			da, db := (y-mu-a)/sigma, (y-mu-b)/sigma
			r[i] = 1 / (1 + math.Exp(math.Log(1-share)-db*db/2-math.Log(share)+da*da/2))
			sr += r[i]
			if fitMu {
				num += y - r[i]*a - (1-r[i])*b
				den++
			} else {
				num += (1 - r[i]) * (y - mu)
				den += 1 - r[i]
			}
		}
		prevMu, prevB, prevSigma := mu, b, sigma
		share = sr / n
		if den > 0 {
			if fitMu {
				mu = num / den
			} else {
				b = num / den
			}
		}
		var v float64
		for i, y := range ys {
			da, db := y-mu-a, y-mu-b
			v += r[i]*da*da + (1-r[i])*db*db
		}
		sigma = math.Sqrt(v/n) + 1e-12
		if share <= 0 || share >= 1 ||
			math.Abs(mu-prevMu)+math.Abs(b-prevB)+math.Abs(sigma-prevSigma) < 1e-12 {
			break
		}
	}
	return mu, b, sigma * math.Sqrt(n/max(1, n-1)), share
}

// shared says how many observations a fitted number left out for
// contention, "" for none.
func shared(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d that may have shared a resource left out)", n)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// cloneModel copies the maps Fit changes, so base stays as it was.
func cloneModel(m *calibration.Model) *calibration.Model {
	c := *m
	c.Functions = maps.Clone(m.Functions)
	return &c
}

// cloneFunction copies a function's per-method maps.
func cloneFunction(f calibration.Function) calibration.Function {
	f.Startup = maps.Clone(f.Startup)
	f.FirstExecFactor = maps.Clone(f.FirstExecFactor)
	f.WarmExecFactor = maps.Clone(f.WarmExecFactor)
	f.ResidentMB = maps.Clone(f.ResidentMB)
	return f
}
