package workloads

import (
	"context"
	"errors"
	"fmt"

	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
	"trenv-bench/traces/tracefile"
)

// Upstream gen_trace.py's defaults.
const (
	// DefaultSeed seeds both random generators (upstream's built-in seed).
	DefaultSeed uint32 = 2022310806
	// DefaultIter is the number of func cycles in workload.json.
	DefaultIter = 5
	// MaxIter bounds Iter (gen and run --iter): 1,000 func cycles, 200
	// times upstream's default and the paper's. A cycle of the func
	// workload is 38 s, so its test phase stays at 10.6 h, well within
	// MaxSeconds; without a bound, --iter 2147483647 asks for terabytes.
	MaxIter = 1000
)

// ErrIter is wrapped when Iter is outside 1 to MaxIter.
var ErrIter = errors.New("workloads: func cycles (--iter) out of range")

// Kinds lists the workloads Generate knows, in upstream's -w spelling.
var Kinds = []string{"1", "2", "func", "azure", "huawei"}

// Options are the inputs of Generate besides the workload kind.
type Options struct {
	// Seed seeds Python's random and NumPy's RandomState as upstream's
	// random.seed / np.random.seed (DefaultSeed reproduces upstream).
	Seed uint32
	// Iter is the number of func cycles in the test phase (DefaultIter),
	// 1 to MaxIter.
	Iter int
	// Azure and Huawei are the datasets of the trace workloads; nil for the
	// others. Each Generate call for a trace needs its dataset.
	Azure  *azure.Dataset
	Huawei *huawei.Dataset
	// Catalog names the known functions and their caps; nil = DefaultCatalog.
	Catalog *Catalog
	// Meter observes dataset reading; nil = none.
	Meter tracefile.Meter
}

// Result is a generated workload and, for the traces, where each
// function's traffic came from.
type Result struct {
	Workload Workload
	Picks    []Pick
}

// Generate makes the workload kind (one of Kinds) as upstream gen_trace.py
// does with the same seed and inputs, and validates it against the catalog.
// It is the generator behind Make, which the commands use: Make opens the
// dataset (or builds the sample) and records the provenance; callers that
// hold a dataset in memory (tests, benchmarks) call Generate directly.
func Generate(ctx context.Context, kind string, o Options) (Result, error) {
	cat := o.Catalog
	if cat == nil {
		cat = DefaultCatalog()
	}
	src := NewSources(o.Seed)
	var res Result
	var err error
	switch kind {
	case "1", "2":
		var p BurstParams
		if err = loadParams("w"+kind, &p); err == nil {
			res.Workload, err = Burst(p, src.Py)
		}
	case "func":
		var p FuncParams
		if err = loadParams("func", &p); err == nil {
			res.Workload, err = Func(p, o.Iter)
		}
	case "azure":
		if o.Azure == nil {
			return res, fmt.Errorf("workloads: azure needs a dataset")
		}
		var p AzureParams
		if err = loadParams("azure", &p); err == nil {
			res.Workload, res.Picks, err = Azure(ctx, p, o.Azure, cat, src, o.Meter)
		}
	case "huawei":
		if o.Huawei == nil {
			return res, fmt.Errorf("workloads: huawei needs a dataset")
		}
		var p HuaweiParams
		if err = loadParams("huawei", &p); err == nil {
			res.Workload, res.Picks, err = Huawei(ctx, p, o.Huawei, cat, src, o.Meter)
		}
	default:
		return res, fmt.Errorf("workloads: unknown workload %q: expected one of %v", kind, Kinds)
	}
	if err != nil {
		return res, err
	}
	return res, res.Workload.Validate(cat)
}

// AzureSelection returns what the azure workload reads of a dataset, for
// building a dataset that covers it.
func AzureSelection() (azure.Selection, error) {
	var p AzureParams
	if err := loadParams("azure", &p); err != nil {
		return azure.Selection{}, err
	}
	return p.Selection(), nil
}

// HuaweiWindows returns the windows the huawei workload reads, for building
// a dataset that covers them.
func HuaweiWindows() ([]huawei.Window, error) {
	var p HuaweiParams
	if err := loadParams("huawei", &p); err != nil {
		return nil, err
	}
	return p.Windows(), nil
}

// SampleSeed seeds the built-in synthetic samples used when a trace
// workload is generated without a dataset.
const SampleSeed = 1

// useDataset sets the dataset a trace workload (kind "azure" or "huawei")
// reads: the one at path (see azure.OpenDataset, huawei.OpenDataset), or,
// when path is "", a small synthetic sample built in memory that covers
// what the workload selects — it reports sample = true then. Other kinds
// need no dataset: it does nothing.
func (o *Options) useDataset(kind, path string) (sample bool, err error) {
	switch kind {
	case "azure":
		if path != "" {
			o.Azure, err = azure.OpenDataset(path)
			return false, err
		}
		sel, err := AzureSelection()
		if err == nil {
			o.Azure, err = azure.Sample(SampleSeed, sel)
		}
		return true, err
	case "huawei":
		if path != "" {
			o.Huawei, err = huawei.OpenDataset(path)
			return false, err
		}
		ws, err := HuaweiWindows()
		if err == nil {
			o.Huawei = huawei.Sample(SampleSeed, ws)
		}
		return true, err
	}
	return false, nil
}
