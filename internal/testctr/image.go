package testctr

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// Image is an OCI image a test builds: one layer holding a static busybox
// as /bin/busybox with its applets linked beside it, and an image config.
type Image struct {
	// Ref is the name containerd imports it as (io.containerd.image.name),
	// e.g. "docker.io/trenv-bench/busybox:test".
	Ref string
	// Busybox is the static busybox binary copied into the layer.
	Busybox string
	// Applets are linked to /bin/busybox in /bin (sh, sleep, …).
	Applets []string
	// Entrypoint and Cmd are the image config's.
	Entrypoint, Cmd []string
}

// defaultApplets are the busybox applets an image gets unless told.
func defaultApplets() []string {
	return []string{"sh", "sleep", "dd", "cat", "head", "tr", "echo", "ls", "true", "mkfifo"}
}

// OCI media types (image-spec v1.0).
const (
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// CheckStatic returns an error unless path is an ELF executable without an
// interpreter (statically linked), which is what runs alone in an image.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("testctr: %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("testctr: %s is dynamically linked (install busybox-static)", path)
		}
	}
	return nil
}

// WriteArchive writes img as an OCI image layout in a tar stream (what
// `ctr images import` reads): oci-layout, index.json and the blobs.
func WriteArchive(w io.Writer, img Image) error {
	if err := CheckStatic(img.Busybox); err != nil {
		return err
	}
	bb, err := os.ReadFile(img.Busybox)
	if err != nil {
		return fmt.Errorf("testctr: reading busybox: %w", err)
	}
	applets := img.Applets
	if applets == nil {
		applets = defaultApplets()
	}
	layer, err := buildLayer(bb, applets)
	if err != nil {
		return err
	}
	layerDesc := blobDesc(mediaLayer, layer)
	cfg, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": img.Entrypoint, "Cmd": img.Cmd, "Env": []string{"PATH=/bin"}, "WorkingDir": "/"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDesc.Digest}},
	})
	if err != nil {
		return err
	}
	cfgDesc := blobDesc(mediaConfig, cfg)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mediaManifest, "config": cfgDesc, "layers": []descriptor{layerDesc},
	})
	if err != nil {
		return err
	}
	manDesc := blobDesc(mediaManifest, manifest)
	manDesc.Platform = &platform{Architecture: runtime.GOARCH, OS: "linux"}
	manDesc.Annotations = map[string]string{"io.containerd.image.name": img.Ref}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaIndex, "manifests": []descriptor{manDesc}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blobPath(layerDesc), layer},
		{blobPath(cfgDesc), cfg},
		{blobPath(manDesc), manifest},
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// buildLayer is the layer's tar: the directories a container's mounts
// land on, /bin/busybox and its applets as symbolic links.
func buildLayer(busybox []byte, applets []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, d := range []string{"bin/", "dev/", "etc/", "proc/", "sys/", "tmp/", "root/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(busybox)), ModTime: epoch}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(busybox); err != nil {
		return nil, err
	}
	for _, a := range applets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func blobDesc(mediaType string, b []byte) descriptor {
	sum := sha256.Sum256(b)
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(b))}
}

func blobPath(d descriptor) string { return "blobs/sha256/" + d.Digest[len("sha256:"):] }
