package sim

import (
	"cmp"
	"slices"

	"trenv-bench/sim/calibration"
)

// contended says, per timed observation, whether its start-up or
// execution may have run slower than alone because it shared a resource:
//
//   - cpu: while it ran, the start-ups and executions of the records
//     overlapping it could together have needed more threads than the base
//     model's host has (a start-up needs one, an execution its function's
//     threads), so one of them may have waited for a thread;
//   - startDev, execDev: its start-up's (or first execution's) page-in
//     may have shared the device with more page-ins than the device's
//     bandwidth serves at full rate.
//
// Both are sufficient conditions: an observation not flagged ran exactly as
// alone, so fitting only those fits the uncontended service time. For the
// devices, a page-in runs first in its phase (see invocation.go) and takes
// share phi of the phase alone, so a page-in that was not slowed occupies
// [begin, begin + phi·L] for a phase observed to last L, and one that may
// have been slowed at most [begin, begin + L]. Flagging every page-in whose
// window meets more than the device serves at full rate, the others counted
// with the longer window once flagged, until nothing changes, flags every
// page-in that was slowed: the first moment a page-in is slowed, more than
// the device serves are in progress, each within its window as counted.
// Start-ups that waited for a start worker began at an unknown time and
// count from their arrival.
//
// Records only hold the invocations that answered: one whose attempt timed
// out at the client still ran, unseen (rare: after 60 s).
func (f *Fitter) contended(waited []bool) (cpu, startDev, execDev []bool) {
	n := len(f.obs)
	cpu, startDev, execDev = make([]bool, n), make([]bool, n), make([]bool, n)
	if !f.timed {
		return
	}
	pm := f.base.Platform
	keys := [2]string{f.cfg.startCost(), f.cfg.switchCost()}
	threads := make([]int64, len(f.names))
	for i, name := range f.names {
		var vcpus int32
		if f.cfg.Method == MethodFaaSnap || f.cfg.Method == MethodREAP {
			vcpus = int32(pm.VMVCPUs.Value)
		}
		t, _ := execThreads(f.base.Functions[name], vcpus)
		threads[i] = int64(t)
	}
	byPhase := make([][]int, len(f.phases))
	for i, o := range f.obs {
		if o.phase >= 0 && finite(o.arrive) && finite(o.startup) && finite(o.execRaw) {
			byPhase[o.phase] = append(byPhase[o.phase], i)
		}
	}
	for _, idx := range byPhase {
		if c := pm.HostThreads.Value; c > 0 {
			var ws []window
			for _, i := range idx {
				o := f.obs[i]
				s := o.arrive + o.startup
				if o.class != classReuse { // a reuse's start-up is faasd's bookkeeping
					ws = append(ws, window{o.arrive, s, 1})
				}
				ws = append(ws, window{s, s + o.execRaw, threads[o.fn]})
			}
			load := newOverlaps(ws)
			for _, i := range idx {
				o := f.obs[i]
				cpu[i] = float64(load.sum(o.arrive, o.arrive+o.startup+o.execRaw)) > c
			}
		}
		for c, key := range keys {
			if c == classSwitch && !f.cfg.trenv() {
				continue
			}
			pi, ok := pm.PageIn[key]
			if !ok || !(pm.DeviceMBps[pi.Device].Value > 0) {
				continue
			}
			f.devContended(idx, c, key, pi, waited, startDev, execDev)
		}
	}
	return
}

// devContended flags the page-ins of class c (key) that may have shared
// their device beyond its bandwidth, in one phase's observations idx (see
// contended).
func (f *Fitter) devContended(idx []int, c int, key string, pi calibration.PageIn, waited, startDev, execDev []bool) {
	pm := f.base.Platform
	capacity := pm.DeviceMBps[pi.Device].Value
	w := max(1, int64(pi.StreamMBps.Value))
	inExec := pi.Phase == calibration.PhaseFirstExec
	type job struct {
		obs          int
		begin, short float64 // the window if not slowed: [begin, begin+short]
		long         float64 // its length if it may have been slowed
		slowed       bool
	}
	var jobs []job
	for _, i := range idx {
		o := f.obs[i]
		if int(o.class) != c {
			continue
		}
		fn := f.base.Functions[f.names[o.fn]]
		phase := fn.Startup[key].MedianMs
		if inExec {
			phase = fn.Exec.MedianMs * fn.FirstExecFactor[key].Value
		}
		ms := fn.PageInMs[key].Value
		if !(ms > 0 && phase > 0) {
			continue
		}
		phi := min(1, ms/phase)
		j := job{obs: i, begin: o.arrive, short: phi * o.startup, long: o.startup}
		if inExec {
			j = job{obs: i, begin: o.arrive + o.startup, short: phi * o.execRaw, long: o.execRaw}
		} else if waited[i] {
			j.slowed = true // it began at an unknown time after its arrival
		}
		jobs = append(jobs, j)
	}
	for changed := true; changed; {
		changed = false
		ws := make([]window, len(jobs))
		for k, j := range jobs {
			ws[k] = window{j.begin, j.begin + j.short, w}
			if j.slowed {
				ws[k].end = j.begin + j.long
			}
		}
		load := newOverlaps(ws)
		for k := range jobs {
			if j := &jobs[k]; !j.slowed && float64(load.sum(ws[k].begin, ws[k].end)) > capacity {
				j.slowed, changed = true, true
			}
		}
	}
	flag := startDev
	if inExec {
		flag = execDev
	}
	for _, j := range jobs {
		flag[j.obs] = j.slowed
	}
}

// window is an interval of time (ms) that needs weight units of a
// resource.
type window struct {
	begin, end float64
	weight     int64
}

// overlaps answers, for a set of windows, the total weight of those that
// overlap an interval: begin < its end and end > its begin.
type overlaps struct {
	begins, ends []float64 // sorted
	wb, we       []int64   // prefix sums of the weights in those orders
}

func newOverlaps(ws []window) overlaps {
	byBegin, byEnd := slices.Clone(ws), slices.Clone(ws)
	slices.SortFunc(byBegin, func(a, b window) int { return cmp.Compare(a.begin, b.begin) })
	slices.SortFunc(byEnd, func(a, b window) int { return cmp.Compare(a.end, b.end) })
	o := overlaps{begins: make([]float64, len(ws)), ends: make([]float64, len(ws)),
		wb: make([]int64, len(ws)+1), we: make([]int64, len(ws)+1)}
	for i := range ws {
		o.begins[i], o.ends[i] = byBegin[i].begin, byEnd[i].end
		o.wb[i+1], o.we[i+1] = o.wb[i]+byBegin[i].weight, o.we[i]+byEnd[i].weight
	}
	return o
}

// sum is the total weight of the windows overlapping [a, b] (b ≥ a; every
// window that ends by a also begins before b).
func (o overlaps) sum(a, b float64) int64 {
	started, _ := slices.BinarySearch(o.begins, b) // begin < b
	ended, _ := slices.BinarySearch(o.ends, a)     // end < a
	for ended < len(o.ends) && o.ends[ended] == a {
		ended++ // end ≤ a: touching is not overlapping
	}
	return o.wb[started] - o.we[ended]
}
