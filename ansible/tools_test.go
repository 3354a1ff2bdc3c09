package ansible

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// need returns the path of each tool, skipping the test when one is
// missing, or failing it on CI (CI=true), where .ci/ansible installs them.
func need(t *testing.T, tools ...string) []string {
	t.Helper()
	var paths []string
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is missing: .ci/ansible installs it (apt-get install ansible ansible-lint debootstrap)", tool)
			}
			t.Skipf("%s is not installed (apt-get install ansible ansible-lint debootstrap)", tool)
		}
		paths = append(paths, p)
	}
	return paths
}

// run runs a program in dir and returns its combined output; it fails
// the test when the program fails.
func run(t *testing.T, ctx context.Context, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(ctx, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out, 6000))
	}
	return out
}

func runErr(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// recap is one host's line of ansible-playbook's PLAY RECAP.
type recap struct {
	ok, changed, unreachable, failed int
}

var recapRE = regexp.MustCompile(`(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// parseRecap reads the PLAY RECAP of ansible-playbook's output, host by
// host.
func parseRecap(out string) (map[string]recap, error) {
	m := recapRE.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return nil, fmt.Errorf("no PLAY RECAP in the output")
	}
	res := map[string]recap{}
	for _, g := range m {
		n := func(i int) int { v, _ := strconv.Atoi(g[i]); return v }
		res[g[1]] = recap{ok: n(2), changed: n(3), unreachable: n(4), failed: n(5)}
	}
	return res, nil
}

// changedTasks lists the tasks ansible-playbook reported as changed.
func changedTasks(out string) []string {
	var tasks []string
	task := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "TASK [") {
			task = strings.TrimRight(strings.TrimPrefix(line, "TASK "), " *")
		}
		if strings.HasPrefix(line, "changed: ") {
			tasks = append(tasks, task+" "+strings.TrimPrefix(line, "changed: "))
		}
	}
	return tasks
}

// aptMirror returns the Debian archive URL apt uses for codename: the
// first URI of a deb822 .sources stanza, or of a one-line sources.list
// entry, whose suites include the codename itself.
func aptMirror(root, codename string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.sources"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		for _, stanza := range strings.Split(string(data), "\n\n") {
			fields := map[string]string{}
			for _, line := range strings.Split(stanza, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				if k, v, ok := strings.Cut(line, ":"); ok {
					fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
				}
			}
			if uris := strings.Fields(fields["uris"]); len(uris) > 0 && contains(strings.Fields(fields["suites"]), codename) &&
				contains(strings.Fields(fields["types"]), "deb") {
				return uris[0], nil
			}
		}
	}
	lists, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.list"))
	for _, f := range append([]string{filepath.Join(root, "etc/apt/sources.list")}, lists...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			line, _, _ = strings.Cut(line, "#")
			line = regexp.MustCompile(`\[[^]]*\]`).ReplaceAllString(line, "")
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "deb" && f[2] == codename {
				return f[1], nil
			}
		}
	}
	return "", fmt.Errorf("no deb source for %s in %s/etc/apt/sources.list{,.d/}", codename, root)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shellVars reads NAME=VALUE assignments of a bash script (no quoting,
// ${NAME} expanded from earlier ones): how the test reads the CRIU pins of
// .ci/build-criu rather than repeating them.
func shellVars(data []byte) map[string]string {
	vars := map[string]string{}
	re := regexp.MustCompile(`^([A-Z_][A-Z0-9_]*)=([^\s$'"(]*(?:\$\{[A-Z_][A-Z0-9_]*\}[^\s$'"(]*)*)$`)
	for _, line := range strings.Split(string(data), "\n") {
		m := re.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		v := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`).ReplaceAllStringFunc(m[2], func(ref string) string {
			return vars[ref[2:len(ref)-1]]
		})
		vars[m[1]] = v
	}
	return vars
}

// failures keeps what explains a failed ansible-playbook run: the lines
// around each fatal or failed task, and the recap.
func failures(out string) string {
	lines := strings.Split(out, "\n")
	var keep []string
	for i, l := range lines {
		if strings.HasPrefix(l, "fatal: ") || strings.HasPrefix(l, "failed: ") || strings.HasPrefix(l, "PLAY RECAP") {
			keep = append(keep, lines[max(0, i-3):min(len(lines), i+3)]...)
		}
	}
	if len(keep) == 0 {
		return out
	}
	return strings.Join(keep, "\n")
}
