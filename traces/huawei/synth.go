package huawei

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/traces/tracefile"
)

// MaxPerMinute is the largest count the synthetic generators write in one
// cell, in requests per minute, as in the golden datasets: upstream's skew
// splitter never ends when a minute exceeds 60 × the function's per-second
// cap, and this bound keeps every minute below that.
const MaxPerMinute = 400

// UpstreamDays returns the days upstream gen_trace.py reads (0, 1, 3, 15,
// 17, 19, 21, 23): the days Synth writes by default. The slice is new on
// every call.
func UpstreamDays() []int { return []int{0, 1, 3, 15, 17, 19, 21, 23} }

// SynthOptions configure Synth. The zero value writes the upstream days with
// all 5093 functions for seed 0.
type SynthOptions struct {
	// Seed selects the traffic (math/rand/v2 PCG streams); every seed,
	// including 0, is valid, and the same options write the same bytes.
	Seed uint64
	// Days are the days to write (each >= 0); nil or empty means
	// UpstreamDays().
	Days []int
	// Functions is the number of function columns, ids 0…Functions−1; 0
	// means TraceFunctions (5093). Negative is an error.
	Functions int
	// Busy lists windows whose (function, day) columns get busy, bursty
	// traffic all day long (a few to a few hundred requests a minute), so
	// that the windows a workload replays have traffic. Only Function and
	// Day are used. Nil for none: then a column's traffic is whatever its
	// randomly drawn kind gives, often nothing.
	Busy []Window
	// Gzip writes day_DD.csv.gz (gzip, default level) instead of
	// day_DD.csv. Either way the other variant of the name is removed, so
	// that the dataset reads what was written.
	Gzip bool
}

// Synth writes a synthetic dataset in the format of the real trace under
// dir/requests_minute/ (created as needed): one file per day of opts.Days,
// each with the header day,time,0,…,Functions−1 and 1440 rows.
//
// The traffic is invented but shaped like the trace: heavy-tailed across
// functions (about 7 % never called, half rare, some on timers, a few percent
// hot), bursty and diurnal in time, with pauses; every cell at most
// MaxPerMinute, about four in five cells empty, about one column in eight
// empty all day. As pandas writes the real files, a column with an empty cell
// holds decimals (12.0) and a column without one integers (12).
//
// Days are generated concurrently (up to GOMAXPROCS at a time); each file is
// written to a temporary name in the same directory and renamed into place.
// A full day takes a fraction of a second. The files written are then listed
// in dir/requests_minute/tracefile.SynthMarkerName, so that a dataset read
// from there is known to be invented.
func Synth(dir string, opts SynthOptions) error {
	days := opts.Days
	if len(days) == 0 {
		days = UpstreamDays()
	}
	nfunc := opts.Functions
	switch {
	case nfunc == 0:
		nfunc = TraceFunctions
	case nfunc < 0:
		return fmt.Errorf("huawei: synth: %d functions, expected >= 0", nfunc)
	}
	for _, d := range days {
		if d < 0 {
			return fmt.Errorf("huawei: synth: day %d is negative", d)
		}
	}
	busy, err := busySet(opts.Busy)
	if err != nil {
		return fmt.Errorf("huawei: synth: %w", err)
	}
	out := filepath.Join(dir, DirName)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("huawei: synth: %w", err)
	}
	ids := make([]int, nfunc)
	for i := range ids {
		ids[i] = i
	}
	days = slices.Compact(slices.Sorted(slices.Values(days)))
	errs := make([]error, len(days))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(days)) {
		wg.Go(func() {
			for i := range next {
				t := newTable(opts.Seed, days[i], ids, busy)
				errs[i] = t.writeFile(out, opts.Gzip)
			}
		})
	}
	for i := range days {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = DayFileName(d)
		if opts.Gzip {
			names[i] += ".gz"
		}
	}
	if err := tracefile.WriteSynthMarker(out, "huawei", opts.Seed, names...); err != nil {
		return fmt.Errorf("huawei: synth: %w", err)
	}
	return nil
}

// Sample returns an in-memory dataset holding, for each day the windows
// name, a day file DayFileName(day) with all 1440 rows but only the columns
// (function ids, increasing) of that day's windows. Its content is exactly
// those columns of Synth(dir, SynthOptions{Seed: seed, Busy: windows}) (for
// ids below its Functions): every sampled column is busy. Windows with a
// negative function id or day are skipped (Read reports them). It takes a few
// milliseconds for the 26 upstream windows.
func Sample(seed uint64, windows []Window) *Dataset {
	byDay := map[int][]int{}
	for _, w := range windows {
		if w.Function >= 0 && w.Day >= 0 {
			byDay[w.Day] = append(byDay[w.Day], w.Function)
		}
	}
	busy, _ := busySet(windows)
	files := make(map[string][]byte, len(byDay))
	for day, ids := range byDay {
		ids = slices.Compact(slices.Sorted(slices.Values(ids)))
		var buf bytes.Buffer
		buf.Grow(MinutesPerDay * (16 + 5*len(ids)))
		bw := bufio.NewWriterSize(&buf, 64<<10)
		newTable(seed, day, ids, busy).write(bw) // a bytes.Buffer does not fail
		bw.Flush()
		files[DayFileName(day)] = buf.Bytes()
	}
	return NewMemDataset(files)
}

// busySet returns the (day, function) pairs of windows, skipping negative
// ones; the error names the first of those.
func busySet(windows []Window) (map[[2]int]bool, error) {
	var err error
	set := make(map[[2]int]bool, len(windows))
	for i, w := range windows {
		if w.Function < 0 || w.Day < 0 {
			if err == nil {
				err = fmt.Errorf("busy window %d (%v): %w: negative function id or day", i, w, ErrBadWindow)
			}
			continue
		}
		set[[2]int{w.Day, w.Function}] = true
	}
	return set, err
}

// table is one synthetic day: cells[t*len(ids)+j] is the count of function
// ids[j] in minute t.
type table struct {
	day   int
	ids   []int
	cells []uint16
	float []bool // column j has an empty cell: written as decimals
}

func newTable(seed uint64, day int, ids []int, busy map[[2]int]bool) *table {
	n := len(ids)
	t := &table{day: day, ids: ids, cells: make([]uint16, MinutesPerDay*n), float: make([]bool, n)}
	var col [MinutesPerDay]uint16
	for j, f := range ids {
		column(seed, day, f, busy[[2]int{day, f}], &col)
		for m, c := range col {
			t.cells[m*n+j] = c
			if c == 0 {
				t.float[j] = true
			}
		}
	}
	return t
}

// write writes the table as a day file.
func (t *table) write(w *bufio.Writer) error {
	row := make([]byte, 0, 64<<10)
	row = append(row, "day,time"...)
	for _, id := range t.ids {
		row = append(row, ',')
		row = strconv.AppendInt(row, int64(id), 10)
	}
	row = append(row, '\n')
	if _, err := w.Write(row); err != nil {
		return err
	}
	n := len(t.ids)
	for m := range MinutesPerDay {
		row = strconv.AppendInt(row[:0], int64(t.day), 10)
		row = append(row, ',')
		row = strconv.AppendInt(row, int64(t.day)*SecondsPerDay+int64(m)*SecondsPerMinute, 10)
		for j, c := range t.cells[m*n : (m+1)*n] {
			row = append(row, ',')
			if c != 0 {
				row = strconv.AppendUint(row, uint64(c), 10)
				if t.float[j] {
					row = append(row, ".0"...)
				}
			}
		}
		row = append(row, '\n')
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return w.Flush()
}

// writeFile writes the table to dir/day_DD.csv[.gz] through a temporary
// file, and removes a stale copy under the other name.
func (t *table) writeFile(dir string, gz bool) error {
	name := DayFileName(t.day)
	other := name + ".gz"
	if gz {
		name, other = other, name
	}
	final := filepath.Join(dir, name)
	f, err := atomicfile.Create(final, 0o644)
	if err != nil {
		return fmt.Errorf("huawei: synth %s: %w", final, err)
	}
	defer f.Abort() // does nothing after Commit
	var dst io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		dst = zw
	}
	if err := t.write(bufio.NewWriterSize(dst, 1<<20)); err != nil {
		return fmt.Errorf("huawei: synth %s: %w", final, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("huawei: synth %s: %w", final, err)
		}
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("huawei: synth: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, other)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("huawei: synth: %w", err)
	}
	return nil
}

// Kinds of synthetic functions, in the order of their cumulative shares.
const (
	kindDead   = iota // never called
	kindRare          // a few short episodes a day
	kindTimer         // a small count every few minutes
	kindSteady        // Poisson traffic, diurnal and bursty
	kindHot           // heavy Poisson traffic, diurnal and bursty
	kindBusy          // a Busy column: moderate to heavy, very bursty
)

// profile is the traffic model of one function, the same on every day.
type profile struct {
	kind     int
	rate     float64 // mean requests per minute (per active minute for rare)
	pEvent   float64 // rare: chance per minute that an episode starts
	period   int     // timer: minutes between calls
	phase    int     // timer: first call
	amp      float64 // diurnal amplitude, 0…1
	shift    float64 // diurnal phase, radians
	pBurst   float64 // chance per minute that a burst starts
	pPause   float64 // chance per minute that a pause (no calls) starts
	burstMul float64 // largest rate multiplier in a burst
}

// splitmix64 mixes a seed (splitmix64 finaliser).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// logUniform returns a number between lo and hi, uniform in log scale.
func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, r.Float64())
}

func newProfile(seed uint64, f int, busy bool) profile {
	r := rand.New(rand.NewPCG(splitmix64(seed), splitmix64(uint64(f)^0x70726f66696c65)))
	u := r.Float64()
	p := profile{kind: kindHot}
	// Cumulative shares of the kinds dead…hot.
	for k, s := range [...]float64{0.07, 0.56, 0.74, 0.975, 1} {
		if u < s {
			p.kind = k
			break
		}
	}
	p.amp = 0.9 * r.Float64()
	p.shift = 2 * math.Pi * r.Float64()
	p.pBurst = logUniform(r, 0.002, 0.05)
	p.burstMul = 2 + 6*r.Float64()
	p.pPause = logUniform(r, 0.0005, 0.01)
	switch p.kind {
	case kindRare:
		p.rate = logUniform(r, 0.3, 20)
		p.pEvent = logUniform(r, 0.0007, 0.03)
	case kindTimer:
		p.period = [...]int{1, 2, 5, 10, 15, 30, 60}[r.IntN(7)]
		p.phase = r.IntN(p.period)
		p.rate = float64(1 + r.IntN(3))
	case kindSteady:
		p.rate = logUniform(r, 0.05, 20)
	case kindHot:
		p.rate = logUniform(r, 20, 200)
	}
	if busy {
		p.kind = kindBusy
		p.rate = logUniform(r, 4, 60)
		p.pBurst = logUniform(r, 0.02, 0.08)
		p.amp = 0.2 + 0.4*p.amp
		p.pPause = 0
	}
	return p
}

// column fills c with the requests of function f in each minute of day.
// It depends only on (seed, day, f, busy).
func column(seed uint64, day, f int, busy bool, c *[MinutesPerDay]uint16) {
	*c = [MinutesPerDay]uint16{}
	p := newProfile(seed, f, busy)
	r := rand.New(rand.NewPCG(splitmix64(seed^0x646179), splitmix64(uint64(day)<<32|uint64(uint32(f)))))
	if p.kind == kindDead || (!busy && r.Float64() < 0.03) { // now and then a silent day
		return
	}
	put := func(m int, v float64) {
		c[m] = uint16(min(v, MaxPerMinute))
	}
	switch p.kind {
	case kindRare:
		for m := geometric(r, p.pEvent); m < MinutesPerDay; m += geometric(r, p.pEvent) {
			for end := min(m+1+geometric(r, 0.4), MinutesPerDay); m < end; m++ {
				put(m, 1+poisson(r, p.rate))
			}
		}
	case kindTimer:
		for m := p.phase; m < MinutesPerDay; m += p.period {
			if r.Float64() < 0.998 {
				put(m, p.rate+poisson(r, 0.2))
			}
		}
	default: // steady, hot, busy: diurnal Poisson with bursts
		// The diurnal factor 1 + amp·sin(θ), θ advancing 2π per day, by rotation.
		step := 2 * math.Pi / MinutesPerDay
		cs, sn := math.Cos(step), math.Sin(step)
		s, co := math.Sin(p.shift), math.Cos(p.shift)
		burst, mul, pause := 0, 1.0, 0
		for m := range MinutesPerDay {
			if pause == 0 && r.Float64() < p.pPause {
				pause = 1 + geometric(r, 1.0/30)
			}
			if pause > 0 {
				pause--
				s, co = s*cs+co*sn, co*cs-s*sn
				continue
			}
			if burst == 0 && r.Float64() < p.pBurst {
				burst, mul = 1+geometric(r, 0.2), 1+(p.burstMul-1)*r.Float64()
			}
			lambda := p.rate * (1 + p.amp*s)
			if burst > 0 {
				lambda *= mul
				burst--
			}
			put(m, poisson(r, lambda))
			s, co = s*cs+co*sn, co*cs-s*sn
		}
	}
}

// geometric returns the number of failures before the first success of
// trials with success probability p (0 < p < 1).
func geometric(r *rand.Rand, p float64) int {
	g := math.Log(1-r.Float64()) / math.Log1p(-p)
	if g > MinutesPerDay {
		return MinutesPerDay
	}
	return int(g)
}

// poisson draws a Poisson variate of mean lambda: by counting exponential
// inter-arrival times below 15, by the normal approximation above.
func poisson(r *rand.Rand, lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 0
	case lambda >= 15:
		return max(0, math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64()))
	}
	k := 0.0 // arrivals of a unit-rate Poisson process before time lambda
	for t := r.ExpFloat64(); t < lambda; t += r.ExpFloat64() {
		k++
	}
	return k
}
