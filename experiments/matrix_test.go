package experiments

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/workloads"
)

// TestDefaultMatrix checks the paper's matrix: every run well-formed, the
// flags of spec/paper.md §1.6, shared runs deduplicated.
func TestDefaultMatrix(t *testing.T) {
	m, err := DefaultMatrix()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.FigureNames(), " "); got != "fig10a fig10b fig11a fig11b fig12 fig13 fig14 fig15" {
		t.Fatalf("figures %s", got)
	}
	plan, err := m.Plan(FigureAll, results.TargetSim)
	if err != nil {
		t.Fatal(err)
	}
	// 6 systems × (W1, W2, 2 density streams, func, huawei, azure), and
	// fig14's 7 steps × 2 functions; fig11a and fig15 add nothing.
	if len(plan.Runs) != 56 {
		t.Errorf("%d runs, want 56", len(plan.Runs))
	}
	byName := map[string]Run{}
	for _, r := range plan.Runs {
		if _, dup := byName[r.Name]; dup {
			t.Errorf("run %s twice", r.Name)
		}
		byName[r.Name] = r
		cfg := r.Platform(DefaultModelSeed)
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		if !slices.Contains(sim.Methods, r.System.Method) {
			t.Errorf("%s: method %s", r.Name, r.System.Method)
		}
	}

	// Every workload builds (generated ones from the built-in samples).
	ctx := context.Background()
	for _, id := range []string{"1", "2", "func", "azure", "huawei", "density-image-recognition", "density-image-flip-rotate",
		"steps-image-recognition", "steps-json-serde"} {
		var spec *WorkloadSpec
		for _, r := range plan.Runs {
			if r.Workload.ID() == id {
				spec = &r.Workload
				break
			}
		}
		if spec == nil {
			t.Errorf("no run replays %s", id)
			continue
		}
		w, info, err := spec.Build(ctx, Datasets{}, nil)
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if info.Name != id || w.Test.Requests() == 0 {
			t.Errorf("%s: info %+v, %d requests", id, info, w.Test.Requests())
		}
	}
	density, _, _ := byName["density-image-recognition-reap-sim"].Workload.Build(ctx, Datasets{}, nil)
	if density.Test.Requests() != 50 || density.Test.Seconds() != 25 || len(density.Warmup) != 0 {
		t.Errorf("fig11b workload: %d requests over %d s, warmup %v", density.Test.Requests(), density.Test.Seconds(), density.Warmup)
	}
	// fig14: twenty single starts, 4–6 s apart (every 5th second).
	steps, _, _ := byName["steps-json-serde-trenv-cxl-cgroup-sim"].Workload.Build(ctx, Datasets{}, nil)
	if steps.Test.Requests() != 20 || steps.Test.Seconds() != 100 || steps.Test[0].Counts[5] != 1 || steps.Test[0].Counts[4] != 0 {
		t.Errorf("fig14 workload: %d requests over %d s: %v", steps.Test.Requests(), steps.Test.Seconds(), steps.Test[0].Counts)
	}
	fn, _, _ := byName["func-cold-sim"].Workload.Build(ctx, Datasets{}, nil)
	w5, _ := workloads.Generate(ctx, "func", workloads.Options{Seed: workloads.DefaultSeed, Iter: 5})
	if results.SHA256Hex(fn.Test.AppendJSON(nil)) != results.SHA256Hex(w5.Workload.Test.AppendJSON(nil)) {
		t.Error("fig12's workload is not gen -w func --iter 5")
	}

	// Flags per figure (spec/upstream-tooling.md §7.1, spec/paper.md §1.6).
	for _, c := range []struct {
		run  string
		want Flags
	}{
		{"w1-trenv-cxl-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 70}},
		{"w1-trenv-rdma-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 70}},
		{"w1-cold-sim", Flags{MemGB: 64, GCMin: 2, IdleNum: 70}},
		{"w1-reap-sim", Flags{MemGB: 64, GCMin: 2, IdleNum: 70}},
		{"w2-trenv-cxl-sim", Flags{MemGB: 32, GCMin: 10, IdleNum: 70}},
		{"w2-faasnap-sim", Flags{MemGB: 32, GCMin: 3, IdleNum: 70}},
		{"func-trenv-rdma-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 1}},
		{"func-criu-sim", Flags{MemGB: 64, GCMin: 20, IdleNum: 70, NoReuse: true}},
		{"func-reap-sim", Flags{MemGB: 32, GCMin: 20, IdleNum: 70, NoReuse: true}},
		{"huawei-trenv-cxl-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 70}},
		{"azure-faasnap-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 70}},
		{"azure-reap-sim", Flags{MemGB: 32, GCMin: 10, IdleNum: 70}},
		{"density-image-recognition-trenv-cxl-sim", Flags{MemGB: 80, GCMin: 10, IdleNum: 50, NoReuse: true}},
		{"density-image-flip-rotate-cold-sim", Flags{MemGB: 80, GCMin: 10, IdleNum: 70, NoReuse: true, NoBgTask: true}},
		{"steps-image-recognition-trenv-cxl-reconfig-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 1, NoReuse: true}},
		{"steps-image-recognition-trenv-cxl-sim", Flags{MemGB: 64, GCMin: 10, IdleNum: 1, NoReuse: true}},
		{"steps-json-serde-criu-sim", Flags{MemGB: 64, GCMin: 20, IdleNum: 70, NoReuse: true}},
	} {
		r, ok := byName[c.run]
		if !ok {
			t.Errorf("no run %s", c.run)
			continue
		}
		if r.Flags != c.want {
			t.Errorf("%s: flags %+v, want %+v", c.run, r.Flags, c.want)
		}
	}

	// fig15 is fig13's Azure runs, shared, not re-run.
	figs := map[string]PlannedFigure{}
	for _, f := range plan.Figures {
		figs[f.Name] = f
	}
	if len(figs["fig15"].Runs) != 6 || len(figs["fig13"].Runs) != 12 {
		t.Fatalf("fig13 %v, fig15 %v", figs["fig13"].Runs, figs["fig15"].Runs)
	}
	for _, name := range figs["fig15"].Runs {
		if !strings.HasPrefix(name, "azure-") || !slices.Contains(figs["fig13"].Runs, name) {
			t.Errorf("fig15 run %s is not one of fig13's Azure runs", name)
		}
		if got := byName[name].Figures; !slices.Equal(got, []string{"fig13", "fig15", "fig11a"}) {
			t.Errorf("%s: figures %v", name, got)
		}
	}
	only15, err := m.Plan("fig15", results.TargetTwin)
	if err != nil || len(only15.Runs) != 6 || only15.Runs[0].Name != "azure-trenv-cxl-twin" {
		t.Errorf("fig15 alone: %v %v", only15, err)
	}
	for _, f := range []string{"fig10a", "fig10b", "fig12"} {
		if n := len(figs[f].Runs); n != 6 {
			t.Errorf("%s: %d runs", f, n)
		}
	}

	// fig11a is the runs of fig10a, fig10b and fig13, shared.
	if want := slices.Concat(figs["fig10a"].Runs, figs["fig10b"].Runs, figs["fig13"].Runs); !slices.Equal(figs["fig11a"].Runs, want) {
		t.Errorf("fig11a runs %v, want %v", figs["fig11a"].Runs, want)
	}
	if got := byName["w2-reap-sim"].Figures; !slices.Equal(got, []string{"fig10b", "fig11a"}) {
		t.Errorf("w2-reap-sim: figures %v", got)
	}
	// The runs keep the order of the figures that define them.
	if got, want := plan.Workloads(), []string{"1", "2", "density-image-recognition", "density-image-flip-rotate", "func", "huawei", "azure",
		"steps-image-recognition", "steps-json-serde"}; !slices.Equal(got, want) {
		t.Errorf("workload order %v, want %v", got, want)
	}
	only11a, err := m.Plan("fig11a", results.TargetSim)
	if err != nil || len(only11a.Runs) != 24 || len(only11a.Figures) != 1 || !slices.Equal(only11a.Runs[0].Figures, []string{"fig11a"}) {
		t.Errorf("fig11a alone: %+v %v", only11a, err)
	}

	// fig14: seven steps on each function; the variants are T-CXL's policy
	// on cxl, named apart.
	if n := len(figs["fig14"].Runs); n != 14 {
		t.Errorf("fig14: %d runs", n)
	}
	r := byName["steps-image-recognition-trenv-cxl-reconfig-sim"]
	if r.System.Variant != results.VariantReconfig || r.System.Name != results.SystemReconfig || r.System.Method != "trenv" || r.Platform(1).Pool != "cxl" {
		t.Errorf("Reconfig run: %+v", r)
	}
	if !m.Figures[slices.IndexFunc(m.Figures, func(f Figure) bool { return f.Name == "fig14" })].ModelOnly {
		t.Error("fig14 is not model-only")
	}
}

// TestPlanModelOnlyOnHost: a host plan refuses the model-only Figure 14
// by name, and leaves it out of all.
func TestPlanModelOnlyOnHost(t *testing.T) {
	m, err := DefaultMatrix()
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []results.Target{results.TargetHost, results.TargetGateway} {
		if _, err := m.Plan("fig14", target); !errors.Is(err, results.ErrModelOnly) || !strings.Contains(err.Error(), "fig14 on target "+string(target)) {
			t.Errorf("fig14 on %s: %v, want ErrModelOnly", target, err)
		}
		p, err := m.Plan(FigureAll, target)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Runs {
			if strings.HasPrefix(r.Name, "steps-") || r.System.ModelOnly() {
				t.Errorf("%s: %s in the host plan", target, r.Name)
			}
		}
		if len(p.Runs) != 42 {
			t.Errorf("%s: %d runs, want 42", target, len(p.Runs))
		}
	}
	if p, err := m.Plan("fig14", results.TargetTwin); err != nil || len(p.Runs) != 14 {
		t.Errorf("fig14 on the twin: %v", err)
	}
	if _, err := m.Plan("fig99", results.TargetSim); err == nil || !strings.Contains(err.Error(), "fig10a") {
		t.Errorf("unknown figure: %v", err)
	}
}

func TestParseMatrixErrors(t *testing.T) {
	head := "figures:\n"
	for _, c := range []struct{ name, yaml, want string }{
		{"conflict", head + `
  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd], gc: 2}]}
  - {name: y, workloads: [{kind: "1"}], groups: [{systems: [faasd], gc: 3}]}`, "configure it differently"},
		{"unknown system", head + `  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [Lazy]}]}`, `unknown system "Lazy": expected one of T-CXL, T-RDMA`},
		{"bad kind", head + `  - {name: x, workloads: [{kind: "7"}], groups: [{systems: [faasd]}]}`, `kind "7"`},
		{"bad function", head + `  - {name: x, workloads: [{name: s, function: nope, seconds: 1, per_second: 1}], groups: [{systems: [faasd]}]}`, "not in the catalog"},
		{"bad flags", head + `  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd], mem: 300}]}`, "256 GiB"},
		{"unknown key", head + `  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd], memory: 3}]}`, "memory"},
		{"reserved", head + `  - {name: all, workloads: [{kind: "1"}], groups: [{systems: [faasd]}]}`, "reserved"},
		{"variant outside a model-only figure", head + `  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [Reconfig]}]}`, "model variant"},
		{"from with groups", head + `
  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd]}]}
  - {name: y, from: [x], workloads: [{kind: "2"}], groups: [{systems: [faasd]}]}`, "takes no workloads"},
		{"from unknown", head + `  - {name: y, from: [x]}`, `from "x": expected another figure`},
		{"from itself", head + `  - {name: y, from: [y]}`, `from "y"`},
		{"from a from figure", head + `
  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd]}]}
  - {name: y, from: [x]}
  - {name: z, from: [y]}`, "itself drawn from"},
		{"a matrix's own systems", "systems:\n  - {name: A, method: cold, pool: cxl}\nfigures:\n  - {name: x, workloads: [{kind: \"1\"}], groups: [{systems: [faasd]}]}", "field systems not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMatrix([]byte(c.yaml), "test.yaml")
			if !errors.Is(err, ErrMatrix) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrMatrix containing %q", err, c.want)
			}
		})
	}
	// The same run in two figures with the same flags is one run.
	m, err := ParseMatrix([]byte(head+`
  - {name: x, workloads: [{kind: "1"}], groups: [{systems: [faasd, T-RDMA], gc: 2}]}
  - {name: y, workloads: [{kind: "1"}, {kind: "2"}], groups: [{systems: [faasd], gc: 2}]}`), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Plan(FigureAll, results.TargetSim)
	var names []string
	for _, r := range p.Runs {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "w1-cold-sim w1-trenv-rdma-sim w2-cold-sim" {
		t.Fatalf("runs %s", got)
	}
}

// TestVocabulary: the reference vocabulary of sim validate follows the
// matrix: each figure's workloads and systems.
func TestVocabulary(t *testing.T) {
	m, err := DefaultMatrix()
	if err != nil {
		t.Fatal(err)
	}
	voc, err := m.Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(voc.Order, m.FigureNames()) {
		t.Errorf("order %v", voc.Order)
	}
	for fig, want := range map[string][2][]string{
		"fig10a": {{"1"}, {"T-CXL", "T-RDMA", "faasd", "CRIU", "FaaSnap+", "REAP+", "CRIU-lazy"}},
		"fig11a": {{"1", "2", "huawei", "azure"}, {"T-CXL", "T-RDMA", "faasd", "CRIU", "FaaSnap+", "REAP+", "CRIU-lazy"}},
		"fig14":  {{"steps-image-recognition", "steps-json-serde"}, {"T-CXL", "T-RDMA", "Reconfig", "Cgroup", "faasd", "CRIU", "FaaSnap+"}},
	} {
		got := voc.Figures[fig]
		if !slices.Equal(got.Workloads, want[0]) || !slices.Equal(got.Systems, want[1]) {
			t.Errorf("%s: %+v, want workloads %v, systems %v", fig, got, want[0], want[1])
		}
	}
	if !slices.Contains(voc.Functions, "pyaes_1") || !slices.Contains(voc.Functions, "image-recognition") {
		t.Errorf("functions %v", voc.Functions)
	}
}
