package main

import (
	"strings"
	"testing"
)

// TestRootHelpDescribesEveryCommand: the top-level help names each command
// a user can run, and reproduce's usage line offers "all".
func TestRootHelpDescribesEveryCommand(t *testing.T) {
	s, _, _ := testStreams()
	root := newCmdRoot(s)
	for _, c := range root.Commands() {
		name := c.Name()
		if name == "help" || name == "completion" || name == "version" {
			continue
		}
		if !strings.Contains(root.Long, "\n  "+name+" ") {
			t.Errorf("trenv-bench --help does not describe %q", name)
		}
	}
	rep, _, err := root.Find([]string{"reproduce"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Use, "|all ") {
		t.Errorf("reproduce usage %q does not offer all", rep.Use)
	}
}
