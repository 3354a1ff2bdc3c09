package azure

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/traces/tracefile"
)

// Defaults of SynthOptions, chosen to match the shape of the real day 3
// (and of the golden synthetic dataset).
const (
	// DefaultSynthRows is the number of invocation rows of a synthetic day.
	DefaultSynthRows = 46500
	// DefaultUnmatchedFrac is the fraction of invocation rows that have no
	// durations row (3 %: 1,395 of 46,500, leaving a join of 45,105).
	DefaultUnmatchedFrac = 0.03
	// DefaultDecoyFrac is the fraction of unmatched invocation rows that get
	// a decoy durations row: same HashOwner and HashFunction, another HashApp.
	DefaultDecoyFrac = 0.1
	// DefaultEmptyMinMaxFrac is the fraction of durations rows whose
	// Minimum and Maximum cells are empty.
	DefaultEmptyMinMaxFrac = 0.005
	// DefaultMemoryAppFrac is the fraction of apps with an app-memory row.
	DefaultMemoryAppFrac = 0.9
	// DefaultMaxCount caps every synthetic minute count (invocations per
	// minute). Upstream loops forever on a minute above 60 × its
	// per-second cap, so synthetic counts stay at or below 400.
	DefaultMaxCount = 400
)

// SynthOptions configures a synthetic day. The zero value of every field
// means its default.
type SynthOptions struct {
	// Seed selects the random stream; equal options give equal bytes.
	Seed uint64
	// Day is the day in the file names; 0 means DefaultDay.
	Day int
	// Rows is the number of invocation rows; 0 means DefaultSynthRows.
	Rows int
	// Minutes is the number of minute columns; 0 means DayMinutes (1440).
	Minutes int
	// UnmatchedFrac is the fraction of invocation rows without a durations
	// row; 0 means DefaultUnmatchedFrac, negative means none.
	UnmatchedFrac float64
	// DecoyFrac is the fraction of unmatched rows that get a decoy durations
	// row; 0 means DefaultDecoyFrac, negative means none.
	DecoyFrac float64
	// EmptyMinMaxFrac is the fraction of durations rows with empty Minimum
	// and Maximum; 0 means DefaultEmptyMinMaxFrac, negative means none.
	EmptyMinMaxFrac float64
	// MemoryAppFrac is the fraction of apps with an app-memory row; 0 means
	// DefaultMemoryAppFrac, negative means none.
	MemoryAppFrac float64
	// MaxCount caps each minute count; 0 means DefaultMaxCount.
	MaxCount int
	// Busy lists joined-table positions (as Select counts them) whose rows
	// get busy, bursty traffic: every minute non-zero, 5–60 invocations a
	// minute on average with bursts of 2–5 times that. Positions at or
	// beyond the join's size are ignored.
	Busy []int
}

// withDefaults fills zero fields and checks ranges.
func (o SynthOptions) withDefaults() (SynthOptions, error) {
	frac := func(v *float64, def float64, name string) error {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		case *v > 1:
			return fmt.Errorf("azure: synth: %s %g above 1", name, *v)
		}
		return nil
	}
	if o.Day == 0 {
		o.Day = DefaultDay
	}
	if o.Rows == 0 {
		o.Rows = DefaultSynthRows
	}
	if o.Minutes == 0 {
		o.Minutes = DayMinutes
	}
	if o.MaxCount == 0 {
		o.MaxCount = DefaultMaxCount
	}
	switch {
	case o.Day < 1 || o.Day > 99:
		return o, fmt.Errorf("azure: synth: day %d out of range 1…99", o.Day)
	case o.Rows < 0 || o.Minutes < 0 || o.MaxCount < 0:
		return o, fmt.Errorf("azure: synth: negative Rows, Minutes or MaxCount")
	}
	for _, f := range []struct {
		v    *float64
		def  float64
		name string
	}{
		{&o.UnmatchedFrac, DefaultUnmatchedFrac, "UnmatchedFrac"},
		{&o.DecoyFrac, DefaultDecoyFrac, "DecoyFrac"},
		{&o.EmptyMinMaxFrac, DefaultEmptyMinMaxFrac, "EmptyMinMaxFrac"},
		{&o.MemoryAppFrac, DefaultMemoryAppFrac, "MemoryAppFrac"},
	} {
		if err := frac(f.v, f.def, f.name); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Synth writes the three files of a synthetic day into dir (created if
// needed) under their real names, as plain CSV, and lists them in dir's
// tracefile.SynthMarkerName, so that a dataset read from dir is known to be
// invented. Each file is written to a
// temporary file in dir and renamed into place when complete. A full day
// (46,500 rows × 1,440 minutes, about 140 MB) takes about half a second
// on two cores; rows are generated in parallel chunks, each from its own
// random stream, so the bytes do not depend on GOMAXPROCS.
func Synth(dir string, opts SynthOptions) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("azure: synth: %w", err)
	}
	names := []string{InvocationsName(opts.Day), DurationsName(opts.Day), MemoryName(opts.Day)}
	var files [3]*atomicfile.File
	var ws [3]*bufio.Writer
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Abort() // does nothing after Commit
			}
		}
	}()
	for i, n := range names {
		if files[i], err = atomicfile.Create(filepath.Join(dir, n), 0o644); err != nil {
			return fmt.Errorf("azure: synth: %w", err)
		}
		ws[i] = bufio.NewWriterSize(files[i], 1<<20)
	}
	if err = synthesize(opts, ws[0], ws[1], ws[2]); err != nil {
		return err
	}
	for i, w := range ws {
		if err = w.Flush(); err != nil {
			return fmt.Errorf("azure: synth: write %s: %w", names[i], err)
		}
	}
	for _, f := range files {
		if err = f.Commit(); err != nil {
			return fmt.Errorf("azure: synth: %w", err)
		}
	}
	if err := tracefile.WriteSynthMarker(dir, "azure", opts.Seed, names...); err != nil {
		return fmt.Errorf("azure: synth: %w", err)
	}
	return nil
}

// SynthBytes returns the three files of a synthetic day in memory, keyed by
// their real names (for NewMemDataset).
func SynthBytes(opts SynthOptions) (map[string][]byte, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var inv, dur, mem bytes.Buffer
	// Sizes a little above the usual ones (about 57 + 2.05·Minutes, 84 and
	// 28 bytes per invocation row): growing a big buffer would cost more.
	inv.Grow(opts.Rows * (64 + 43*opts.Minutes/20))
	dur.Grow(opts.Rows * 90)
	mem.Grow(opts.Rows * 32)
	if err := synthesize(opts, &inv, &dur, &mem); err != nil {
		return nil, err
	}
	return map[string][]byte{
		InvocationsName(opts.Day): inv.Bytes(),
		DurationsName(opts.Day):   dur.Bytes(),
		MemoryName(opts.Day):      mem.Bytes(),
	}, nil
}

// Sample returns a small synthetic day in memory that covers sel: day
// sel.Day, DefaultSynthRows rows, so that every position a selection like
// upstream's names exists in the join (upstream picks up to 44914 of about
// 45,100), but only sel.Last minute columns; the rows at sel.Positions carry
// busy traffic. It is built in a few tens of milliseconds.
func Sample(seed uint64, sel Selection) (*Dataset, error) {
	files, err := SynthBytes(SynthOptions{Seed: seed, Day: sel.Day, Minutes: sel.Last, Busy: sel.Positions})
	if err != nil {
		return nil, fmt.Errorf("azure: sample: %w", err)
	}
	return NewMemDataset(files), nil
}

// synthRow is what the durations and memory files need of an invocation row.
type synthRow struct {
	owner, app, function uint64
	total                int64 // invocations in the day
	matched              bool
}

// synth holds the state of one synthesis.
type synth struct {
	o     SynthOptions
	rng   *rand.Rand
	key   uint64       // hash key, from the seed
	ctr   uint64       // hashes drawn
	zeros []byte       // "0,0,0,…"
	inv   [128]float64 // inv[k] = 1/k
}

// hash returns a fresh 64-bit value, unique within the synthesis (written
// as 16 hex digits): a bijective mix (the SplitMix64 finalizer) of a counter
// offset by a seeded key, so no set of used values is needed.
func (s *synth) hash() uint64 {
	s.ctr++
	z := s.key + s.ctr
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func appendHash(b []byte, h uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, digits[(h>>uint(i))&15])
	}
	return b
}

// heavy returns floor(exp(X)) for X exponential with the given rate: a
// Pareto-like integer >= 1 with P(v >= x) = x^-rate.
func heavy(rng *rand.Rand, rate float64, max int) int {
	v := int(math.Exp(rng.ExpFloat64() / rate))
	return min(v, max)
}

// synthesize writes the three files.
func synthesize(o SynthOptions, invW, durW, memW io.Writer) error {
	s := newSynth(o)
	rows := s.layout()
	busy := s.busyRows(rows)
	if err := s.writeInvocations(invW, rows, busy); err != nil {
		return err
	}
	if err := s.writeDurations(durW, rows); err != nil {
		return err
	}
	return s.writeMemory(memW, rows)
}

func newSynth(o SynthOptions) *synth {
	s := &synth{
		o:   o,
		rng: rand.New(rand.NewPCG(o.Seed, 0x617a7572652d3139)), // "azure-19"
	}
	s.key = s.rng.Uint64()
	for k := 1; k < len(s.inv); k++ {
		s.inv[k] = 1 / float64(k)
	}
	s.zeros = bytes.Repeat([]byte("0,"), o.Minutes)
	return s
}

// layout draws owners, apps and functions (apps per owner and functions per
// app heavy-tailed) and marks the unmatched rows.
func (s *synth) layout() []synthRow {
	rows := make([]synthRow, 0, s.o.Rows)
	for len(rows) < s.o.Rows {
		owner := s.hash()
		for range heavy(s.rng, 2.5, 50) {
			app := s.hash()
			for range heavy(s.rng, 1.6, 200) {
				if len(rows) == s.o.Rows {
					break
				}
				rows = append(rows, synthRow{owner: owner, app: app, function: s.hash(), matched: true})
			}
		}
	}
	unmatched := int(math.Round(float64(len(rows)) * s.o.UnmatchedFrac))
	for _, i := range s.rng.Perm(len(rows))[:unmatched] {
		rows[i].matched = false
	}
	return rows
}

// busyRows maps the Busy joined positions to row indices.
func (s *synth) busyRows(rows []synthRow) map[int]bool {
	if len(s.o.Busy) == 0 {
		return nil
	}
	want := make(map[int]bool, len(s.o.Busy))
	for _, p := range s.o.Busy {
		want[p] = true
	}
	busy := make(map[int]bool, len(s.o.Busy))
	pos := 0
	for i, r := range rows {
		if r.matched {
			if want[pos] {
				busy[i] = true
			}
			pos++
		}
	}
	return busy
}

// trigger draws a trigger kind with roughly its share of rows in the real
// trace.
func (g *rowGen) trigger() string {
	triggerKinds := [...]struct {
		name  string
		share float64
	}{
		{"http", 0.55}, {"timer", 0.16}, {"queue", 0.15}, {"orchestration", 0.07},
		{"storage", 0.03}, {"event", 0.02}, {"others", 0.02},
	}
	u := g.rng.Float64()
	for _, t := range triggerKinds {
		if u < t.share {
			return t.name
		}
		u -= t.share
	}
	return triggerKinds[0].name
}

// synthChunkRows is the number of invocation rows generated as one unit,
// each unit from its own random stream, so that units can be generated in
// parallel and the output does not depend on scheduling.
const synthChunkRows = 1024

// rowGen generates invocation rows; one per goroutine.
type rowGen struct {
	o     *SynthOptions
	rng   *rand.Rand
	zeros []byte        // "0,0,0,…", shared, read only
	inv   *[128]float64 // inv[k] = 1/k, shared, read only
}

// chunk generates rows[first:first+synthChunkRows] into buf and sets their
// totals.
func (g *rowGen) chunk(buf []byte, rows []synthRow, first int, busy map[int]bool) []byte {
	for i := first; i < min(first+synthChunkRows, len(rows)); i++ {
		r := &rows[i]
		buf = appendHash(buf, r.owner)
		buf = append(buf, ',')
		buf = appendHash(buf, r.app)
		buf = append(buf, ',')
		buf = appendHash(buf, r.function)
		buf = append(buf, ',')
		trig := g.trigger()
		buf = append(buf, trig...)
		buf = append(buf, ',')
		if trig == "timer" && !busy[i] {
			buf, r.total = g.timerCounts(buf)
		} else {
			buf, r.total = g.burstyCounts(buf, busy[i])
		}
		buf[len(buf)-1] = '\n' // the last comma
	}
	return buf
}

// writeInvocations writes the invocations file, its rows generated in
// chunks of synthChunkRows.
func (s *synth) writeInvocations(w io.Writer, rows []synthRow, busy map[int]bool) error {
	header := appendCSVLine(nil, InvocationsHeader(s.o.Minutes))
	n := (len(rows) + synthChunkRows - 1) / synthChunkRows
	return s.writeChunks(w, "invocations", header, n, streamInvocations, func(rng *rand.Rand, c int, buf []byte) []byte {
		g := &rowGen{o: &s.o, rng: rng, zeros: s.zeros, inv: &s.inv}
		return g.chunk(buf, rows, c*synthChunkRows, busy)
	})
}

// PCG streams of the chunks of each file: chunk c of a file uses the file's
// stream + c, so chunks can be generated in parallel and the bytes do not
// depend on scheduling.
const (
	streamInvocations = 0x696e7600_00000000 // "inv"
	streamDurations   = 0x64757200_00000000 // "dur"
	streamMemory      = 0x6d656d00_00000000 // "mem"
)

// writeChunks writes header, then chunks 0…n-1 in order, each made by gen
// with its own random stream, on GOMAXPROCS goroutines holding at most two
// chunks each.
func (s *synth) writeChunks(w io.Writer, what string, header []byte, n int, stream uint64,
	gen func(rng *rand.Rand, c int, buf []byte) []byte) error {
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("azure: synth: write %s: %w", what, err)
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	type job struct {
		c   int
		buf []byte
	}
	free := make(chan []byte, 2*workers) // buffers, bounding chunks in flight
	for range cap(free) {
		free <- nil
	}
	jobs := make(chan job)
	done := make([]chan []byte, n)
	for c := range done {
		done[c] = make(chan []byte, 1)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(jobs)
		for c := range n {
			select {
			case buf := <-free:
				select {
				case jobs <- job{c, buf}:
				case <-stop:
					return
				}
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				rng := rand.New(rand.NewPCG(s.o.Seed, stream+uint64(j.c)))
				done[j.c] <- gen(rng, j.c, j.buf[:0])
			}
		}()
	}
	for c := range n {
		buf := <-done[c]
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("azure: synth: write %s: %w", what, err)
		}
		free <- buf
	}
	return nil
}

// timerCounts writes a periodic row: c invocations every period minutes.
func (g *rowGen) timerCounts(line []byte) ([]byte, int64) {
	periods := [...]int{1, 1, 5, 5, 10, 15, 30, 60, 60, 120, 360, 1440}
	period := periods[g.rng.IntN(len(periods))]
	c := int64(heavy(g.rng, 3, g.o.MaxCount))
	phase := g.rng.IntN(period)
	var total int64
	for m := 0; m < g.o.Minutes; {
		next := m + (phase-m%period+period)%period
		if next >= g.o.Minutes {
			line = append(line, g.zeros[:2*(g.o.Minutes-m)]...)
			break
		}
		line = append(line, g.zeros[:2*(next-m)]...)
		v := c
		if g.rng.IntN(20) == 0 { // a missed or doubled tick now and then
			v = min(int64(g.rng.IntN(int(2*c)+1)), int64(g.o.MaxCount))
		}
		line = strconv.AppendInt(line, v, 10)
		line = append(line, ',')
		total += v
		m = next + 1
	}
	return line, total
}

// burstyCounts writes an on/off row: off runs are all zero, on runs draw
// Poisson counts around a per-row rate, with one minute in 16 a burst at a
// per-row multiple of it. Most rows are rarely on; a few rows are hot. busy
// rows are always on, at a high rate.
func (g *rowGen) burstyCounts(line []byte, busy bool) ([]byte, int64) {
	rate := math.Exp(0.3 + 1.6*g.rng.NormFloat64())      // per minute while on
	duty := min(math.Exp(-2.5+2*g.rng.NormFloat64()), 1) // fraction of minutes on
	onLen := 1 + math.Exp(1+1.2*g.rng.NormFloat64())     // mean on run, minutes
	if busy {
		rate = 5 + 55*g.rng.Float64()
		duty = 1
	}
	maxC := float64(g.o.MaxCount)
	rate = min(rate, maxC)
	burst := min(rate*(2+3*g.rng.Float64()), maxC)
	offLen := onLen * (1 - duty) / max(duty, 1e-9)
	expRate, expBurst := math.Exp(-rate), math.Exp(-burst)
	on := g.rng.Float64() < duty
	var total int64
	for m := 0; m < g.o.Minutes; {
		n := g.o.Minutes - m
		switch {
		case on && duty < 1:
			n = min(n, 1+int(g.rng.ExpFloat64()*onLen))
		case !on:
			n = min(n, 1+int(g.rng.ExpFloat64()*offLen))
		}
		if !on {
			line = append(line, g.zeros[:2*n]...)
		} else {
			for range n {
				u := g.rng.Uint64()
				r, e := rate, expRate
				if u&15 == 0 {
					r, e = burst, expBurst
				}
				v := min(g.poisson(r, e, float64(u>>11)/(1<<53)), int64(g.o.MaxCount))
				if busy && v == 0 {
					v = 1
				}
				line = appendCount(line, v)
				total += v
			}
		}
		m += n
		on = !on || duty >= 1
	}
	return line, total
}

// poisson draws a Poisson variate of mean r (expR = e^-r) from the uniform
// u in [0, 1): by inversion for small means, by a rounded normal for large
// ones.
func (g *rowGen) poisson(r, expR, u float64) int64 {
	if r < 15 {
		p := expR
		f := p
		var k int64
		for u > f && k < int64(len(g.inv)-1) {
			k++
			p *= r * g.inv[k]
			f += p
		}
		return k
	}
	return max(int64(math.Round(r+math.Sqrt(r)*g.rng.NormFloat64())), 0)
}

// spread fills p (ascending) around a median, each step a random factor
// 1 + width·u with u uniform in [0, 1) weighted by steps[k].
func spread(rng *rand.Rand, p []int64, mid int, median, width float64, steps []float64) {
	v := median
	for k := mid; k < len(p); k++ {
		if k > mid {
			v *= 1 + width*steps[k]*rng.Float64()
		}
		p[k] = int64(v)
	}
	v = median
	for k := mid - 1; k >= 0; k-- {
		v /= 1 + width*steps[k]*rng.Float64()
		p[k] = min(int64(v), p[k+1])
	}
}

// writeDurations writes one row per matched invocation row and some decoys,
// in shuffled order.
func (s *synth) writeDurations(w io.Writer, rows []synthRow) error {
	out := make([]synthRow, 0, len(rows))
	var unmatched []synthRow
	for _, r := range rows {
		if r.matched {
			out = append(out, r)
		} else {
			unmatched = append(unmatched, r)
		}
	}
	decoys := int(math.Round(float64(len(unmatched)) * s.o.DecoyFrac))
	for _, i := range s.rng.Perm(len(unmatched))[:decoys] {
		d := unmatched[i]
		d.app = s.hash() // same owner and function, another app
		d.total = 1 + int64(heavy(s.rng, 1, 100000))
		out = append(out, d)
	}
	s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })

	header := appendCSVLine(nil, durationsColumns[:])
	n := (len(out) + synthChunkRows - 1) / synthChunkRows
	return s.writeChunks(w, "durations", header, n, streamDurations, func(rng *rand.Rand, c int, line []byte) []byte {
		for i := c * synthChunkRows; i < min((c+1)*synthChunkRows, len(out)); i++ {
			r := &out[i]
			line = appendHash(line, r.owner)
			line = append(line, ',')
			line = appendHash(line, r.app)
			line = append(line, ',')
			line = appendHash(line, r.function)
			// Average, Count, Minimum, Maximum, then 7 percentiles (ms).
			median := math.Exp(4 + 2*rng.NormFloat64())
			var p [7]int64 // percentiles 0, 1, 25, 50, 75, 99, 100
			spread(rng, p[:], 3, median, 0.2+0.6*rng.Float64(), []float64{1, 1.5, 0.6, 0, 0.7, 2, 1})
			avg := (p[2] + 2*p[3] + p[4]) / 4
			line = append(line, ',')
			line = strconv.AppendInt(line, avg, 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, max(r.total, 1), 10)
			if rng.Float64() < s.o.EmptyMinMaxFrac {
				line = append(line, ",,"...)
			} else {
				line = append(line, ',')
				line = strconv.AppendInt(line, p[0], 10)
				line = append(line, ',')
				line = strconv.AppendInt(line, p[6], 10)
			}
			for _, v := range p {
				line = append(line, ',')
				line = strconv.AppendInt(line, v, 10)
			}
			line = append(line, '\n')
		}
		return line
	})
}

// writeMemory writes one row for a share of the apps, in shuffled order.
func (s *synth) writeMemory(w io.Writer, rows []synthRow) error {
	type app struct{ owner, app uint64 }
	var apps []app
	for i, r := range rows {
		if i == 0 || rows[i-1].app != r.app {
			apps = append(apps, app{r.owner, r.app})
		}
	}
	keep := int(math.Round(float64(len(apps)) * s.o.MemoryAppFrac))
	perm := s.rng.Perm(len(apps))[:keep]

	header := appendCSVLine(nil, memoryColumns[:])
	n := (len(perm) + synthChunkRows - 1) / synthChunkRows
	return s.writeChunks(w, "app memory", header, n, streamMemory, func(rng *rand.Rand, c int, line []byte) []byte {
		for _, i := range perm[c*synthChunkRows : min((c+1)*synthChunkRows, len(perm))] {
			a := apps[i]
			line = appendHash(line, a.owner)
			line = append(line, ',')
			line = appendHash(line, a.app)
			line = append(line, ',')
			line = strconv.AppendInt(line, 1+int64(heavy(rng, 0.8, 20000)), 10) // SampleCount
			mb := math.Exp(4.5 + 0.8*rng.NormFloat64())
			var p [8]int64 // percentiles 1, 5, 25, 50, 75, 95, 99, 100
			spread(rng, p[:], 3, mb, 0.1+0.4*rng.Float64(), []float64{0.3, 0.6, 0.5, 0, 0.4, 0.6, 0.3, 0.3})
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(mb), 10)
			for _, v := range p {
				line = append(line, ',')
				line = strconv.AppendInt(line, max(v, 1), 10)
			}
			line = append(line, '\n')
		}
		return line
	})
}

// appendCount appends v (>= 0) and a comma.
func appendCount(b []byte, v int64) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v), ',')
	case v < 100:
		return append(b, byte('0'+v/10), byte('0'+v%10), ',')
	}
	return append(strconv.AppendInt(b, v, 10), ',')
}

func appendCSVLine(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, '\n')
}
