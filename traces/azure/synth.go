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
	"strconv"
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
	// get busy, bursty traffic in every minute of the first hour. Positions
	// at or beyond the join's size are ignored.
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

// Synth writes the three files of a synthetic day into dir (which must
// exist) under their real names, as plain CSV. Each file is written to a
// temporary file in dir and renamed into place when complete. A full day
// (46,500 rows × 1,440 minutes, about 140 MB) takes a few seconds.
func Synth(dir string, opts SynthOptions) (err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return err
	}
	names := []string{InvocationsName(opts.Day), DurationsName(opts.Day), MemoryName(opts.Day)}
	var files [3]*os.File
	var ws [3]*bufio.Writer
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
				if err != nil {
					os.Remove(f.Name())
				}
			}
		}
	}()
	for i, n := range names {
		if files[i], err = os.CreateTemp(dir, "."+n+".tmp-*"); err != nil {
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
		if err = files[i].Close(); err != nil {
			return fmt.Errorf("azure: synth: write %s: %w", names[i], err)
		}
	}
	for i, f := range files {
		if err = os.Rename(f.Name(), filepath.Join(dir, names[i])); err != nil {
			return fmt.Errorf("azure: synth: %w", err)
		}
		files[i] = nil
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
	// Rough sizes: a few bytes per cell, ~100 bytes per durations row.
	inv.Grow(opts.Rows * (60 + 2*opts.Minutes))
	dur.Grow(opts.Rows * 100)
	mem.Grow(opts.Rows * 30)
	if err := synthesize(opts, &inv, &dur, &mem); err != nil {
		return nil, err
	}
	return map[string][]byte{
		InvocationsName(opts.Day): inv.Bytes(),
		DurationsName(opts.Day):   dur.Bytes(),
		MemoryName(opts.Day):      mem.Bytes(),
	}, nil
}

// UpstreamPositions returns the 26 joined-table positions upstream
// gen_trace.py picks for its azure workload (spec §1.8), in the order of its
// table: base names, then _1, then _2.
func UpstreamPositions() []int {
	return []int{
		6669, 37121, 10982, 2400, 14876, 28412, 28418, 39078, 44914, 26387, 19236,
		40905, 31485, 11187, 5195, 35943, 8849, 35278, 4756,
		36112, 23833, 8997, 29974, 15085, 25780, 3237,
	}
}

// SampleMinutes is the number of minute columns of Sample.
const SampleMinutes = UpstreamFirstMinute + UpstreamLastMinute - 1

// Sample returns a small synthetic day in memory: DefaultSynthRows rows, so
// that every position upstream selects exists in the join (up to 44914 of
// 45,105), but only SampleMinutes minute columns. The rows at
// UpstreamPositions carry busy traffic. It is built in a few tens of
// milliseconds.
func Sample(seed uint64) *Dataset {
	files, err := SynthBytes(SynthOptions{Seed: seed, Minutes: SampleMinutes, Busy: UpstreamPositions()})
	if err != nil {
		panic("azure: Sample: " + err.Error()) // fixed options: cannot fail
	}
	return NewMemDataset(files)
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
	key   uint64 // hash key, from the seed
	ctr   uint64 // hashes drawn
	line  []byte
	zeros []byte // "0,0,0,…"
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
func (s *synth) heavy(rate float64, max int) int {
	v := int(math.Exp(s.rng.ExpFloat64() / rate))
	return min(v, max)
}

// synthesize writes the three files.
func synthesize(o SynthOptions, invW, durW, memW io.Writer) error {
	s := &synth{
		o:   o,
		rng: rand.New(rand.NewPCG(o.Seed, 0x617a7572652d3139)), // "azure-19"
	}
	s.key = s.rng.Uint64()
	s.zeros = bytes.Repeat([]byte("0,"), o.Minutes)
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

// layout draws owners, apps and functions (apps per owner and functions per
// app heavy-tailed) and marks the unmatched rows.
func (s *synth) layout() []synthRow {
	rows := make([]synthRow, 0, s.o.Rows)
	for len(rows) < s.o.Rows {
		owner := s.hash()
		for range s.heavy(2.5, 50) {
			app := s.hash()
			for range s.heavy(1.6, 200) {
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
func (s *synth) trigger() string {
	triggerKinds := [...]struct {
		name  string
		share float64
	}{
		{"http", 0.55}, {"timer", 0.16}, {"queue", 0.15}, {"orchestration", 0.07},
		{"storage", 0.03}, {"event", 0.02}, {"others", 0.02},
	}
	u := s.rng.Float64()
	for _, t := range triggerKinds {
		if u < t.share {
			return t.name
		}
		u -= t.share
	}
	return triggerKinds[0].name
}

func (s *synth) writeInvocations(w io.Writer, rows []synthRow, busy map[int]bool) error {
	line := s.line[:0]
	for i, h := range InvocationsHeader(s.o.Minutes) {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, h...)
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("azure: synth: write invocations: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		line = line[:0]
		line = appendHash(line, r.owner)
		line = append(line, ',')
		line = appendHash(line, r.app)
		line = append(line, ',')
		line = appendHash(line, r.function)
		line = append(line, ',')
		trig := s.trigger()
		line = append(line, trig...)
		line = append(line, ',')
		var total int64
		if trig == "timer" && !busy[i] {
			line, total = s.timerCounts(line)
		} else {
			line, total = s.burstyCounts(line, busy[i])
		}
		r.total = total
		line[len(line)-1] = '\n' // the last comma
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("azure: synth: write invocations: %w", err)
		}
	}
	s.line = line
	return nil
}

// timerCounts writes a periodic row: c invocations every period minutes.
func (s *synth) timerCounts(line []byte) ([]byte, int64) {
	periods := [...]int{1, 1, 5, 5, 10, 15, 30, 60, 60, 120, 360, 1440}
	period := periods[s.rng.IntN(len(periods))]
	c := int64(s.heavy(3, s.o.MaxCount))
	phase := s.rng.IntN(period)
	var total int64
	for m := 0; m < s.o.Minutes; {
		next := m + (phase-m%period+period)%period
		if next >= s.o.Minutes {
			line = append(line, s.zeros[:2*(s.o.Minutes-m)]...)
			break
		}
		line = append(line, s.zeros[:2*(next-m)]...)
		v := c
		if s.rng.IntN(20) == 0 { // a missed or doubled tick now and then
			v = min(int64(s.rng.IntN(int(2*c)+1)), int64(s.o.MaxCount))
		}
		line = strconv.AppendInt(line, v, 10)
		line = append(line, ',')
		total += v
		m = next + 1
	}
	return line, total
}

// burstyCounts writes an on/off row: off runs are all zero, on runs draw
// Poisson counts around a per-row rate. Most rows are rarely on; a few rows
// are hot. busy rows are on for the whole first hour with a high rate.
func (s *synth) burstyCounts(line []byte, busy bool) ([]byte, int64) {
	rate := math.Exp(0.3 + 1.6*s.rng.NormFloat64())      // per minute while on
	duty := min(math.Exp(-2.5+2*s.rng.NormFloat64()), 1) // fraction of minutes on
	onLen := 1 + math.Exp(1+1.2*s.rng.NormFloat64())     // mean on run, minutes
	if busy {
		rate = 5 + 55*s.rng.Float64()
		duty = 1
	}
	rate = min(rate, float64(s.o.MaxCount))
	offLen := onLen * (1 - duty) / max(duty, 1e-9)
	expRate := math.Exp(-rate)
	on := s.rng.Float64() < duty
	var total int64
	for m := 0; m < s.o.Minutes; {
		mean := offLen
		if on {
			mean = onLen
		}
		n := s.o.Minutes - m
		if !(busy && on && m < 60) && mean < 1e9 {
			n = min(n, 1+int(s.rng.ExpFloat64()*mean))
		}
		if !on {
			line = append(line, s.zeros[:2*n]...)
		} else {
			for range n {
				// Burst: now and then a minute at several times the rate.
				r, e := rate, expRate
				if s.rng.IntN(16) == 0 {
					r = min(rate*(2+3*s.rng.Float64()), float64(s.o.MaxCount))
					e = math.Exp(-r)
				}
				v := min(s.poisson(r, e), int64(s.o.MaxCount))
				if busy && v == 0 {
					v = 1
				}
				line = strconv.AppendInt(line, v, 10)
				line = append(line, ',')
				total += v
			}
		}
		m += n
		on = !on
		if duty >= 1 {
			on = true
		}
	}
	return line, total
}

// poisson draws a Poisson variate of mean r (expR = e^-r): by inversion for
// small means, by a rounded normal for large ones.
func (s *synth) poisson(r, expR float64) int64 {
	if r < 15 {
		u := s.rng.Float64()
		p := expR
		f := p
		var k int64
		for u > f && k < 200 {
			k++
			p *= r / float64(k)
			f += p
		}
		return k
	}
	return max(int64(math.Round(r+math.Sqrt(r)*s.rng.NormFloat64())), 0)
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
		d.total = 1 + int64(s.heavy(1, 100000))
		out = append(out, d)
	}
	s.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })

	line := s.line[:0]
	line = appendCSVLine(line, durationsColumns[:])
	for i := range out {
		r := &out[i]
		line = appendHash(line, r.owner)
		line = append(line, ',')
		line = appendHash(line, r.app)
		line = append(line, ',')
		line = appendHash(line, r.function)
		// Average, Count, Minimum, Maximum, then 7 percentiles (ms).
		median := math.Exp(4 + 2*s.rng.NormFloat64())
		var p [7]int64
		spread := [...]float64{-1.2, -0.8, -0.25, 0, 0.3, 1.0, 1.6}
		width := 0.2 + 0.5*s.rng.Float64()
		for k := range p {
			p[k] = int64(median * math.Exp(spread[k]*width*(0.8+0.4*s.rng.Float64())))
			if k > 0 && p[k] < p[k-1] {
				p[k] = p[k-1]
			}
		}
		avg := (p[2] + 2*p[3] + p[4]) / 4
		line = append(line, ',')
		line = strconv.AppendInt(line, avg, 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, max(r.total, 1), 10)
		if s.rng.Float64() < s.o.EmptyMinMaxFrac {
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
		if len(line) > 64<<10 {
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("azure: synth: write durations: %w", err)
			}
			line = line[:0]
		}
	}
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("azure: synth: write durations: %w", err)
	}
	s.line = line
	return nil
}

// writeMemory writes one row for a share of the apps, in shuffled order.
func (s *synth) writeMemory(w io.Writer, rows []synthRow) error {
	type app struct {
		owner, app uint64
		total      int64
	}
	var apps []app
	for i, r := range rows {
		if i > 0 && rows[i-1].app == r.app {
			apps[len(apps)-1].total += r.total
			continue
		}
		apps = append(apps, app{r.owner, r.app, r.total})
	}
	keep := int(math.Round(float64(len(apps)) * s.o.MemoryAppFrac))
	perm := s.rng.Perm(len(apps))[:keep]

	line := s.line[:0]
	line = appendCSVLine(line, memoryColumns[:])
	for _, i := range perm {
		a := apps[i]
		line = appendHash(line, a.owner)
		line = append(line, ',')
		line = appendHash(line, a.app)
		line = append(line, ',')
		line = strconv.AppendInt(line, 1+int64(s.heavy(0.8, 20000)), 10) // SampleCount
		mb := math.Exp(4.5 + 0.8*s.rng.NormFloat64())
		spread := [...]float64{-0.6, -0.45, -0.15, 0, 0.15, 0.4, 0.55, 0.7}
		width := 0.1 + 0.6*s.rng.Float64()
		var p [8]int64
		for k := range p {
			p[k] = max(int64(mb*math.Exp(spread[k]*width)), 1)
			if k > 0 && p[k] < p[k-1] {
				p[k] = p[k-1]
			}
		}
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(mb), 10)
		for _, v := range p {
			line = append(line, ',')
			line = strconv.AppendInt(line, v, 10)
		}
		line = append(line, '\n')
		if len(line) > 64<<10 {
			if _, err := w.Write(line); err != nil {
				return fmt.Errorf("azure: synth: write app memory: %w", err)
			}
			line = line[:0]
		}
	}
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("azure: synth: write app memory: %w", err)
	}
	s.line = line
	return nil
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
