// Package startpath builds Figure 14's intermediate steps of TrEnv's start
// path as variants of the platform model's cost model.
//
// Figure 14 of the paper takes image-recognition and json-serde from faasd
// through CRIU to TrEnv one optimisation at a time:
//
//	faasd → CRIU → Reconfig (sandbox reuse only) → Cgroup (+ CLONE_INTO_CGROUP) → T-RDMA / T-CXL
//
// faasd, CRIU, T-RDMA and T-CXL are start methods the cost model already
// has. Reconfig and Cgroup exist nowhere but in that figure: TrEnv's policy
// (the repurposing of an idle sandbox) with a start path that still does
// what a later step removes. Their start-up is built from the step costs
// the paper prints (steps.yaml, embedded), on top of the model's T-CXL
// start-up of the same function:
//
//	Cgroup   = T-CXL start-up + the mm-template saving (memory is copied, not attached)
//	Reconfig = Cgroup + the CLONE_INTO_CGROUP saving (the process is migrated into its cgroup)
//
// and, their memory being a private copy in local DRAM as after a CRIU
// restore, their first and warm execution factors and resident memory are
// CRIU's. For image-recognition: 18 + 290 = 308 ms and 308 + 49 = 357 ms.
//
// In the platform model's resource model the copy is what it is in a CRIU
// restore: a page-in in the start-up from the device CRIU's images sit on
// (the CXL tmpfs), lasting the mm-template saving when it runs alone, and
// the instance holds its memory from the start-up on as CRIU's does
// (resident_at_start). So concurrent variant starts share that device as
// CRIU restores do; Figure 14's single starts never overlap.
//
// The step costs are the differences between Figure 14's own bars, so a
// figure drawn from these variants restates the paper (and the
// calibration): it checks the model's plumbing, it predicts nothing. They
// exist on the platform model only.
//
// Variant returns the variant of a model; only the cost entries of the
// functions with step costs change (key trenv-cxl), so a run of a variant
// must invoke only those (Covers). It imports sim/calibration and
// results' vocabulary of variants.
package startpath

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

//go:embed steps.yaml
var stepsYAML []byte

// DefaultFile names the embedded step costs in errors.
const DefaultFile = "sim/startpath/steps.yaml"

// FormatVersion is the only Steps.Version this package reads.
const FormatVersion = 1

// ErrSteps is wrapped by every error in a steps file or in building a
// variant.
var ErrSteps = errors.New("startpath: bad step costs")

// Steps are the step costs of TrEnv's start path (steps.yaml's layout).
type Steps struct {
	// Version of the file format; FormatVersion.
	Version int `yaml:"version"`
	// Sources maps the citation keys of the Source fields to references.
	Sources map[string]string `yaml:"sources"`
	// SandboxRepurposeSavingMs is what repurposing the sandbox instead of
	// re-creating it saves against CRIU (the CRIU → Reconfig step). No
	// variant is built from it: it checks the chain against the cost
	// model's CRIU start-up (CRIUGap).
	SandboxRepurposeSavingMs calibration.Number `yaml:"sandbox_repurpose_saving_ms"`
	// Functions maps a base function of the cost model to its step costs.
	Functions map[string]FunctionSteps `yaml:"functions"`
}

// FunctionSteps are one function's step costs, in milliseconds.
type FunctionSteps struct {
	// MMTemplateSavingMs is what attaching the mm-template instead of
	// copying the memory saves (the Cgroup → T-CXL step).
	MMTemplateSavingMs calibration.Number `yaml:"mm_template_saving_ms"`
	// CloneIntoCgroupSavingMs is what spawning the restored process
	// straight into its cgroup saves against migrating it (the Reconfig →
	// Cgroup step).
	CloneIntoCgroupSavingMs calibration.Number `yaml:"clone_into_cgroup_saving_ms"`
}

// Default returns the embedded step costs (steps.yaml), validated.
func Default() (*Steps, error) { return Parse(stepsYAML, DefaultFile) }

// Parse decodes and validates step costs in steps.yaml's layout (name
// names it in errors). Unknown fields are errors.
func Parse(data []byte, name string) (*Steps, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Steps
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrSteps, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// Validate checks the version, that there are step costs for at least one
// function, and that every number is positive, finite, below
// calibration.MaxMs and names its source: a key of Sources followed by
// where, or calibration.EstimatePrefix and how. All problems are joined.
func (s *Steps) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrSteps, field, fmt.Sprintf(format, args...)))
	}
	if s.Version != FormatVersion {
		bad("version", "must be %d, got %d", FormatVersion, s.Version)
	}
	number := func(field string, n calibration.Number) {
		if !(n.Value > 0) || math.IsInf(n.Value, 0) || n.Value > calibration.MaxMs {
			bad(field, "%v ms: expected more than 0 and at most %d", n.Value, calibration.MaxMs)
		}
		src := strings.TrimSpace(n.Source)
		switch {
		case src == "":
			bad(field, "no source: name a key of sources and the place, or start with %q and say how", calibration.EstimatePrefix)
		case strings.HasPrefix(src, calibration.EstimatePrefix):
			if strings.TrimSpace(src[len(calibration.EstimatePrefix):]) == "" {
				bad(field, "%q says nothing about how", src)
			}
		default:
			if key := strings.TrimRight(strings.Fields(src)[0], ":,;"); s.Sources[key] == "" {
				bad(field, "source %q does not start with a key of sources (%s)", src, strings.Join(slices.Sorted(maps.Keys(s.Sources)), ", "))
			}
		}
	}
	number("sandbox_repurpose_saving_ms", s.SandboxRepurposeSavingMs)
	if len(s.Functions) == 0 {
		bad("functions", "no function has step costs")
	}
	for _, fn := range slices.Sorted(maps.Keys(s.Functions)) {
		f := s.Functions[fn]
		number("functions."+fn+".mm_template_saving_ms", f.MMTemplateSavingMs)
		number("functions."+fn+".clone_into_cgroup_saving_ms", f.CloneIntoCgroupSavingMs)
	}
	return errors.Join(errs...)
}

// FunctionNames lists the base functions with step costs, sorted.
func (s *Steps) FunctionNames() []string { return slices.Sorted(maps.Keys(s.Functions)) }

// Covers reports whether a variant has costs of its own for fn: fn, or the
// base of a copy such as "json-serde_1", has step costs.
func (s *Steps) Covers(fn string) bool {
	if _, ok := s.Functions[fn]; ok {
		return true
	}
	base, ok := calibration.SplitCopy(fn)
	_, has := s.Functions[base]
	return ok && has
}

// Variants lists the variant names Variant builds (results.ModelVariants'
// Variant fields), in Figure 14's order.
func Variants() []string {
	var out []string
	for _, v := range results.ModelVariants() {
		out = append(out, v.Variant)
	}
	return out
}

// switchKey is the cost model's key of the variants' start path: they are
// TrEnv's repurposing on the CXL pool with other costs.
const switchKey = calibration.MethodTrEnvCXL

// Variant returns the cost model of model variant (results.VariantReconfig
// or results.VariantCgroup): a copy of model in which, for every function
// with step costs, the trenv-cxl start-up median is the step's start-up
// (the package comment's sums; its sigma stays T-CXL's), and trenv-cxl's
// first and warm execution factors and resident memory are CRIU's. Every
// other number is model's, untouched; model is not modified. Each changed
// number says in its source how it was built. In the resource model, the
// variant's start-up pages the memory in as CRIU's restore does
// (platform.page_in and resident_at_start of trenv-cxl are CRIU's; each
// function's trenv-cxl page_in_ms is its mm-template saving, 0 for the
// functions without step costs). model must have cost entries
// (trenv-cxl and criu) for every function of steps.
func Variant(model *calibration.Model, steps *Steps, variant string) (*calibration.Model, error) {
	if !slices.Contains(Variants(), variant) {
		return nil, fmt.Errorf("%w: model variant %q: expected one of %s", ErrSteps, variant, strings.Join(Variants(), ", "))
	}
	out := *model
	out.Functions = maps.Clone(model.Functions)
	out.Sources = maps.Clone(model.Sources)
	if out.Sources == nil {
		out.Sources = map[string]string{}
	}
	for k, ref := range steps.Sources { // the step costs' sources, where the model lacks them
		if _, ok := out.Sources[k]; !ok {
			out.Sources[k] = ref
		}
	}
	label := map[string]string{results.VariantReconfig: "Reconfig (sandbox reuse only)", results.VariantCgroup: "Cgroup (+ CLONE_INTO_CGROUP)"}[variant]
	var copyIn bool
	out.Platform, copyIn = variantPlatform(model.Platform, label)
	for _, fn := range steps.FunctionNames() {
		f, ok := model.Functions[fn]
		tcxl, okT := f.Startup[switchKey]
		_, okC := f.Startup[calibration.MethodCRIU]
		if !ok || !okT || !okC {
			return nil, fmt.Errorf("%w: model variant %s: the cost model has no trenv-cxl and criu start-up for %s", ErrSteps, variant, fn)
		}
		st := steps.Functions[fn]
		median := tcxl.MedianMs + st.MMTemplateSavingMs.Value
		how := fmt.Sprintf("%s start-up of %s = T-CXL start-up %g ms + mm-template attach saving %g ms (%s)",
			label, fn, tcxl.MedianMs, st.MMTemplateSavingMs.Value, st.MMTemplateSavingMs.Source)
		if variant == results.VariantReconfig {
			median += st.CloneIntoCgroupSavingMs.Value
			how += fmt.Sprintf(" + CLONE_INTO_CGROUP saving %g ms (%s)", st.CloneIntoCgroupSavingMs.Value, st.CloneIntoCgroupSavingMs.Source)
		}
		f.Startup = maps.Clone(f.Startup)
		f.Startup[switchKey] = calibration.Dist{MedianMs: median, Sigma: tcxl.Sigma,
			Source: fmt.Sprintf("TrEnv §6.4 [D] (sim/startpath, Fig. 14's step costs): %s = %g ms; sigma as T-CXL's", how, median)}
		asCRIU := func(m map[string]calibration.Number, what string) map[string]calibration.Number {
			m = maps.Clone(m)
			c := m[calibration.MethodCRIU]
			m[switchKey] = calibration.Number{Value: c.Value, Source: fmt.Sprintf(
				"TrEnv §6.4 [P] (sim/startpath): before the mm-template step the memory is copied into local DRAM as CRIU copies it, so %s's %s is CRIU's: %s",
				label, what, c.Source)}
			return m
		}
		f.FirstExecFactor = asCRIU(f.FirstExecFactor, "first-execution factor")
		f.WarmExecFactor = asCRIU(f.WarmExecFactor, "warm-execution factor")
		f.ResidentMB = asCRIU(f.ResidentMB, "resident memory")
		if copyIn {
			f.PageInMs = maps.Clone(f.PageInMs)
			f.PageInMs[switchKey] = calibration.Number{Value: min(st.MMTemplateSavingMs.Value, median), Source: fmt.Sprintf(
				"TrEnv §6.4 [P] (sim/startpath): %s copies the memory from the image as a CRIU restore does, the %g ms the mm-template step saves (%s)",
				label, st.MMTemplateSavingMs.Value, st.MMTemplateSavingMs.Source)}
		}
		out.Functions[fn] = f
	}
	if copyIn { // the functions without step costs page nothing in (a variant's run invokes none of them)
		for fn, f := range out.Functions {
			if _, ok := steps.Functions[fn]; !ok {
				f.PageInMs = maps.Clone(f.PageInMs)
				f.PageInMs[switchKey] = calibration.Number{Value: 0, Source: "TrEnv §6.4 [P] (sim/startpath): no step costs for this function; a variant's run does not invoke it"}
				out.Functions[fn] = f
			}
		}
	}
	return &out, nil
}

// variantPlatform gives a variant's platform costs: its start-up copies the
// memory in as CRIU's does (CRIU's page-in and resident_at_start on the
// trenv-cxl key). copyIn says whether CRIU's restore pages in from a
// device in its start-up, so that the variant does too.
func variantPlatform(pm calibration.Platform, label string) (out calibration.Platform, copyIn bool) {
	out = pm
	if r, ok := pm.ResidentAtStart[calibration.MethodCRIU]; ok {
		out.ResidentAtStart = maps.Clone(pm.ResidentAtStart)
		out.ResidentAtStart[switchKey] = calibration.Number{Value: r.Value, Source: fmt.Sprintf(
			"TrEnv §6.4 [P] (sim/startpath): before the mm-template step the memory is copied in the start-up as CRIU copies it, so %s holds CRIU's share from its start-up on: %s", label, r.Source)}
	}
	pi, ok := pm.PageIn[calibration.MethodCRIU]
	if !ok || pi.Phase != calibration.PhaseStartup {
		return out, false
	}
	out.PageIn = maps.Clone(pm.PageIn)
	pi.StreamMBps.Source = fmt.Sprintf("TrEnv §6.4 [P] (sim/startpath): %s copies the memory as a CRIU restore does, at its rate: %s", label, pi.StreamMBps.Source)
	out.PageIn[switchKey] = pi
	return out, true
}

// CRIUGap is the check the chain allows against the cost model's CRIU
// start-up of fn: the Reconfig start-up plus the sandbox repurposing
// saving, ÷ the model's CRIU start-up median (1 = the step costs meet the
// calibration exactly). Figure 14's CRIU bar and the cost model's CRIU
// line through it agree with the chain within 10 % for both functions.
func CRIUGap(model *calibration.Model, steps *Steps, fn string) (float64, error) {
	v, err := Variant(model, steps, results.VariantReconfig)
	if err != nil {
		return math.NaN(), err
	}
	f, ok := v.Functions[fn]
	if !ok || !slices.Contains(steps.FunctionNames(), fn) {
		return math.NaN(), fmt.Errorf("%w: %s has no step costs", ErrSteps, fn)
	}
	return (f.Startup[switchKey].MedianMs + steps.SandboxRepurposeSavingMs.Value) / f.Startup[calibration.MethodCRIU].MedianMs, nil
}
