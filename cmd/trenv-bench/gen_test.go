package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/internal/golden"
	"trenv-bench/workloads"

	"github.com/spf13/cobra"
)

func testStreams() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// execLine runs cmd on a command line split at spaces, its own output
// discarded (flags→options tests capture the options through runF).
func execLine(cmd *cobra.Command, line string) error {
	cmd.SetArgs(strings.Fields(line))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// TestNewCmdGen checks how command lines become options, apart from what
// the command does.
func TestNewCmdGen(t *testing.T) {
	cases := []struct {
		line    string
		want    genOptions
		wantErr string
	}{
		{line: "-w 1", want: genOptions{Workload: "1", Seed: int64(workloads.DefaultSeed), Iter: 5, OutDir: "."}},
		{line: "-w func --iter 9 -o d --force", want: genOptions{Workload: "func", Seed: int64(workloads.DefaultSeed), Iter: 9, OutDir: "d", Force: true}},
		{line: "--workload azure --dataset x.tar.xz --seed 0 -v", want: genOptions{Workload: "azure", Dataset: "x.tar.xz", Iter: 5, OutDir: ".", Verbose: true}},
		{line: "", wantErr: "-w/--workload is required"},
		{line: "-w 3", wantErr: `-w "3": expected one of 1, 2, func, azure, huawei`},
		{line: "-w 1 --seed 4294967296", wantErr: "--seed 4294967296: expected 0 to 4294967295"},
		{line: "-w 1 --seed -3", wantErr: "--seed -3"},
		{line: "-w func --iter 0", wantErr: "--iter 0: expected 1 to "},
		{line: "-w 2 --dataset d", wantErr: "--dataset is only read by -w azure and -w huawei"},
		{line: "-w 1 extra", wantErr: "unknown command"},
		{line: "-w 1 --bogus", wantErr: "unknown flag: --bogus"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *genOptions
			cmd := newCmdGen(s, func(_ context.Context, o *genOptions) error { got = o; return nil })
			err := execLine(cmd, c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Streams = nil
			if *got != c.want {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// TestGenRun runs the whole command: output files, refusal to overwrite,
// exit statuses, and --seed.
func TestGenRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "nested", "w1")
	s, _, errOut := testStreams()
	if code := Main([]string{"gen", "-w", "1", "-o", out}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := golden.Upstream(t, "w1", "workload.json")
	got, err := os.ReadFile(filepath.Join(out, "workload.json"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("workload.json differs from upstream's (err %v)", err)
	}
	if !strings.Contains(errOut.String(), "1430 s, 4338 requests") {
		t.Errorf("summary line missing: %q", errOut)
	}

	// An existing workload is kept without --force.
	errOut.Reset()
	if code := Main([]string{"gen", "-w", "2", "-o", out}, s); code != ExitError {
		t.Fatalf("overwrite without --force: exit %d", code)
	}
	if !strings.Contains(errOut.String(), "already exists (pass --force") {
		t.Errorf("message %q", errOut)
	}
	if got2, _ := os.ReadFile(filepath.Join(out, "workload.json")); !bytes.Equal(got2, want) {
		t.Errorf("refused overwrite still changed the file")
	}
	if code := Main([]string{"gen", "-w", "2", "-o", out, "--force"}, s); code != ExitOK {
		t.Fatalf("--force: exit %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 {
		t.Errorf("output dir holds %d entries, want exactly the two JSON files", len(entries))
	}

	// Bad flags exit 2; --seed changes W1 but the default seed does not.
	if code := Main([]string{"gen", "-w", "nine"}, s); code != ExitUsage {
		t.Errorf("bad -w: exit %d, want %d", code, ExitUsage)
	}
	seeded := filepath.Join(dir, "seeded")
	Main([]string{"gen", "-w", "1", "--seed", "2022310806", "-o", seeded}, s)
	if b, _ := os.ReadFile(filepath.Join(seeded, "workload.json")); !bytes.Equal(b, want) {
		t.Errorf("--seed 2022310806 should reproduce the default output")
	}
	other := filepath.Join(dir, "other")
	Main([]string{"gen", "-w", "1", "--seed", "7", "-o", other}, s)
	if b, _ := os.ReadFile(filepath.Join(other, "workload.json")); len(b) == 0 || bytes.Equal(b, want) {
		t.Errorf("--seed 7 should change W1")
	}
}

func TestGenSampleSaysSo(t *testing.T) {
	for _, w := range []string{"azure", "huawei"} {
		s, _, errOut := testStreams()
		out := filepath.Join(t.TempDir(), w)
		if code := Main([]string{"gen", "-w", w, "-o", out}, s); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", w, code, errOut)
		}
		if !strings.Contains(errOut.String(), "built-in synthetic") {
			t.Errorf("%s: stderr does not say the sample is synthetic: %q", w, errOut)
		}
		if _, err := workloads.ReadDir(out, workloads.DefaultCatalog()); err != nil {
			t.Errorf("%s: output does not read back: %v", w, err)
		}
	}
}

func TestGenBadDataset(t *testing.T) {
	dir := t.TempDir()
	s, _, errOut := testStreams()
	if code := Main([]string{"gen", "-w", "azure", "--dataset", filepath.Join(dir, "missing"), "-o", filepath.Join(dir, "o")}, s); code != ExitError {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut.String(), "missing") {
		t.Errorf("error does not name the path: %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); err == nil {
		t.Errorf("a failed gen created its output directory")
	}
}

// TestSynthThenGen: traces synth writes a dataset into a new directory that
// gen then reads, with the selected rows busy.
func TestSynthThenGen(t *testing.T) {
	if testing.Short() {
		t.Skip("writes full-size datasets")
	}
	for _, trace := range []string{"azure", "huawei"} {
		dir := filepath.Join(t.TempDir(), "new", trace)
		s, _, errOut := testStreams()
		if code := Main([]string{"traces", "synth", trace, "-o", dir, "--seed", "4"}, s); code != ExitOK {
			t.Fatalf("synth %s: exit %d: %s", trace, code, errOut)
		}
		out := filepath.Join(dir, "w")
		if code := Main([]string{"gen", "-w", trace, "--dataset", dir, "-o", out}, s); code != ExitOK {
			t.Fatalf("gen %s on synth: exit %d: %s", trace, code, errOut)
		}
		w, err := workloads.ReadDir(out, workloads.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range w.Test {
			if total := (workloads.Phase{s}).Requests(); total == 0 {
				t.Errorf("%s: %s gets no requests from the synthetic dataset", trace, s.Function)
			}
		}
	}
}

func TestSynthAndVersion(t *testing.T) {
	s, out, errOut := testStreams()
	if code := Main([]string{"version"}, s); code != ExitOK || !strings.HasPrefix(out.String(), "trenv-bench ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code := Main([]string{"traces", "synth", "oracle", "-o", t.TempDir()}, s); code != ExitUsage {
		t.Errorf("synth of an unknown trace: exit %d", code)
	}
	if code := Main([]string{"traces", "synth", "azure"}, s); code != ExitUsage || !strings.Contains(errOut.String(), "-o DIR is required") {
		t.Errorf("synth without -o: exit %d, %q", code, errOut)
	}
}
