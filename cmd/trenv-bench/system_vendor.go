package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/system"
	"trenv-bench/system/vendor"
)

// systemVendorOptions are the inputs of `trenv-bench system vendor`.
type systemVendorOptions struct {
	*Streams
	Opts        vendor.Options
	MirrorFlags []string // --mirror NAME=URL, repeated
	MirrorsFile string   // --mirrors FILE
}

func newCmdSystemVendor(s *Streams, runF func(context.Context, *systemVendorOptions) error) *cobra.Command {
	opts := &systemVendorOptions{Streams: s, Opts: vendor.Options{Depth: 1}}
	cmd := &cobra.Command{
		Use:   "vendor -o DIR [--mirror NAME=URL]... [--mirrors FILE] [--only NAME,...]",
		Short: "Fetch every pinned component of the stack into one bundle, for a testbed without network",
		Long: `vendor fetches the components of system/stack.yaml (the file the Ansible
playbook reads) into one new directory with a manifest, so a lab can carry
the whole stack to a testbed that reaches no upstream. The playbook installs
from it when stack_bundle is set.

Each git component is fetched at its pinned commit into a bare repository
of its own, git/NAME.git, whose branch (the stack's, or "default" for the
remote's default branch) points at that commit; an unpinned one (the
kernel) at its branch head, resolved with git ls-remote and recorded. Each
download is saved under files/NAME/ and checked against its pinned sha256,
or hashed and recorded when upstream publishes none; the stack's URL is
tried first, then its mirrors. Container images and go install are not
bundled: the manifest says so, and why.

--mirror NAME=URL (repeatable) and --mirrors FILE fetch a component from
elsewhere: a git URL or path for a git component, an http, https or file
URL for a download. The mirrors file is YAML with one key, stack_mirrors,
mapping component names to URLs; it is also an Ansible vars file
(ansible-playbook -e @FILE), so the playbook uses the same mirrors.

manifest.json lists each component: kind, source, commit or sha256 (and
whether that is the stack's pin or resolved here), and its path in the
bundle. The bundle is written to a temporary directory beside DIR and
renamed to DIR when complete: a failure or an interrupt leaves nothing.
DIR must not exist, or be empty.`,
		Example: `  trenv-bench system vendor -o /srv/trenv-bundle

  # from a lab's git server, the pkgs archive from a local disk
  trenv-bench system vendor -o bundle --mirror faasd=https://git.lab/faasd.git \
      --mirror function-pkgs=file:///srv/pkgs.tar.gz

  # only the CRIU variants, full history
  trenv-bench system vendor -o criu-bundle --only criu-switch,criu-master,criu-lazy --depth 0`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Opts.Dir == "" {
				return flagErrorf("-o/--out: required: the bundle directory to create")
			}
			if opts.Opts.Depth < 0 {
				return flagErrorf("--depth %d: expected 0 (full history) or more", opts.Opts.Depth)
			}
			if opts.Opts.Stack == nil {
				opts.Opts.Stack = system.DefaultStack()
				opts.Opts.StackData = system.StackYAML()
			}
			mirrors := map[string]string{}
			if opts.MirrorsFile != "" {
				data, err := os.ReadFile(opts.MirrorsFile)
				if err != nil {
					return flagErrorf("--mirrors: %v", err)
				}
				m, err := vendor.ParseMirrors(data, opts.MirrorsFile)
				if err != nil {
					return flagErrorf("--mirrors: %v", err)
				}
				for k, v := range m {
					mirrors[k] = v
				}
			}
			for _, f := range opts.MirrorFlags {
				name, url, err := vendor.ParseMirrorFlag(f)
				if err != nil {
					return flagErrorf("--mirror %q: %v", f, err)
				}
				mirrors[name] = url
			}
			for name := range mirrors {
				if _, ok := opts.Opts.Stack.Component(name); !ok {
					return flagErrorf("mirror for %q: no such component in %s (see trenv-bench system lock)", name, system.StackFile)
				}
			}
			for _, name := range opts.Opts.Only {
				if _, ok := opts.Opts.Stack.Component(name); !ok {
					return flagErrorf("--only %q: no such component in %s (see trenv-bench system lock)", name, system.StackFile)
				}
			}
			opts.Opts.Mirrors = mirrors
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSystemVendor(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Opts.Dir, "out", "o", "", "the bundle directory to create (must not exist, or be empty)")
	f.StringArrayVar(&opts.MirrorFlags, "mirror", nil, "fetch component NAME from URL instead (repeatable)")
	f.StringVar(&opts.MirrorsFile, "mirrors", "", "YAML file mapping components to URLs under stack_mirrors (also an Ansible vars file)")
	f.StringSliceVar(&opts.Opts.Only, "only", nil, "vendor only these components (comma-separated)")
	f.IntVar(&opts.Opts.Depth, "depth", 1, "history fetched with each commit; 0 = full")
	return cmd
}

func runSystemVendor(ctx context.Context, o *systemVendorOptions) error {
	var dl *bar
	current := ""
	o.Opts.Progress = func(e vendor.Event) {
		if e.Size != 0 || e.Done != 0 {
			if !o.ProgressOK {
				return
			}
			if dl == nil || current != e.Component {
				dl = newBar(o.Streams, e.Size, 0, true)
				dl.Describe(e.Component)
				current = e.Component
			}
			dl.Set64(e.Done)
			if e.Step == "downloaded" {
				dl.Finish()
				fmt.Fprintln(o.ErrOut)
				dl = nil
			}
			return
		}
		fmt.Fprintf(o.ErrOut, "vendor [%d/%d] %s: %s\n", e.Index, e.Total, e.Component, e.Step)
	}
	m, err := vendor.Vendor(ctx, o.Opts)
	if err != nil {
		return err
	}
	skipped := []string{}
	for _, e := range m.Components {
		if e.Skipped != "" {
			skipped = append(skipped, e.Component)
		}
	}
	fmt.Fprintf(o.Out, "%s: %d components, manifest %s\n", o.Opts.Dir, len(m.Components)-len(skipped), vendor.ManifestFile)
	if len(skipped) > 0 {
		fmt.Fprintf(o.Out, "not bundled (see the manifest for why): %s\n", strings.Join(skipped, ", "))
	}
	return nil
}
