package faasnap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/internal/ctxsleep"
)

// The daemon's modes: the FaaSnap and REAP baselines.
const (
	ModeFaaSnap = "faasnap"
	ModeREAP    = "reap"
)

// Func is a function to prepare a snapshot of.
type Func struct {
	// Name is the function's lambda name (faasd looks snapshots up by
	// it: the service name before its first "_").
	Name string
	// Image is the guest root file system, a key of the daemon's config
	// ("debian-python" or "debian-nodejs").
	Image string
	// Params is the invocation's body that warms it and records its
	// working set ("" = none).
	Params string
}

// Waits are the pauses upstream's preparation makes between steps (the
// daemon answers before the guest is up or the page cache has settled).
type Waits struct {
	Boot, AfterStop, Short time.Duration
}

// UpstreamWaits are the FaaSnap artifact's: 5 s after booting a VM, 2 s
// after stopping one, 1 s elsewhere.
var UpstreamWaits = Waits{Boot: 5 * time.Second, AfterStop: 2 * time.Second, Short: time.Second}

// Options configure Prepare.
type Options struct {
	Mode string
	// Dir is where the snapshot files and snapshots_<mode>.json go
	// (a tmpfs on the memory node: /mnt/cxl-tmp/faasnap/snapshot).
	Dir       string
	Functions []Func
	// VCPU is each guest's vCPU count (the artifact's 2).
	VCPU int
	// Tries bounds the attempts per function: snapshot generation is
	// known to fail now and then, and upstream's remedy is to re-run it.
	Tries int
	Waits Waits
	// Progress, when set, is told each step.
	Progress func(string)
}

var lambdaName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$`)

// SnapshotsFile is the file faasd reads in mode: a JSON object mapping
// lambda name to snapshot id.
func SnapshotsFile(dir, mode string) string {
	return filepath.Join(dir, "snapshots_"+mode+".json")
}

// Prepare boots each function's VM, takes the snapshot the mode restores
// from, and writes SnapshotsFile: the steps of the FaaSnap artifact's
// test.py (prepareMincore for FaaSnap, prepareReap for REAP), one network
// namespace fc<i> per function as the TrEnv fork's prepare-faasnap.py
// sets them up (spec trenv-stack §6). The snapshot ids live only in the
// daemon's memory, so a restarted daemon needs a new Prepare. It returns
// the ids by lambda name; the file is written whole, or not at all.
func Prepare(ctx context.Context, c *Client, o Options) (map[string]string, error) {
	if o.Mode != ModeFaaSnap && o.Mode != ModeREAP {
		return nil, fmt.Errorf("faasnap: mode %q: want %s or %s", o.Mode, ModeFaaSnap, ModeREAP)
	}
	if o.Tries < 1 {
		o.Tries = 1
	}
	ids := map[string]string{}
	for i, f := range o.Functions {
		if !lambdaName.MatchString(f.Name) {
			return nil, fmt.Errorf("faasnap: function %q: not a lambda name (letters, digits, '.', '-')", f.Name)
		}
		if _, dup := ids[f.Name]; dup {
			continue
		}
		p := preparer{c: c, o: o, f: f, idx: i + 1}
		var err error
		for try := 1; try <= o.Tries; try++ {
			p.say(fmt.Sprintf("preparing %s (%s, attempt %d of %d)", f.Name, o.Mode, try, o.Tries))
			var id string
			if id, err = p.run(ctx); err == nil {
				ids[f.Name] = id
				break
			}
			p.cleanup()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("faasnap: preparing %s: %w", f.Name, ctx.Err())
			}
			p.say(fmt.Sprintf("preparing %s failed: %v", f.Name, err))
		}
		if err != nil {
			return nil, fmt.Errorf("faasnap: preparing %s failed %d times, the last: %w", f.Name, o.Tries, err)
		}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(SnapshotsFile(o.Dir, o.Mode), b, 0o644); err != nil {
		return nil, fmt.Errorf("faasnap: writing the snapshot ids: %w", err)
	}
	return ids, nil
}

// preparer prepares one function, tracking the VMs it has running so that
// a failed attempt leaves none behind.
type preparer struct {
	c   *Client
	o   Options
	f   Func
	idx int
	vms []string
}

func (p *preparer) say(s string) {
	if p.o.Progress != nil {
		p.o.Progress(s)
	}
}

func (p *preparer) namespace() string { return fmt.Sprintf("fc%d", p.idx) }

func (p *preparer) file(suffix string) string {
	return filepath.Join(p.o.Dir, p.f.Name+"_"+suffix)
}

func (p *preparer) startVM(ctx context.Context) (string, error) {
	vm, err := p.c.StartVM(ctx, p.f.Name, p.namespace())
	if err != nil {
		return "", err
	}
	p.vms = append(p.vms, vm.ID)
	return vm.ID, ctxsleep.Sleep(ctx, p.o.Waits.Boot)
}

func (p *preparer) invoke(ctx context.Context, inv Invocation) (string, error) {
	vm, err := p.c.Invoke(ctx, inv)
	if err != nil {
		return "", err
	}
	if inv.VMID == "" {
		p.vms = append(p.vms, vm.ID)
	}
	return vm.ID, nil
}

func (p *preparer) stopVM(ctx context.Context, id string, after time.Duration) error {
	if err := p.c.StopVM(ctx, id); err != nil {
		return err
	}
	for i, v := range p.vms {
		if v == id {
			p.vms = append(p.vms[:i], p.vms[i+1:]...)
			break
		}
	}
	return ctxsleep.Sleep(ctx, after)
}

// cleanup stops what a failed attempt left running.
func (p *preparer) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range p.vms {
		p.c.StopVM(ctx, id)
	}
	p.vms = nil
}

var dropCache = SnapshotState{DropCache: true}

func (p *preparer) run(ctx context.Context) (string, error) {
	kernel := "v4.14"
	if p.o.Mode == ModeFaaSnap {
		kernel = "sanpage"
	}
	i := p.idx
	net := NetIface{HostDev: "vmtap0", IfaceID: "eth0", GuestMAC: "AA:FC:00:00:00:01", GuestAddr: "172.16.0.2",
		UniqueAddr: fmt.Sprintf("192.168.%d.%d", i/252+1, i%252+3)}
	if err := p.c.PutNetIface(ctx, p.namespace(), net); err != nil {
		return "", err
	}
	if err := p.c.AddFunction(ctx, Function{Name: p.f.Name, Image: p.f.Image, Kernel: kernel, VCPU: p.o.VCPU}); err != nil &&
		!alreadyExists(err) {
		return "", err
	}
	if p.o.Mode == ModeFaaSnap {
		return p.mincore(ctx)
	}
	return p.reap(ctx)
}

// alreadyExists reports a function the daemon knows from an earlier
// attempt.
func alreadyExists(err error) bool {
	var e *APIError
	return errors.As(err, &e) && strings.Contains(strings.ToLower(e.Message), "exist")
}

// mincore is test.py's prepareMincore: a base snapshot of a fresh VM, one
// invocation from it recording the pages it touches (mincore), a warm
// snapshot after it, and that working set carried over to the warm
// snapshot and written to its working-set file.
func (p *preparer) mincore(ctx context.Context) (string, error) {
	vm, err := p.startVM(ctx)
	if err != nil {
		return "", err
	}
	base, err := p.c.TakeSnapshot(ctx, Snapshot{VMID: vm, Type: "Full", Path: p.file("full.snapshot"),
		MemFilePath: p.file("full.memfile"), Version: "0.23.0"})
	if err != nil {
		return "", err
	}
	if err := p.stopVM(ctx, vm, 0); err != nil {
		return "", err
	}
	if err := p.c.PatchSnapshot(ctx, base.ID, dropCache); err != nil {
		return "", err
	}
	if err := ctxsleep.Sleep(ctx, p.o.Waits.AfterStop); err != nil {
		return "", err
	}
	warmVM, err := p.invoke(ctx, Invocation{Function: p.f.Name, SnapshotID: base.ID, Params: p.f.Params, Mincore: -1,
		MincoreSize: 1024, Namespace: p.namespace(), UseMemFile: true})
	if err != nil {
		return "", err
	}
	// The guest's page cache is dropped before the warm snapshot, so
	// that it holds what the function touched and not what booting read.
	if _, err := p.invoke(ctx, Invocation{Function: "run", VMID: warmVM, Mincore: -1,
		Params: `{"command": "echo 8 > /proc/sys/vm/drop_caches"}`}); err != nil {
		return "", err
	}
	warm, err := p.c.TakeSnapshot(ctx, Snapshot{VMID: warmVM, Type: "Full", Path: p.file("warm.snapshot"),
		MemFilePath: p.file("warm.memfile"), Version: "0.23.0", RecordRegions: true, IntervalThreshold: 32})
	if err != nil {
		return "", err
	}
	if err := p.stopVM(ctx, warmVM, p.o.Waits.AfterStop); err != nil {
		return "", err
	}
	if err := p.c.CopyMincore(ctx, warm.ID, base.ID); err != nil {
		return "", err
	}
	if err := p.c.PatchMincore(ctx, warm.ID, MincoreState{ToWSFile: p.file("wsfile"), IntervalThreshold: 32, DropWSCache: true}); err != nil {
		return "", err
	}
	for _, id := range []string{base.ID, warm.ID} {
		if err := p.c.PatchSnapshot(ctx, id, dropCache); err != nil {
			return "", err
		}
	}
	if err := p.c.PatchMincore(ctx, warm.ID, map[string]bool{"drop_ws_cache": true}); err != nil {
		return "", err
	}
	return warm.ID, nil
}

// reap is test.py's prepareReap: a snapshot of a warmed VM, then one
// invocation from it with REAP on, which records the working set REAP
// prefetches on every later restore.
func (p *preparer) reap(ctx context.Context) (string, error) {
	vm, err := p.startVM(ctx)
	if err != nil {
		return "", err
	}
	if _, err := p.invoke(ctx, Invocation{Function: p.f.Name, VMID: vm, Params: p.f.Params, Mincore: -1}); err != nil {
		return "", err
	}
	base, err := p.c.TakeSnapshot(ctx, Snapshot{VMID: vm, Type: "Full", Path: p.file("full.snapshot"),
		MemFilePath: p.file("full.memfile"), Version: "0.23.0"})
	if err != nil {
		return "", err
	}
	if err := p.stopVM(ctx, vm, p.o.Waits.Short); err != nil {
		return "", err
	}
	if err := p.c.PatchSnapshot(ctx, base.ID, dropCache); err != nil {
		return "", err
	}
	if err := ctxsleep.Sleep(ctx, p.o.Waits.Short); err != nil {
		return "", err
	}
	rec, err := p.invoke(ctx, Invocation{Function: p.f.Name, SnapshotID: base.ID, Params: p.f.Params, Mincore: -1,
		EnableReap: true, WSDirectIO: true, Namespace: p.namespace()})
	if err != nil {
		return "", err
	}
	if err := ctxsleep.Sleep(ctx, p.o.Waits.Short); err != nil {
		return "", err
	}
	if err := p.stopVM(ctx, rec, p.o.Waits.AfterStop); err != nil {
		return "", err
	}
	if err := p.c.PatchSnapshot(ctx, base.ID, dropCache); err != nil {
		return "", err
	}
	if err := p.c.PatchReap(ctx, base.ID, false); err != nil {
		return "", err
	}
	return base.ID, nil
}
