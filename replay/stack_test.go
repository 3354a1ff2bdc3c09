package replay

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/workloads"
)

// TestLoadStack reads a stack file in TrEnv's shape: faas-cli's fields,
// the non-standard app port, and the deployment faas-cli register would
// post for each function.
func TestLoadStack(t *testing.T) {
	s, err := LoadStack(filepath.Join("testdata", "stack.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Functions) != 3 || s.Functions["pyaes"].AppPort != 5005 || s.Functions["crypto_1"].AppPort != 5108 {
		t.Fatalf("functions %+v", s.Functions)
	}
	var d struct {
		Service, Image, EnvProcess string
		EnvVars                    map[string]string
		Limits                     struct{ Memory, CPU string }
	}
	b, err := s.Deployment("image-recognition")
	if err == nil {
		err = json.Unmarshal(b, &d)
	}
	if err != nil {
		t.Fatal(err)
	}
	if d.Service != "image-recognition" || d.Image != "jialianghuang/image-recognition:latest" || d.EnvProcess != "python index.py" ||
		d.EnvVars["port"] != "9006" || d.EnvVars["exec_timeout"] != "50" || d.Limits.Memory != "768M" || d.Limits.CPU != "2" {
		t.Errorf("deployment %s", b)
	}
	b, _ = s.Deployment("crypto_1")
	if json.Unmarshal(b, &d); d.EnvProcess != "node index.js" {
		t.Errorf("crypto_1: envProcess %q, want the node template's", d.EnvProcess)
	}
	if _, err := s.Deployment("chameleon"); err == nil || !strings.Contains(err.Error(), "no function chameleon") {
		t.Errorf("a function the stack lacks: %v", err)
	}
}

// TestStackMatchesCatalog: a stack entry written as upstream's stack.yml
// writes the catalog's function registers the same deployment as the
// catalog (but for the cpu limit, which faasd ignores and the catalog
// leaves out).
func TestStackMatchesCatalog(t *testing.T) {
	cat := workloads.DefaultCatalog()
	for _, name := range []string{"pyaes", "crypto_1"} {
		fn, ok := cat.Lookup(name)
		if !ok {
			t.Fatalf("%s is not in the catalog", name)
		}
		lang := map[string]string{"python": "hybrid-py", "node": "hybrid-node18"}[fn.Language]
		yml := fmt.Sprintf("provider: {name: openfaas}\nfunctions:\n  %s:\n    lang: %s\n    image: jialianghuang/%s:latest\n"+
			"    limits: {memory: %s}\n    environment: {port: %d}\n", name, lang, fn.Base, fn.Memory, fn.WatchdogPort)
		s, err := ParseStack("inline.yml", []byte(yml))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Deployment(name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Deployment(fn)
		if string(got) != string(want) {
			t.Errorf("%s: stack %s\ncatalog %s", name, got, want)
		}
	}
}

func TestParseStackRefuses(t *testing.T) {
	fn := func(name string, port int) string {
		return fmt.Sprintf("  %s:\n    lang: hybrid-py\n    image: i\n    environment: {port: %d}\n", name, port)
	}
	head := "provider: {name: openfaas}\nfunctions:\n"
	many := head
	for i := range MaxStackFunctions + 1 {
		many += fn(fmt.Sprintf("f%d", i), 1000+i)
	}
	for _, tc := range []struct{ name, yml, want string }{
		{"provider", "provider: {name: knative}\nfunctions:\n" + fn("a", 1), "provider.name"},
		{"yaml", head + "  a: [", "line"},
		{"none", head, "no functions"},
		{"name", head + fn("Pyaes", 9000), "service name"},
		{"no port", head + "  a:\n    lang: hybrid-py\n    image: i\n", "environment.port"},
		{"port range", head + fn("a", 70000), "environment.port"},
		{"same port", head + fn("a", 9000) + fn("b", 9000), "both on watchdog port 9000"},
		{"no image", head + "  a:\n    lang: hybrid-py\n    environment: {port: 1}\n", "no image"},
		{"lang", head + "  a:\n    lang: go\n    image: i\n    environment: {port: 1}\n", "lang"},
		{"app port", head + "  a:\n    lang: hybrid-py\n    image: i\n    port: web\n    environment: {port: 1}\n", "app port"},
		{"too many", many, "at most"},
	} {
		if _, err := ParseStack("s.yml", []byte(tc.yml)); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s.yml") {
			t.Errorf("%s: %v, want an error naming the file and %q", tc.name, err, tc.want)
		}
	}
}
