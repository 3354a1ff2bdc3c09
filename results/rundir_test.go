package results

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// okRequest is the i-th request of a made-up phase, with values the writer
// keeps exactly.
func okRequest(phase, fn string, i int) Request {
	return Request{Phase: phase, Function: fn, ScheduledS: float64(i), SentS: float64(i) + 0.25,
		DoneS: float64(i) + 0.5, E2EMs: float64(10 * (i + 1)), TotalMs: 500, FuncMs: 2.5,
		Attempts: 1, Status: StatusOK, StartKind: StartReuse}
}

func readRequestsFile(t *testing.T, path string) ([]Request, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readAllRequests(data)
}

func TestRunDirLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "w1-trenv")
	d, err := CreateRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	// The first manifest already says failed.
	m0, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil || m0.Status != RunFailed || m0.Note != NoteInProgress || m0.StartedAt.IsZero() {
		t.Fatalf("first manifest %+v, %v", m0, err)
	}
	m := sampleManifest()
	m.StartedAt, m.EndedAt, m.Status, m.Requests, m.Files = time.Time{}, time.Time{}, "", RequestCounts{Scheduled: 3}, nil
	if err := d.Begin(m); err != nil {
		t.Fatal(err)
	}
	if m.StartedAt.IsZero() {
		t.Error("Begin did not set StartedAt")
	}
	m1, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil || m1.Status != RunFailed || m1.Note != NoteInProgress || m1.Method != "trenv" {
		t.Fatalf("begun manifest %+v, %v", m1, err)
	}

	t0 := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	d.lw.Location = time.UTC
	if err := d.Request(&Request{}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("a record before Start: %v, want ErrNotStarted", err)
	}
	reqs := []Request{okRequest(PhaseWarmup, "pyaes", 0), okRequest(PhaseTest, "pyaes", 0), okRequest(PhaseTest, "pyaes", 1)}
	reqs[2].Status, reqs[2].E2EMs, reqs[2].FuncMs, reqs[2].Attempts, reqs[2].StartKind, reqs[2].Error =
		StatusFailed, nan, nan, 4, StartUnknown, "[500 Internal Server Error] no"
	raw, err := os.ReadFile("testdata/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	// The warmup runs on the run clock's [0, 0.5], the test on [1, 3].
	if err := errors.Join(
		d.Start(t0),
		d.PhaseStart(PhaseWarmup, 0, 1),
		d.Memory(0, 1<<30),
		d.Request(&reqs[0]),
		d.PhaseEnd(PhaseWarmup, 0.5),
		d.Metrics(PhaseWarmup, raw),
		d.PhaseStart(PhaseTest, 1, 2),
		d.Memory(1, 1<<31),
		d.CPU(1, 0.25),
		d.Request(&reqs[1]),
		d.Retry(PhaseTest, "pyaes", 1.75, 2, "[500 Internal Server Error] no"),
		d.Request(&reqs[2]),
		d.PhaseEnd(PhaseTest, 3),
		d.Metrics(PhaseTest, raw),
		d.Attach("faasd.log", strings.NewReader("faasd says hello\n")),
	); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../x", RequestsFile, ".hidden", "a/b"} {
		if err := d.Attach(bad, strings.NewReader("x")); !errors.Is(err, ErrBadValue) {
			t.Errorf("Attach(%q): %v, want ErrBadValue", bad, err)
		}
	}

	m.Status = RunComplete
	m.PeakInFlight = 2
	if err := d.Finish(m); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close after Finish: %v", err)
	}

	got, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != RunComplete || got.Note != "" || got.Error != "" || got.EndedAt.IsZero() || got.PeakInFlight != 2 {
		t.Errorf("final manifest %+v", got)
	}
	if want := (RequestCounts{Scheduled: 3, OK: 2, Failed: 1}); got.Requests != want {
		t.Errorf("counts %+v, want %+v", got.Requests, want)
	}
	if got.SchemaVersion != SchemaVersion || len(got.Phases) != 2 || !got.Metrics.Usable() {
		t.Errorf("manifest: schema %d, phases %+v, metrics %+v", got.SchemaVersion, got.Phases, got.Metrics)
	}
	for i, want := range []PhaseSpan{{Name: PhaseWarmup, StartS: 0, Scheduled: 1}, {Name: PhaseTest, StartS: 1, Scheduled: 2}} {
		ph := got.Phases[i]
		if ph.Name != want.Name || ph.StartS != want.StartS || ph.Scheduled != want.Scheduled || ph.EndS == nil {
			t.Errorf("phase %d: %+v, want %+v with an end", i, ph, want)
		}
	}
	wantFiles := []string{CPUFile, "faasd.log", ManifestFile, MemoryFile, MetricsJSONFile, MetricsFile, RequestsFile, SummaryFile, TestLogFile, WarmupMetricsFile}
	slices.Sort(wantFiles)
	if !slices.Equal(got.Files, wantFiles) {
		t.Errorf("files %v, want %v", got.Files, wantFiles)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := append([]string{LockFile}, wantFiles...); !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v (no temporary files)", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "faasd.log")); string(b) != "faasd says hello\n" {
		t.Errorf("attachment holds %q", b)
	}

	back, err := readRequestsFile(t, filepath.Join(dir, RequestsFile))
	if err != nil || len(back) != len(reqs) {
		t.Fatalf("requests.csv: %d rows, %v", len(back), err)
	}
	for i := range reqs {
		if !sameRequest(back[i], reqs[i]) {
			t.Errorf("row %d: %+v, want %+v", i, back[i], reqs[i])
		}
	}
	for _, name := range []string{WarmupMetricsFile, MetricsFile} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, raw) {
			t.Errorf("%s is not the raw text as served", name)
		}
	}
	mf, err := os.Open(filepath.Join(dir, MetricsJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	fromJSON, err := ParseMetricsJSON(mf, MetricsJSONFile)
	if err != nil {
		t.Fatal(err)
	}
	fromRaw, _ := ParseMetrics(bytes.NewReader(raw), "raw")
	var a, b bytes.Buffer
	fromJSON.WriteTo(&a)
	fromRaw.WriteTo(&b)
	if a.String() != b.String() {
		t.Errorf("metrics.json does not hold the served metrics")
	}
	log, _ := os.ReadFile(filepath.Join(dir, TestLogFile))
	// Each line at origin + its run-clock time: a record's end is its
	// phase's start + done_s. Upstream logs both counts at the end.
	wantLog := "[INFO] 2024-04-09 12:00:00,000 START warmup...\n" +
		"[INFO] 2024-04-09 12:00:00,500 pyaes {'e2e_latency': 0.01, 'latency': 0.0025, 'retry_count': 0}\n" +
		"[INFO] 2024-04-09 12:00:01,000 START test...\n" +
		"[INFO] 2024-04-09 12:00:01,500 pyaes {'e2e_latency': 0.01, 'latency': 0.0025, 'retry_count': 0}\n" +
		"[WARNING] 2024-04-09 12:00:01,750 invoke pyaes try 2th failed: [500 Internal Server Error] no\n" +
		"[ERROR] 2024-04-09 12:00:02,500 invoke pyaes FINALLY failed: [500 Internal Server Error] no\n" +
		"[INFO] 2024-04-09 12:00:03,000 warm up finished: failed num 0, succeed num 1 !\n" +
		"[INFO] 2024-04-09 12:00:03,000 test succeed and finish: failed num 1 succeed_num 1 !\n"
	if string(log) != wantLog {
		t.Errorf("test.log %q, want %q", log, wantLog)
	}
	mem, _ := os.ReadFile(filepath.Join(dir, MemoryFile))
	if string(mem) != "t_s,bytes\n0.000000,1073741824\n1.000000,2147483648\n" {
		t.Errorf("memory.csv %q", mem)
	}
	if cpu, _ := os.ReadFile(filepath.Join(dir, CPUFile)); string(cpu) != "t_s,utilization\n1.000000,0.2500\n" {
		t.Errorf("cpu.csv %q", cpu)
	}
	sumFile, err := os.Open(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer sumFile.Close()
	sum, err := ReadSummary(sumFile, SummaryFile)
	if err != nil || len(sum.Rows) != 2 || sum.Rows[1].OK != 1 || sum.Rows[1].Failed != 1 || sum.Rows[1].P50Ms != 10 {
		t.Errorf("summary.csv %+v, %v", sum, err)
	}
	if !IsComplete(dir) {
		t.Error("IsComplete false after Finish")
	}
}

func TestFinishRejectsBadStatus(t *testing.T) {
	dir := t.TempDir()
	d, err := CreateRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Finish(&Manifest{Status: "done"}); !errors.Is(err, ErrBadValue) {
		t.Errorf("Finish(done): %v", err)
	}
	if m, _ := ReadManifest(filepath.Join(dir, ManifestFile)); m.Status != RunFailed || m.Note != NoteInProgress {
		t.Errorf("manifest after a rejected Finish: %+v", m)
	}
}

func TestWriteMetricsUnparsable(t *testing.T) {
	dir := t.TempDir()
	d, err := CreateRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	good, _ := os.ReadFile("testdata/metrics.output")
	if err := d.writeMetrics(PhaseTest, good); err != nil {
		t.Fatal(err)
	}
	bad := []byte("Metrics:\n{\"label\":\"invoke-count\",\"data\":6}")
	for _, phase := range []string{PhaseWarmup, PhaseTest} {
		err := d.writeMetrics(phase, bad)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrMissingMetric) {
			t.Errorf("%s: error %v, want a *ParseError wrapping ErrMissingMetric", phase, err)
		}
	}
	for _, name := range []string{WarmupMetricsFile, MetricsFile} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, bad) {
			t.Errorf("%s: raw text not kept: %q", name, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, MetricsJSONFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale metrics.json left beside unparsable metrics: %v", err)
	}
	if err := d.writeMetrics("cooldown", good); !errors.Is(err, ErrBadValue) {
		t.Errorf("unknown phase: %v", err)
	}
}

func TestCreateRunDirRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("mine"), 0o644)
	for _, name := range []string{RequestsFile, SummaryFile, ManifestFile, CPUFile, ".manifest.json.tmp-123"} {
		os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "metrics.json"), 0o755) // a directory, not a run file
	before, _ := os.ReadDir(dir)

	if _, err := CreateRunDir(dir, false); !errors.Is(err, ErrRunDirExists) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("without force: %v, want ErrRunDirExists naming %s", err, dir)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Fatalf("refusal changed the directory: %d entries, had %d", len(after), len(before))
	}

	d, err := CreateRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err := os.ReadFile(other); err != nil || string(b) != "mine" {
		t.Errorf("force removed or changed another file: %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "metrics.json")); err != nil || !fi.IsDir() {
		t.Errorf("force removed a directory: %v", err)
	}
	for _, name := range []string{SummaryFile, ".manifest.json.tmp-123"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s from the old run is still there: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, RequestsFile)); string(b) != header {
		t.Errorf("requests.csv %q, want the header of a new run", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, CPUFile)); string(b) != "t_s,utilization\n" {
		t.Errorf("cpu.csv %q, want the header of a new run", b)
	}

	// While a run writes the directory, a second one is refused, even with
	// force; once it is closed, force works again.
	if _, err := CreateRunDir(dir, true); !errors.Is(err, ErrRunDirLocked) {
		t.Errorf("second run into a directory being written: %v, want ErrRunDirLocked", err)
	}
	d.Close()
	d3, err := CreateRunDir(dir, true)
	if err != nil {
		t.Fatalf("force after the first run closed: %v", err)
	}
	d3.Close()

	// An empty directory needs no force.
	empty := t.TempDir()
	d2, err := CreateRunDir(empty, false)
	if err != nil {
		t.Fatalf("empty directory: %v", err)
	}
	d2.Close()

	// A file in the way is an error.
	file := filepath.Join(t.TempDir(), "run")
	os.WriteFile(file, nil, 0o644)
	if _, err := CreateRunDir(file, true); err == nil {
		t.Error("CreateRunDir over a file succeeded")
	}
}

// TestRunDirCrash writes some records and stops without Close or Finish, as
// a killed process would: every file on disk parses, requests.csv holds the
// rows written, and the manifest says the run failed.
func TestRunDirCrash(t *testing.T) {
	dir := t.TempDir()
	d, err := CreateRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	// Rows come more than a second apart, so each Write flushes.
	clock := &fakeClock{now: time.Now()} // the headers were flushed at creation, on the real clock
	d.rw.Clock = func() time.Time { clock.Advance(1100 * time.Millisecond); return clock.now }
	d.mw.Clock = d.rw.Clock
	var reqs []Request
	for i := range 5 {
		reqs = append(reqs, okRequest(PhaseTest, "pyaes", i))
		if err := d.rw.Write(&reqs[i]); err != nil {
			t.Fatal(err)
		}
		if err := d.mw.Write(float64(i), int64(i)<<20); err != nil {
			t.Fatal(err)
		}
	}
	d.lw.StartTest(clock.now)
	// No Close, no Finish: read what is on disk now.
	back, err := readRequestsFile(t, filepath.Join(dir, RequestsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(reqs) {
		t.Fatalf("requests.csv holds %d rows, want %d", len(back), len(reqs))
	}
	for i := range reqs {
		if !sameRequest(back[i], reqs[i]) {
			t.Errorf("row %d: %+v, want %+v", i, back[i], reqs[i])
		}
	}
	memData, _ := os.ReadFile(filepath.Join(dir, MemoryFile))
	mr := NewMemoryReader(bytes.NewReader(memData), MemoryFile)
	n := 0
	for mr.Next() {
		n++
	}
	if mr.Err() != nil || n != 5 {
		t.Errorf("memory.csv: %d samples, %v", n, mr.Err())
	}
	if log, _ := os.ReadFile(filepath.Join(dir, TestLogFile)); !strings.HasSuffix(string(log), "START test...\n") {
		t.Errorf("test.log %q", log)
	}
	m, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != RunFailed || m.Note != NoteInProgress || IsComplete(dir) {
		t.Errorf("manifest after a crash: %+v", m)
	}
	d.Close() // for the test's own cleanup
}

// limitedFile is a file that fails with ENOSPC once limit bytes are written,
// as a full disk does: the bytes that fit are written.
type limitedFile struct {
	*os.File
	limit int
}

func (f *limitedFile) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		n, err := f.File.Write(p)
		f.limit -= n
		return n, err
	}
	n, _ := f.File.Write(p[:f.limit])
	f.limit = 0
	return n, syscall.ENOSPC
}

// fullDisk returns an opener whose files named in limits fill up after so
// many bytes.
func fullDisk(limits map[string]int) opener {
	return func(path string) (io.WriteCloser, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, err
		}
		if n, ok := limits[filepath.Base(path)]; ok {
			return &limitedFile{File: f, limit: n}, nil
		}
		return f, nil
	}
}

func TestRunDirDiskFull(t *testing.T) {
	dir := t.TempDir()
	const limit = 400
	d, err := createRunDir(dir, false, fullDisk(map[string]int{RequestsFile: limit, TestLogFile: 100}), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	d.rw.FlushInterval = -1 // every row and line reaches the file at once
	d.lw.FlushInterval = -1
	reqsPath, logPath := filepath.Join(dir, RequestsFile), filepath.Join(dir, TestLogFile)

	var written []Request
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		r := okRequest(PhaseTest, "pyaes", i)
		if werr = d.rw.Write(&r); werr == nil {
			written = append(written, r)
		}
	}
	if !errors.Is(werr, syscall.ENOSPC) || !strings.Contains(werr.Error(), reqsPath) {
		t.Fatalf("Write on a full disk: %v, want ENOSPC naming %s", werr, reqsPath)
	}
	if len(written) == 0 {
		t.Fatal("no row fit")
	}
	if err := d.rw.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Flush after the error: %v", err)
	}
	t0 := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	var lerr error
	for i := 0; i < 10 && lerr == nil; i++ {
		lerr = d.lw.Success(t0, "pyaes", 0.01, 0.001, 0)
	}
	if !errors.Is(lerr, syscall.ENOSPC) || !strings.Contains(lerr.Error(), logPath) {
		t.Errorf("log line on a full disk: %v, want ENOSPC naming %s", lerr, logPath)
	}

	// The rows written before the disk filled are intact, and no row or
	// line is cut in half: the files end at their last whole line.
	for _, p := range []string{reqsPath, logPath} {
		if b, _ := os.ReadFile(p); len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends in a cut line: %q", p, b[max(0, len(b)-40):])
		}
	}
	back, rerr := readRequestsFile(t, reqsPath)
	if len(back) != len(written) {
		t.Fatalf("requests.csv holds %d rows, %d were written without error (read error %v)", len(back), len(written), rerr)
	}
	for i := range written {
		if !sameRequest(back[i], written[i]) {
			t.Errorf("row %d: %+v, want %+v", i, back[i], written[i])
		}
	}
	if rerr != nil {
		t.Errorf("requests.csv after a full disk does not read: %v", rerr)
	}

	cerr := d.Close()
	if !errors.Is(cerr, syscall.ENOSPC) || !strings.Contains(cerr.Error(), reqsPath) || !strings.Contains(cerr.Error(), logPath) {
		t.Errorf("Close: %v, want ENOSPC naming %s and %s", cerr, reqsPath, logPath)
	}

	// Finish records the run as failed, with the counts of what reached
	// the disk.
	m := &Manifest{Status: RunComplete, Target: TargetSim}
	ferr := d.Finish(m)
	if !errors.Is(ferr, syscall.ENOSPC) {
		t.Errorf("Finish: %v, want the write errors", ferr)
	}
	got, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != RunFailed || !strings.Contains(got.Error, reqsPath) || got.Requests.OK != len(written) {
		t.Errorf("manifest after a full disk: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); err != nil {
		t.Errorf("no summary.csv of the rows that were written: %v", err)
	}
}

// An io.Writer that fails after N bytes, without a file behind it: the
// error still names the file it stands for.
func TestRunFileNamesTheFile(t *testing.T) {
	f := &runFile{path: "/runs/x/requests.csv", w: nopCloser{failingWriter{}}}
	w := NewRequestWriter(f)
	r := okRequest(PhaseTest, "f", 0)
	err := w.Write(&r)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/runs/x/requests.csv" || !errors.Is(err, errDiskFull) {
		t.Errorf("Write: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), "requests.csv") {
		t.Errorf("Write after Close: %v", err)
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
