package experiments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/replay"
	"trenv-bench/report"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/sim/startpath"
	"trenv-bench/system"
	"trenv-bench/traces/tracefile"
	"trenv-bench/workloads"
)

// DefaultOutDir is where Reproduce puts its run directories, figures and
// report when Options.OutDir is empty.
const DefaultOutDir = "runs/reproduce"

// Names inside a reproduction's output directory.
const (
	// ReportFile is the Markdown report of every run of the reproduction,
	// linking the figures; ReportHTMLFile the same report as one
	// self-contained HTML page, figures inlined.
	ReportFile     = "report.md"
	ReportHTMLFile = "report.html"
	// FiguresDir holds the figures the plot step draws.
	FiguresDir = "figures"
)

// PlotFunc draws figure (a matrix figure name) from its run directories
// into outDir and returns the figures it wrote: each file's Path, and for
// the report its Name, Title, Caption and Workloads (Reproduce reads the
// files' Data). Reproduce calls it once per figure whose runs are all
// complete.
type PlotFunc func(figure string, runDirs []string, outDir string) ([]report.Figure, error)

// ExecuteFunc runs one run; Execute is the real one.
type ExecuteFunc func(context.Context, *Spec) (results.Manifest, error)

// StepAction is what Reproduce does with a run.
type StepAction string

// The actions of a step.
const (
	// StepRun: the run is missing (or incomplete, or stale) and runs now.
	StepRun StepAction = "run"
	// StepSkip: the run is complete and matches the matrix.
	StepSkip StepAction = "skip"
	// StepDone: every run was handled (the last report; Run is "").
	StepDone StepAction = "done"
)

// Step reports progress over a plan: Reproduce calls Options.Progress
// before each run with Done runs handled of Total, and once more with
// StepDone and Done == Total.
type Step struct {
	Done, Total int
	// Run is the run directory name of the run this step is about.
	Run    string
	Action StepAction
}

// Options are the inputs of Reproduce.
type Options struct {
	// Figure is a matrix figure name or FigureAll.
	Figure string
	// Target is sim, twin or host (a reproduction needs runs it can start,
	// so not gateway).
	Target results.Target
	// OutDir holds the run directories, FiguresDir and ReportFile; "" =
	// DefaultOutDir.
	OutDir string
	// Speed compresses the twin's time (TargetTwin only); 0 = 1.
	Speed float64
	// Datasets are the trace datasets; "" = the built-in samples.
	Datasets Datasets

	// Matrix is the experiment matrix; nil = DefaultMatrix().
	Matrix *Matrix
	// Model is the platform model's cost model; nil =
	// calibration.Default().
	Model *calibration.Model
	// Steps are the step costs the model variants of a model-only figure
	// are built from (sim/startpath); nil = startpath.Default().
	Steps *startpath.Steps

	// ToolVersion and CommandLine go into every run's manifest.
	ToolVersion string
	CommandLine []string

	// Execute runs one run; nil = Execute. Tests count calls through it.
	Execute ExecuteFunc
	// Plot draws the figures; nil = no figures (a note says so).
	Plot PlotFunc
	// Progress receives a Step before each run and at the end; nil = none.
	Progress func(Step)
	// RunProgress receives replay progress within a twin run; nil = none.
	RunProgress func(replay.Progress)
	// Meter observes dataset reading; nil = none.
	Meter tracefile.Meter
	// Notes receives remarks for the user; nil = discarded.
	Notes io.Writer

	// Host, PreparePool and Clean serve TargetHost: where each run finds
	// the stack (nil = DefaultHostOptions); the host's preparation for a
	// memory pool (system prepare), done before the first run of each
	// pool's group; and the host's clean-up (system clean), done before
	// every run. Both are required for TargetHost.
	Host        *HostOptions
	PreparePool func(ctx context.Context, pool string) error
	Clean       func(ctx context.Context) error
}

// hostGroup is the group of a host run: TrEnv over RDMA needs the host
// prepared for the rdma pool; every other run needs it prepared for cxl
// (the baselines restore the same CRIU images, which any preparation
// leaves, from the same tmpfs).
func hostGroup(r *Run) string {
	if r.System.Pool == system.PoolRDMA {
		return system.PoolRDMA
	}
	return system.PoolCXL
}

// Outcome says what Reproduce did.
type Outcome struct {
	// Plan is what the figure needed.
	Plan *Plan
	// Ran and Skipped list run directory names; Failed those whose run
	// ended with an error (their directories say failed).
	Ran, Skipped, Failed []string
	// Figures are the files the plot step wrote; Report and ReportHTML
	// the reports' paths ("" when they could not be written).
	Figures            []string
	Report, ReportHTML string
}

func (o *Options) notes() io.Writer {
	if o.Notes == nil {
		return io.Discard
	}
	return o.Notes
}

// Reproduce runs what figure o.Figure (or all) needs and is missing, draws
// the figures and writes the report:
//
//  1. Plan the runs (Matrix.Plan): each (workload × system) once, shared
//     between figures.
//  2. For each run: a run directory whose manifest says complete and
//     matches the run (method, pool, flags, workload digests, seeds) is
//     skipped; a missing one is run; an incomplete (interrupted, failed,
//     crashed) or stale one is run again over its files (Force). So an
//     interrupted reproduction resumes where it stopped. A run that fails
//     is recorded and the others go on.
//  3. For each figure whose runs are all complete: Plot, into
//     OutDir/figures.
//  4. Write OutDir/report.md and OutDir/report.html (package report) over
//     every run directory of the plan, sections in the plan's workload
//     order, each figure in the section of its workload.
//
// Cancelling ctx stops between runs and inside a run (Execute leaves it
// interrupted); the error then wraps context.Canceled and no figure or
// report is made. Failed runs make the error list them, after steps 3–4.
func Reproduce(ctx context.Context, o Options) (Outcome, error) {
	var out Outcome
	if o.Target != results.TargetSim && o.Target != results.TargetTwin && o.Target != results.TargetHost {
		return out, fmt.Errorf("experiments: target %q: expected sim, twin or host", o.Target)
	}
	m := o.Matrix
	if m == nil {
		var err error
		if m, err = DefaultMatrix(); err != nil {
			return out, err
		}
	}
	host := o.Target == results.TargetHost
	if host {
		// A model-only figure is refused as such, before anything else.
		if _, err := m.Plan(o.Figure, o.Target); errors.Is(err, results.ErrModelOnly) {
			return out, err
		}
	}
	if host && (o.PreparePool == nil || o.Clean == nil) {
		return out, fmt.Errorf("experiments: a host reproduction needs the host's preparation and clean-up")
	}
	speed := o.Speed
	if speed == 0 {
		speed = 1
	}
	if !(speed > 0) || (speed != 1 && o.Target != results.TargetTwin) {
		return out, fmt.Errorf("experiments: speed %v: expected a positive speed, and only for the twin", o.Speed)
	}
	specSpeed := speed
	if o.Target == results.TargetSim {
		specSpeed = 0 // virtual time: the manifest says 0
	}
	model := o.Model
	if model == nil {
		var err error
		if model, err = calibration.Default(); err != nil {
			return out, err
		}
	}
	steps := o.Steps
	exec := o.Execute
	if exec == nil {
		exec = Execute
	}
	outDir := o.OutDir
	if outDir == "" {
		outDir = DefaultOutDir
	}
	plan, err := m.Plan(o.Figure, o.Target)
	if err != nil {
		return out, err
	}
	out.Plan = plan
	order := make([]int, len(plan.Runs))
	for i := range order {
		order[i] = i
	}
	if host {
		// A pool's runs one after another, with one preparation for the
		// group; the report and figures keep the plan's order.
		slices.SortStableFunc(order, func(a, b int) int {
			return strings.Compare(hostGroup(&plan.Runs[a]), hostGroup(&plan.Runs[b]))
		})
	}
	prepared := ""
	progress := func(s Step) {
		if o.Progress != nil {
			o.Progress(s)
		}
	}

	built := map[string]builtWorkload{} // by workload ID
	for i, ri := range order {
		run := &plan.Runs[ri]
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("experiments: reproduce stopped before %s: %w", run.Name, err)
		}
		dir := filepath.Join(outDir, run.Name)
		wl, ok := built[run.Workload.ID()]
		if !ok {
			w, info, err := run.Workload.Build(ctx, o.Datasets, o.Meter)
			if err != nil {
				return out, err
			}
			if note := DatasetNote(info, "--"+info.Name+"-dataset"); note != "" {
				fmt.Fprintf(o.notes(), "reproduce: %s\n", note)
			}
			wl = builtWorkload{w, info}
			built[run.Workload.ID()] = wl
		}
		runModel := model
		if v := run.System.Variant; v != "" {
			if steps == nil {
				var err error
				if steps, err = startpath.Default(); err != nil {
					return out, err
				}
			}
			var err error
			if runModel, err = VariantModel(model, steps, v, wl.w); err != nil {
				return out, fmt.Errorf("experiments: run %s: %w", run.Name, err)
			}
		}
		spec := &Spec{
			Dir: dir, Target: o.Target, Speed: specSpeed,
			Platform: run.Platform(DefaultModelSeed), Model: runModel, Workload: wl.w,
			Manifest: results.Manifest{ToolVersion: o.ToolVersion, CommandLine: o.CommandLine, Platform: run.Flags, Workload: wl.info,
				ModelVariant: run.System.Variant},
			JitterSeed: DefaultJitterSeed, Progress: o.RunProgress, Notes: o.Notes,
		}
		state, why := runState(dir, spec)
		if state == stateComplete {
			out.Skipped = append(out.Skipped, run.Name)
			progress(Step{Done: i, Total: len(plan.Runs), Run: run.Name, Action: StepSkip})
			continue
		}
		if state == stateRedo {
			fmt.Fprintf(o.notes(), "reproduce: %s: %s: running it again\n", dir, why)
			spec.Force = true
		}
		progress(Step{Done: i, Total: len(plan.Runs), Run: run.Name, Action: StepRun})
		out.Ran = append(out.Ran, run.Name)
		if host {
			spec.Host = o.Host
			if err := o.Clean(ctx); err != nil {
				return out, fmt.Errorf("experiments: cleaning the host before %s: %w", run.Name, err)
			}
			if g := hostGroup(run); g != prepared {
				fmt.Fprintf(o.notes(), "reproduce: preparing the host for the %s pool\n", g)
				if err := o.PreparePool(ctx, g); err != nil {
					return out, fmt.Errorf("experiments: preparing the host for the %s pool (before %s): %w", g, run.Name, err)
				}
				prepared = g
			}
		}
		_, err := exec(ctx, spec)
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return out, fmt.Errorf("experiments: reproduce interrupted in %s (run again to resume): %w", run.Name, errors.Join(err, ctx.Err()))
			}
			fmt.Fprintf(o.notes(), "reproduce: %s failed: %v\n", run.Name, err)
			out.Failed = append(out.Failed, run.Name)
		}
	}
	progress(Step{Done: len(plan.Runs), Total: len(plan.Runs), Action: StepDone})

	var errs []error
	if len(out.Failed) > 0 {
		errs = append(errs, fmt.Errorf("experiments: %d of %d runs failed (see their manifest.json): %s",
			len(out.Failed), len(plan.Runs), strings.Join(out.Failed, ", ")))
	}
	figDir := filepath.Join(outDir, FiguresDir)
	var figures []report.Figure
	for _, f := range plan.Figures {
		dirs := make([]string, len(f.Runs))
		complete := true
		for i, name := range f.Runs {
			dirs[i] = filepath.Join(outDir, name)
			complete = complete && results.IsComplete(dirs[i])
		}
		switch {
		case !complete:
			fmt.Fprintf(o.notes(), "reproduce: %s: not plotted, some of its runs are not complete\n", f.Name)
		case o.Plot == nil:
			fmt.Fprintf(o.notes(), "reproduce: %s: not plotted, no plot step in this build\n", f.Name)
		default:
			if err := os.MkdirAll(figDir, 0o755); err != nil {
				errs = append(errs, err)
				continue
			}
			figs, err := o.Plot(f.Name, dirs, figDir)
			for _, fig := range figs {
				out.Figures = append(out.Figures, fig.Path)
			}
			figures = append(figures, figs...)
			if err != nil {
				errs = append(errs, fmt.Errorf("experiments: plotting %s: %w", f.Name, err))
			}
		}
	}
	md, html, err := writeReport(outDir, plan, figures)
	if err != nil {
		errs = append(errs, err)
	}
	out.Report, out.ReportHTML = md, html
	return out, errors.Join(errs...)
}

// VariantModel is the cost model of a run of model variant (a
// results.ModelVariants Variant) replaying w: startpath.Variant of model,
// after checking that w invokes only functions the step costs cover (the
// variant would be T-CXL for any other).
func VariantModel(model *calibration.Model, steps *startpath.Steps, variant string, w workloads.Workload) (*calibration.Model, error) {
	for _, phase := range []workloads.Phase{w.Warmup, w.Test} {
		for _, s := range phase {
			if !steps.Covers(s.Function) {
				return nil, fmt.Errorf("model variant %s: the step costs cover %s only, and the workload invokes %s",
					variant, strings.Join(steps.FunctionNames(), " and "), s.Function)
			}
		}
	}
	return startpath.Variant(model, steps, variant)
}

// Workloads lists the workloads of the plan's runs, each once, in the
// order the plan runs them (reproduce's order; the report's sections
// follow it).
func (p *Plan) Workloads() []string {
	var out []string
	for _, r := range p.Runs {
		if id := r.Workload.ID(); !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// WorkloadOrder is the order of the workloads of every figure of the
// default matrix: the order of reproduce all's report, for other reports
// of the same runs.
func WorkloadOrder() []string {
	return FigureWorkloads(FigureAll)
}

// FigureWorkloads lists the workloads the default matrix runs for figure
// (a figure name or FigureAll), in plan order; nil for an unknown figure.
func FigureWorkloads(figure string) []string {
	m, err := DefaultMatrix()
	if err != nil {
		return nil
	}
	p, err := m.Plan(figure, results.TargetSim)
	if err != nil {
		return nil
	}
	return p.Workloads()
}

type builtWorkload struct {
	w    workloads.Workload
	info results.WorkloadInfo
}

type dirState int

const (
	stateMissing  dirState = iota // no run directory, or an empty one
	stateComplete                 // complete and matching: skip
	stateRedo                     // incomplete or stale: run again with Force
)

// runState tells what to do with the run directory of spec, and why.
func runState(dir string, spec *Spec) (dirState, string) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return stateMissing, ""
	}
	m, err := results.ReadManifest(filepath.Join(dir, results.ManifestFile))
	switch {
	case err != nil:
		return stateRedo, "no readable manifest.json"
	case m.Status != results.RunComplete:
		return stateRedo, "the run is " + string(m.Status)
	}
	pool := ""
	if spec.Platform.Method == sim.MethodTrEnv {
		pool = spec.Platform.Pool
	}
	switch {
	case m.Method != spec.Platform.Method || m.Pool != pool:
		return stateRedo, fmt.Sprintf("it ran %s/%s, the matrix says %s/%s", m.Method, m.Pool, spec.Platform.Method, pool)
	case m.ModelVariant != spec.Manifest.ModelVariant:
		return stateRedo, fmt.Sprintf("it ran model variant %q, the matrix says %q", m.ModelVariant, spec.Manifest.ModelVariant)
	case m.Platform != spec.Manifest.Platform:
		return stateRedo, fmt.Sprintf("it ran with flags %+v, the matrix says %+v", m.Platform, spec.Manifest.Platform)
	case m.Workload.TestSHA256 != results.SHA256Hex(spec.Workload.Test.AppendJSON(nil)) ||
		m.Workload.WarmupSHA256 != results.SHA256Hex(spec.Workload.Warmup.AppendJSON(nil)):
		return stateRedo, "it replayed another workload (the digests differ)"
	case m.Seeds.Jitter != spec.JitterSeed || (m.Seeds.Model != nil && *m.Seeds.Model != spec.Platform.Seed):
		return stateRedo, "it ran with other seeds"
	case m.CalibrationSHA256 != "" && spec.Model != nil:
		if d, err := CalibrationDigest(spec.Model); err == nil && d != m.CalibrationSHA256 {
			return stateRedo, "it ran with another calibration (calibration_sha256 differs)"
		}
	}
	return stateComplete, ""
}

// writeReport writes ReportFile, with the figures linked relative to it,
// and ReportHTMLFile, with them inlined, over the plan's run directories
// that exist.
func writeReport(outDir string, plan *Plan, figures []report.Figure) (md, html string, err error) {
	var dirs []string
	for _, r := range plan.Runs {
		d := filepath.Join(outDir, r.Name)
		if results.IsRunDir(d) {
			dirs = append(dirs, d)
		}
	}
	rep, err := report.Load(dirs)
	if err != nil {
		return "", "", fmt.Errorf("experiments: report: %w", err)
	}
	rep.Order(plan.Workloads())
	names := make([]string, len(plan.Figures))
	for i, f := range plan.Figures {
		names[i] = f.Name
	}
	rep.Title = "trenv-bench reproduce " + strings.Join(names, ", ") + " (target " + string(plan.Target) + ")"
	var errs []error
	for _, f := range figures {
		loaded, err := report.LoadFigure(f.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("experiments: report: %w", err))
			continue
		}
		f.Data, f.MediaType = loaded.Data, loaded.MediaType
		if f.Name == "" {
			f.Name = loaded.Name
		}
		if rel, err := filepath.Rel(outDir, f.Path); err == nil {
			f.Path = filepath.ToSlash(rel)
		}
		rep.Figures = append(rep.Figures, f)
	}
	slices.SortStableFunc(rep.Figures, func(a, b report.Figure) int { return strings.Compare(a.Name, b.Name) })
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", "", errors.Join(append(errs, err)...)
	}
	for _, out := range []struct {
		name  string
		write func(io.Writer) error
		path  *string
	}{
		{ReportFile, rep.WriteMarkdown, &md},
		{ReportHTMLFile, rep.WriteHTML, &html},
	} {
		var b bytes.Buffer
		if err := out.write(&b); err != nil {
			errs = append(errs, fmt.Errorf("experiments: %s: %w", out.name, err))
			continue
		}
		path := filepath.Join(outDir, out.name)
		if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("experiments: report: %w", err))
			continue
		}
		*out.path = path
	}
	return md, html, errors.Join(errs...)
}
