package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"

	"github.com/openfaas/faas-cli/stack"
	"gopkg.in/yaml.v3"
)

// Bounds on a stack file read with LoadStack.
const (
	MaxStackBytes     = 4 << 20
	MaxStackFunctions = 1000
)

// Stack is a user's stack.yml, the file faas-cli register reads: the
// functions it registers with faasd, in place of the built-in catalog's.
type Stack struct {
	Path      string
	Functions map[string]StackFunction
	// Data is the file as read.
	Data []byte
}

// StackFunction is one function of a stack file: faas-cli's schema, plus
// TrEnv's non-standard top-level `port:` (the app port inside the image,
// passed to the image build by TrEnv's faas-cli; faasd does not read it).
type StackFunction struct {
	stack.Function
	AppPort int
}

// serviceName is what faasd serves at /invoke/<name> and what its pkgs
// and snapshot lookups take apart ("pyaes_1": lambda pyaes, copy 1).
var serviceName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(_[0-9]+)?$`)

// LoadStack reads and checks a stack file: parsed with faas-cli's own
// stack package (provider openfaas, schema version), then TrEnv's `port:`
// keys with a second decode. Every function needs an image and a watchdog
// port (environment.port, 1–65535) of its own: faasd proxies to that port,
// and a repurposed sandbox keeps its network namespace, so two functions
// on one port would collide.
func LoadStack(path string) (*Stack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--stack: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStackBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--stack %s: %w", path, err)
	}
	if len(data) > MaxStackBytes {
		return nil, fmt.Errorf("--stack %s: larger than %d bytes", path, MaxStackBytes)
	}
	return ParseStack(path, data)
}

// ParseStack is LoadStack on data read from path.
func ParseStack(path string, data []byte) (*Stack, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("--stack %s: "+format, append([]any{path}, args...)...)
	}
	// TrEnv's port: keys first (faas-cli's parser prints to stdout when
	// the YAML itself is broken; this decode says where instead).
	var ports struct {
		Functions map[string]struct {
			Port yaml.Node `yaml:"port"`
		} `yaml:"functions"`
	}
	if err := yaml.Unmarshal(data, &ports); err != nil {
		return nil, bad("%v", err)
	}
	svcs, err := stack.ParseYAMLData(data, "", "", false)
	if err != nil {
		return nil, bad("%v", err)
	}
	if len(svcs.Functions) == 0 {
		return nil, bad("no functions")
	}
	if len(svcs.Functions) > MaxStackFunctions {
		return nil, bad("%d functions: at most %d", len(svcs.Functions), MaxStackFunctions)
	}
	s := &Stack{Path: path, Functions: map[string]StackFunction{}, Data: data}
	byPort := map[int]string{}
	names := make([]string, 0, len(svcs.Functions))
	for name := range svcs.Functions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fn := svcs.Functions[name]
		fn.Name = name
		if !serviceName.MatchString(name) {
			return nil, bad("function %q: expected a service name (lower-case letters, digits, '-', optionally _N)", name)
		}
		if fn.Image == "" {
			return nil, bad("function %s: no image", name)
		}
		if fn.FProcess == "" && fn.Language != "hybrid-py" && fn.Language != "hybrid-node18" {
			return nil, bad("function %s: lang %q and no fprocess: expected hybrid-py, hybrid-node18 or an fprocess", name, fn.Language)
		}
		wp, err := strconv.Atoi(fn.Environment["port"])
		if err != nil || wp < 1 || wp > 65535 {
			return nil, bad("function %s: environment.port %q: expected its watchdog port, 1-65535 (faasd would dial 8080 for every function)", name, fn.Environment["port"])
		}
		if other, dup := byPort[wp]; dup {
			return nil, bad("functions %s and %s: both on watchdog port %d: each function needs its own", other, name, wp)
		}
		byPort[wp] = name
		sf := StackFunction{Function: fn}
		if n := ports.Functions[name].Port; n.Kind != 0 {
			p, err := strconv.Atoi(n.Value)
			if n.Kind != yaml.ScalarNode || err != nil || p < 1 || p > 65535 {
				return nil, bad("function %s: port %q (line %d): expected the app port, 1-65535", name, n.Value, n.Line)
			}
			sf.AppPort = p
		}
		s.Functions[name] = sf
	}
	return s, nil
}

// Deployment returns the FunctionDeployment JSON that faas-cli register
// posts for the stack's function name: service, image, envProcess (its
// fprocess, or its template's), envVars (its environment), labels,
// annotations, limits and secrets as written.
func (s *Stack) Deployment(name string) ([]byte, error) {
	fn, ok := s.Functions[name]
	if !ok {
		return nil, fmt.Errorf("--stack %s: no function %s (the workload invokes it)", s.Path, name)
	}
	d := functionDeployment{Service: name, Image: fn.Image, EnvProcess: fn.FProcess, EnvVars: fn.Environment,
		Labels: map[string]string{}, Annotations: map[string]string{}, Secrets: fn.Secrets, Namespace: fn.Namespace}
	if d.EnvProcess == "" {
		d.EnvProcess = envProcess(map[string]string{"hybrid-node18": "node"}[fn.Language])
	}
	if fn.Labels != nil {
		d.Labels = *fn.Labels
	}
	if fn.Annotations != nil {
		d.Annotations = *fn.Annotations
	}
	if fn.Limits != nil && (fn.Limits.Memory != "" || fn.Limits.CPU != "") {
		d.Limits = &functionLimits{Memory: fn.Limits.Memory, CPU: fn.Limits.CPU}
	}
	return json.Marshal(d)
}
