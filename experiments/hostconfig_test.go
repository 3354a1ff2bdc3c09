package experiments

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"trenv-bench/baselines"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "host.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadHostConfig: an empty file is the provisioned host's defaults;
// each key given replaces its default and nothing else.
func TestLoadHostConfig(t *testing.T) {
	h, err := LoadHostConfig(writeFile(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if def := DefaultHostOptions(); !reflect.DeepEqual(*h, def) {
		t.Errorf("empty config %+v\nwant the defaults %+v", *h, def)
	}
	h, err = LoadHostConfig(writeFile(t, `
faasd: /opt/trenv/bin/faasd
faasd_port: 18081
criu: {criu-master: /opt/criu/master/criu}
containerd: [/opt/trenv/bin/containerd, -l, info]
faasnap: {binary: /opt/faasnap/main, url: "http://127.0.0.1:18080", prepare_tries: 5}
`))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultHostOptions()
	if h.Faasd != "/opt/trenv/bin/faasd" || h.Layout.Port != 18081 || h.CRIU["criu-master"] != "/opt/criu/master/criu" ||
		h.CRIU["criu-switch"] != def.CRIU["criu-switch"] || !slices.Equal(h.Containerd, []string{"/opt/trenv/bin/containerd", "-l", "info"}) ||
		h.Layout.FaasdState != def.Layout.FaasdState {
		t.Errorf("options %+v", *h)
	}
	if h.FaaSnap == nil || h.FaaSnap.Binary != "/opt/faasnap/main" || h.FaaSnap.URL != "http://127.0.0.1:18080" || h.FaaSnap.PrepareTries != 5 ||
		h.FaaSnap.Config != "/etc/faasnap.json" {
		t.Errorf("faasnap %+v", h.FaaSnap)
	}
}

func TestLoadHostConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"faasd_stat: /x", "field faasd_stat not found"},
		{"faasd: bin/faasd", "faasd: \"bin/faasd\": expected an absolute path"},
		{"faasd_port: 70000", "faasd_port"},
		{"criu: {criu-new: /x}", "variant \"criu-new\""},
		{"containerd: [containerd]", "containerd: program"},
		{"path: /bin:usr/bin", "path"},
		{"faasnap: {prepare_tries: 50}", "prepare_tries"},
		{"faasnap: {url: 127.0.0.1:8080}", "faasnap.url"},
		{"faasd: [1, 2]", "cannot unmarshal"},
	} {
		p := writeFile(t, tc.yml)
		if _, err := LoadHostConfig(p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v, want an error naming the file and %q", tc.yml, err, tc.want)
		}
	}
	if _, err := LoadHostConfig(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Error("a missing file accepted")
	}
}

// TestHostConfigExample: docs/host-config.example.yaml shows the defaults,
// as it says.
func TestHostConfigExample(t *testing.T) {
	h, err := LoadHostConfig(filepath.Join("..", "docs", "host-config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultHostOptions()
	m, _ := baselines.Lookup("faasnap")
	dm, _ := m.Daemon()
	def.FaaSnap = &dm
	if !reflect.DeepEqual(*h, def) {
		t.Errorf("the example %+v\nthe defaults %+v", *h, def)
	}
}
