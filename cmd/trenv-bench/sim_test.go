package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
)

func TestNewCmdSimServe(t *testing.T) {
	cases := []struct {
		line    string
		check   func(o *simServeOptions, c sim.TwinConfig) bool
		wantErr string
	}{
		{line: "--method trenv", check: func(o *simServeOptions, c sim.TwinConfig) bool {
			return c.Platform.Method == "trenv" && c.Platform.Pool == "cxl" && c.Platform.MemBytes == 64<<30 &&
				c.Platform.IdleNum == 70 && c.Speed == 1 && o.Addr == "127.0.0.1:8081" && o.Register
		}},
		{line: "--method reap --mem 32 --gc 3 --no-reuse --speed 20 --register=false", check: func(o *simServeOptions, c sim.TwinConfig) bool {
			return c.Platform.MemBytes == 32<<30 && c.Platform.GC == 3*time.Minute && c.Platform.NoReuse && c.Speed == 20 && !o.Register
		}},
		{line: "--method trenv --pool rdma --idle-num 5 --no-bgtask", check: func(o *simServeOptions, c sim.TwinConfig) bool {
			return c.Platform.Pool == "rdma" && c.Platform.IdleNum == 5 && c.Platform.NoBgTask
		}},
		{line: "", wantErr: "--method is required"},
		{line: "--method firecracker", wantErr: `method "firecracker": expected one of trenv, cold, criu, lazy, faasnap, reap`},
		{line: "--method trenv --pool nvme", wantErr: `pool "nvme": expected cxl or rdma`},
		{line: "--method cold --pool rdma", wantErr: "--pool is TrEnv's memory pool"},
		{line: "--method cold --mem 300", wantErr: "--mem 300"},
		{line: "--method cold --speed 0", wantErr: "--speed 0"},
		{line: "--method cold --calibration /nonexistent.yaml", wantErr: "/nonexistent.yaml"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			called := false
			cmd := newCmdSimServe(s, func(_ context.Context, o *simServeOptions, tc sim.TwinConfig) error {
				called = true
				if c.check != nil && !c.check(o, tc) {
					t.Errorf("options %+v, config %+v", *o, tc)
				}
				return nil
			})
			err := execLine(cmd, c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
				}
				if called {
					t.Error("ran despite the error")
				}
				return
			}
			if err != nil || !called {
				t.Fatalf("err %v, called %v", err, called)
			}
		})
	}
}

// TestBadCalibrationStopsEarly: a calibration file missing a function, with
// a negative or NaN number, or with invalid YAML, is refused before the
// server starts, with a message naming the file.
func TestBadCalibrationStopsEarly(t *testing.T) {
	data, err := os.ReadFile("../../sim/calibration/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	dir := t.TempDir()
	cases := map[string]string{
		"missing-function.yaml": strings.Replace(good, "\n  pyaes:\n", "\n  pyaes-gone:\n", 1),
		"negative.yaml":         strings.Replace(good, "median_ms: 425,", "median_ms: -425,", 1),
		"nan.yaml":              strings.Replace(good, "median_ms: 425,", "median_ms: .nan,", 1),
		"invalid.yaml":          good + "\n  : [\n",
	}
	for name, content := range cases {
		if content == good {
			t.Fatalf("%s: the edit did not apply", name)
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		s, _, errOut := testStreams()
		code := Main([]string{"sim", "serve", "--method", "trenv", "--addr", "127.0.0.1:0", "--calibration", path}, s)
		if code != ExitError || !strings.Contains(errOut.String(), name) {
			t.Errorf("%s: exit %d, %q", name, code, errOut)
		}
	}
}

func TestSimServeAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, _, errOut := testStreams()
	pcfg := sim.DefaultConfig(sim.MethodTrEnv)
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- serveTwin(ctx, &simServeOptions{Streams: s, Addr: addr, Register: true},
			sim.TwinConfig{Platform: pcfg, Model: model, Speed: 1000}, ln)
	}()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Post("http://"+addr+"/invoke/pyaes", "application/json", strings.NewReader(`{}`)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"latency"`) {
		t.Errorf("invoke: %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("serve ended with %v", err)
	}
	if !strings.Contains(errOut.String(), "sim serve: trenv (pool cxl) on http://"+addr) {
		t.Errorf("banner %q", errOut)
	}
}
