package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at release builds with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newCmdVersion(s *Streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of trenv-bench",
		Example: "  trenv-bench version",
		Args:    argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(s.Out, versionString())
			return err
		},
	}
}

// versionString names the release, the VCS revision and the Go version.
func versionString() string {
	v, rev, goVer := version, "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVer = bi.GoVersion
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				rev = st.Value
			case "vcs.modified":
				if st.Value == "true" {
					rev += "-dirty"
				}
			}
		}
	}
	out := "trenv-bench " + v
	if rev != "" {
		out += " (" + rev + ")"
	}
	return out + " " + goVer
}
