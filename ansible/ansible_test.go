package ansible

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"trenv-bench/system"
	"trenv-bench/system/vendor"
)

// TestPlaybookLint: ansible-playbook --syntax-check on site.yml and
// loadgen.yml, and ansible-lint --profile production --offline on both
// and every role.
func TestPlaybookLint(t *testing.T) {
	need(t, "ansible-playbook", "ansible-lint")
	ctx := context.Background()
	for _, playbook := range []string{"site.yml", "loadgen.yml"} {
		run(t, ctx, ".", nil, "ansible-playbook", "-i", "inventory.example.ini", playbook, "--syntax-check")
	}
	out, err := runErr(ctx, ".", []string{"NO_COLOR=1", "ANSIBLE_NOCOLOR=1"}, "ansible-lint", "--profile", "production", "--offline", "--nocolor", "-p")
	if err != nil {
		t.Fatalf("ansible-lint --profile production --offline: %v\n%s", err, tail(out, 8000))
	}
}

// TestPlaybookSpecs: every role has a full meta/main.yml and an
// argument_specs.yml, and every variable of a role's defaults is in its
// argument spec (so Ansible checks it).
func TestPlaybookSpecs(t *testing.T) {
	roles, err := filepath.Glob("roles/*")
	if err != nil || len(roles) < 10 {
		t.Fatalf("roles: %v %v", roles, err)
	}
	for _, r := range roles {
		meta, err := os.ReadFile(filepath.Join(r, "meta/main.yml"))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, f := range []string{"author:", "description:", "license:", "min_ansible_version: '2.14'", "platforms:", "Ubuntu", "Debian"} {
			if !strings.Contains(string(meta), f) {
				t.Errorf("%s/meta/main.yml has no %s", r, f)
			}
		}
		specs, err := os.ReadFile(filepath.Join(r, "meta/argument_specs.yml"))
		if err != nil {
			t.Error(err)
			continue
		}
		defaults, err := os.ReadFile(filepath.Join(r, "defaults/main.yml"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(defaults), "\n") {
			name, _, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.HasPrefix(name, "#") || strings.HasPrefix(name, " ") || name == "---" {
				continue
			}
			if !strings.Contains(string(specs), "\n      "+name+":\n") {
				t.Errorf("%s: default %s is not in meta/argument_specs.yml", r, name)
			}
		}
	}
}

// convergeEnv=1 runs the converge outside CI; a plain `go test ./...`
// skips it (it takes minutes, and root).
const convergeEnv = "TRENV_ANSIBLE_CONVERGE"

// TestPlaybookConverge converges the playbook into a Debian 12 root made
// with debootstrap, through the chroot connection: common, go (the Go
// module proxy's toolchain zip), runtime's CNI part and testbed from a
// `system vendor` bundle of local stand-ins, criu built from the CRIU
// source the host's CI builds (.ci/build-criu's pins), and the
// configuration files of kernel, memory_pool, rdma and baselines. A
// second converge must change nothing. Then --check runs of the hardware
// roles with other settings render their templates.
func TestPlaybookConverge(t *testing.T) {
	if os.Getenv(convergeEnv) != "1" && os.Getenv("CI") != "true" {
		t.Skipf("the converge takes minutes: it runs with CI=true or %s=1", convergeEnv)
	}
	need(t, "ansible-playbook", "debootstrap", "tar", "go")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but not root: debootstrap and chroot need root")
		}
		t.Skip("debootstrap and chroot need root")
	}
	ctx := context.Background()
	st := system.DefaultStack()
	work := t.TempDir()
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	mirror, err := aptMirror("/", "bookworm")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(work, "root")
	bookwormRoot(t, ctx, mirror, root)

	// The bundle: CNI plugins (Debian's containernetworking-plugins, as a
	// tarball in the layout of the upstream release) and function
	// packages (a small fake), vendored through file:// mirrors.
	fix := filepath.Join(work, "fixtures")
	mkdir(t, fix)
	cniFiles := map[string]string{}
	for _, p := range []string{"bridge", "host-local", "firewall", "loopback"} {
		cniFiles[p] = "/usr/lib/cni/" + p
	}
	writeTarGz(t, filepath.Join(fix, "cni.tgz"), cniFiles, nil)
	writeTarGz(t, filepath.Join(fix, "pkgs.tar.gz"), nil, map[string]string{
		"pkgs/h-hello-world/index.py": "print('hello')\n",
		"pkgs/pyaes/main.py":          "import pyaes\n",
	})
	bundle := filepath.Join(root, "root/stack-bundle")
	m, err := vendor.Vendor(ctx, vendor.Options{
		Stack: st, StackData: system.StackYAML(), Dir: bundle, Only: []string{"cni-plugins", "function-pkgs"},
		Mirrors: map[string]string{
			"cni-plugins":   "file://" + filepath.Join(fix, "cni.tgz"),
			"function-pkgs": "file://" + filepath.Join(fix, "pkgs.tar.gz"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(fix, "h-hello-world.tar"), "a stand-in for an image archive\n")
	writeFile(t, filepath.Join(fix, "azure-sample.csv"), "HashOwner,HashApp,HashFunction,Trigger,1\n")

	goc, _ := st.Component("go")
	zip := goToolchainZip(t, ctx, goc.Download.Version)

	vars := map[string]any{
		"stack_bundle":           "/root/stack-bundle",
		"trenv_memory_device":    "emulated-pmem",
		"trenv_pools":            []string{"cxl", "rdma"},
		"trenv_rdma_server":      root,
		"trenv_rdma_address":     "192.0.2.10", // a documentation address, only written into a file
		"trenv_baselines":        []string{"faasnap", "reap"},
		"kernel_build":           false,
		"kernel_grub_default":    true,
		"baselines_install":      false,
		"rdma_build":             false,
		"runtime_components":     []string{"cni-plugins"},
		"go_toolchain_zip":       zip,
		"testbed_parts":          []string{"binary", "results", "pkgs", "images", "datasets"},
		"testbed_build_dir":      filepath.Join(work, "build"),
		"testbed_image_archives": []string{filepath.Join(fix, "h-hello-world.tar")},
		"testbed_datasets":       []map[string]string{{"name": "azure-sample.csv", "src": filepath.Join(fix, "azure-sample.csv")}},
	}
	criuVersion := ""
	skip := []string{}
	if script, err := os.ReadFile("../.ci/build-criu"); err == nil {
		sv := shellVars(script)
		orig, sum := sv["CRIU_ORIG"], sv["CRIU_ORIG_SHA256"]
		if orig == "" || len(sum) != 64 {
			t.Fatalf(".ci/build-criu: no CRIU_ORIG / CRIU_ORIG_SHA256 (%q, %q)", orig, sum)
		}
		archive := filepath.Join(fix, orig)
		run(t, ctx, fix, nil, "/usr/lib/apt/apt-helper", "download-file",
			strings.TrimSuffix(mirror, "/")+"/pool/main/c/criu/"+orig, archive, "SHA256:"+sum)
		vars["criu_source_archive"] = archive
		vars["criu_source_sha256"] = sum
		// CRIU's optional features that .ci/build-criu builds with.
		vars["criu_extra_packages"] = []string{"libbsd-dev", "libgnutls28-dev", "libnftables-dev", "uuid-dev"}
		criuVersion = sv["CRIU_VERSION"]
	} else {
		t.Logf("criu role not converged: .ci/build-criu (the CRIU source the host's CI builds) is not in this tree")
		skip = append(skip, "criu_install", "criu_verify")
	}
	varsFile := filepath.Join(work, "vars.json")
	writeJSON(t, varsFile, vars)
	inv := filepath.Join(work, "inventory.ini")
	writeFile(t, inv, fmt.Sprintf("[trenv_hosts]\n%s\n\n[rdma_servers]\n%s\n\n[all:vars]\nansible_connection=community.general.chroot\nansible_python_interpreter=/usr/bin/python3\n", root, root))

	play := func(name string, extra ...string) (string, recap) {
		t.Helper()
		args := append([]string{"-i", inv, "site.yml", "-e", "@" + varsFile}, extra...)
		if len(skip) > 0 {
			args = append(args, "--skip-tags", strings.Join(skip, ","))
		}
		start := time.Now()
		out, err := runErr(ctx, ".", []string{"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_GATHERING=smart"}, "ansible-playbook", args...)
		writeFile(t, filepath.Join(work, name+".log"), out)
		if err != nil {
			t.Fatalf("%s: ansible-playbook: %v\n%s", name, err, tail(failures(out), 8000))
		}
		rc, err := parseRecap(out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, tail(out, 4000))
		}
		t.Logf("%s: %+v in %s", name, rc[root], time.Since(start).Round(time.Second))
		return out, rc[root]
	}

	_, first := play("converge")
	if first.failed != 0 || first.unreachable != 0 || first.changed == 0 {
		t.Fatalf("first converge %+v", first)
	}
	out, second := play("converge-again")
	if second.changed != 0 || second.failed != 0 {
		t.Errorf("second converge changed %d tasks, want 0: %v", second.changed, changedTasks(out))
	}

	checkRoot(t, ctx, root, st, m, criuVersion)

	// --check of the hardware roles with what a real CXL testbed sets:
	// nothing changes on the root, the rendered kernel fragment is the
	// CXL one, and the clones are announced at stack.yaml's commits.
	hw := map[string]any{
		"stack_bundle": "", "trenv_memory_device": "cxl", "kernel_build": true, "baselines_install": true, "rdma_build": true,
		// One fork stands for all: they take the same path through
		// stack_source (clone at the commit, build unless built).
		"runtime_components": []string{"faasd", "cni-plugins"},
	}
	hwFile := filepath.Join(work, "hardware.json")
	writeJSON(t, hwFile, hw)
	out, chk := play("check-hardware", "--check", "--diff", "-e", "@"+hwFile, "--tags",
		"kernel_preflight,kernel_configure,kernel_install,kernel_verify,memory_pool_preflight,memory_pool_configure,memory_pool_device,rdma_preflight,rdma_configure,rdma_install,baselines_install,baselines_configure,runtime_install,runtime_configure")
	if chk.failed != 0 {
		t.Fatalf("--check %+v", chk)
	}
	for _, want := range []string{"+CONFIG_CXL_BUS=y", "-CONFIG_X86_PMEM_LEGACY=y", "would clone https://github.com/switch-container/linux.git at HEAD",
		"would clone https://github.com/switch-container/faasd.git at " + commit(st, "faasd"),
		"would clone https://github.com/switch-container/rdma-server.git at " + commit(st, "rdma-server")} {
		if !strings.Contains(out, want) {
			t.Errorf("--check output has no %q", want)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(root, "etc/trenv-bench/kernel.config")); strings.Contains(string(got), "CONFIG_CXL_BUS") {
		t.Error("--check wrote the CXL fragment")
	}
}

func commit(st *system.Stack, name string) string {
	c, _ := st.Component(name)
	return c.Git.Commit
}

// checkRoot checks what the converge left in the root against the stack
// the binary embeds: the same pins, the same paths.
func checkRoot(t *testing.T, ctx context.Context, root string, st *system.Stack, m *vendor.Manifest, criuVersion string) {
	t.Helper()
	read := func(p string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Error(err)
		}
		return string(data)
	}
	// Go: the toolchain stack.yaml names.
	goc, _ := st.Component("go")
	if out := run(t, ctx, "/", []string{"GOROOT=/usr/local/go"}, "chroot", append([]string{root}, goc.VersionCommand...)...); !strings.Contains(out, goc.Download.Version+" ") {
		t.Errorf("go version in the root: %q, want %s", out, goc.Download.Version)
	}
	// trenv-bench, built by the role on the controller, runs in the root
	// and embeds the stack the playbook read.
	lock := run(t, ctx, "/", nil, "chroot", root, "/usr/local/bin/trenv-bench", "system", "lock", "--json")
	var embedded system.Stack
	if err := json.Unmarshal([]byte(lock), &embedded); err != nil {
		t.Fatalf("trenv-bench system lock --json in the root: %v", err)
	}
	if commit(&embedded, "faasd") != commit(st, "faasd") || len(embedded.Components) != len(st.Components) {
		t.Error("the installed trenv-bench embeds another stack than the one the playbook read")
	}
	// Kernel fragment: every option of stack.yaml, satisfied.
	frag := read("etc/trenv-bench/kernel.config")
	k, _ := st.Kernel()
	for _, o := range k.Kernel.Config {
		value := ""
		for _, line := range strings.Split(frag, "\n") {
			if v, ok := strings.CutPrefix(line, o.Option+"="); ok {
				value = v
			}
		}
		if o.Want == system.WantUnset && !strings.Contains(frag, "# "+o.Option+" is not set") || !o.Satisfied(value) {
			t.Errorf("kernel.config: %s=%q does not give what stack.yaml wants (%s)", o.Option, value, o.Want)
		}
	}
	if !strings.Contains(frag, "CONFIG_X86_PMEM_LEGACY=y") || !strings.Contains(read("etc/default/grub.d/61-trenv-memmap.cfg"), "memmap=16G!16G") {
		t.Error("emulated-pmem: no legacy PMem option or memmap= setting")
	}
	// /etc/faasnap.json names the assets where stack.yaml installs them.
	var fc struct {
		Images      map[string]string `json:"images"`
		Executables map[string]string `json:"executables"`
		Kernels     map[string]string `json:"kernels"`
	}
	if err := json.Unmarshal([]byte(read("etc/faasnap.json")), &fc); err != nil {
		t.Errorf("/etc/faasnap.json: %v", err)
	}
	for _, c := range []struct{ name, got string }{
		{"firecracker", fc.Executables["uffd"]}, {"vmlinux", fc.Kernels["sanpage"]}, {"rootfs-python", fc.Images["debian-python"]}, {"rootfs-nodejs", fc.Images["debian-nodejs"]},
	} {
		if comp, _ := st.Component(c.name); c.got != comp.Install[0] {
			t.Errorf("/etc/faasnap.json: %s at %q, stack.yaml installs it at %q", c.name, c.got, comp.Install[0])
		}
	}
	for _, f := range []string{"etc/cni/net.d/10-openfaas.conflist", "etc/cni/net.d/99-loopback.conf"} {
		var v map[string]any
		if err := json.Unmarshal([]byte(read(f)), &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// CNI plugins and function packages from the bundle; their sha256s
	// recorded as trenv-bench's resolver reports them.
	cni, _ := st.Component("cni-plugins")
	for _, p := range cni.Install {
		if fi, err := os.Stat(filepath.Join(root, p)); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: %v (not an executable?)", p, err)
		}
	}
	for _, name := range []string{"cni-plugins", "function-pkgs"} {
		var res system.Resolution
		if err := json.Unmarshal([]byte(read("var/lib/trenv-bench/resolved/"+name+".json")), &res); err != nil {
			t.Errorf("resolved/%s.json: %v", name, err)
		}
		if e, _ := m.Entry(name); res.Value != e.SHA256 || res.Method != system.ResolveSHA256 || res.Component != name {
			t.Errorf("resolved/%s.json %+v, the bundle has sha256 %s", name, res, e.SHA256)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/faasd/pkgs/h-hello-world/index.py")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 100 {
		t.Errorf("function package: %v, want owned by uid 100", err)
	}
	for _, p := range []string{"root/test/result", "root/downloads/datasets/azure-sample.csv", "root/downloads/images/h-hello-world.tar",
		"etc/systemd/system/pseudo-mm-rdma-server.service", "etc/systemd/system/multi-user.target.wants/trenv-rxe.service"} {
		// Lstat: the unit links point into the root's own /etc.
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			t.Error(err)
		}
	}
	if got := read("etc/modprobe.d/trenv-pseudo-mm-rdma.conf"); !strings.Contains(got, "options pseudo_mm_rdma sport=50000 sip=192.0.2.10 ") {
		t.Errorf("pseudo_mm_rdma options %q", got)
	}
	if !strings.Contains(read("etc/fstab"), "tmpfs /mnt/cxl-tmp tmpfs size=100g,mpol=bind:2 ") {
		t.Error("no /mnt/cxl-tmp tmpfs in /etc/fstab")
	}
	// CRIU, built from the source .ci/build-criu pins.
	if criuVersion != "" {
		sw, _ := st.Component("criu-switch")
		out := run(t, ctx, "/", nil, "chroot", append([]string{root}, sw.VersionCommand...)...)
		if !strings.Contains(out, "Version: "+criuVersion) {
			t.Errorf("%s --version: %q, want %s", sw.Install[0], out, criuVersion)
		}
	}
}

// bookwormRoot unpacks a cached Debian 12 root (python3 for Ansible)
// into root, making the cache with debootstrap first when there is none.
// The cache is a tarball under the user's cache directory, keyed by the
// mirror.
func bookwormRoot(t *testing.T, ctx context.Context, mirror, root string) {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	cache = filepath.Join(cache, "trenv-bench", "ansible")
	mkdir(t, cache)
	key := strings.NewReplacer("://", "_", "/", "_", ":", "_").Replace(strings.TrimSuffix(mirror, "/"))
	tarball := filepath.Join(cache, "bookworm-minbase-python3-"+key+".tar")
	mkdir(t, root)
	if _, err := os.Stat(tarball); err != nil {
		start := time.Now()
		debs := filepath.Join(cache, "debs")
		mkdir(t, debs)
		build := root + ".debootstrap"
		run(t, ctx, "/", nil, "debootstrap", "--variant=minbase", "--include=python3,python3-apt",
			"--cache-dir="+debs, "bookworm", build, mirror)
		tmp := tarball + ".partial"
		run(t, ctx, "/", nil, "tar", "-C", build, "-cf", tmp, ".")
		if err := os.Rename(tmp, tarball); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "/", nil, "rm", "-rf", "--one-file-system", build)
		t.Logf("debootstrap bookworm from %s: %s (cached as %s)", mirror, time.Since(start).Round(time.Second), tarball)
	}
	run(t, ctx, "/", nil, "tar", "-C", root, "-xf", tarball)
	t.Cleanup(func() { runErr(context.Background(), "/", nil, "rm", "-rf", "--one-file-system", root) })
	// No service starts inside the root.
	policy := filepath.Join(root, "usr/sbin/policy-rc.d")
	writeFile(t, policy, "#!/bin/sh\nexit 101\n")
	if err := os.Chmod(policy, 0o755); err != nil {
		t.Fatal(err)
	}
}

// goToolchainZip fetches Go's release as the module proxy serves it
// (golang.org/toolchain) and returns the zip's path in the module cache.
func goToolchainZip(t *testing.T, ctx context.Context, version string) string {
	t.Helper()
	mod := "golang.org/toolchain@v0.0.1-" + version + ".linux-amd64"
	out := run(t, ctx, t.TempDir(), []string{"GOFLAGS=-mod=mod"}, "go", "mod", "download", "-json", mod)
	var info struct{ Zip, Error string }
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Zip == "" {
		t.Fatalf("go mod download %s: %v %s\n%s", mod, err, info.Error, out)
	}
	return info.Zip
}

// writeTarGz writes a gzipped tar of host files (name → path) and of
// contents (name → text), all at the archive's top level.
func writeTarGz(t *testing.T, file string, files, contents map[string]string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte, mode int64) {
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%v: .ci/ansible installs containernetworking-plugins", err)
			}
			t.Skipf("%v (apt-get install containernetworking-plugins)", err)
		}
		add(name, data, 0o755)
	}
	for name, text := range contents {
		add(name, []byte(text), 0o644)
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, file string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, string(data))
}

// TestRDMAServerOneClient: site.yml refuses an rdma_servers host named by
// two TrEnv hosts (upstream's server serves one client), before anything
// is installed, and accepts one per server. The hosts are this machine
// through the local connection; only the RDMA preflight runs.
func TestRDMAServerOneClient(t *testing.T) {
	need(t, "ansible-playbook")
	ctx := context.Background()
	work := t.TempDir()
	play := func(inventory string) (string, error) {
		inv := filepath.Join(work, "inventory.ini")
		writeFile(t, inv, inventory+"\n[all:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n")
		return runErr(ctx, ".", []string{"ANSIBLE_NOCOLOR=1"}, "ansible-playbook", "-i", inv, "site.yml", "--tags", "rdma_preflight",
			"-e", `{"trenv_pools": ["rdma"], "trenv_rdma_address": "192.0.2.1"}`)
	}
	out, err := play("[trenv_hosts]\nt1 trenv_rdma_server=m1\nt2 trenv_rdma_server=m1\n\n[rdma_servers]\nm1\n")
	if err == nil || !strings.Contains(out, "m1 is trenv_rdma_server of t1, t2") {
		t.Errorf("two TrEnv hosts on one RDMA server: %v\n%s", err, tail(failures(out), 3000))
	}
	out, err = play("[trenv_hosts]\nt1 trenv_rdma_server=m1\nt2 trenv_rdma_server=m2\n\n[rdma_servers]\nm1\nm2\n")
	if err != nil {
		t.Errorf("one RDMA server per TrEnv host: %v\n%s", err, tail(failures(out), 3000))
	}
}
