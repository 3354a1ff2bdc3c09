package testctr

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWriteArchive reads back the archive it writes: an OCI layout whose
// index names the image and points, through the manifest, at a config
// with the entrypoint and a layer whose digest the config lists, holding
// busybox and its applets.
func TestWriteArchive(t *testing.T) {
	bb, err := FindTools()
	if err != nil && bb.Busybox == "" {
		t.Skipf("no busybox: %v", err)
	}
	if err := CheckStatic(bb.Busybox); err != nil {
		t.Skip(err)
	}
	var buf bytes.Buffer
	img := Image{Ref: "docker.io/trenv-bench/busybox:test", Busybox: bb.Busybox, Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"sleep 1"}}
	if err := WriteArchive(&buf, img); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
	}
	blob := func(d descriptor) []byte {
		b, ok := files[blobPath(d)]
		if !ok {
			t.Fatalf("no blob %s", d.Digest)
		}
		if got := blobDesc(d.MediaType, b); got.Digest != d.Digest || got.Size != d.Size {
			t.Fatalf("blob %s: digest %s size %d, descriptor says %d", d.Digest, got.Digest, got.Size, d.Size)
		}
		return b
	}
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json %s (%v)", files["index.json"], err)
	}
	if got := index.Manifests[0].Annotations["io.containerd.image.name"]; got != img.Ref {
		t.Errorf("image name %q", got)
	}
	var man struct {
		Config descriptor
		Layers []descriptor
	}
	if err := json.Unmarshal(blob(index.Manifests[0]), &man); err != nil || len(man.Layers) != 1 {
		t.Fatalf("manifest (%v)", err)
	}
	var cfg struct {
		Config struct{ Entrypoint, Cmd []string }
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(blob(man.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Config.Entrypoint, " ") != "/bin/sh -c" || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != man.Layers[0].Digest {
		t.Errorf("config %+v", cfg)
	}
	names := map[string]string{}
	lr := tar.NewReader(bytes.NewReader(blob(man.Layers[0])))
	for {
		h, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = h.Linkname
	}
	if _, ok := names["bin/busybox"]; !ok || names["bin/sh"] != "busybox" || names["bin/sleep"] != "busybox" {
		t.Errorf("layer holds %v", names)
	}
}

// TestContainerd starts a real containerd, imports the image, runs a
// container in a namespace of the test's own without a cgroup option, and
// finds its task in containerd's default cgroup /<namespace>/<id> (what
// faasd's containers in openfaas-fn get); at the end the container's
// process is gone.
func TestContainerd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var pid int
	var c *Containerd
	t.Run("run", func(t *testing.T) {
		ns := fmt.Sprintf("trenv-bench-testctr-%d", os.Getpid())
		RemoveCgroupAtEnd(t, ns)
		c = Start(t)
		ref := "docker.io/trenv-bench/busybox:test"
		if err := c.Import(ctx, ns, Image{Ref: ref, Cmd: []string{"sleep", "100000"}}); err != nil {
			t.Fatal(err)
		}
		var err error
		if pid, err = c.Run(ctx, ns, ref, "sleeper-1", RunOptions{}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		if want := "/" + ns + "/sleeper-1"; !strings.Contains(string(b), ":memory:"+want+"\n") && !strings.Contains(string(b), "0::"+want+"\n") {
			t.Errorf("the task's cgroups:\n%s\nwant %s", b, want)
		}
		// No network but its own: a namespace with only loopback.
		if ours, theirs := netns(t, os.Getpid()), netns(t, pid); ours == theirs {
			t.Errorf("the container shares this process's network namespace %s", ours)
		}
		// The task is started; runc's init may take a moment to exec.
		var cmd []byte
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cmd, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); bytes.HasPrefix(cmd, []byte("sleep\x00100000")) {
				break
			}
		}
		if !bytes.HasPrefix(cmd, []byte("sleep\x00100000")) {
			t.Errorf("the task runs %q", cmd)
		}
	})
	if pid == 0 {
		return
	}
	// The subtest's end stopped containerd and removed the container.
	select {
	case <-c.Exited():
	default:
		t.Error("containerd is still running after its test ended")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the container's process %d is still there (%v)", pid, err)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there", c.Dir)
	}
}

func netns(t *testing.T, pid int) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
