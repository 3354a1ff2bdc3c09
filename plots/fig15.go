package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

const needsFig15 = `runs of workload "azure", e.g. trenv-bench run -w azure --method trenv --mem 64 ` +
	`(baselines: --mem 64 --gc 10; REAP --mem 32)`

// Fig15 is the paper's Figure 15: memory over time on the Azure trace
// (workload "azure"), one line per system (x: minutes since the test
// phase started; y: memory in GiB, memory.csv's 1 Hz samples).
func Fig15(runs []*Run) (*Figure, error) {
	const name = "fig15"
	cs, notes := pickRuns(name, runs, workloadIs("azure"))
	if len(cs) == 0 {
		return nil, noRuns(name, needsFig15)
	}
	trace := traceTitle("azure", cs)
	p := newPanel("Memory over the test phase", "time since the test phase started (min)", "memory (GiB)")
	p.Y.Min = 0
	drawn := 0
	for _, c := range cs {
		mem, err := c.run.TestMemory()
		if err != nil {
			return nil, err
		}
		if len(mem) == 0 {
			notes = append(notes, fmt.Sprintf("%s: %s: run %s has no memory sample in its test phase", name, c.sys.Name, c.run.Dir))
			continue
		}
		xys := make(plotter.XYs, len(mem))
		for i, m := range mem {
			xys[i] = plotter.XY{X: m.TimeS / 60, Y: float64(m.Bytes) / GiB}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: run %s: %w", name, c.run.Dir, err)
		}
		line.LineStyle = seriesLine(c.sys)
		line.LineStyle.Width = vg.Points(1.5)
		p.Add(line)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%w: %s: the azure runs have no memory sample in their test phase", ErrNoRuns, name)
	}
	p.X.Min = math.Min(p.X.Min, 0)
	dataMark, workloads, source := provenance([]drawnWorkload{{"Azure", cs}})
	return &Figure{
		Name:      name,
		Title:     "Figure 15: memory usage over time, " + trace,
		Panels:    []Panel{{Plot: p, X0: 0, Y0: 0, X1: 1, Y1: 1}},
		Legend:    systemLegend(systemsOf(cs)),
		Mark:      simulatedMark(runsOf(cs)),
		DataMark:  dataMark,
		Caption:   "memory.csv, 1 Hz (on a host: the function cgroup's memory.current; on sim and twin: the model's accounting), test phase only, in GiB.",
		Source:    source,
		Workloads: workloads,
		Missing:   missingOf(paperSystems, cs),
		Notes:     notes,
		Width:     12 * vg.Inch,
		Height:    7 * vg.Inch,
	}, nil
}
