package system

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"
)

// Paths on the host that say which checkpoints it holds and which boot it
// is in.
const (
	// CheckpointsDir is faasd's checkpoint directory (a tmpfs on the
	// far-memory node, so it empties at every reboot).
	CheckpointsDir = "/var/lib/faasd/checkpoints"
	// CheckpointImagesDir holds one CRIU image directory per service,
	// named exactly after it; faasd lists it once at start.
	CheckpointImagesDir = CheckpointsDir + "/images"
	// CheckpointMarkerPath is where `trenv-bench system prepare` records
	// what it checkpointed (a CheckpointMarker as JSON). It sits beside
	// images/, not in it, so faasd never takes it for a service.
	CheckpointMarkerPath = CheckpointsDir + "/trenv-bench-checkpoints.json"
	// BootIDPath holds the kernel's random id of the current boot.
	BootIDPath = "/proc/sys/kernel/random/boot_id"
)

// CheckpointMarkerFormat is the format version of a CheckpointMarker.
const CheckpointMarkerFormat = 1

// TrEnv's memory pools, as runs name them (results' pool vocabulary).
const (
	PoolCXL  = "cxl"
	PoolRDMA = "rdma"
)

// ErrMarker is wrapped by every error about a checkpoint marker's content.
var ErrMarker = errors.New("system: bad checkpoint marker")

// CheckpointMarker records what `system prepare` checkpointed, so doctor
// can tell checkpoints made for this pool in this boot from stale ones:
// TrEnv's mm-templates live in kernel memory and in the pool, and vanish
// at reboot (faasd would still find the image directories if they
// survived, and switch to templates that no longer exist).
//
// On disk it is JSON at CheckpointMarkerPath, for example:
//
//	{
//	  "format": 1,
//	  "pool": "cxl",
//	  "boot_id": "2978d0b3-49c2-4cd2-906f-7741095df49a",
//	  "kernel": "6.1.0-rc8+",
//	  "dax_device": "/dev/dax0.0",
//	  "services": ["h-hello-world", "h-memory", "pyaes", "pyaes_1"],
//	  "created": "2026-11-25T10:00:00Z"
//	}
type CheckpointMarker struct {
	// Format is CheckpointMarkerFormat.
	Format int `json:"format"`
	// Pool is the memory pool the templates were converted into: PoolCXL
	// (faasd checkpoint --mem-pool dax) or PoolRDMA (--mem-pool rdma).
	Pool string `json:"pool"`
	// BootID is BootIDPath's content (trimmed) when the checkpoints were made.
	BootID string `json:"boot_id"`
	// Kernel is the release of the kernel they were made on (uname -r).
	Kernel string `json:"kernel"`
	// DAXDevice is the device-DAX path the templates were copied to
	// (PoolCXL only; "" for PoolRDMA).
	DAXDevice string `json:"dax_device,omitempty"`
	// Services are the checkpointed services (faasd's container ids), in
	// conversion order: each has a directory in CheckpointImagesDir.
	Services []string `json:"services"`
	// Created is when the conversion finished, UTC.
	Created time.Time `json:"created"`
}

var (
	bootIDRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	serviceRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(_[0-9]+)?$`)
)

// Validate checks every field; errors wrap ErrMarker and name the field.
func (m *CheckpointMarker) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMarker}, args...)...)
	}
	switch {
	case m.Format != CheckpointMarkerFormat:
		return bad("format %d: expected %d", m.Format, CheckpointMarkerFormat)
	case m.Pool != PoolCXL && m.Pool != PoolRDMA:
		return bad("pool %q: expected %q or %q", m.Pool, PoolCXL, PoolRDMA)
	case !bootIDRE.MatchString(m.BootID):
		return bad("boot_id %q: expected the UUID from %s", m.BootID, BootIDPath)
	case m.Kernel == "":
		return bad("kernel: empty: expected the release (uname -r)")
	case m.Pool == PoolCXL && !strings.HasPrefix(m.DAXDevice, "/dev/dax"):
		return bad("dax_device %q: expected /dev/daxX.Y for pool %s", m.DAXDevice, PoolCXL)
	case m.Pool == PoolRDMA && m.DAXDevice != "":
		return bad("dax_device %q: expected none for pool %s", m.DAXDevice, PoolRDMA)
	case len(m.Services) == 0:
		return bad("services: none")
	case m.Created.IsZero():
		return bad("created: missing")
	}
	seen := map[string]bool{}
	for _, s := range m.Services {
		if !serviceRE.MatchString(s) {
			return bad("services: %q: expected a service name (lower-case, digits, '-', optional _N)", s)
		}
		if seen[s] {
			return bad("services: %q listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

// Marshal validates the marker and encodes it as indented JSON with a
// final newline.
func (m *CheckpointMarker) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseCheckpointMarker decodes and validates a marker; unknown keys are
// refused.
func ParseCheckpointMarker(data []byte) (*CheckpointMarker, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m CheckpointMarker
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMarker, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadCheckpointMarker reads the marker at CheckpointMarkerPath from root,
// the host's root directory. A missing marker is an error wrapping
// fs.ErrNotExist.
func ReadCheckpointMarker(root fs.FS) (*CheckpointMarker, error) {
	data, err := fs.ReadFile(root, RootRel(CheckpointMarkerPath))
	if err != nil {
		return nil, err
	}
	m, err := ParseCheckpointMarker(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CheckpointMarkerPath, err)
	}
	return m, nil
}

// ReadBootID returns the current boot's id from root (BootIDPath), trimmed.
func ReadBootID(root fs.FS) (string, error) {
	b, err := fs.ReadFile(root, RootRel(BootIDPath))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// RootRel turns an absolute host path into the name fs.FS uses for it
// under the host's root ("/proc/mounts" → "proc/mounts", "/" → ".").
func RootRel(p string) string {
	p = strings.TrimLeft(p, "/")
	if p == "" {
		return "."
	}
	return p
}
