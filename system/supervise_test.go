package system

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sleepBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	return p
}

// TestSupervisor starts a real daemon, finds its record, refuses a second
// supervisor of the same state directory, and stops the daemon by PID.
func TestSupervisor(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSupervisor(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenSupervisor(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("a second supervisor: %v, want ErrBusy", err)
	}
	d, err := s.Start(context.Background(), "sleeper", []string{sleepBinary(t), "1000"}, []string{"TRENV_TEST=1"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join("/proc", itoa(d.PID), "environ"))
	if err != nil || !strings.Contains(string(env), "TRENV_TEST=1") {
		t.Errorf("the daemon's environment lacks TRENV_TEST=1 (%v)", err)
	}
	rec, err := s.Recorded()
	if err != nil || len(rec) != 1 || rec[0].PID != d.PID || rec[0].StartTicks == 0 || rec[0].Argv[1] != "1000" {
		t.Fatalf("recorded %+v (%v)", rec, err)
	}
	if pgid, _ := syscall.Getpgid(d.PID); pgid != d.PID {
		t.Errorf("the daemon's process group is %d, want its own (%d)", pgid, d.PID)
	}
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Exited():
	default:
		t.Error("Stop returned before the daemon exited")
	}
	if rec, _ := s.Recorded(); len(rec) != 0 {
		t.Errorf("records left after Stop: %+v", rec)
	}
	if _, err := s.Start(context.Background(), "../etc", []string{"true"}, nil, dir); err == nil {
		t.Error("a daemon name with a path was accepted")
	}
}

// TestStopRecorded stops a daemon another supervisor recorded, and leaves
// alone a process whose PID a record names with another start time (a
// recycled PID).
func TestStopRecorded(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSupervisor(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Start(context.Background(), "sleeper", []string{sleepBinary(t), "1000"}, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // as if the harness had exited, leaving its daemon running

	// A process the record does not describe: same PID field, another
	// start time.
	other := exec.Command(sleepBinary(t), "1000")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	s2, err := OpenSupervisor(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	fake := Daemon{Name: "recycled", PID: other.Process.Pid, StartTicks: 1, sup: s2}
	if err := s2.write(&fake); err != nil {
		t.Fatal(err)
	}
	rec, err := s2.Recorded()
	if err != nil || len(rec) != 2 {
		t.Fatalf("recorded %+v (%v)", rec, err)
	}
	for _, r := range rec {
		stopped, err := s2.StopRecorded(context.Background(), r, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.Name == "sleeper"; stopped != want {
			t.Errorf("%s: stopped %v, want %v", r.Name, stopped, want)
		}
	}
	<-d.Exited() // the first supervisor's Wait sees it go
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the process with the recycled PID was killed: %v", err)
	}
	if rec, _ := s2.Recorded(); len(rec) != 0 {
		t.Errorf("records left: %+v", rec)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
