package results

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeShard writes shard i of n: k ok test requests of pyaes, each e2e
// (i*100 + j) ms, and, for the owner, a memory sample.
func writeShard(t *testing.T, root string, i, n, k int, status RunStatus) string {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprintf("w1-trenv-cxl-gateway-shard%d", i))
	d, err := CreateRunDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	m := sampleManifest()
	m.StartedAt, m.EndedAt, m.Status, m.Files = time.Time{}, time.Time{}, "", nil
	m.Shard = &ShardInfo{Index: i, Count: n, StartAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	if i == 1 {
		m.Shard.Owns = []string{OwnsRegister, OwnsMetrics, OwnsSamples}
	}
	m.Requests = RequestCounts{Scheduled: k, OK: k}
	if err := d.Begin(m); err != nil {
		t.Fatal(err)
	}
	errs := []error{d.Start(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)), d.PhaseStart(PhaseTest, 0, k)}
	if i == 1 {
		errs = append(errs, d.Memory(0, 5<<30))
	}
	for j := range k {
		r := okRequest(PhaseTest, "pyaes", j)
		r.E2EMs = float64(i*100 + j)
		errs = append(errs, d.Request(&r))
	}
	errs = append(errs, d.PhaseEnd(PhaseTest, float64(k)))
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	m.Status = status
	if err := d.Finish(m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoadRunsMergesShards: the three shards of an experiment load as one
// run with every shard's requests and the owner's samples; a missing, a
// failed, a doubled or an ownerless shard is named and refused.
func TestLoadRunsMergesShards(t *testing.T) {
	root := t.TempDir()
	dirs := []string{writeShard(t, root, 2, 3, 4, RunComplete), writeShard(t, root, 1, 3, 5, RunComplete), writeShard(t, root, 3, 3, 6, RunComplete)}
	runs, err := LoadRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs, want the experiment as one", len(runs))
	}
	r := runs[0]
	if r.Dir != dirs[1] || len(r.ShardDirs()) != 3 || r.ShardDirs()[0] != dirs[1] || r.Manifest.Requests.OK != 15 {
		t.Errorf("merged %s, shards %v, counts %+v", r.Dir, r.ShardDirs(), r.Manifest.Requests)
	}
	req, err := r.Requests()
	if err != nil || len(req.Latencies["pyaes"]) != 15 || req.All.OK != 15 || req.Latencies["pyaes"][0] != 100 || req.Latencies["pyaes"][14] != 305 {
		t.Errorf("requests %v (%v)", req.Latencies, err)
	}
	if mem, err := r.Memory(); err != nil || len(mem) != 1 {
		t.Errorf("memory %v (%v): want the owner's one sample", mem, err)
	}

	for name, tc := range map[string]struct {
		dirs []string
		want string
	}{
		"missing": {dirs[:2], "shard 3/3 missing"},
		"twice":   {[]string{dirs[0], dirs[1], dirs[2], dirs[0]}, "given twice"},
		"failed":  {[]string{dirs[1], dirs[2], writeShard(t, t.TempDir(), 2, 3, 4, RunFailed)}, "shard 2/3"},
		"owner":   {[]string{dirs[0], dirs[2]}, "1/3 missing"},
	} {
		_, err := LoadRuns(tc.dirs)
		if !errors.Is(err, ErrShards) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrShards naming %q", name, err, tc.want)
		}
	}
	// An unsharded run beside it keeps its place.
	one := writeShard(t, t.TempDir(), 1, 1, 2, RunComplete)
	runs, err = LoadRuns([]string{one, dirs[0], dirs[1], dirs[2]})
	if err != nil || len(runs) != 2 || runs[0].Dir != one || runs[1].Dir != dirs[1] {
		t.Errorf("mixed: %v, %d runs", err, len(runs))
	}
}
