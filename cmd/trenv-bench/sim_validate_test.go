package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/experiments"
	"trenv-bench/results"
)

// TestSimValidate runs sim validate on runs the simulator made (Figure 14's
// fourteen runs) against a small reference table written here: the rows of
// runs it has are scored, the row of a workload it has none of is listed
// missing, and the JSON says the same. The Reconfig step's start-up of
// image-recognition is the step costs' 18 + 290 + 49 = 357 ms (×
// exp(0.15²/2) for a log-normal's mean over its median), so a reference of
// 361 ms lands within the spread of ten draws.
func TestSimValidate(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	if _, err := experiments.Reproduce(context.Background(), experiments.Options{Figure: "fig14", Target: results.TargetSim, OutDir: runs}); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(root, "ref.csv")
	table := `# a fixture: numbers chosen for this test
figure,workload,function,system,metric,value
fig14,steps-image-recognition,image-recognition,Reconfig,startup_ms,361
fig14,steps-image-recognition,image-recognition,Cgroup,startup_ms,311
fig14,steps-image-recognition,image-recognition,T-CXL,startup_ms,18.2
fig14,steps-image-recognition,image-recognition,faasd,mean_ms,1800
fig14,steps-json-serde,json-serde,CRIU,speedup_p50,2
fig10a,1,pyaes,T-CXL,p99_ms,400
`
	if err := os.WriteFile(ref, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	s, out, errOut := testStreams()
	if code := Main([]string{"sim", "validate", "--runs", runs, "--reference", ref, "--worst", "2"}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"reference " + ref + ": 6 rows; 14 runs", "fig14 × steps-image-recognition", "fig14 × steps-json-serde",
		"fig10a × 1", "overall", "worst 2 points", ref + ":8: fig10a 1 pyaes T-CXL p99_ms: no run of T-CXL on workload 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	s, out, errOut = testStreams()
	if code := Main([]string{"sim", "validate", "--runs", runs, "--reference", ref, "--json"}, s); code != ExitOK {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	var res struct {
		Overall struct {
			Points int      `json:"points"`
			Median *float64 `json:"median_abs_log_ratio"`
		}
		Points []struct {
			Line    int     `json:"line"`
			System  string  `json:"system"`
			Model   float64 `json:"model"`
			Run     string  `json:"run"`
			TCXLRun string  `json:"tcxl_run"`
		}
		Missing []struct {
			Line int `json:"line"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Overall.Points != 5 || res.Overall.Median == nil || len(res.Missing) != 1 || res.Missing[0].Line != 8 {
		t.Fatalf("JSON: %+v", res)
	}
	for _, p := range res.Points {
		switch p.Line {
		case 3:
			if p.System != "Reconfig" || math.Abs(p.Model/361-1) > 0.15 || !strings.HasSuffix(p.Run, "steps-image-recognition-trenv-cxl-reconfig-sim") {
				t.Errorf("Reconfig's start-up: %+v", p)
			}
		case 7:
			if !strings.HasSuffix(p.TCXLRun, "steps-json-serde-trenv-cxl-sim") || !(p.Model > 1) {
				t.Errorf("CRIU's speed-up: %+v", p)
			}
		}
	}

	// A bad table: exit 1, naming the file, line and field.
	bad := filepath.Join(root, "bad.csv")
	os.WriteFile(bad, []byte("figure,workload,function,system,metric,value\nfig14,steps-json-serde,json-serde,REAP+,p50_ms,1\n"), 0o644)
	s, _, errOut = testStreams()
	if code := Main([]string{"sim", "validate", "--runs", runs, "--reference", bad}, s); code != ExitError ||
		!strings.Contains(errOut.String(), bad+`:2: column "system"`) || !strings.Contains(errOut.String(), "expected one of the systems fig14 compares") {
		t.Errorf("bad table: exit %d: %s", code, errOut)
	}
	s, _, errOut = testStreams()
	if code := Main([]string{"sim", "validate", "--runs", runs}, s); code != ExitUsage || !strings.Contains(errOut.String(), "--reference FILE is required") {
		t.Errorf("no --reference: exit %d: %s", code, errOut)
	}
	s, _, errOut = testStreams()
	if code := Main([]string{"sim", "validate", "--reference", ref, "--target", "cloud"}, s); code != ExitUsage || !strings.Contains(errOut.String(), `--target "cloud"`) {
		t.Errorf("bad --target: exit %d: %s", code, errOut)
	}
	// --target host: no run of the model counts; every row is missing.
	s, out, errOut = testStreams()
	if code := Main([]string{"sim", "validate", "--runs", runs, "--reference", ref, "--target", "host"}, s); code != ExitOK ||
		!strings.Contains(out.String(), "6 reference rows without a model value") || !strings.Contains(errOut.String(), "no reference row had a model value") {
		t.Errorf("--target host: exit %d:\n%s\n%s", code, out, errOut)
	}
}
