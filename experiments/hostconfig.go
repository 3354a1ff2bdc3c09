package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"trenv-bench/baselines"
)

// HostConfig is the file --host-config reads: where a host whose layout
// is not the artifact's keeps the stack. Every key is optional; an absent
// one keeps DefaultHostOptions' value.
//
//	faasd: /opt/trenv/bin/faasd
//	faasd_state: /var/lib/faasd
//	faasd_port: 8081
//	path: /opt/trenv/bin:/usr/sbin:/usr/bin:/sbin:/bin
//	criu:
//	  criu-switch: /opt/criu/switch/criu
//	  criu-master: /opt/criu/master/criu
//	  criu-lazy: /opt/criu/lazy/criu
//	criu_dirs: /run/trenv-bench/criu
//	kdat_cache: /run/criu.kdat
//	containerd: [/opt/trenv/bin/containerd, -l, debug]
//	containerd_socket: /run/containerd/containerd.sock
//	state_dir: /run/trenv-bench
//	cgroup_root: /sys/fs/cgroup
//	faasnap:
//	  binary: /opt/faasnap/main
//	  args: [--host=127.0.0.1, --port=8080]
//	  dir: /opt/faasnap
//	  config: /etc/faasnap.json
//	  url: http://127.0.0.1:8080
//	  snapshot_dir: /mnt/cxl-tmp/faasnap/snapshot
//	  prepare_tries: 3
type HostConfig struct {
	Faasd            string            `yaml:"faasd"`
	FaasdState       string            `yaml:"faasd_state"`
	FaasdPort        int               `yaml:"faasd_port"`
	Path             string            `yaml:"path"`
	CRIU             map[string]string `yaml:"criu"`
	CRIUDirs         string            `yaml:"criu_dirs"`
	KdatCache        string            `yaml:"kdat_cache"`
	Containerd       []string          `yaml:"containerd"`
	ContainerdSocket string            `yaml:"containerd_socket"`
	StateDir         string            `yaml:"state_dir"`
	CgroupRoot       string            `yaml:"cgroup_root"`
	FaaSnap          *struct {
		Binary       string   `yaml:"binary"`
		Args         []string `yaml:"args"`
		Dir          string   `yaml:"dir"`
		Config       string   `yaml:"config"`
		URL          string   `yaml:"url"`
		SnapshotDir  string   `yaml:"snapshot_dir"`
		PrepareTries int      `yaml:"prepare_tries"`
	} `yaml:"faasnap"`
}

// maxHostConfig bounds the file and maxArgs each argument list in it.
const (
	maxHostConfig = 64 << 10
	maxArgs       = 64
)

// LoadHostConfig reads a --host-config file over DefaultHostOptions:
// unknown keys, relative paths, unknown CRIU variants and out-of-range
// numbers are errors naming the file and the key.
func LoadHostConfig(path string) (*HostOptions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--host-config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHostConfig+1))
	if err != nil {
		return nil, fmt.Errorf("--host-config %s: %w", path, err)
	}
	if len(data) > maxHostConfig {
		return nil, fmt.Errorf("--host-config %s: larger than %d bytes", path, maxHostConfig)
	}
	var c HostConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("--host-config %s: %w", path, err)
	}
	h := DefaultHostOptions()
	if err := c.apply(&h); err != nil {
		return nil, fmt.Errorf("--host-config %s: %w", path, err)
	}
	return &h, nil
}

func (c *HostConfig) apply(h *HostOptions) error {
	var errs []error
	abs := func(key, v string, dst *string) {
		if v == "" {
			return
		}
		if !filepath.IsAbs(v) {
			errs = append(errs, fmt.Errorf("%s: %q: expected an absolute path", key, v))
			return
		}
		*dst = filepath.Clean(v)
	}
	argv := func(key string, v []string) bool {
		switch {
		case len(v) > maxArgs:
			errs = append(errs, fmt.Errorf("%s: %d arguments: at most %d", key, len(v), maxArgs))
		case len(v) > 0 && !filepath.IsAbs(v[0]):
			errs = append(errs, fmt.Errorf("%s: program %q: expected an absolute path", key, v[0]))
		default:
			return len(v) > 0
		}
		return false
	}
	abs("faasd", c.Faasd, &h.Faasd)
	abs("faasd_state", c.FaasdState, &h.Layout.FaasdState)
	abs("criu_dirs", c.CRIUDirs, &h.Layout.CRIUDirs)
	abs("kdat_cache", c.KdatCache, &h.KdatCache)
	abs("containerd_socket", c.ContainerdSocket, &h.ContainerdSocket)
	abs("state_dir", c.StateDir, &h.StateDir)
	abs("cgroup_root", c.CgroupRoot, &h.CgroupRoot)
	if c.Path != "" {
		for _, d := range filepath.SplitList(c.Path) {
			if !filepath.IsAbs(d) {
				errs = append(errs, fmt.Errorf("path: %q: expected absolute directories", d))
			}
		}
		h.Layout.Path = c.Path
	}
	if c.FaasdPort != 0 {
		if c.FaasdPort < 1 || c.FaasdPort > 65535 {
			errs = append(errs, fmt.Errorf("faasd_port: %d: expected 1-65535", c.FaasdPort))
		}
		h.Layout.Port = c.FaasdPort
	}
	variants := []string{baselines.CRIUSwitch, baselines.CRIUMaster, baselines.CRIULazy}
	for v, bin := range c.CRIU {
		if !slices.Contains(variants, v) {
			errs = append(errs, fmt.Errorf("criu: variant %q: expected one of %s", v, strings.Join(variants, ", ")))
			continue
		}
		dst := h.CRIU[v]
		abs("criu."+v, bin, &dst)
		h.CRIU[v] = dst
	}
	if argv("containerd", c.Containerd) {
		h.Containerd = c.Containerd
	}
	if fs := c.FaaSnap; fs != nil {
		d, _ := baselines.Lookup("faasnap")
		dm, _ := d.Daemon()
		abs("faasnap.binary", fs.Binary, &dm.Binary)
		abs("faasnap.dir", fs.Dir, &dm.Dir)
		abs("faasnap.config", fs.Config, &dm.Config)
		abs("faasnap.snapshot_dir", fs.SnapshotDir, &dm.SnapshotDir)
		if len(fs.Args) > maxArgs {
			errs = append(errs, fmt.Errorf("faasnap.args: %d arguments: at most %d", len(fs.Args), maxArgs))
		} else if fs.Args != nil {
			dm.Args = fs.Args
		}
		if fs.URL != "" {
			if !strings.HasPrefix(fs.URL, "http://") {
				errs = append(errs, fmt.Errorf("faasnap.url: %q: expected http://host:port", fs.URL))
			}
			dm.URL = fs.URL
		}
		if fs.PrepareTries != 0 {
			if fs.PrepareTries < 1 || fs.PrepareTries > 10 {
				errs = append(errs, fmt.Errorf("faasnap.prepare_tries: %d: expected 1-10", fs.PrepareTries))
			}
			dm.PrepareTries = fs.PrepareTries
		}
		h.FaaSnap = &dm
	}
	return errors.Join(errs...)
}
