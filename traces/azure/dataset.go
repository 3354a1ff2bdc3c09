package azure

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"

	"trenv-bench/traces/tracefile"
)

// Dataset is a source of Azure trace files: a directory, the files beside a
// named file, the original tar archive, or files in memory. Each file may be
// plain CSV or gzip-compressed (".csv.gz"). A Dataset holds no open files:
// every Select opens what it needs and closes it before returning, so a
// Dataset may be used by several goroutines at once.
type Dataset struct {
	dir     string            // directory of the files ("" unless a directory or a file was named)
	pinned  map[string]string // day-file name (".csv") → the path the caller named
	archive string            // path of a .tar, .tar.gz or .tar.xz archive
	files   map[string][]byte // in-memory files by name
	day     int               // day of the file named, or DefaultDay
}

// OpenDataset returns the dataset at path, which is one of:
//   - a directory holding the day's files, each as NAME.csv or NAME.csv.gz
//     (the plain file wins when both exist);
//   - the path of one of those files, plain or .gz: the others are looked for
//     in the same directory, and the day of that file becomes the default day;
//   - the original archive azurefunctions-dataset2019.tar.xz, or a .tar,
//     .tar.gz, .tgz or .txz: entries match by base name wherever they sit in
//     the archive, and the archive is streamed once per Select.
//
// It only checks that path exists; missing day files are reported by Select.
func OpenDataset(path string) (*Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("azure: dataset %s: %w; expected the extracted trace folder, one of its day files "+
			"(e.g. %s, optionally .gz) or azurefunctions-dataset2019.tar.xz", path, err, InvocationsName(DefaultDay))
	}
	if st.IsDir() {
		return &Dataset{dir: path, day: DefaultDay}, nil
	}
	base := filepath.Base(path)
	if isArchive(base) {
		return &Dataset{archive: path, day: DefaultDay}, nil
	}
	name := strings.TrimSuffix(base, ".gz")
	if day, ok := dayOf(name); ok {
		return &Dataset{dir: filepath.Dir(path), pinned: map[string]string{name: path}, day: day}, nil
	}
	return nil, fmt.Errorf("azure: open dataset %s: not a directory, a day file (%s, %s or %s, optionally .gz) "+
		"or an archive (.tar, .tar.gz, .tgz, .tar.xz, .txz)", path,
		InvocationsName(DefaultDay), DurationsName(DefaultDay), MemoryName(DefaultDay))
}

// NewMemDataset returns a dataset of in-memory files keyed by file name
// (e.g. InvocationsName(3)); a name ending in ".gz" holds gzip-compressed
// CSV. The map and its contents must not change while the dataset is used.
func NewMemDataset(files map[string][]byte) *Dataset {
	if files == nil {
		files = map[string][]byte{}
	}
	return &Dataset{files: files, day: DefaultDay}
}

// Day returns the day Select uses when Selection.Day is 0: the day of the
// file OpenDataset was given, otherwise DefaultDay.
func (d *Dataset) Day() int { return d.day }

// String describes where the dataset is, for messages.
func (d *Dataset) String() string {
	switch {
	case d.archive != "":
		return d.archive
	case d.files != nil:
		return "(in memory)"
	}
	return d.dir
}

func isArchive(base string) bool {
	for _, s := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz"} {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	return false
}

// dayOf returns the day of a day-file name such as
// "function_durations_percentiles.anon.d03.csv".
func dayOf(name string) (int, bool) {
	for _, p := range []string{invocationsPrefix, durationsPrefix, memoryPrefix} {
		rest, ok := strings.CutPrefix(name, p)
		if !ok {
			continue
		}
		digits, ok := strings.CutSuffix(rest, csvSuffix)
		if !ok || len(digits) != 2 || digits[0]-'0' > 9 || digits[1]-'0' > 9 {
			return 0, false
		}
		return int(digits[0]-'0')*10 + int(digits[1]-'0'), true
	}
	return 0, false
}

// OpenFile opens the file called name (a day-file name such as
// MemoryName(3), without ".gz") for reading its CSV bytes; a ".gz" variant
// is decompressed. The returned path names the file in errors. For an
// archive the entry is found by streaming the archive up to it. m, when not
// nil, sees Begin at the start, Advance per chunk of bytes read from disk
// (compressed bytes for .gz, archive bytes for an archive) and End on Close.
// A missing file gives an error wrapping fs.ErrNotExist. The caller must
// Close the file: compressed input is decompressed on a goroutine that Close
// stops.
func (d *Dataset) OpenFile(name string, m tracefile.Meter) (rc io.ReadCloser, path string, err error) {
	if m == nil {
		m = tracefile.NopMeter{}
	}
	switch {
	case d.files != nil:
		return d.openMem(name, m)
	case d.archive != "":
		a, err := openArchive(d.archive, m)
		if err != nil {
			return nil, "", err
		}
		for {
			e, err := a.next()
			if err != nil {
				a.Close()
				if err == io.EOF {
					err = d.missing(name)
				}
				return nil, "", err
			}
			if e.name == name {
				return struct {
					io.Reader
					io.Closer
				}{e.r, a}, e.path, nil
			}
		}
	}
	p := d.diskPath(name)
	f, err := tracefile.Open(p, m)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", d.missing(name)
		}
		return nil, "", fmt.Errorf("azure: %w", err)
	}
	if strings.HasSuffix(p, ".gz") {
		return aheadOf(f, f), p, nil
	}
	return f, p, nil
}

// diskPath is where the day file called name (without ".gz") is in a
// directory dataset: the path the caller named for it, else NAME in the
// directory, else NAME.gz if only that exists.
func (d *Dataset) diskPath(name string) string {
	p := d.pinned[name]
	if p == "" {
		p = filepath.Join(d.dir, name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(p + ".gz"); err == nil {
				p += ".gz"
			}
		}
	}
	return p
}

// Files returns the files on disk that Select reads for day (0 = Day()):
// the archive, or the day's durations and invocations files (plain or .gz,
// as OpenFile picks them), in that order; nil for an in-memory dataset. A
// missing file is an error wrapping fs.ErrNotExist, as Select's.
func (d *Dataset) Files(day int) ([]string, error) {
	if day == 0 {
		day = d.day
	}
	switch {
	case d.files != nil:
		return nil, nil
	case d.archive != "":
		if _, err := os.Stat(d.archive); err != nil {
			return nil, fmt.Errorf("azure: archive: %w", err)
		}
		return []string{d.archive}, nil
	}
	var out []string
	for _, name := range []string{DurationsName(day), InvocationsName(day)} {
		p := d.diskPath(name)
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, d.missing(name)
			}
			return nil, fmt.Errorf("azure: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// aheadOf decompresses r on another goroutine; Close stops it, then closes c.
func aheadOf(r io.Reader, c io.Closer) io.ReadCloser {
	ra := newReadAhead(r)
	return struct {
		io.Reader
		io.Closer
	}{ra, closeBoth{ra, c}}
}

type closeBoth [2]io.Closer

func (c closeBoth) Close() error {
	c[0].Close()
	return c[1].Close()
}

// missing is the error for a day file that is not in the dataset.
func (d *Dataset) missing(name string) error {
	switch {
	case d.archive != "":
		return fmt.Errorf("azure: archive %s has no entry %s or %s.gz: %w", d.archive, name, name, fs.ErrNotExist)
	case d.files != nil:
		return fmt.Errorf("azure: in-memory dataset has no file %s or %s.gz: %w", name, name, fs.ErrNotExist)
	}
	return fmt.Errorf("azure: dataset directory %s has no %s or %s.gz: %w", d.dir, name, name, fs.ErrNotExist)
}

func (d *Dataset) openMem(name string, m tracefile.Meter) (io.ReadCloser, string, error) {
	path := name
	b, ok := d.files[name]
	if !ok {
		path = name + ".gz"
		if b, ok = d.files[path]; !ok {
			return nil, "", d.missing(name)
		}
	}
	m.Begin(path, int64(len(b)))
	if !strings.HasSuffix(path, ".gz") {
		m.Advance(int64(len(b)))
		return &memFile{Reader: bytes.NewReader(b), b: b, m: m}, path, nil
	}
	var r io.Reader = tracefile.MeteredReader{R: bytes.NewReader(b), M: m}
	{
		gz, err := gzip.NewReader(r)
		if err != nil {
			m.End()
			return nil, "", &tracefile.RowError{Path: path, Err: fmt.Errorf("not a gzip stream: %w", wrapTrunc(err))}
		}
		gz.Multistream(true)
		r = tracefile.TruncationReader{R: gz}
	}
	return aheadOf(r, endCloser{m}), path, nil
}

// memFile is a plain in-memory file. Its reader scans the bytes in place
// instead of copying them into a buffer.
type memFile struct {
	*bytes.Reader
	b []byte
	m tracefile.Meter
}

func (f *memFile) Close() error       { f.m.End(); return nil }
func (f *memFile) wholeBytes() []byte { return f.b }

type endCloser struct{ m tracefile.Meter }

func (c endCloser) Close() error { c.m.End(); return nil }

// wrapTrunc marks io.ErrUnexpectedEOF (and a bare io.EOF from a header
// read) as tracefile.ErrTruncated.
func wrapTrunc(err error) error {
	if (errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF) && !errors.Is(err, tracefile.ErrTruncated) {
		return fmt.Errorf("%w: %w", tracefile.ErrTruncated, err)
	}
	return err
}

// archive streams the entries of a tar archive, decompressing it by suffix.
type archive struct {
	path string
	f    *os.File
	m    tracefile.Meter
	ra   *readAhead // nil for a plain .tar
	tr   *tar.Reader
}

// entry is a day file found in an archive.
type entry struct {
	name string    // day-file name without ".gz"
	path string    // archive path + "/" + entry name, for errors
	r    io.Reader // decompressed CSV bytes
}

func openArchive(path string, m tracefile.Meter) (*archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("azure: open archive: %w", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	m.Begin(path, size)
	var r io.Reader = bufio.NewReaderSize(tracefile.MeteredReader{R: f, M: m}, 1<<20)
	var ra *readAhead
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(base, ".xz") || strings.HasSuffix(base, ".txz"):
		x, err := xz.NewReader(r)
		if err != nil {
			m.End()
			f.Close()
			return nil, &tracefile.RowError{Path: path, Err: fmt.Errorf("not an xz stream: %w", wrapTrunc(err))}
		}
		ra = newReadAhead(x)
		r = ra
	case strings.HasSuffix(base, ".gz") || strings.HasSuffix(base, ".tgz"):
		gz, err := gzip.NewReader(r)
		if err != nil {
			m.End()
			f.Close()
			return nil, &tracefile.RowError{Path: path, Err: fmt.Errorf("not a gzip stream: %w", wrapTrunc(err))}
		}
		ra = newReadAhead(gz)
		r = ra
	}
	return &archive{path: path, f: f, m: m, ra: ra, tr: tar.NewReader(tracefile.TruncationReader{R: r})}, nil
}

// next returns the next regular entry whose base name is a day file (plain
// or .gz), or io.EOF.
func (a *archive) next() (entry, error) {
	for {
		h, err := a.tr.Next()
		if err == io.EOF {
			return entry{}, io.EOF
		}
		if err != nil {
			return entry{}, &tracefile.RowError{Path: a.path, Err: fmt.Errorf("read tar: %w", wrapTrunc(err))}
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := h.Name
		if i := strings.LastIndexByte(base, '/'); i >= 0 {
			base = base[i+1:]
		}
		name := strings.TrimSuffix(base, ".gz")
		if _, ok := dayOf(name); !ok {
			continue
		}
		e := entry{name: name, path: a.path + "/" + h.Name, r: tracefile.TruncationReader{R: a.tr}}
		if name != base {
			gz, err := gzip.NewReader(e.r)
			if err != nil {
				return entry{}, &tracefile.RowError{Path: e.path, Err: fmt.Errorf("not a gzip stream: %w", wrapTrunc(err))}
			}
			gz.Multistream(true)
			e.r = tracefile.TruncationReader{R: gz}
		}
		return e, nil
	}
}

func (a *archive) Close() error {
	if a.ra != nil {
		a.ra.Close()
	}
	a.m.End()
	return a.f.Close()
}
