package experiments

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/traces/tracefile"
	"trenv-bench/workloads"
)

//go:embed matrix.yaml
var matrixYAML []byte

// MatrixFile names the embedded matrix in errors.
const MatrixFile = "experiments/matrix.yaml"

// FigureAll selects every figure of a matrix.
const FigureAll = "all"

// Seeds of a reproduction's runs: trenv-bench run's defaults (--model-seed
// 1, --jitter-seed 1), so `run` with the same flags repeats a matrix run.
const (
	DefaultModelSeed  uint64 = 1
	DefaultJitterSeed uint64 = 1
)

// ErrMatrix is wrapped by every error in a matrix's content.
var ErrMatrix = errors.New("experiments: bad matrix")

// System is one of the systems the paper compares, from results' one table
// of systems; a matrix names systems by their Name.
type System = results.System

// Flags are a run's platform flags (test.sh's names), as its manifest
// records them. Zero values are values, not defaults: ParseMatrix fills the
// defaults (sim.DefaultFlags) when the matrix is read.
type Flags = results.PlatformFlags

// WorkloadSpec says how to make a workload: generated (Kind) or built in
// code (a steady stream to one Function).
type WorkloadSpec struct {
	// Kind is a workloads.Kinds value ("1", "2", "func", "azure",
	// "huawei"), generated with upstream's seed; "" for a steady stream.
	Kind string `yaml:"kind"`
	// Iter is the number of func cycles (Kind func only; 0 =
	// workloads.DefaultIter).
	Iter int `yaml:"iter"`

	// Name names a steady stream (the workload's name in run directory
	// names and manifests): lowercase letters, digits and '-'.
	Name string `yaml:"name"`
	// Function receives PerSecond requests in each of Seconds seconds; the
	// stream has no warmup.
	Function  string `yaml:"function"`
	Seconds   int    `yaml:"seconds"`
	PerSecond int    `yaml:"per_second"`
}

// ID is the workload's name: Kind for a generated workload, else Name.
func (w WorkloadSpec) ID() string {
	if w.Kind != "" {
		return w.Kind
	}
	return w.Name
}

// Group is a set of systems run with the same flags.
type Group struct {
	Systems []string
	Flags   Flags
}

// Figure is one paper figure's experiment: every system of each group
// runs every workload.
type Figure struct {
	Name      string
	Title     string
	Workloads []WorkloadSpec
	Groups    []Group
}

// Matrix is the experiment matrix: the figures, whose groups name systems
// of results.Systems.
type Matrix struct {
	Figures []Figure
}

// yaml forms of Group and Matrix.
type groupYAML struct {
	Systems  []string `yaml:"systems"`
	Mem      *float64 `yaml:"mem"`
	GC       *float64 `yaml:"gc"`
	IdleNum  *int     `yaml:"idle_num"`
	NoReuse  bool     `yaml:"no_reuse"`
	NoBgTask bool     `yaml:"no_bgtask"`
}

type figureYAML struct {
	Name      string         `yaml:"name"`
	Title     string         `yaml:"title"`
	Workloads []WorkloadSpec `yaml:"workloads"`
	Groups    []groupYAML    `yaml:"groups"`
}

type matrixYAMLDoc struct {
	Figures []figureYAML `yaml:"figures"`
}

// DefaultMatrix returns the paper's matrix (matrix.yaml, embedded), a new
// copy each call.
func DefaultMatrix() (*Matrix, error) {
	return ParseMatrix(matrixYAML, MatrixFile)
}

// ParseMatrix reads a matrix in matrix.yaml's format (name names it in
// errors), fills omitted flags with test.sh's defaults and validates it.
// Unknown keys are errors.
func ParseMatrix(data []byte, name string) (*Matrix, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc matrixYAMLDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrMatrix, err)
	}
	m := &Matrix{}
	for _, f := range doc.Figures {
		fig := Figure{Name: f.Name, Title: f.Title, Workloads: f.Workloads}
		for _, g := range f.Groups {
			fl := sim.DefaultFlags()
			fl.NoReuse, fl.NoBgTask = g.NoReuse, g.NoBgTask
			if g.Mem != nil {
				fl.MemGB = *g.Mem
			}
			if g.GC != nil {
				fl.GCMin = *g.GC
			}
			if g.IdleNum != nil {
				fl.IdleNum = *g.IdleNum
			}
			fig.Groups = append(fig.Groups, Group{Systems: slices.Clone(g.Systems), Flags: fl})
		}
		m.Figures = append(m.Figures, fig)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

var workloadNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Validate checks the matrix: known, distinct systems; distinct figure
// names (not "all"); each workload either a known kind or a steady stream
// to a catalog function; each group's systems known and its flags a valid
// platform configuration (sim.Config.Validate); and every run that two
// figures share (same run directory name) configured the same in both.
// Errors wrap ErrMatrix.
func (m *Matrix) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMatrix, fmt.Sprintf(format, args...))
	}
	if len(m.Figures) == 0 {
		return bad("no figures")
	}
	cat := workloads.DefaultCatalog()
	figures := map[string]bool{}
	for _, f := range m.Figures {
		if f.Name == "" || f.Name == FigureAll || figures[f.Name] {
			return bad("figure %q: empty, reserved or named twice", f.Name)
		}
		figures[f.Name] = true
		if len(f.Workloads) == 0 || len(f.Groups) == 0 {
			return bad("figure %s: no workloads or no groups", f.Name)
		}
		for _, w := range f.Workloads {
			if err := w.validate(cat); err != nil {
				return bad("figure %s: %v", f.Name, err)
			}
		}
		for _, g := range f.Groups {
			if len(g.Systems) == 0 {
				return bad("figure %s: a group without systems", f.Name)
			}
			for _, s := range g.Systems {
				if _, ok := results.SystemNamed(s); !ok {
					return bad("figure %s: unknown system %q: expected one of %s", f.Name, s, systemNames())
				}
			}
		}
	}
	_, err := m.Plan(FigureAll, results.TargetSim) // checks runs shared by figures
	return err
}

func (w WorkloadSpec) validate(cat *workloads.Catalog) error {
	if w.Kind != "" {
		if !slices.Contains(workloads.Kinds, w.Kind) {
			return fmt.Errorf("workload kind %q: expected one of %s", w.Kind, strings.Join(workloads.Kinds, ", "))
		}
		if w.Name != "" || w.Function != "" || w.Seconds != 0 || w.PerSecond != 0 {
			return fmt.Errorf("workload kind %q: name, function, seconds and per_second are for steady streams", w.Kind)
		}
		if w.Iter < 0 || (w.Iter != 0 && w.Kind != "func") {
			return fmt.Errorf("workload kind %q: iter %d: only func takes a positive iter", w.Kind, w.Iter)
		}
		return nil
	}
	if !workloadNameRE.MatchString(w.Name) || slices.Contains(workloads.Kinds, w.Name) {
		return fmt.Errorf("workload name %q: expected lowercase letters, digits and '-', not a kind", w.Name)
	}
	if _, ok := cat.Lookup(w.Function); !ok {
		return fmt.Errorf("workload %s: function %q is not in the catalog", w.Name, w.Function)
	}
	if w.Seconds <= 0 || w.PerSecond <= 0 || w.Iter != 0 {
		return fmt.Errorf("workload %s: expected positive seconds and per_second (and no iter)", w.Name)
	}
	return nil
}

// Run is one run of a plan: a system on a workload with flags, into the run
// directory Name.
type Run struct {
	// Name is the run directory's name: RunDirName(workload, method, pool,
	// target).
	Name string
	// Figures lists the figures that use the run, in matrix order.
	Figures  []string
	System   System
	Workload WorkloadSpec
	Flags    Flags
}

// Platform returns the run's platform configuration (sim.ConfigFor of its
// system and flags), model seeded with seed.
func (r *Run) Platform(seed uint64) sim.Config {
	return sim.ConfigFor(r.System.Method, r.System.Pool, r.Flags, seed)
}

// PlannedFigure is a figure of a plan and the runs it draws from.
type PlannedFigure struct {
	Name, Title string
	// Runs are run directory names (Plan.Runs), in matrix order.
	Runs []string
}

// Plan is what a reproduction runs: each run once, whichever figures share
// it.
type Plan struct {
	Target  results.Target
	Runs    []Run
	Figures []PlannedFigure
}

// Plan lists the runs of figure (a figure name or FigureAll) on target,
// each run once: runs with the same directory name are one run, which
// every figure using it shares (fig15 draws on fig13's Azure runs). Two
// figures that give one run directory different configurations are an
// error wrapping ErrMatrix.
func (m *Matrix) Plan(figure string, target results.Target) (*Plan, error) {
	p := &Plan{Target: target}
	var figs []Figure
	for _, f := range m.Figures {
		if figure == FigureAll || f.Name == figure {
			figs = append(figs, f)
		}
	}
	if len(figs) == 0 {
		return nil, fmt.Errorf("experiments: unknown figure %q: expected one of %s or %s",
			figure, strings.Join(m.FigureNames(), ", "), FigureAll)
	}
	index := map[string]int{}
	for _, f := range figs {
		pf := PlannedFigure{Name: f.Name, Title: f.Title}
		for _, w := range f.Workloads {
			for _, g := range f.Groups {
				for _, sn := range g.Systems {
					s, _ := results.SystemNamed(sn) // Validate checked the names
					r := Run{Name: RunDirName(w.ID(), s.Method, s.Pool, target), Figures: []string{f.Name},
						System: s, Workload: w, Flags: g.Flags}
					cfg := r.Platform(DefaultModelSeed)
					if err := cfg.Validate(); err != nil {
						return nil, fmt.Errorf("%w: figure %s, run %s: %v", ErrMatrix, f.Name, r.Name, err)
					}
					if i, ok := index[r.Name]; ok {
						old := &p.Runs[i]
						if old.System != r.System || old.Workload != r.Workload || old.Flags != r.Flags {
							return nil, fmt.Errorf("%w: run %s: figures %s and %s configure it differently (%+v %+v vs %+v %+v)",
								ErrMatrix, r.Name, old.Figures[0], f.Name, old.System, old.Flags, r.System, r.Flags)
						}
						if !slices.Contains(old.Figures, f.Name) {
							old.Figures = append(old.Figures, f.Name)
						}
					} else {
						index[r.Name] = len(p.Runs)
						p.Runs = append(p.Runs, r)
					}
					if !slices.Contains(pf.Runs, r.Name) {
						pf.Runs = append(pf.Runs, r.Name)
					}
				}
			}
		}
		p.Figures = append(p.Figures, pf)
	}
	return p, nil
}

// FigureNames lists the matrix's figures in order.
func (m *Matrix) FigureNames() []string {
	names := make([]string, len(m.Figures))
	for i, f := range m.Figures {
		names[i] = f.Name
	}
	return names
}

// Datasets are the datasets of the trace workloads: paths as gen --dataset
// takes them; "" = the built-in synthetic sample.
type Datasets struct {
	Azure, Huawei string
}

// Build makes the workload and the manifest's description of it: a
// generated workload from GenerateWorkload with upstream's seed (the
// traces from ds, or the built-in samples; dataset files hashed), a steady
// stream in code. meter observes dataset reading (nil = none).
func (w WorkloadSpec) Build(ctx context.Context, ds Datasets, meter tracefile.Meter) (workloads.Workload, results.WorkloadInfo, error) {
	cat := workloads.DefaultCatalog()
	info := results.WorkloadInfo{Name: w.ID()}
	if err := w.validate(cat); err != nil {
		return workloads.Workload{}, info, fmt.Errorf("%w: %v", ErrMatrix, err)
	}
	if w.Kind == "" {
		counts := make([]int, w.Seconds)
		for i := range counts {
			counts[i] = w.PerSecond
		}
		wl := workloads.Workload{Test: workloads.Phase{{Function: w.Function, Counts: counts}}}
		return wl, info, wl.Validate(cat)
	}
	iter := w.Iter
	if iter == 0 {
		iter = workloads.DefaultIter
	}
	path := map[string]string{"azure": ds.Azure, "huawei": ds.Huawei}[w.Kind]
	wl, info, err := GenerateWorkload(ctx, w.Kind, workloads.DefaultSeed, iter, path, meter)
	if err != nil {
		return workloads.Workload{}, info, fmt.Errorf("workload %s: %w", w.ID(), err)
	}
	return wl, info, nil
}

// GenerateWorkload makes the workload kind (one of workloads.Kinds) as
// `trenv-bench gen` does, with seed and iter, and describes it for the
// manifest (results.WorkloadInfo: name, generator seed, dataset). A trace
// workload reads the dataset at dataset, or the built-in synthetic sample
// when dataset is "" (info.Dataset then says results.DatasetBuiltInSample);
// the files it reads are hashed into info.DatasetFiles, and a dataset that
// `traces synth` wrote (its marker lists the files) is marked Synthetic.
// DatasetNote says what to tell the user. meter observes dataset reading
// (nil = none).
func GenerateWorkload(ctx context.Context, kind string, seed uint32, iter int, dataset string, meter tracefile.Meter) (workloads.Workload, results.WorkloadInfo, error) {
	if meter == nil {
		meter = tracefile.NopMeter{}
	}
	s := uint64(seed)
	info := results.WorkloadInfo{Name: kind, GeneratorSeed: &s}
	gopts := workloads.Options{Seed: seed, Iter: iter, Catalog: workloads.DefaultCatalog(), Meter: meter}
	sample, err := gopts.UseDataset(kind, dataset)
	if err != nil {
		return workloads.Workload{}, info, err
	}
	switch {
	case sample:
		info.Dataset = results.DatasetBuiltInSample
		info.Synthetic = true
	case kind == "azure" || kind == "huawei":
		info.Dataset = dataset
		files, err := gopts.DatasetFiles(ctx, kind)
		if err != nil {
			return workloads.Workload{}, info, err
		}
		for _, f := range files {
			info.DatasetFiles = append(info.DatasetFiles, results.DatasetFile{Path: f.Path, SHA256: f.SHA256, Bytes: f.Bytes, Synthetic: f.Synthetic})
			info.Synthetic = info.Synthetic || f.Synthetic
		}
	}
	res, err := workloads.Generate(ctx, kind, gopts)
	if err != nil {
		return workloads.Workload{}, info, err
	}
	return res.Workload, info, nil
}

// traceNames are the real traces behind the trace workloads, for messages.
var traceNames = map[string]string{
	"azure":  "the Azure Functions 2019 trace",
	"huawei": "the Huawei 2023 trace",
}

// DatasetNote is the line to tell the user when a trace workload's data is
// invented, "" otherwise: the built-in sample was used because flag (the
// option that names the real dataset, e.g. "--azure-dataset") was not
// given, or the dataset given was written by `traces synth`.
func DatasetNote(info results.WorkloadInfo, flag string) string {
	trace, ok := traceNames[info.Name]
	switch {
	case !ok || !info.SyntheticData():
		return ""
	case info.Dataset == results.DatasetBuiltInSample:
		return fmt.Sprintf("workload %s: no %s given: using the built-in synthetic sample (invented content, not %s); "+
			"figures and report say so. Pass %s PATH for the real dataset", info.Name, flag, trace, flag)
	}
	return fmt.Sprintf("workload %s: %s %s was written by traces synth (its %s lists the files): invented content, not %s; "+
		"figures and report say so", info.Name, flag, info.Dataset, tracefile.SynthMarkerName, trace)
}

// systemNames lists the systems a matrix may name.
func systemNames() string {
	var names []string
	for _, s := range results.Systems() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
