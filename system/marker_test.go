package system

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func validMarker() *CheckpointMarker {
	return &CheckpointMarker{
		Format:    CheckpointMarkerFormat,
		Pool:      PoolCXL,
		BootID:    "2978d0b3-49c2-4cd2-906f-7741095df49a",
		Kernel:    "6.1.0-rc8+",
		DAXDevice: "/dev/dax0.0",
		Services:  []string{"h-hello-world", "pyaes", "pyaes_1"},
		Created:   time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
	}
}

// TestCheckpointMarkerRoundTrip: what system prepare will write reads back
// equal through the root directory doctor uses.
func TestDoctorCheckpointMarkerRoundTrip(t *testing.T) {
	m := validMarker()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	root := fstest.MapFS{RootRel(CheckpointMarkerPath): {Data: b}}
	got, err := ReadCheckpointMarker(root)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pool != m.Pool || got.BootID != m.BootID || !got.Created.Equal(m.Created) || strings.Join(got.Services, ",") != "h-hello-world,pyaes,pyaes_1" {
		t.Errorf("read back %+v", got)
	}
	if !strings.Contains(string(b), `"boot_id": "2978d0b3-`) || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("encoding:\n%s", b)
	}
}

func TestDoctorCheckpointMarkerRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(*CheckpointMarker)
		want string
	}{
		{"format", func(m *CheckpointMarker) { m.Format = 2 }, "format 2"},
		{"pool", func(m *CheckpointMarker) { m.Pool = "dax" }, `pool "dax"`},
		{"boot id", func(m *CheckpointMarker) { m.BootID = "yesterday" }, "boot_id"},
		{"dax device for cxl", func(m *CheckpointMarker) { m.DAXDevice = "" }, "dax_device"},
		{"dax device for rdma", func(m *CheckpointMarker) { m.Pool = PoolRDMA }, "expected none for pool rdma"},
		{"no services", func(m *CheckpointMarker) { m.Services = nil }, "services: none"},
		{"bad service", func(m *CheckpointMarker) { m.Services = []string{"Pyaes"} }, `"Pyaes"`},
		{"twice", func(m *CheckpointMarker) { m.Services = []string{"pyaes", "pyaes"} }, "listed twice"},
		{"no time", func(m *CheckpointMarker) { m.Created = time.Time{} }, "created"},
	}
	for _, c := range cases {
		m := validMarker()
		c.edit(m)
		_, err := m.Marshal()
		if !errors.Is(err, ErrMarker) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrMarker naming %q", c.name, err, c.want)
		}
	}
	b, _ := validMarker().Marshal()
	extra := strings.Replace(string(b), `"format": 1,`, `"format": 1, "pools": "cxl",`, 1)
	if _, err := ParseCheckpointMarker([]byte(extra)); !errors.Is(err, ErrMarker) || !strings.Contains(err.Error(), "pools") {
		t.Errorf("unknown key: err %v", err)
	}
	if _, err := ReadCheckpointMarker(fstest.MapFS{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing marker: err %v, want fs.ErrNotExist", err)
	}
}

func TestDoctorReadBootIDAndRootRel(t *testing.T) {
	root := fstest.MapFS{"proc/sys/kernel/random/boot_id": {Data: []byte("2978d0b3-49c2-4cd2-906f-7741095df49a\n")}}
	if id, err := ReadBootID(root); err != nil || id != "2978d0b3-49c2-4cd2-906f-7741095df49a" {
		t.Errorf("ReadBootID = %q, %v", id, err)
	}
	if RootRel("/") != "." || RootRel("/proc/mounts") != "proc/mounts" {
		t.Error("RootRel")
	}
}
