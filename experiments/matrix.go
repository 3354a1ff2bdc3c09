package experiments

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
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

// WorkloadSpec is a matrix's workload: generated (Kind) or a steady stream
// (workloads.Steady, its keys inline).
type WorkloadSpec struct {
	// Kind is a workloads.Kinds value ("1", "2", "func", "azure",
	// "huawei"), generated with upstream's seed; "" for a steady stream.
	Kind string `yaml:"kind"`
	// Iter is the number of func cycles (Kind func only; 0 =
	// workloads.DefaultIter).
	Iter int `yaml:"iter"`
	// Steady is the steady stream of Kind "": name, function, seconds,
	// per_second.
	workloads.Steady `yaml:",inline"`
}

// ID is the workload's name: Kind for a generated workload, else the
// stream's Name.
func (w WorkloadSpec) ID() string { return workloads.Spec{Kind: w.Kind, Steady: w.Steady}.Name() }

// Group is a set of systems run with the same flags.
type Group struct {
	Systems []string
	Flags   Flags
}

// Figure is one paper figure's experiment: every system of each group
// runs every workload, or (From) the runs of other figures.
type Figure struct {
	Name      string
	Title     string
	Workloads []WorkloadSpec
	Groups    []Group
	// From names other figures of the matrix whose runs this one draws
	// (fig11a: the peak memory of fig10a's, fig10b's and fig13's runs);
	// such a figure has no workloads or groups of its own.
	From []string
	// ModelOnly: the figure exists on the platform model only (its groups
	// name model variants, results.ModelVariants); a host plan refuses it.
	ModelOnly bool
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
	From      []string       `yaml:"from"`
	ModelOnly bool           `yaml:"model_only"`
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
		fig := Figure{Name: f.Name, Title: f.Title, Workloads: f.Workloads, From: slices.Clone(f.From), ModelOnly: f.ModelOnly}
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

// Validate checks the matrix: known, distinct systems; distinct figure
// names (not "all"); each workload either a known kind or a steady stream
// to a catalog function; each group's systems known (results.SystemNamed:
// the paper's systems, or model variants in a figure marked model_only)
// and its flags a valid platform configuration (sim.Config.Validate); a
// figure drawn from others (From) naming other figures of the matrix that
// are not drawn from others themselves, and having no workloads or groups of its
// own; and every run that two figures share (same run directory name)
// configured the same in both. Errors wrap ErrMatrix.
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
		if len(f.From) > 0 {
			if len(f.Workloads) > 0 || len(f.Groups) > 0 || f.ModelOnly {
				return bad("figure %s: drawn from %s, it takes no workloads, groups or model_only of its own", f.Name, strings.Join(f.From, ", "))
			}
			for _, src := range f.From {
				i := slices.IndexFunc(m.Figures, func(g Figure) bool { return g.Name == src })
				switch {
				case i < 0 || src == f.Name:
					return bad("figure %s: from %q: expected another figure of the matrix", f.Name, src)
				case len(m.Figures[i].From) > 0:
					return bad("figure %s: from %s, which is itself drawn from other figures", f.Name, src)
				}
			}
			continue
		}
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
				sys, ok := results.SystemNamed(s)
				if !ok {
					return bad("figure %s: unknown system %q: expected one of %s", f.Name, s, systemNames())
				}
				if sys.ModelOnly() && !f.ModelOnly {
					return bad("figure %s: system %s is a model variant (it exists on the platform model only): mark the figure model_only", f.Name, s)
				}
			}
		}
	}
	_, err := m.Plan(FigureAll, results.TargetSim) // checks runs shared by figures
	return err
}

// validate checks what the matrix's format adds to workloads.Make's
// checks: a generated kind takes no stream's keys, only func takes iter,
// and a stream is valid (workloads.Steady.Validate).
func (w WorkloadSpec) validate(cat *workloads.Catalog) error {
	if w.Kind == "" {
		if w.Iter != 0 {
			return fmt.Errorf("workload %s: iter %d: only kind func takes iter", w.Name, w.Iter)
		}
		return w.Steady.Validate(cat)
	}
	if !slices.Contains(workloads.Kinds, w.Kind) {
		return fmt.Errorf("workload kind %q: expected one of %s", w.Kind, strings.Join(workloads.Kinds, ", "))
	}
	if w.Steady != (workloads.Steady{}) {
		return fmt.Errorf("workload kind %q: name, function, seconds and per_second are for steady streams", w.Kind)
	}
	if w.Iter < 0 || (w.Iter != 0 && w.Kind != "func") {
		return fmt.Errorf("workload kind %q: iter %d: only func takes a positive iter", w.Kind, w.Iter)
	}
	return nil
}

// Run is one run of a plan: a system on a workload with flags, into the run
// directory Name.
type Run struct {
	// Name is the run directory's name: SystemRunDirName(workload, system,
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
// every figure using it shares (fig15 draws on fig13's Azure runs; fig11a,
// drawn From others, on theirs). Two figures that give one run directory
// different configurations are an error wrapping ErrMatrix. On a host
// (TargetHost, TargetGateway) a ModelOnly figure is refused with an error
// wrapping results.ErrModelOnly, and left out of FigureAll.
func (m *Matrix) Plan(figure string, target results.Target) (*Plan, error) {
	p := &Plan{Target: target}
	onHost := !target.Simulated()
	var figs []Figure
	for _, f := range m.Figures {
		if figure != FigureAll && f.Name != figure {
			continue
		}
		if f.ModelOnly && onHost {
			if figure == FigureAll {
				continue
			}
			return nil, fmt.Errorf("experiments: figure %s on target %s: %w", f.Name, target, results.ErrModelOnly)
		}
		figs = append(figs, f)
	}
	if len(figs) == 0 {
		return nil, fmt.Errorf("experiments: unknown figure %q: expected one of %s or %s",
			figure, strings.Join(m.FigureNames(), ", "), FigureAll)
	}
	index := map[string]int{}
	// Figures drawn from others come last, so the runs keep the order of
	// the figures that define them (reproduce's order, the report's).
	slices.SortStableFunc(figs, func(a, b Figure) int { return min(len(a.From), 1) - min(len(b.From), 1) })
	planned := map[string]PlannedFigure{}
	for _, f := range figs {
		pf := PlannedFigure{Name: f.Name, Title: f.Title}
		runs, err := m.figureRuns(f, target)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			r.Figures = []string{f.Name}
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
		planned[f.Name] = pf
	}
	for _, f := range m.Figures { // matrix order
		if pf, ok := planned[f.Name]; ok {
			p.Figures = append(p.Figures, pf)
		}
	}
	return p, nil
}

// figureRuns lists the runs of one figure on target, in matrix order: its
// workloads × groups × systems, or the runs of the figures it is drawn
// from. Figures is left empty.
func (m *Matrix) figureRuns(f Figure, target results.Target) ([]Run, error) {
	var out []Run
	for _, src := range f.From {
		i := slices.IndexFunc(m.Figures, func(g Figure) bool { return g.Name == src })
		if i < 0 { // Validate checked the names
			return nil, fmt.Errorf("%w: figure %s: from %q: no such figure", ErrMatrix, f.Name, src)
		}
		runs, err := m.figureRuns(m.Figures[i], target)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	for _, w := range f.Workloads {
		for _, g := range f.Groups {
			for _, sn := range g.Systems {
				s, _ := results.SystemNamed(sn) // Validate checked the names
				r := Run{Name: SystemRunDirName(w.ID(), s, target), System: s, Workload: w, Flags: g.Flags}
				cfg := r.Platform(DefaultModelSeed)
				if err := cfg.Validate(); err != nil {
					return nil, fmt.Errorf("%w: figure %s, run %s: %v", ErrMatrix, f.Name, r.Name, err)
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
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

// spec is what workloads.Make makes of w: a generated kind with upstream's
// seed from its dataset in ds, or the steady stream.
func (w WorkloadSpec) spec(ds Datasets, meter tracefile.Meter) workloads.Spec {
	return workloads.Spec{Kind: w.Kind, Seed: workloads.DefaultSeed, Iter: w.Iter,
		Dataset: map[string]string{"azure": ds.Azure, "huawei": ds.Huawei}[w.Kind],
		Steady:  w.Steady, Meter: meter}
}

// Build makes the workload (workloads.Make: the traces from ds, or the
// built-in samples; dataset files hashed) and the manifest's description
// of it. meter observes dataset reading (nil = none).
func (w WorkloadSpec) Build(ctx context.Context, ds Datasets, meter tracefile.Meter) (workloads.Workload, results.WorkloadInfo, error) {
	if err := w.validate(workloads.DefaultCatalog()); err != nil {
		return workloads.Workload{}, results.WorkloadInfo{Name: w.ID()}, fmt.Errorf("%w: %v", ErrMatrix, err)
	}
	res, prov, err := workloads.Make(ctx, w.spec(ds, meter))
	if err != nil {
		return workloads.Workload{}, WorkloadInfo(prov), fmt.Errorf("workload %s: %w", w.ID(), err)
	}
	return res.Workload, WorkloadInfo(prov), nil
}

// WorkloadInfo is the manifest's description (results.WorkloadInfo) of a
// workload workloads.Make made: its name and generator seed, and where its
// data came from — the dataset and its files with their sha256, or
// results.DatasetBuiltInSample; Synthetic when the data is invented (the
// sample, or files a traces synth marker lists). DatasetNote says what to
// tell the user.
func WorkloadInfo(p workloads.Provenance) results.WorkloadInfo {
	info := results.WorkloadInfo{Name: p.Name, Dataset: p.Dataset, Synthetic: p.Synthetic()}
	if p.Seed != nil {
		s := uint64(*p.Seed)
		info.GeneratorSeed = &s
	}
	if p.Sample {
		info.Dataset = results.DatasetBuiltInSample
	}
	for _, f := range p.Files {
		info.DatasetFiles = append(info.DatasetFiles, results.DatasetFile(f))
	}
	return info
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

// systemNames lists the systems a matrix may name: the paper's, then the
// model variants (model_only figures only).
func systemNames() string {
	var names []string
	for _, s := range results.Systems() {
		names = append(names, s.Name)
	}
	for _, s := range results.ModelVariants() {
		names = append(names, s.Name+" (model_only figures)")
	}
	return strings.Join(names, ", ")
}
