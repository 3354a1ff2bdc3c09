package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultStateDir is where the harness records the daemons it started.
const DefaultStateDir = "/run/trenv-bench"

// ErrBusy is returned when another harness process holds the state
// directory's lock (a run or preparation in progress).
var ErrBusy = errors.New("system: another trenv-bench run or preparation holds the host")

// Supervisor starts daemons and stops them by PID. Each daemon it starts is
// recorded in its state directory (a JSON file per daemon: PID, the
// process's start time from /proc, argv, log), so that a later `system
// clean` stops exactly those processes — and never a process that merely
// reuses a recorded PID, or one that has the same name. A Supervisor holds
// the state directory's lock from Open to Close.
type Supervisor struct {
	dir  string
	lock *os.File
	// logDir holds the daemons' logs.
	logDir string
}

// Daemon is a process a Supervisor started.
type Daemon struct {
	// Name names it (its record and log).
	Name string `json:"name"`
	// PID and StartTicks identify the process: its start time in clock
	// ticks since boot (/proc/PID/stat field 22), which a recycled PID
	// does not share.
	PID        int      `json:"pid"`
	StartTicks uint64   `json:"start_ticks"`
	Argv       []string `json:"argv"`
	Dir        string   `json:"dir"`
	// Log is the file its stdout and stderr go to.
	Log string `json:"log"`

	sup  *Supervisor
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

var daemonName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// OpenSupervisor takes the lock of state directory dir (created if
// missing) and returns a Supervisor; it fails with ErrBusy when another
// process holds it.
func OpenSupervisor(dir string) (*Supervisor, error) {
	if err := os.MkdirAll(filepath.Join(dir, "daemons"), 0o755); err != nil {
		return nil, fmt.Errorf("system: state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("system: state directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (lock %s)", ErrBusy, f.Name())
		}
		return nil, fmt.Errorf("system: locking %s: %w", f.Name(), err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return &Supervisor{dir: dir, lock: f, logDir: filepath.Join(dir, "logs")}, nil
}

// Close releases the lock. Daemons still running stay running and
// recorded (Stop them first, or `system clean` later).
func (s *Supervisor) Close() error { return s.lock.Close() }

// Start starts argv (program first, no shell) in dir with env added to this
// process's environment, in a process group of its own, its stdout and
// stderr appended to <state>/logs/<name>.log, and records it. It returns
// once the process runs.
func (s *Supervisor) Start(ctx context.Context, name string, argv, env []string, dir string) (*Daemon, error) {
	return s.StartWith(ctx, name, argv, env, dir, nil)
}

// StartWith is Start with a hook that may adjust the command before it
// starts (resource limits are set through it by the caller's wrapper).
func (s *Supervisor) StartWith(ctx context.Context, name string, argv, env []string, dir string, adjust func(*exec.Cmd)) (*Daemon, error) {
	if !daemonName.MatchString(name) {
		return nil, fmt.Errorf("system: daemon name %q: want lower-case letters, digits, '.', '_', '-'", name)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("system: daemon %s: no command", name)
	}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(s.logDir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("system: daemon %s: %w", name, err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if adjust != nil {
		adjust(cmd)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("system: starting %s (%s): %w", name, argv[0], err)
	}
	d := &Daemon{Name: name, PID: cmd.Process.Pid, Argv: argv, Dir: dir, Log: logPath, sup: s, cmd: cmd, done: make(chan struct{})}
	d.StartTicks, _, _ = procStart("/proc", d.PID)
	go func() { d.err = cmd.Wait(); close(d.done) }()
	if err := s.write(d); err != nil {
		d.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return d, nil
}

func (s *Supervisor) recordPath(name string) string {
	return filepath.Join(s.dir, "daemons", name+".json")
}

func (s *Supervisor) write(d *Daemon) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	tmp := s.recordPath(d.Name) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("system: recording %s: %w", d.Name, err)
	}
	return os.Rename(tmp, s.recordPath(d.Name))
}

// Exited is closed when the daemon has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

// ExitErr is how the daemon exited, once Exited is closed.
func (d *Daemon) ExitErr() error { return d.err }

// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
const StopGrace = 10 * time.Second

// Stop stops the daemon and its process group: SIGTERM, then SIGKILL
// after StopGrace or when ctx ends, and removes its record.
func (d *Daemon) Stop(ctx context.Context) error {
	select {
	case <-d.done:
	default:
		syscall.Kill(-d.PID, syscall.SIGTERM)
		t := time.NewTimer(StopGrace)
		select {
		case <-d.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		syscall.Kill(-d.PID, syscall.SIGKILL)
		<-d.done
	}
	// The group may outlive its leader: kill what is left of it.
	syscall.Kill(-d.PID, syscall.SIGKILL)
	if err := os.Remove(d.sup.recordPath(d.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Recorded returns the daemons recorded in the state directory (by this
// or an earlier harness process), for `system clean`.
func (s *Supervisor) Recorded() ([]Daemon, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "daemons"))
	if err != nil {
		return nil, err
	}
	var out []Daemon
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "daemons", e.Name()))
		if err != nil {
			return nil, err
		}
		var d Daemon
		if err := json.Unmarshal(b, &d); err != nil || d.PID <= 1 || !daemonName.MatchString(d.Name) {
			return nil, fmt.Errorf("system: %s: not a daemon record", e.Name())
		}
		out = append(out, d)
	}
	return out, nil
}

// StopRecorded stops a daemon recorded by an earlier process: by its PID,
// only while that PID still has the recorded start time, its process
// group with SIGTERM then SIGKILL after grace; then it removes the
// record. It reports whether a process was stopped.
func (s *Supervisor) StopRecorded(ctx context.Context, d Daemon, grace time.Duration) (bool, error) {
	alive := func() bool {
		t, zombie, err := procStart("/proc", d.PID)
		return err == nil && t == d.StartTicks && !zombie
	}
	stopped := false
	if alive() {
		stopped = true
		syscall.Kill(-d.PID, syscall.SIGTERM)
		syscall.Kill(d.PID, syscall.SIGTERM)
		deadline := time.Now().Add(grace)
		for alive() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if alive() {
			syscall.Kill(-d.PID, syscall.SIGKILL)
			syscall.Kill(d.PID, syscall.SIGKILL)
		}
	}
	if err := os.Remove(s.recordPath(d.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return stopped, err
	}
	return stopped, nil
}

// procStart reads a process's start time (field 22 of /proc/PID/stat) and
// whether it is a zombie (exited, not yet reaped).
func procStart(proc string, pid int) (ticks uint64, zombie bool, err error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false, err
	}
	// The command (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("system: /proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false, fmt.Errorf("system: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	// f[0] is field 3 (state); field 22 is f[19].
	ticks, err = strconv.ParseUint(f[19], 10, 64)
	return ticks, f[0] == "Z", err
}

// LogTail returns the last n lines of a daemon's log (any text file), or
// why it cannot be read, for error messages.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
