package huawei

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"trenv-bench/traces/tracefile"
)

// DefaultWindowLength is the length of a Window, in minutes, when its Length
// is 0: upstream replays 60 minutes of each function.
const DefaultWindowLength = 60

// DirName is the name of the directory of the day files in the trace
// (public_dataset/csv_files/requests_minute).
const DirName = "requests_minute"

// ErrBadWindow means a Window does not lie inside one day or names a negative
// function id or day.
var ErrBadWindow = errors.New("huawei: bad window")

// Window selects consecutive minutes of one function on one day, as an entry
// (function id, day, start_hour, off) of upstream gen_trace.py does: minutes
// [StartHour·60 − Offset, StartHour·60 − Offset + Length) of day_DD.csv.
//
// For example {Function: 372, Day: 21, StartHour: 16, Offset: -4, Length: 60}
// is minutes 964…1023 of day_21.csv, column "372".
type Window struct {
	// Function is the function id: the header name of the column.
	Function int
	// Day is the day index: the window reads DayFileName(Day).
	Day int
	// StartHour is the hour of the day the window is anchored at (0…24).
	StartHour int
	// Offset is subtracted from StartHour·60, in minutes: a positive Offset
	// starts the window earlier, a negative one later. Zero for none.
	Offset int
	// Length is the number of minutes; 0 means DefaultWindowLength.
	Length int
}

// FirstMinute returns the minute of the day (0…1439 when valid) the window
// starts at: StartHour·60 − Offset.
func (w Window) FirstMinute() int { return w.StartHour*60 - w.Offset }

// Len returns the length of the window in minutes, DefaultWindowLength when
// Length is 0.
func (w Window) Len() int {
	if w.Length == 0 {
		return DefaultWindowLength
	}
	return w.Length
}

// Validate reports an error wrapping ErrBadWindow unless the function id and
// day are non-negative and the window lies inside minutes 0…1439 of the day.
func (w Window) Validate() error {
	switch {
	case w.Function < 0:
		return fmt.Errorf("%w: function id %d is negative", ErrBadWindow, w.Function)
	case w.Day < 0:
		return fmt.Errorf("%w: day %d is negative", ErrBadWindow, w.Day)
	case w.Length < 0 || w.Length > MinutesPerDay:
		return fmt.Errorf("%w: length %d minutes is not in 0…%d", ErrBadWindow, w.Length, MinutesPerDay)
	case w.StartHour < 0 || w.StartHour > 24:
		return fmt.Errorf("%w: start hour %d is not in 0…24", ErrBadWindow, w.StartHour)
	case w.Offset < -MinutesPerDay || w.Offset > MinutesPerDay:
		return fmt.Errorf("%w: offset %d minutes is not in ±%d", ErrBadWindow, w.Offset, MinutesPerDay)
	}
	if first := w.FirstMinute(); first < 0 || first+w.Len() > MinutesPerDay {
		return fmt.Errorf("%w: minutes %d…%d of function %d are not inside day %d (0…%d)",
			ErrBadWindow, first, first+w.Len()-1, w.Function, w.Day, MinutesPerDay-1)
	}
	return nil
}

// String describes the window: "function 372, day_21.csv minutes 964-1023".
func (w Window) String() string {
	first := w.FirstMinute()
	return fmt.Sprintf("function %d, %s minutes %d-%d", w.Function, DayFileName(w.Day), first, first+w.Len()-1)
}

// Dataset is a set of day files: a requests_minute directory on disk, or
// files held in memory. It holds no open files; its methods may be called
// concurrently.
type Dataset struct {
	dir   string            // directory of the day files; "" for memory
	files map[string][]byte // in-memory files by name; nil for a directory
}

// OpenDataset returns the dataset at path, which is one of
//   - a requests_minute directory holding day_DD.csv or day_DD.csv.gz files,
//   - a directory holding requests_minute/ (such as public_dataset/csv_files),
//   - one day file, whose directory is then used.
//
// It checks that the directory holds at least one day file but opens none.
// A missing path is an error naming it and wrapping fs.ErrNotExist.
func OpenDataset(path string) (*Dataset, error) {
	const want = "expected the Huawei trace's " + DirName + " directory holding day_DD.csv or day_DD.csv.gz files, its parent, or one day file"
	st, err := os.Stat(path)
	if err != nil {
		return nil, &tracefile.RowError{Path: path, Err: fmt.Errorf("huawei: %w; %s", err, want)}
	}
	dir := path
	if !st.IsDir() {
		if _, ok := parseDayName(filepath.Base(path)); !ok {
			return nil, &tracefile.RowError{Path: path, Err: fmt.Errorf("huawei: not a day file (day_DD.csv or day_DD.csv.gz); %s", want)}
		}
		dir = filepath.Dir(path)
	} else if sub := filepath.Join(path, DirName); isDir(sub) {
		dir = sub
	}
	d := &Dataset{dir: dir}
	days, err := d.Days()
	if err != nil {
		return nil, err
	}
	if len(days) == 0 {
		return nil, &tracefile.RowError{Path: dir, Err: fmt.Errorf("huawei: no day files (day_DD.csv or day_DD.csv.gz): %w; %s", fs.ErrNotExist, want)}
	}
	return d, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// NewMemDataset returns a dataset of in-memory day files, keyed by file name
// (DayFileName(day), or that plus ".gz" for gzip-compressed bytes). Other
// names are ignored. The map and the bytes must not change while in use.
func NewMemDataset(files map[string][]byte) *Dataset {
	return &Dataset{files: files}
}

// Dir returns the directory of the day files, "" for an in-memory dataset.
func (d *Dataset) Dir() string { return d.dir }

// Days returns the days that have a day file, in increasing order.
func (d *Dataset) Days() ([]int, error) {
	var names []string
	if d.files != nil {
		for name := range d.files {
			names = append(names, name)
		}
	} else {
		ents, err := os.ReadDir(d.dir)
		if err != nil {
			return nil, &tracefile.RowError{Path: d.dir, Err: fmt.Errorf("huawei: %w", err)}
		}
		for _, e := range ents {
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
	}
	var days []int
	for _, name := range names {
		if day, ok := parseDayName(name); ok {
			days = append(days, day)
		}
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}

// parseDayName returns the day of a day file name: day_DD.csv or
// day_DD.csv.gz, DD two or more digits.
func parseDayName(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "day_")
	if !ok {
		return 0, false
	}
	if t, ok := strings.CutSuffix(s, ".csv.gz"); ok {
		s = t
	} else if s, ok = strings.CutSuffix(s, ".csv"); !ok {
		return 0, false
	}
	day, err := strconv.Atoi(s)
	if err != nil || day < 0 || DayFileName(day) != "day_"+s+".csv" {
		return 0, false
	}
	return day, true
}

// dayFile is one day file to read.
type dayFile struct {
	day  int
	path string // for errors and the meter
	size int64  // bytes in storage (compressed for .gz)
	mem  []byte // in-memory content; nil on disk
}

// Files returns the day files on disk that Read reads for windows, one per
// day in increasing order (plain if present, else .gz); nil for an
// in-memory dataset. A missing day file is an error wrapping fs.ErrNotExist,
// as Read's.
func (d *Dataset) Files(windows []Window) ([]string, error) {
	if d.files != nil {
		return nil, nil
	}
	var days []int
	for _, w := range windows {
		days = append(days, w.Day)
	}
	var out []string
	for _, day := range slices.Compact(slices.Sorted(slices.Values(days))) {
		f, err := d.locate(day)
		if err != nil {
			return nil, err
		}
		out = append(out, f.path)
	}
	return out, nil
}

// locate finds the file of a day: the plain file if present, else the .gz.
func (d *Dataset) locate(day int) (dayFile, error) {
	name := DayFileName(day)
	if d.files != nil {
		for _, n := range []string{name, name + ".gz"} {
			if b, ok := d.files[n]; ok {
				return dayFile{day: day, path: n, size: int64(len(b)), mem: b}, nil
			}
		}
		return dayFile{}, &tracefile.RowError{Path: name, Err: fmt.Errorf("huawei: day %d: no in-memory file %s or %s.gz: %w", day, name, name, fs.ErrNotExist)}
	}
	for _, n := range []string{name, name + ".gz"} {
		p := filepath.Join(d.dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return dayFile{day: day, path: p, size: st.Size()}, nil
		}
	}
	p := filepath.Join(d.dir, name)
	return dayFile{}, &tracefile.RowError{Path: p, Err: fmt.Errorf("huawei: day %d: neither %s nor %s.gz exists in %s: %w", day, name, name, d.dir, fs.ErrNotExist)}
}

// open opens a located day file; m observes the bytes read from storage.
func (f dayFile) open(m tracefile.Meter) (io.Reader, func() error, error) {
	if f.mem == nil {
		tf, err := tracefile.Open(f.path, m)
		if err != nil {
			return nil, nil, err
		}
		return tf, tf.Close, nil
	}
	var r io.Reader = tracefile.MeteredReader{R: bytes.NewReader(f.mem), M: m}
	if !strings.HasSuffix(f.path, ".gz") {
		return r, func() error { return nil }, nil
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: %w", tracefile.ErrTruncated, err)
		}
		return nil, nil, &tracefile.RowError{Path: f.path, Err: fmt.Errorf("not a gzip stream: %w", err)}
	}
	return tracefile.TruncationReader{R: gz}, gz.Close, nil
}

// lockedMeter forwards Advance of several concurrent readers to one Meter
// and drops their Begin and End.
type lockedMeter struct {
	mu sync.Mutex
	m  tracefile.Meter
}

func (l *lockedMeter) Begin(string, int64) {}
func (l *lockedMeter) End()                {}
func (l *lockedMeter) Advance(n int64) {
	l.mu.Lock()
	l.m.Advance(n)
	l.mu.Unlock()
}

var _ tracefile.Meter = (*lockedMeter)(nil)

// Read returns the cells of each window, in input order: Read(…)[i][j] is
// the requests of windows[i].Function in minute windows[i].FirstMinute()+j
// (an empty cell is 0). Each needed day file is read once, validated in
// full, and files are read concurrently (up to GOMAXPROCS at a time).
//
// m, when not nil, sees one Begin (label: the directory, total: the summed
// sizes of the files in storage, compressed for .gz), the Advance of every
// file from several goroutines (serialised), and one End.
//
// Errors: a window failing Validate (ErrBadWindow), a missing day file
// (fs.ErrNotExist), a function id absent from its day file's header
// (tracefile.ErrHeader), bad content (*tracefile.RowError), or ctx's error
// when it is cancelled.
func (d *Dataset) Read(ctx context.Context, windows []Window, m tracefile.Meter) ([][]float64, error) {
	for i, w := range windows {
		if err := w.Validate(); err != nil {
			return nil, fmt.Errorf("huawei: window %d (%v): %w", i, w, err)
		}
	}
	// Group windows by day; locate every file before reading any.
	byDay := map[int][]int{} // day → window indexes
	for i, w := range windows {
		byDay[w.Day] = append(byDay[w.Day], i)
	}
	days := make([]int, 0, len(byDay))
	for day := range byDay {
		days = append(days, day)
	}
	slices.Sort(days)
	files := make([]dayFile, len(days))
	var total int64
	for i, day := range days {
		f, err := d.locate(day)
		if err != nil {
			return nil, err
		}
		files[i] = f
		total += f.size
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("huawei: read: %w", err)
	}

	out := make([][]float64, len(windows))
	for i, w := range windows {
		out[i] = make([]float64, w.Len())
	}
	if m == nil {
		m = tracefile.NopMeter{}
	}
	label := d.dir
	if label == "" {
		label = "huawei (in memory)"
	}
	m.Begin(label, total)
	defer m.End()
	shared := &lockedMeter{m: m}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := range next {
				if errs[i] = readDay(ctx, files[i], windows, byDay[files[i].day], out, shared); errs[i] != nil {
					cancel()
				}
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	// Report the error of the first file that failed for its own reason,
	// else the cancellation.
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("huawei: read: %w", err)
	}
	return out, nil
}

// readDay reads one day file and fills the cells of the windows idx of it.
func readDay(ctx context.Context, f dayFile, windows []Window, idx []int, out [][]float64, m tracefile.Meter) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("huawei: %s: %w", f.path, err)
	}
	src, closeFn, err := f.open(m)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeFn(); cerr != nil && err == nil {
			err = fmt.Errorf("huawei: close %s: %w", f.path, cerr)
		}
	}()
	keep := make([]int, len(idx))
	for k, i := range idx {
		keep[k] = windows[i].Function
	}
	r := NewReader(src, f.path, f.day, keep)
	for r.Next() {
		if r.Minute()%64 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("huawei: %s: %w", f.path, err)
			}
		}
		t, vals := r.Minute(), r.Values()
		for k, i := range idx {
			if j := t - windows[i].FirstMinute(); j >= 0 && j < len(out[i]) {
				out[i][j] = vals[k]
			}
		}
	}
	return r.Err()
}
