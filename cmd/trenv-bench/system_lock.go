package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"trenv-bench/system"
)

// systemLockOptions are the inputs of `trenv-bench system lock`.
type systemLockOptions struct {
	Streams *Streams
	Stack   *system.Stack

	JSON bool // --json: the full data instead of the table
}

func newCmdSystemLock(s *Streams, runF func(context.Context, *systemLockOptions) error) *cobra.Command {
	opts := &systemLockOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "lock [--json]",
		Short: "Print the pinned TrEnv stack (system/stack.yaml)",
		Long: `lock prints the TrEnv stack as system/stack.yaml pins it, one row per
component: where it comes from, its branch or version, and its pin (a git
commit, a download's sha256, image digests), shortened to 12 digits.

What upstream does not pin is "unpinned: METHOD", resolved on the host when
it is installed: git-ls-remote (the kernel's branch head), image-digest (the
functions' :latest images, after the pull), sha256 (cloud-drive and release
downloads, after the first download), go-buildinfo (go-swagger @latest).

--json prints everything: build commands, install destinations, apt
packages, the kernel's config options, notes. The Ansible playbook reads the
same file.`,
		Example: `  trenv-bench system lock

  # faasd's pinned commit, for a script
  trenv-bench system lock --json | jq -r '.components[] | select(.name=="faasd") | .git.commit'`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Stack == nil {
				opts.Stack = system.DefaultStack()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return systemLockRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the full stack as JSON")
	return cmd
}

func systemLockRun(_ context.Context, o *systemLockOptions) error {
	if !o.JSON {
		return o.Stack.WriteTable(o.Streams.Out)
	}
	enc := json.NewEncoder(o.Streams.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(o.Stack)
}
