package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"trenv-bench/internal/atomicfile"
)

// Phase names, as requests.csv, the run directory's files and upstream's
// log use them.
const (
	PhaseWarmup = "warmup"
	PhaseTest   = "test"
)

// Files of a run directory (DESIGN.md, "File formats"). These, and the
// temporary files atomicfile leaves beside them after a crash
// (".<name>.tmp-*"), are the only files CreateRunDir removes under force.
const (
	ManifestFile      = "manifest.json"
	RequestsFile      = "requests.csv"
	TestLogFile       = "test.log"
	MemoryFile        = "memory.csv"
	CPUFile           = "cpu.csv"
	WarmupMetricsFile = "warmup_metrics.output"
	MetricsFile       = "metrics.output"
	MetricsJSONFile   = "metrics.json"
	SummaryFile       = "summary.csv"
)

// RunFiles returns the names of the files a run writes, sorted. The result is
// a new slice each call.
func RunFiles() []string {
	return []string{CPUFile, ManifestFile, MemoryFile, MetricsJSONFile, MetricsFile,
		RequestsFile, SummaryFile, TestLogFile, WarmupMetricsFile}
}

// isRunFile reports whether name is one of RunFiles or a temporary file
// atomicfile made for one of them.
func isRunFile(name string) bool {
	for _, f := range RunFiles() {
		if name == f || strings.HasPrefix(name, "."+f+".tmp-") {
			return true
		}
	}
	return false
}

// ErrRunDirExists is wrapped when CreateRunDir meets a directory that is
// not empty and force is not set.
var ErrRunDirExists = errors.New("results: run directory exists and is not empty (pass --force to overwrite)")

// RunDir is a run directory being written (DESIGN.md, "File formats"):
//
//	manifest.json          written when the run starts (status failed, NoteInProgress),
//	                       rewritten by Begin and, at the end, by Finish
//	requests.csv           Requests(), a row per request as the run goes
//	test.log               Log(), upstream's driver log
//	memory.csv             Memory(), 1 Hz samples
//	warmup_metrics.output  WriteMetrics("warmup", …)
//	metrics.output         WriteMetrics("test", …), and metrics.json, its parsed form
//	summary.csv            Finish, from requests.csv
//
// Whole files (manifest, metrics, summary) are written atomically; the
// streams are appended to as the run goes, so a crash leaves every file
// parseable up to its last flushed row, and a manifest that says failed.
//
// The writers Requests and Memory buffer rows and flush them on a Write
// once a second has passed since their last flush. Rows written just before
// the stream goes quiet stay in the buffer until the next Write or Flush, so
// the goroutine that writes records should also call Flush once a second
// (a ticker in its select loop): then a crash loses at most a second of
// records. test.log's writer buffers its lines the same way. A RunDir's
// methods are safe for concurrent use; its writers are used under its lock.
type RunDir struct {
	path    string
	started time.Time
	lock    *os.File // flock'd while the run writes the directory

	mu                         sync.Mutex // guards everything below
	requests, log, memory, cpu *runFile
	rw                         *RequestWriter
	lw                         *TestLogWriter
	mw                         *MemoryWriter
	cw                         *CPUWriter
	origin                     time.Time // run clock's t = 0; zero until Start
	phases                     []PhaseSpan
	counts                     map[string]*[2]int // per phase: ok, failed
	lastS                      float64            // latest run-clock time seen
	health                     MetricsHealth
	attached                   []string
	stopFlush, flushDone       chan struct{}
	closed                     bool
	closeErr                   error
}

// LockFile is the file CreateRunDir locks (flock) while a run writes the
// directory, so that a second run, even with --force, cannot write into it
// at the same time. The lock goes when the process does, so a crashed run's
// leftover file locks nothing.
const LockFile = ".lock"

// ErrRunDirLocked is wrapped when another run is writing the directory.
var ErrRunDirLocked = errors.New("results: another run is writing this run directory")

// opener opens a stream file of a run directory for writing.
type opener func(path string) (io.WriteCloser, error)

func createFile(path string) (io.WriteCloser, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// CreateRunDir creates the run directory path (and its parents) and starts
// a run in it: it writes a first manifest.json (status failed, note
// NoteInProgress, the start time) and opens requests.csv (header written),
// test.log and memory.csv (header written).
//
// An existing directory must be empty, unless force is set; then the files
// of RunFiles (and leftover temporary files of them) are removed first and
// anything else in it is left alone. Without force the error wraps
// ErrRunDirExists.
func CreateRunDir(path string, force bool) (*RunDir, error) {
	return createRunDir(path, force, createFile, time.Now)
}

func createRunDir(path string, force bool, open opener, now func() time.Time) (*RunDir, error) {
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("results: run directory: %w", err)
	case !force && slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() != LockFile }):
		return nil, fmt.Errorf("%s: %w", path, ErrRunDirExists)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("results: run directory: %w", err)
	}
	lock, err := lockDir(path)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isRunFile(e.Name()) {
			if err := os.Remove(filepath.Join(path, e.Name())); err != nil {
				unlockDir(lock)
				return nil, fmt.Errorf("results: run directory: %w", err)
			}
		}
	}
	d := &RunDir{path: path, started: now(), lock: lock, counts: map[string]*[2]int{PhaseWarmup: {}, PhaseTest: {}}}
	m := Manifest{Status: RunFailed, Note: NoteInProgress, StartedAt: d.started}
	if err := m.WriteFile(d.file(ManifestFile)); err != nil {
		unlockDir(lock)
		return nil, fmt.Errorf("results: run directory: %w", err)
	}
	for _, f := range []struct {
		name string
		rf   **runFile
	}{{RequestsFile, &d.requests}, {TestLogFile, &d.log}, {MemoryFile, &d.memory}, {CPUFile, &d.cpu}} {
		p := d.file(f.name)
		w, err := open(p)
		if err != nil {
			d.closeFiles()
			unlockDir(lock)
			return nil, fmt.Errorf("results: run directory: %w", err)
		}
		*f.rf = &runFile{path: p, w: w}
	}
	d.rw = NewRequestWriter(d.requests)
	d.lw = NewTestLogWriter(d.log)
	d.mw = NewMemoryWriter(d.memory)
	d.cw = NewCPUWriter(d.cpu)
	if err := errors.Join(d.rw.Flush(), d.mw.Flush(), d.cw.Flush()); err != nil {
		d.closeFiles()
		unlockDir(lock)
		return nil, err
	}
	d.stopFlush, d.flushDone = make(chan struct{}), make(chan struct{})
	go d.flushEverySecond()
	return d, nil
}

// flushEverySecond flushes the buffered rows once a second until Close, so
// that a crash loses at most a second of records however quiet the run is.
func (d *RunDir) flushEverySecond() {
	defer close(d.flushDone)
	tick := time.NewTicker(DefaultFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-d.stopFlush:
			return
		case <-tick.C:
			d.mu.Lock()
			d.flushLocked()
			d.mu.Unlock()
		}
	}
}

// Path returns the directory's path.
func (d *RunDir) Path() string { return d.path }

func (d *RunDir) file(name string) string { return filepath.Join(d.path, name) }

// Begin rewrites manifest.json with what is known when the run starts
// (method, flags, workload, seeds, host): m is written with status failed
// and note NoteInProgress, whatever they say, so a crash leaves an honest
// manifest. If m.StartedAt is zero it is set to the time CreateRunDir ran.
func (d *RunDir) Begin(m *Manifest) error {
	if m.StartedAt.IsZero() {
		m.StartedAt = d.started
	}
	cp := *m
	cp.Status, cp.Note = RunFailed, NoteInProgress
	cp.Files = d.presentFiles()
	return cp.WriteFile(d.file(ManifestFile))
}

// writeMetrics writes faasd's /system/metrics text of a phase, raw, byte for
// byte as served: PhaseWarmup to warmup_metrics.output, PhaseTest to
// metrics.output and, parsed (ParseMetrics, Metrics.WriteJSON), to
// metrics.json. Each file is written atomically. If raw does not parse, the
// raw file is kept, no metrics.json is left, and the error wraps the
// *ParseError; any other phase is an error wrapping ErrBadValue.
func (d *RunDir) writeMetrics(phase string, raw []byte) error {
	var name string
	switch phase {
	case PhaseWarmup:
		name = WarmupMetricsFile
	case PhaseTest:
		name = MetricsFile
	default:
		return fmt.Errorf("results: writing metrics: %w: phase %s, want %q or %q",
			ErrBadValue, quoteCell(phase), PhaseWarmup, PhaseTest)
	}
	path := d.file(name)
	if err := atomicfile.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("results: writing metrics: %w", err)
	}
	m, err := ParseMetrics(bytes.NewReader(raw), path)
	if phase != PhaseTest {
		if err != nil {
			return fmt.Errorf("results: warmup metrics kept as served, but they do not parse: %w", err)
		}
		return nil
	}
	jsonPath := d.file(MetricsJSONFile)
	if err != nil {
		if rerr := os.Remove(jsonPath); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("results: metrics kept as served, but they do not parse, so no %s: %w", MetricsJSONFile, err)
	}
	var b bytes.Buffer
	if err := m.WriteJSON(&b); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(jsonPath, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("results: writing metrics: %w", err)
	}
	return nil
}

// flushLocked flushes the buffered rows of requests.csv, test.log, memory.csv and
// cpu.csv and returns the first write error met so far by any of them.
func (d *RunDir) flushLocked() error {
	if d.closed {
		return d.closeErr
	}
	return errors.Join(d.rw.Flush(), d.lw.Flush(), d.mw.Flush(), d.cw.Flush())
}

// Close stops the flusher, flushes the CSV files, syncs and closes the
// stream files, and releases the directory's lock. It returns every write
// error met during the run or now (a full disk, say), each naming its file;
// what was written before an error stays in place and parses. Closing twice
// returns the first result.
func (d *RunDir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeLocked()
}

func (d *RunDir) closeLocked() error {
	if d.closed {
		return d.closeErr
	}
	d.closed = true
	close(d.stopFlush)
	d.mu.Unlock()
	<-d.flushDone // it may be waiting for mu
	d.mu.Lock()
	errs := []error{d.rw.Flush(), d.lw.Flush(), d.mw.Flush(), d.cw.Flush()}
	errs = append(errs, d.closeFiles())
	unlockDir(d.lock)
	d.closeErr = errors.Join(errs...)
	return d.closeErr
}

func (d *RunDir) closeFiles() error {
	var errs []error
	for _, f := range []*runFile{d.requests, d.log, d.memory, d.cpu} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// Finish ends the run: it writes test.log's closing lines (upstream's two
// final counts on a complete run; a line saying the run was interrupted or
// failed, and why, otherwise), closes the stream files (Close), reads
// requests.csv back to write summary.csv (Summarize) and to count the
// requests, then rewrites manifest.json atomically from m.
//
// m.Status must be RunComplete, RunInterrupted or RunFailed, else nothing is
// written. Finish fills in m: SchemaVersion, Phases and Metrics as recorded,
// Requests (ok, failed, abandoned as counted; scheduled the number of rows,
// or m.Requests.Scheduled if that is larger), EndedAt (now, if zero),
// StartedAt (if zero), Files (attachments included); it clears
// NoteInProgress. If a file could not be written or read back, a run that
// says complete is recorded as failed, the errors are added to m.Error, and
// Finish returns them, joined.
func (d *RunDir) Finish(m *Manifest) error {
	if !m.Status.Valid() {
		return fmt.Errorf("results: finishing run: %w: status %s, want complete, interrupted or failed",
			ErrBadValue, quoteCell(string(m.Status)))
	}
	var problems []error
	d.mu.Lock()
	if !d.closed {
		d.closingLines(m)
	}
	m.SchemaVersion = SchemaVersion
	m.Phases = slices.Clone(d.phases)
	m.Metrics = d.health
	attached := slices.Clone(d.attached)
	if err := d.closeLocked(); err != nil {
		problems = append(problems, err)
	}
	d.mu.Unlock()
	sum, err := d.summarize()
	if err != nil {
		problems = append(problems, err)
	}
	var b bytes.Buffer
	if err := WriteSummary(&b, sum); err != nil {
		problems = append(problems, err)
	} else if err := atomicfile.WriteFile(d.file(SummaryFile), b.Bytes(), 0o644); err != nil {
		problems = append(problems, fmt.Errorf("results: writing summary: %w", err))
	}

	counts := sum.Totals()
	counts.Scheduled = max(counts.Scheduled, m.Requests.Scheduled)
	m.Requests = counts
	if m.StartedAt.IsZero() {
		m.StartedAt = d.started
	}
	if m.EndedAt.IsZero() {
		m.EndedAt = time.Now()
	}
	if m.Note == NoteInProgress {
		m.Note = ""
	}
	if len(problems) > 0 {
		if m.Status == RunComplete {
			m.Status = RunFailed
		}
		msgs := make([]string, 0, len(problems)+1)
		if m.Error != "" {
			msgs = append(msgs, m.Error)
		}
		for _, p := range problems {
			msgs = append(msgs, oneLine(p.Error()))
		}
		m.Error = strings.Join(msgs, "; ")
	}
	m.Files = d.presentFiles()
	for _, a := range append(attached, ManifestFile) {
		if !slices.Contains(m.Files, a) {
			m.Files = append(m.Files, a)
		}
	}
	slices.Sort(m.Files)
	if err := m.WriteFile(d.file(ManifestFile)); err != nil {
		problems = append(problems, err)
	}
	return errors.Join(problems...)
}

// summarize reads requests.csv back from disk.
func (d *RunDir) summarize() (Summary, error) {
	path := d.file(RequestsFile)
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("results: summarising: %w", err)
	}
	defer f.Close()
	sum, err := Summarize(f, path)
	if err != nil {
		return sum, fmt.Errorf("results: summarising: %w", err)
	}
	return sum, nil
}

// presentFiles lists the run files in the directory, sorted.
func (d *RunDir) presentFiles() []string {
	var files []string
	for _, name := range RunFiles() {
		if fi, err := os.Stat(d.file(name)); err == nil && fi.Mode().IsRegular() {
			files = append(files, name)
		}
	}
	return files
}

// runFile is a stream file of a run directory; its errors name the file.
//
// Its files hold lines (CSV rows, log lines), and a line must never be cut
// in half: when a write fails part way (a full disk), the file is cut back
// to the end of its last whole line, and every later write fails with the
// same error.
type runFile struct {
	path   string
	w      io.WriteCloser
	closed bool
	err    error // the first write error: sticky
	// size is how many bytes reached the file, lineEnd the end of the
	// last whole line among them.
	size, lineEnd int64
}

func (f *runFile) Write(p []byte) (int, error) {
	if f.closed {
		return 0, f.wrap("write", os.ErrClosed)
	}
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.w.Write(p)
	if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
		f.lineEnd = f.size + int64(i) + 1
	}
	f.size += int64(n)
	if err != nil {
		f.err = f.wrap("write", err)
		if t, ok := f.w.(interface{ Truncate(int64) error }); ok && f.lineEnd < f.size {
			if terr := t.Truncate(f.lineEnd); terr != nil {
				f.err = errors.Join(f.err, f.wrap("truncate", terr))
			}
		}
		return n, f.err
	}
	return n, nil
}

// Close syncs (if the file can) and closes the file.
func (f *runFile) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if s, ok := f.w.(interface{ Sync() error }); ok {
		if serr := s.Sync(); serr != nil {
			err = f.wrap("sync", serr)
		}
	}
	if cerr := f.w.Close(); cerr != nil && err == nil {
		err = f.wrap("close", cerr)
	}
	return err
}

// wrap names the file in err, unless err already does.
func (f *runFile) wrap(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == f.path {
		return err
	}
	return &fs.PathError{Op: op, Path: f.path, Err: err}
}
