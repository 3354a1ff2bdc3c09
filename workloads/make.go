package workloads

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"trenv-bench/traces/tracefile"
)

// Spec says which workload Make makes: one of the generated kinds (as
// `trenv-bench gen -w KIND` makes it) or a steady stream.
//
//	Spec{Kind: "1", Seed: DefaultSeed}                  W1, byte for byte upstream's
//	Spec{Kind: "azure", Seed: DefaultSeed}              the azure workload from the built-in sample
//	Spec{Kind: "azure", Seed: 7, Dataset: "az.tar.xz"}  … from the dataset as downloaded, seed 7
//	Spec{Steady: Steady{Name: "s", Function: "pyaes", Seconds: 25, PerSecond: 2}}
type Spec struct {
	// Kind is one of Kinds, generated as upstream gen_trace.py does; ""
	// for the steady stream Steady.
	Kind string
	// Seed seeds both random generators of a generated kind (DefaultSeed
	// reproduces upstream; 0 is a seed like any other).
	Seed uint32
	// Iter is the number of func cycles, 1 to MaxIter; 0 = DefaultIter.
	// Kinds other than func ignore it.
	Iter int
	// Dataset is the dataset of a trace kind (azure, huawei), in any form
	// azure.OpenDataset or huawei.OpenDataset takes; "" = a small synthetic
	// sample built in memory (SampleSeed) that covers what the workload
	// selects. Other kinds read no dataset and ignore it.
	Dataset string
	// NoDigests leaves the dataset files of Provenance.Files without their
	// SHA256 and Bytes: hashing reads the dataset a second time, which gen,
	// which records no provenance, does not need. Run and reproduce leave
	// it false.
	NoDigests bool
	// Steady is the stream of Kind "".
	Steady Steady
	// Catalog names the known functions and their caps; nil =
	// DefaultCatalog.
	Catalog *Catalog
	// Meter observes dataset reading; nil = none.
	Meter tracefile.Meter
}

// Name is the workload's name in run directory names and manifests: the
// Kind, or the steady stream's Name.
func (s Spec) Name() string {
	if s.Kind != "" {
		return s.Kind
	}
	return s.Steady.Name
}

// Provenance says where a workload Make made came from, for a run's
// manifest: what was generated with which seed, and which data it read.
type Provenance struct {
	// Name is Spec.Name.
	Name string
	// Seed is the generators' seed; nil for a steady stream, which draws
	// nothing.
	Seed *uint32
	// Dataset is Spec.Dataset for a trace kind given one; "" otherwise.
	Dataset string
	// Sample: a trace kind read the built-in synthetic sample (no Dataset,
	// no Files).
	Sample bool
	// Files are the dataset's files the generator read, in reading order,
	// each hashed (unless Spec.NoDigests) and marked when a traces synth
	// marker lists it.
	Files []DatasetFile
}

// Synthetic reports whether the workload's trace data is invented: the
// built-in sample, or a file that `traces synth` wrote.
func (p Provenance) Synthetic() bool {
	return p.Sample || slices.ContainsFunc(p.Files, func(f DatasetFile) bool { return f.Synthetic })
}

// Make is the one way the commands (gen, run, reproduce) make a workload:
// it generates Kind from its dataset (opened once, or the built-in sample)
// with Seed and Iter, or builds the steady stream, validates it against
// the catalog, and says where it came from. A generated kind's Result has
// the traces' Picks. Errors name the dataset file or the stream's field;
// ctx stops dataset reading and hashing.
func Make(ctx context.Context, s Spec) (Result, Provenance, error) {
	cat := s.Catalog
	if cat == nil {
		cat = DefaultCatalog()
	}
	prov := Provenance{Name: s.Name()}
	if s.Kind == "" {
		if err := s.Steady.Validate(cat); err != nil {
			return Result{}, prov, err
		}
		return Result{Workload: s.Steady.Workload()}, prov, nil
	}
	seed := s.Seed
	prov.Seed = &seed
	iter := s.Iter
	if iter == 0 {
		iter = DefaultIter
	}
	o := Options{Seed: s.Seed, Iter: iter, Catalog: cat, Meter: s.Meter}
	sample, err := o.useDataset(s.Kind, s.Dataset)
	if err != nil {
		return Result{}, prov, err
	}
	switch {
	case sample:
		prov.Sample = true
	case s.Kind == "azure" || s.Kind == "huawei":
		prov.Dataset = s.Dataset
		if prov.Files, err = o.datasetFiles(ctx, s.Kind, !s.NoDigests); err != nil {
			return Result{}, prov, err
		}
	}
	res, err := Generate(ctx, s.Kind, o)
	return res, prov, err
}

// Steady is a steady stream: PerSecond requests to Function in each of
// Seconds seconds (or, with Every, in one second of every Every), no warmup
// phase (the memory-density and start-path experiments' workloads). The
// yaml keys are an experiment matrix's.
type Steady struct {
	// Name names the stream where a kind names a generated workload (run
	// directory names, manifests): lowercase letters, digits and '-', not
	// one of Kinds.
	Name string `yaml:"name"`
	// Function is a catalog function.
	Function string `yaml:"function"`
	// Seconds is the stream's length, 1 to MaxSeconds; PerSecond its
	// requests a second, 1 to MaxCount; together at most MaxRequests.
	Seconds   int `yaml:"seconds"`
	PerSecond int `yaml:"per_second"`
	// Every spaces the requests out: only seconds 0, Every, 2·Every, … of
	// the stream hold PerSecond requests, the others none (each request
	// is still sent at a seeded offset within its second, so consecutive
	// seconds' requests are Every − 1 to Every + 1 s apart). 0 and 1 mean
	// every second; at most Seconds.
	Every int `yaml:"every,omitempty"`
}

var steadyNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Validate checks the stream against cat (nil = DefaultCatalog) and the
// limits of a workload, before anything is built.
func (s Steady) Validate(cat *Catalog) error {
	if cat == nil {
		cat = DefaultCatalog()
	}
	switch {
	case !steadyNameRE.MatchString(s.Name) || slices.Contains(Kinds, s.Name):
		return fmt.Errorf("workload name %q: expected lowercase letters, digits and '-', not a kind", s.Name)
	case s.Seconds <= 0 || s.PerSecond <= 0:
		return fmt.Errorf("workload %s: expected positive seconds and per_second, got %d and %d", s.Name, s.Seconds, s.PerSecond)
	case s.Seconds > MaxSeconds:
		return fmt.Errorf("workload %s: %w: seconds %d, expected at most %d", s.Name, ErrSecondsLimit, s.Seconds, MaxSeconds)
	case s.PerSecond > MaxCount:
		return fmt.Errorf("workload %s: %w: per_second %d, expected at most %d", s.Name, ErrCountLimit, s.PerSecond, MaxCount)
	case s.Every < 0 || s.Every > s.Seconds:
		return fmt.Errorf("workload %s: every %d: expected 0 to seconds (%d)", s.Name, s.Every, s.Seconds)
	case s.Seconds*s.PerSecond > MaxRequests: // both bounded above: no overflow
		return fmt.Errorf("workload %s: %w: %d seconds of %d, expected at most %d requests", s.Name, ErrRequestsLimit, s.Seconds, s.PerSecond, MaxRequests)
	}
	if _, ok := cat.Lookup(s.Function); !ok {
		return fmt.Errorf("workload %s: %w: %q", s.Name, ErrUnknownFunc, s.Function)
	}
	return nil
}

// Workload builds the stream: one series in the test phase, no warmup.
// Validate it first.
func (s Steady) Workload() Workload {
	counts := make([]int, s.Seconds)
	every := max(s.Every, 1)
	for i := 0; i < len(counts); i += every {
		counts[i] = s.PerSecond
	}
	return Workload{Test: Phase{{Function: s.Function, Counts: counts}}}
}
