package workloads

import (
	"bytes"
	"context"
	"testing"

	"trenv-bench/internal/golden"
	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
)

// TestGolden checks byte identity with every upstream output in
// testdata/golden/upstream, generated with the default seed.
func TestGolden(t *testing.T) {
	cases := []struct {
		dir, kind string
		opts      func(t *testing.T) Options
	}{
		{"w1", "1", nil},
		{"w2", "2", nil},
		{"func", "func", nil},
		{"azure", "azure", func(t *testing.T) Options {
			ds, err := azure.OpenDataset(golden.Dir(t, "datasets/azure"))
			if err != nil {
				t.Fatal(err)
			}
			return Options{Azure: ds}
		}},
		{"azure-s3h1", "azure", func(t *testing.T) Options {
			ds, err := azure.OpenDataset(golden.Dir(t, "datasets/azure-s3h1"))
			if err != nil {
				t.Fatal(err)
			}
			return Options{Azure: ds}
		}},
		{"huawei", "huawei", func(t *testing.T) Options {
			ds, err := huawei.OpenDataset(golden.Dir(t, "datasets/huawei/requests_minute"))
			if err != nil {
				t.Fatal(err)
			}
			return Options{Huawei: ds}
		}},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			if testing.Short() && c.opts != nil {
				t.Skip("reads a large dataset")
			}
			var o Options
			if c.opts != nil {
				o = c.opts(t)
			}
			o.Seed, o.Iter = DefaultSeed, DefaultIter
			res, err := Generate(context.Background(), c.kind, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name  string
				phase Phase
			}{{TestFile, res.Workload.Test}, {WarmupFile, res.Workload.Warmup}} {
				want := golden.Upstream(t, c.dir, f.name)
				got := f.phase.AppendJSON(nil)
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from upstream: %s", c.dir, f.name, firstDifference(t, got, want))
				}
			}
		})
	}
}

// firstDifference describes where two workload files first differ.
func firstDifference(t *testing.T, got, want []byte) string {
	gp, err := DecodePhase(got, "got")
	if err != nil {
		return "generated JSON does not parse: " + err.Error()
	}
	wp, err := DecodePhase(want, "golden")
	if err != nil {
		t.Fatalf("golden file does not parse: %v", err)
	}
	if len(gp) != len(wp) {
		return "different function count"
	}
	for i := range wp {
		g, w := gp[i], wp[i]
		if g.Function != w.Function {
			return "function " + g.Function + " where upstream has " + w.Function
		}
		if len(g.Counts) != len(w.Counts) {
			return "length differs for " + w.Function
		}
		for j := range w.Counts {
			if g.Counts[j] != w.Counts[j] {
				t.Logf("%s second %d (minute %d): got %v want %v", w.Function, j, j/60,
					g.Counts[j/60*60:j/60*60+60], w.Counts[j/60*60:j/60*60+60])
				return "counts differ, first at " + w.Function
			}
		}
	}
	return "same values, different bytes"
}
