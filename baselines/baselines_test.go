package baselines_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"trenv-bench/baselines"
	"trenv-bench/experiments"
	"trenv-bench/results"
	"trenv-bench/system"
)

// testshLaunch is a row of testdata/testsh-launches.txt.
type testshLaunch struct {
	figure, system, testsh string
	faasd                  []string
}

func readTestshLaunches(t *testing.T) []testshLaunch {
	t.Helper()
	f, err := os.Open("testdata/testsh-launches.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []testshLaunch
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, " | ")
		if len(cols) != 4 {
			t.Fatalf("testsh-launches.txt:%d: %d columns, want 4", line, len(cols))
		}
		rows = append(rows, testshLaunch{cols[0], cols[1], cols[2], strings.Fields(cols[3])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestProviderArgsMatchTestsh: every run of the figures' matrix launches
// faasd with the arguments the artifact's test.sh gives it for that figure
// and system, and every such launch is in the matrix. (Figure 15 reuses
// Figure 13's Azure runs, and Figure 11(a) — drawn from other figures'
// runs — those of 10(a), 10(b) and 13: they have no launches of their
// own.)
func TestProviderArgsMatchTestsh(t *testing.T) {
	m, err := experiments.DefaultMatrix()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := m.Plan(experiments.FigureAll, results.TargetHost)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string][]string{}
	for _, r := range readTestshLaunches(t) {
		want[[2]string{r.figure, r.system}] = r.faasd
	}
	seen := map[[2]string]bool{}
	for _, run := range plan.Runs {
		method, err := baselines.Lookup(run.System.Method)
		if err != nil {
			t.Fatal(err)
		}
		flags, err := baselines.FlagsFrom(run.Flags)
		if err != nil {
			t.Fatalf("%s: %v", run.Name, err)
		}
		got := method.ProviderArgs(flags)
		for _, fig := range run.Figures {
			if fig == "fig15" || slices.ContainsFunc(m.Figures, func(f experiments.Figure) bool { return f.Name == fig && len(f.From) > 0 }) {
				continue
			}
			k := [2]string{fig, run.System.Name}
			seen[k] = true
			w, ok := want[k]
			switch {
			case !ok:
				t.Errorf("%s (%s, %s): no test.sh launch to compare with", run.Name, fig, run.System.Name)
			case !slices.Equal(got, w):
				t.Errorf("%s (%s, %s): faasd %q\ntest.sh starts faasd %q", run.Name, fig, run.System.Name, got, w)
			}
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("test.sh launch %v is in no run of the matrix", k)
		}
	}
}

// TestMethodsFollowSystems: one start method per method of the systems
// table, in its order, each with a CRIU variant and a cgroup.
func TestMethodsFollowSystems(t *testing.T) {
	var want []string
	for _, s := range results.Systems() {
		if !slices.Contains(want, s.Method) {
			want = append(want, s.Method)
		}
	}
	var got []string
	for _, m := range baselines.Methods() {
		got = append(got, m.Name)
		if m.CRIU == "" || m.Cgroup == "" || m.StartMethod == "" {
			t.Errorf("%s: %+v lacks a CRIU variant, cgroup or start method", m.Name, m)
		}
		if _, ok := m.Daemon(); ok != (m.Name == results.MethodFaaSnap || m.Name == results.MethodREAP) {
			t.Errorf("%s: daemon %v", m.Name, ok)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("methods %v, want the systems table's %v", got, want)
	}
	if _, err := baselines.Lookup("firecracker"); err == nil {
		t.Error("an unknown method was found")
	}
}

func TestFlagsFrom(t *testing.T) {
	for _, tc := range []struct {
		p  results.PlatformFlags
		ok bool
	}{
		{results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 70}, true},
		{results.PlatformFlags{MemGB: 255, GCMin: 0}, true},
		{results.PlatformFlags{MemGB: 1.5, GCMin: 10}, false},
		{results.PlatformFlags{MemGB: 64, GCMin: 0.5}, false},
		{results.PlatformFlags{MemGB: 256, GCMin: 10}, false},
		{results.PlatformFlags{MemGB: 0, GCMin: 10}, false},
		{results.PlatformFlags{MemGB: 64, GCMin: -1}, false},
		{results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: -1}, false},
	} {
		_, err := baselines.FlagsFrom(tc.p)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: error %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// TestProvider: the launch's environment is test.sh's plus the CRIU
// variant first on PATH, in faasd's state directory, with the open-files
// limit the artifact's prepare script sets.
func TestProvider(t *testing.T) {
	l := baselines.DefaultLayout()
	for _, m := range baselines.Methods() {
		got := m.Provider(baselines.Flags{MemGB: 64, GCMin: 10}, l)
		if got.Dir != "/var/lib/faasd" || got.OpenFiles != baselines.OpenFilesLimit {
			t.Errorf("%s: dir %s, open files %d", m.Name, got.Dir, got.OpenFiles)
		}
		for _, e := range []string{"secret_mount_path=/var/lib/faasd/secrets", "basic_auth=true",
			"PATH=/run/trenv-bench/criu/" + m.CRIU + ":" + l.Path} {
			if !slices.Contains(got.Env, e) {
				t.Errorf("%s: env %q lacks %q", m.Name, got.Env, e)
			}
		}
		for _, e := range got.Env {
			if strings.HasPrefix(strings.ToLower(e), "https_proxy") || strings.HasPrefix(e, "port=") {
				t.Errorf("%s: env has %q", m.Name, e)
			}
		}
	}
	l.Port = 18081
	if got := baselines.Methods()[0].Provider(baselines.Flags{MemGB: 64}, l); !slices.Contains(got.Env, "port=18081") {
		t.Errorf("env %q: the layout's port is not passed", got.Env)
	}
}

// TestReadiness: TrEnv waits for its seeds, the VM baselines for their
// network namespaces, the rest and anything with --no-bgtask for nothing.
func TestReadiness(t *testing.T) {
	for _, tc := range []struct {
		method string
		flags  baselines.Flags
		count  int
	}{
		{results.MethodTrEnv, baselines.Flags{}, 70},
		{results.MethodTrEnv, baselines.Flags{IdleNum: 50}, 50},
		{results.MethodTrEnv, baselines.Flags{IdleNum: 50, NoBgTask: true}, 0},
		{results.MethodCold, baselines.Flags{}, 0},
		{results.MethodCRIU, baselines.Flags{}, 0},
		{results.MethodFaaSnap, baselines.Flags{}, 1},
		{results.MethodREAP, baselines.Flags{NoBgTask: true}, 0},
	} {
		m, _ := baselines.Lookup(tc.method)
		r := m.Readiness(tc.flags)
		if r.Count != tc.count || (r.Count > 0) != (r.Line != "" && len(r.Failures) > 0 && r.Timeout > 0) {
			t.Errorf("%s %+v: readiness %+v, want %d lines", tc.method, tc.flags, r, tc.count)
		}
	}
}

// TestCRIUVariantsInStack: each method's CRIU variant is a component of the
// pinned stack that provides criu.
func TestCRIUVariantsInStack(t *testing.T) {
	stack := system.DefaultStack()
	for _, m := range baselines.Methods() {
		c, ok := stack.Component(m.CRIU)
		if !ok || c.Provides != "criu" {
			t.Errorf("%s: CRIU variant %q is not a stack component providing criu", m.Name, m.CRIU)
		}
	}
}
