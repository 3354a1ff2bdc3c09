package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
	"trenv-bench/traces/tracefile"
)

// huaweiDays builds day files holding, for every window, zero requests
// except the cells in set (keyed by "id/day/minute").
func huaweiDays(t *testing.T, ws []huawei.Window, set map[string]int) *huawei.Dataset {
	t.Helper()
	ids := map[int][]int{}
	for _, w := range ws {
		ids[w.Day] = append(ids[w.Day], w.Function)
	}
	files := map[string][]byte{}
	for day, fns := range ids {
		seen := map[int]bool{}
		var b strings.Builder
		b.WriteString("day,time")
		var cols []int
		for _, id := range fns {
			if !seen[id] {
				seen[id] = true
				cols = append(cols, id)
				fmt.Fprintf(&b, ",%d", id)
			}
		}
		b.WriteByte('\n')
		for m := 0; m < 1440; m++ {
			fmt.Fprintf(&b, "%d,%d", day, day*86400+60*m)
			for _, id := range cols {
				fmt.Fprintf(&b, ",%d", set[fmt.Sprintf("%d/%d/%d", id, day, m)])
			}
			b.WriteByte('\n')
		}
		files[huawei.DayFileName(day)] = []byte(b.String())
	}
	return huawei.NewMemDataset(files)
}

// TestUnsplittableMinute: where upstream's cap step would spin forever
// (a skewed minute above 60 × cap), the generator stops with an error
// naming the function, minute and count.
func TestUnsplittableMinute(t *testing.T) {
	ws, err := HuaweiWindows()
	if err != nil {
		t.Fatal(err)
	}
	// dynamic-html replays function 2976 from minute 60 of day 15; its
	// window maximum is always skewed, and its cap is 80/s.
	ds := huaweiDays(t, ws, map[string]int{"2976/15/61": 4801})
	_, err = Generate(context.Background(), "huawei", Options{Seed: DefaultSeed, Huawei: ds})
	if !errors.Is(err, ErrUnsplittable) {
		t.Fatalf("got %v, want ErrUnsplittable", err)
	}
	for _, want := range []string{"dynamic-html", "minute 61", "4801 requests", "cap 80"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// 4800 = 60 × 80 still fits.
	ds = huaweiDays(t, ws, map[string]int{"2976/15/61": 4800})
	res, err := Generate(context.Background(), "huawei", Options{Seed: DefaultSeed, Huawei: ds})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Workload.Warmup.Lookup("dynamic-html")
	for i, c := range s.Counts[60:120] {
		if c != 80 {
			t.Fatalf("second %d of the full minute holds %d, want 80", 60+i, c)
		}
	}
}

func TestAzureUnsplittableMinute(t *testing.T) {
	inv := "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,0,4801\n"
	dur := "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100\no,a,f,1,1,1,1,1,1,1,1,1,1,1\n"
	ds := azure.NewMemDataset(map[string][]byte{
		azure.InvocationsName(3): []byte(inv),
		azure.DurationsName(3):   []byte(dur),
	})
	p := AzureParams{Day: 3, FirstMinute: 1, LastMinute: 2, SkewProbability: 0.4, AlwaysSkew: "dynamic-html", RecheckCap: true}
	p.Functions = append(p.Functions, struct {
		Name string `yaml:"name"`
		Row  int    `yaml:"row"`
	}{"dynamic-html_1", 0})
	_, _, err := Azure(context.Background(), p, ds, DefaultCatalog(), NewSources(DefaultSeed), nil)
	if !errors.Is(err, ErrUnsplittable) || !strings.Contains(err.Error(), "dynamic-html_1") || !strings.Contains(err.Error(), "minute 2 of day 3") {
		t.Fatalf("got %v, want ErrUnsplittable naming dynamic-html_1, minute 2 of day 3", err)
	}
}

// TestSeedReachesBothGenerators: a different seed changes the azure
// workload (which draws from Python's random and NumPy), and the default
// seed given explicitly does not.
func TestSeedReachesBothGenerators(t *testing.T) {
	sel, err := AzureSelection()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := azure.Sample(3, sel)
	if err != nil {
		t.Fatal(err)
	}
	gen := func(seed uint32) []byte {
		res, err := Generate(context.Background(), "azure", Options{Seed: seed, Azure: ds})
		if err != nil {
			t.Fatal(err)
		}
		return res.Workload.Test.AppendJSON(nil)
	}
	a, b, c := gen(DefaultSeed), gen(DefaultSeed), gen(1)
	if string(a) != string(b) {
		t.Error("same seed, different output")
	}
	if string(a) == string(c) {
		t.Error("seed 1 gives the default seed's output")
	}
}

func TestUseDataset(t *testing.T) {
	var o Options
	if sample, err := o.useDataset("azure", ""); !sample || err != nil || o.Azure == nil {
		t.Errorf("azure without a path: sample %v, err %v", sample, err)
	}
	if sample, err := o.useDataset("huawei", ""); !sample || err != nil || o.Huawei == nil {
		t.Errorf("huawei without a path: sample %v, err %v", sample, err)
	}
	if sample, err := o.useDataset("1", "ignored"); sample || err != nil {
		t.Errorf("W1 needs no dataset: sample %v, err %v", sample, err)
	}
	if _, err := o.useDataset("azure", "/no/such/dataset"); err == nil || !strings.Contains(err.Error(), "/no/such/dataset") {
		t.Errorf("missing dataset: %v", err)
	}
}

// TestDatasetFiles hashes the files a trace workload reads and tells a
// traces synth dataset by its marker.
func TestDatasetFiles(t *testing.T) {
	ctx := context.Background()
	var o Options
	o.useDataset("azure", "")
	o.useDataset("huawei", "")
	for _, kind := range []string{"azure", "huawei", "1"} {
		if files, err := o.datasetFiles(ctx, kind, true); files != nil || err != nil {
			t.Errorf("%s from the built-in sample: %v, %v; want no files", kind, files, err)
		}
	}

	azDir, hwDir := t.TempDir(), t.TempDir()
	if err := azure.Synth(azDir, azure.SynthOptions{Seed: 3, Rows: 40, Minutes: 5}); err != nil {
		t.Fatal(err)
	}
	if err := huawei.Synth(hwDir, huawei.SynthOptions{Seed: 3, Functions: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.useDataset("azure", azDir); err != nil {
		t.Fatal(err)
	}
	if _, err := o.useDataset("huawei", hwDir); err != nil {
		t.Fatal(err)
	}
	ws, _ := HuaweiWindows()
	days := map[int]bool{}
	for _, w := range ws {
		days[w.Day] = true
	}
	check := func(kind string, synthetic bool, wantNames []string) {
		t.Helper()
		files, err := o.datasetFiles(ctx, kind, true)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f.Path))
			b, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if f.SHA256 != hex.EncodeToString(sum[:]) || f.Bytes != int64(len(b)) || f.Synthetic != synthetic {
				t.Errorf("%s: %+v; want sha256 %x, %d bytes, synthetic %v", kind, f, sum, len(b), synthetic)
			}
		}
		if !slices.Equal(names, wantNames) {
			t.Errorf("%s reads %v, want %v", kind, names, wantNames)
		}
		// Without digests: the same files and marks, nothing hashed.
		bare, err := o.datasetFiles(ctx, kind, false)
		if err != nil || len(bare) != len(files) {
			t.Fatalf("%s without digests: %v, %v", kind, bare, err)
		}
		for i, f := range bare {
			if f != (DatasetFile{Path: files[i].Path, Synthetic: synthetic}) {
				t.Errorf("%s without digests: %+v, want path %s only (synthetic %v)", kind, f, files[i].Path, synthetic)
			}
		}
	}
	sel, _ := AzureSelection()
	azNames := []string{azure.DurationsName(sel.Day), azure.InvocationsName(sel.Day)}
	var hwNames []string
	for _, d := range huawei.UpstreamDays() {
		hwNames = append(hwNames, huawei.DayFileName(d))
	}
	if len(days) != len(hwNames) {
		t.Fatalf("the huawei workload reads %d days, upstream %d", len(days), len(hwNames))
	}
	check("azure", true, azNames)
	check("huawei", true, hwNames)
	// Without the marker the same files are taken for real ones.
	os.Remove(filepath.Join(azDir, tracefile.SynthMarkerName))
	os.Remove(filepath.Join(hwDir, huawei.DirName, tracefile.SynthMarkerName))
	check("azure", false, azNames)
	check("huawei", false, hwNames)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := o.datasetFiles(cancelled, "azure", true); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
