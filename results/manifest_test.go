package results

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func sampleManifest() *Manifest {
	seed, model := uint64(2022310806), uint64(7)
	zone := time.FixedZone("CEST", 2*3600)
	return &Manifest{
		SchemaVersion: SchemaVersion,
		ToolVersion:   "v0.1.0 (rev 3ba4f20, go1.26.8)",
		CommandLine:   []string{"trenv-bench", "run", "--method", "trenv", "-w", "1", "--target", "twin", "--speed", "10"},
		Method:        "trenv",
		Pool:          "cxl",
		Target:        TargetTwin,
		Gateway:       "http://127.0.0.1:8081",
		Platform:      PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 70, NoReuse: true},
		Speed:         10,
		Workload: WorkloadInfo{Name: "1", TestSHA256: SHA256Hex([]byte("{}")), WarmupSHA256: SHA256Hex(nil),
			GeneratorSeed: &seed, Dataset: DatasetBuiltInSample},
		Seeds:        Seeds{Jitter: 1, Model: &model},
		Host:         HostInfo{OS: "linux", Arch: "amd64", Kernel: "6.1.0", CPUModel: "Some CPU", Cores: 2, MemoryBytes: 24 << 30},
		StartedAt:    time.Date(2024, 4, 9, 12, 0, 0, 0, zone),
		EndedAt:      time.Date(2024, 4, 9, 13, 5, 0, 500_000_000, zone),
		Status:       RunComplete,
		Requests:     RequestCounts{Scheduled: 10, OK: 7, Failed: 2, Abandoned: 1},
		PeakInFlight: 5,
		Phases:       []PhaseSpan{{Name: PhaseWarmup, StartS: 0, EndS: new(286.5), Scheduled: 859}, {Name: PhaseTest, StartS: 286.5, Scheduled: 4338}},
		Metrics:      MetricsHealth{Missing: []string{"test: 503"}},
		Files:        []string{ManifestFile, RequestsFile},
	}
}

func TestManifestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ManifestFile)
	m := sampleManifest()
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(m.StartedAt) || !got.EndedAt.Equal(m.EndedAt) {
		t.Errorf("times %v..%v, want %v..%v", got.StartedAt, got.EndedAt, m.StartedAt, m.EndedAt)
	}
	if !strings.Contains(got.SpeedNote, "model time") {
		t.Errorf("speed 10 but note %q", got.SpeedNote)
	}
	want := *m
	want.SpeedNote = got.SpeedNote
	got.StartedAt, got.EndedAt, want.StartedAt, want.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}

	data, _ := os.ReadFile(path)
	for _, s := range []string{`"started_at": "2024-04-09T12:00:00+02:00"`, `"ended_at": "2024-04-09T13:05:00.5+02:00"`,
		`"status": "complete"`, `"method": "trenv"`, `"pool": "cxl"`, `"generator_seed": 2022310806`,
		`"mem_gb": 64`, `"no_reuse": true`} {
		if !strings.Contains(string(data), s) {
			t.Errorf("manifest.json lacks %s:\n%s", s, data)
		}
	}
	if data[len(data)-1] != '\n' {
		t.Error("manifest.json does not end in a newline")
	}
}

func TestManifestOmitsWhatIsUnknown(t *testing.T) {
	m := &Manifest{Status: RunFailed, Note: NoteInProgress, Target: TargetHost, Speed: 1}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, absent := range []string{"ended_at", "started_at", "generator_seed", `"model"`, "speed_note", "gateway"} {
		if strings.Contains(s, absent) {
			t.Errorf("manifest has %s:\n%s", absent, s)
		}
	}
	if !strings.Contains(s, `"command_line": []`) || !strings.Contains(s, `"files": []`) {
		t.Errorf("empty lists not written as []:\n%s", s)
	}
	for _, c := range []struct {
		target Target
		speed  float64
		note   bool
	}{{TargetHost, 0, false}, {TargetHost, 1, false}, {TargetTwin, 1, false}, {TargetTwin, 10, true}, {TargetTwin, 0.5, true}, {TargetSim, 0, true}} {
		if got := speedNote(c.target, c.speed) != ""; got != c.note {
			t.Errorf("%s at speed %v: note %q", c.target, c.speed, speedNote(c.target, c.speed))
		}
	}
	sim := &Manifest{Status: RunComplete, Target: TargetSim}
	b, _ = sim.Marshal()
	if !strings.Contains(string(b), "virtual time") {
		t.Errorf("sim manifest without a speed note:\n%s", b)
	}
}

func TestManifestNeverHoldsAPassword(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://admin:s3cret@127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"http://admin:s3cret@127.0.0.1:8081/path?q=1", "http://127.0.0.1:8081/path?q=1"},
		{"https://u@host/x@y", "https://host/x@y"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"", ""},
	} {
		m := &Manifest{Status: RunComplete, Target: TargetHost, Speed: 1, Gateway: c.in}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "admin") {
			t.Errorf("%q: manifest holds the credentials:\n%s", c.in, b)
		}
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// No field, at any depth, could hold one.
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, at string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := strings.ToLower(f.Name + " " + f.Tag.Get("json"))
			for _, bad := range []string{"pass", "secret", "token", "auth"} {
				if strings.Contains(name, bad) {
					t.Errorf("manifest field %s%s could hold a secret", at, f.Name)
				}
			}
			walk(f.Type, at+f.Name+".")
		}
	}
	walk(reflect.TypeFor[Manifest](), "")
}

func TestManifestRejects(t *testing.T) {
	for _, m := range []*Manifest{
		{},
		{Status: "done"},
		{Status: RunComplete, Target: "laptop"},
		{Status: RunComplete, Requests: RequestCounts{OK: -1}},
	} {
		if _, err := m.Marshal(); !errors.Is(err, ErrBadValue) {
			t.Errorf("%+v: error %v, want ErrBadValue", m, err)
		}
		path := filepath.Join(t.TempDir(), ManifestFile)
		if err := m.WriteFile(path); err == nil {
			t.Errorf("%+v written", m)
		} else if _, serr := os.Stat(path); serr == nil {
			t.Errorf("%+v: file left behind", m)
		}
	}
}

func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, data string
		line       int
		column     string
		want       error
	}{
		{"syntax", "{\n  \"status\": \"complete\",\n  oops\n}", 3, "", ErrSyntax},
		{"type", "{\n  \"status\": \"complete\",\n  \"peak_in_flight\": \"many\"\n}", 3, "", ErrBadValue},
		{"status", `{"schema_version": 2, "status": "done"}`, 0, "status", ErrBadValue},
		{"nostatus", `{"schema_version": 2, "method": "trenv"}`, 0, "status", ErrMissing},
		{"old", `{"status": "complete", "method": "trenv"}`, 0, "schema_version", ErrOldSchema},
		{"newer", `{"schema_version": 3, "status": "complete"}`, 0, "schema_version", ErrOldSchema},
	} {
		path := filepath.Join(dir, c.name+".json")
		os.WriteFile(path, []byte(c.data), 0o644)
		_, err := ReadManifest(path)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, c.want) || pe.Line != c.line || pe.Column != c.column || pe.Path != path {
			t.Errorf("%s: error %v (%+v), want %v at line %d column %q", c.name, err, pe, c.want, c.line, c.column)
		}
	}
	if _, err := ReadManifest(filepath.Join(dir, "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent: %v", err)
	}
	// A later version's fields are ignored.
	path := filepath.Join(dir, "future.json")
	os.WriteFile(path, []byte(`{"schema_version": 2, "status": "interrupted", "gpu": "none"}`), 0o644)
	if m, err := ReadManifest(path); err != nil || m.Status != RunInterrupted {
		t.Errorf("future manifest: %+v, %v", m, err)
	}
}

func TestIsComplete(t *testing.T) {
	dir := t.TempDir()
	if IsComplete(dir) {
		t.Error("empty directory is complete")
	}
	m := sampleManifest()
	for _, c := range []struct {
		status RunStatus
		want   bool
	}{{RunFailed, false}, {RunInterrupted, false}, {RunComplete, true}} {
		m.Status = c.status
		if err := m.WriteFile(filepath.Join(dir, ManifestFile)); err != nil {
			t.Fatal(err)
		}
		if got := IsComplete(dir); got != c.want {
			t.Errorf("%s: IsComplete = %v", c.status, got)
		}
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte("{"), 0o644)
	if IsComplete(dir) {
		t.Error("broken manifest is complete")
	}
}

func TestHostFactsFrom(t *testing.T) {
	proc := fstest.MapFS{
		"sys/kernel/osrelease": {Data: []byte("6.1.0-18-amd64\n")},
		"cpuinfo": {Data: []byte("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz\n\n" +
			"processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz\n\n")},
		"meminfo": {Data: []byte("MemTotal:       24608124 kB\nMemFree:        1000 kB\n")},
	}
	want := HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, Kernel: "6.1.0-18-amd64",
		CPUModel: "Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz", Cores: 2, MemoryBytes: 24608124 * 1024}
	if got := hostFactsFrom(proc); got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// Elsewhere (no /proc): empty fields, cores from the Go runtime.
	got := hostFactsFrom(fstest.MapFS{})
	if got.Kernel != "" || got.CPUModel != "" || got.MemoryBytes != 0 || got.Cores != runtime.NumCPU() {
		t.Errorf("without /proc: %+v", got)
	}
}

func TestHostFactsHere(t *testing.T) {
	h := HostFacts()
	if runtime.GOOS != "linux" {
		t.Skip("host facts are read from /proc on Linux only")
	}
	if h.Kernel == "" || h.Cores < 1 || h.MemoryBytes <= 0 {
		t.Errorf("HostFacts on Linux: %+v", h)
	}
	t.Logf("%+v", h)
}

// TestWorkloadDataSource checks the one-line description figures and
// reports print: never an absolute path, digests shortened, invented data
// said to be invented.
func TestWorkloadDataSource(t *testing.T) {
	seed := uint64(2022310806)
	dig := func(c byte) string { return strings.Repeat(string(c), 64) }
	short := func(c byte) string { return strings.Repeat(string(c), DigestPrefix) }
	wl := " sha256 " + short('f')
	for _, c := range []struct {
		name      string
		info      WorkloadInfo
		synthetic bool
		want      []string // in order
		not       []string
	}{
		{"generated", WorkloadInfo{Name: "1", GeneratorSeed: &seed, TestSHA256: dig('f')}, false,
			[]string{"generated", "seed 2022310806", "workload.json" + wl}, []string{"synthetic"}},
		{"sample", WorkloadInfo{Name: "azure", Dataset: DatasetBuiltInSample, Synthetic: true, TestSHA256: dig('f')}, true,
			[]string{"built-in synthetic sample (invented content)", "workload.json" + wl}, nil},
		// A manifest from before dataset_synthetic existed.
		{"old sample", WorkloadInfo{Name: "azure", Dataset: DatasetBuiltInSample}, true,
			[]string{"built-in synthetic sample"}, nil},
		{"real", WorkloadInfo{Name: "huawei", Dataset: "/data/requests_minute", DatasetFiles: []DatasetFile{
			{Path: "/data/requests_minute/day_00.csv", SHA256: dig('a')}, {Path: "/data/requests_minute/day_01.csv.gz", SHA256: dig('b')}}}, false,
			[]string{"dataset day_00.csv sha256 " + short('a'), "day_01.csv.gz sha256 " + short('b')},
			[]string{"/data", "synthetic", dig('a')}},
		{"synth", WorkloadInfo{Name: "huawei", Dataset: "/tmp/hw", Synthetic: true, DatasetFiles: []DatasetFile{
			{Path: "/tmp/hw/requests_minute/day_00.csv", SHA256: dig('a'), Synthetic: true}}}, true,
			[]string{"synthetic dataset written by traces synth (invented content): day_00.csv sha256 " + short('a')},
			[]string{"/tmp"}},
		{"mixed", WorkloadInfo{Name: "huawei", Dataset: "/tmp/hw", Synthetic: true, DatasetFiles: []DatasetFile{
			{Path: "/tmp/hw/day_00.csv", SHA256: dig('a'), Synthetic: true}, {Path: "/tmp/hw/day_01.csv", SHA256: dig('b')}}}, true,
			[]string{"synthetic dataset", "day_00.csv sha256 " + short('a'), "day_01.csv sha256 " + short('b') + " (not synthetic)"}, nil},
		{"no digest", WorkloadInfo{Name: "azure", Dataset: "/data/azure.tar.xz"}, false,
			[]string{"dataset azure.tar.xz (no digest recorded)"}, []string{"/data"}},
	} {
		got := c.info.DataSource()
		if c.info.SyntheticData() != c.synthetic {
			t.Errorf("%s: SyntheticData %v, want %v", c.name, !c.synthetic, c.synthetic)
		}
		rest := got
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q lacks %q (in order)", c.name, got, w)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, n := range c.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q holds %q", c.name, got, n)
			}
		}
	}
}
