package experiments

import (
	"slices"

	"trenv-bench/results"
	"trenv-bench/validate"
	"trenv-bench/workloads"
)

// Vocabulary is what a reference table for `sim validate` may name,
// from the matrix: each figure with the workloads and systems of its runs
// (and CRIU-lazy for figures of the paper's systems, which the figures
// draw when a run of it exists), in matrix order, and the catalog's
// functions.
func (m *Matrix) Vocabulary() (validate.Vocabulary, error) {
	voc := validate.Vocabulary{Figures: map[string]validate.FigureSpec{}}
	for _, f := range m.Figures {
		p, err := m.Plan(f.Name, results.TargetSim)
		if err != nil {
			return voc, err
		}
		var spec validate.FigureSpec
		for _, r := range p.Runs {
			if id := r.Workload.ID(); !slices.Contains(spec.Workloads, id) {
				spec.Workloads = append(spec.Workloads, id)
			}
			if !slices.Contains(spec.Systems, r.System.Name) {
				spec.Systems = append(spec.Systems, r.System.Name)
			}
		}
		if !f.ModelOnly && !slices.Contains(spec.Systems, results.SystemLazy) {
			spec.Systems = append(spec.Systems, results.SystemLazy)
		}
		voc.Figures[f.Name] = spec
		voc.Order = append(voc.Order, f.Name)
	}
	for _, fn := range workloads.DefaultCatalog().Functions {
		voc.Functions = append(voc.Functions, fn.Name)
	}
	return voc, nil
}
