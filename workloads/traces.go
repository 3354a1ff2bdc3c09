package workloads

import (
	"context"
	"fmt"
	"strings"

	"trenv-bench/internal/pyrand"
	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
	"trenv-bench/traces/tracefile"
)

// Sources are the random generators upstream seeds at import: Python's
// random and NumPy's legacy global RandomState.
type Sources struct {
	Py *pyrand.Random
	NP *pyrand.RandomState
}

// NewSources seeds both generators with seed, as upstream's
// random.seed(seed); np.random.seed(seed).
func NewSources(seed uint32) Sources {
	return Sources{Py: pyrand.NewRandom(uint64(seed)), NP: pyrand.NewRandomState(seed)}
}

// Pick says which dataset row a trace workload's function replays, so a
// user can see what was selected.
type Pick struct {
	Function string
	Source   string // e.g. "joined row 6669 = owner/app/function (invocations line 6890)"
}

// splitter spreads trace minutes over seconds with upstream's rules.
type splitter struct {
	src Sources
	cat *Catalog
	// pBase and pCopy are the skew probabilities of base names and of
	// copies (names with "_").
	pBase, pCopy float64
	scratch      []int64
}

// rules returns the per-second cap and the skew probability of a function.
func (s *splitter) rules(name string) (limit int, pSkew float64, err error) {
	limit, err = s.cat.capOf(name)
	if isCopy(name) {
		return limit, s.pCopy, err
	}
	return limit, s.pBase, err
}

func (s *splitter) even(n int, out []int) []int { return EvenSplit(s.src.Py, n, out) }

func (s *splitter) skewCapped(n, limit int, out []int) ([]int, error) {
	start := len(out)
	out, s.scratch = SkewSplit(s.src.NP, n, out, s.scratch)
	if err := ApplyCap(out[start:], limit); err != nil {
		return nil, err
	}
	return out, nil
}

// isCopy reports whether name is a copy (pyaes_1), which upstream detects
// by the presence of "_".
func isCopy(name string) bool { return strings.Contains(name, "_") }

func (c *Catalog) capOf(name string) (int, error) {
	f, ok := c.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownFunc, name)
	}
	if f.Cap <= 0 {
		return 0, fmt.Errorf("workloads: function %q has no per-second cap in the catalog", name)
	}
	return f.Cap, nil
}

// Azure generates the azure workload from an Azure Functions 2019 dataset.
func Azure(ctx context.Context, p AzureParams, ds *azure.Dataset, cat *Catalog, src Sources, m tracefile.Meter) (Workload, []Pick, error) {
	rows, err := ds.Select(ctx, p.Selection(), m)
	if err != nil {
		return Workload{}, nil, err
	}
	sp := splitter{src: src, cat: cat, pBase: p.SkewProbability, pCopy: p.CopySkewProbability}
	all := make(Phase, len(p.Functions))
	picks := make([]Pick, len(p.Functions))
	for i, f := range p.Functions {
		r := rows[i]
		picks[i] = Pick{Function: f.Name, Source: fmt.Sprintf("joined row %d = %s/%s/%s (invocations line %d)", r.Position, r.Owner, r.App, r.Function, r.Line)}
		limit, pSkew, err := sp.rules(f.Name)
		if err != nil {
			return Workload{}, nil, err
		}
		counts := make([]int, 0, len(r.Counts)*SecondsPerMinute)
		for mi, v := range r.Counts {
			n := int(v)
			start := len(counts)
			if n == 0 {
				counts = append(counts, make([]int, SecondsPerMinute)...)
				continue
			}
			if src.Py.Random() < 1-pSkew && !strings.Contains(f.Name, p.AlwaysSkew) {
				counts = sp.even(n, counts)
			} else if counts, err = sp.skewCapped(n, limit, counts); err != nil {
				return Workload{}, nil, fmt.Errorf("azure: function %s (joined row %d), minute %d of day %d: %w",
					f.Name, f.Row, p.FirstMinute+mi, p.Day, err)
			}
			if p.RecheckCap && maxOf(counts[start:]) > limit {
				counts = sp.even(n, counts[:start])
			}
		}
		all[i] = Series{Function: f.Name, Counts: counts}
	}
	return splitPhases(all, p.WarmupSeconds), picks, nil
}

// Huawei generates the huawei workload from the Huawei 2023 public trace.
func Huawei(ctx context.Context, p HuaweiParams, ds *huawei.Dataset, cat *Catalog, src Sources, m tracefile.Meter) (Workload, []Pick, error) {
	windows := p.Windows()
	cells, err := ds.Read(ctx, windows, m)
	if err != nil {
		return Workload{}, nil, err
	}
	sp := splitter{src: src, cat: cat, pBase: p.SkewProbability, pCopy: p.CopySkewProbability}
	all := make(Phase, len(p.Functions))
	picks := make([]Pick, len(p.Functions))
	for i, f := range p.Functions {
		w := windows[i]
		picks[i] = Pick{Function: f.Name, Source: fmt.Sprintf("function %d, %s minutes %d-%d", w.Function, huawei.DayFileName(w.Day), w.FirstMinute(), w.FirstMinute()+w.Len()-1)}
		limit, pSkew, err := sp.rules(f.Name)
		if err != nil {
			return Workload{}, nil, err
		}
		peak := 0.0
		for _, v := range cells[i] {
			peak = max(peak, v)
		}
		counts := make([]int, 0, len(cells[i])*SecondsPerMinute)
		for mi, v := range cells[i] {
			n := int(v + 0.001)
			switch {
			case n == 0:
				counts = append(counts, make([]int, SecondsPerMinute)...)
			case (!isCopy(f.Name) && float64(n) == peak) || src.Py.Random() < pSkew:
				if counts, err = sp.skewCapped(n, limit, counts); err != nil {
					return Workload{}, nil, fmt.Errorf("huawei: function %s (id %d, %s), minute %d: %w",
						f.Name, w.Function, huawei.DayFileName(w.Day), w.FirstMinute()+mi, err)
				}
			default:
				counts = sp.even(n, counts)
			}
		}
		all[i] = Series{Function: f.Name, Counts: counts}
	}
	return splitPhases(all, p.WarmupSeconds), picks, nil
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
