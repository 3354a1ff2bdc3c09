package workloads

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed catalog.yaml
var catalogYAML []byte

// Function is one entry of the catalog: a function as registered with faasd
// from upstream's stack.yml, and what the harness sends it. See catalog.yaml
// for the meaning and source of each field.
type Function struct {
	Name     string `yaml:"name"`
	Base     string `yaml:"base"`
	Language string `yaml:"language"` // "python" or "node"
	// Memory is limits.memory as written in stack.yml ("300M"); "" = none.
	Memory       string `yaml:"memory"`
	CPU          int    `yaml:"cpu"`
	AppPort      int    `yaml:"app_port"`
	WatchdogPort int    `yaml:"watchdog_port"`
	// Payload is the JSON body the replay driver POSTs; "" = no body.
	Payload string `yaml:"payload"`
	// Functional is the body test.sh --functional sends; nil = the function
	// is not exercised by the functional test.
	Functional    *string `yaml:"functional"`
	FunctionalGET bool    `yaml:"functional_get"`
	// Cap is gen_trace.py's per-second cap for the base, in requests/s;
	// 0 = none.
	Cap           int `yaml:"cap"`
	ExecTimeoutS  int `yaml:"exec_timeout_s"`
	WriteTimeoutS int `yaml:"write_timeout_s"`
}

// DefaultMemoryBytes is what faasd charges an instance whose function
// declares no memory limit: 1G = 10^9 bytes.
const DefaultMemoryBytes = 1_000_000_000

// MemoryBytes is the function's declared memory limit in bytes, parsed as a
// Kubernetes quantity as faasd does (M = 10^6, Mi = 2^20, G = 10^9, Gi = 2^30);
// DefaultMemoryBytes when none is declared.
func (f Function) MemoryBytes() (int64, error) {
	if f.Memory == "" {
		return DefaultMemoryBytes, nil
	}
	return parseQuantity(f.Memory)
}

var quantityRE = regexp.MustCompile(`^([0-9]+)(k|M|G|Ki|Mi|Gi)?$`)

func parseQuantity(s string) (int64, error) {
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("memory %q: expected digits and a unit (k, M, G, Ki, Mi, Gi)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory %q: %w", s, err)
	}
	mult := map[string]int64{"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[m[2]]
	return n * mult, nil
}

// Catalog is the list of functions the harness knows, in stack.yml order.
type Catalog struct {
	Functions []Function `yaml:"functions"`
	byName    map[string]int
}

// nameRE is what a function name may look like: it becomes part of URLs
// and file names, so nothing else is let through.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(_[0-9]+)?$`)

// ValidName reports whether s is an acceptable function name: lower-case
// letters, digits and '-', optionally followed by a copy suffix "_N".
func ValidName(s string) bool { return len(s) <= 63 && nameRE.MatchString(s) }

// DefaultCatalog returns the embedded catalog (catalog.yaml).
func DefaultCatalog() *Catalog {
	c, err := ParseCatalog(catalogYAML, "workloads/catalog.yaml")
	if err != nil {
		panic(err) // the embedded file is checked by tests
	}
	return c
}

// ParseCatalog parses and validates a catalog in catalog.yaml's format.
func ParseCatalog(data []byte, path string) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.byName = make(map[string]int, len(c.Functions))
	for i, f := range c.Functions {
		switch {
		case !ValidName(f.Name):
			return nil, fmt.Errorf("%s: function %d: name %q: expected lower-case letters, digits, '-' and an optional _N suffix", path, i+1, f.Name)
		case f.Base == "" || !strings.HasPrefix(f.Name, f.Base):
			return nil, fmt.Errorf("%s: function %q: base %q must prefix the name", path, f.Name, f.Base)
		case f.Language != "python" && f.Language != "node":
			return nil, fmt.Errorf("%s: function %q: language %q: expected python or node", path, f.Name, f.Language)
		case f.Cap < 0:
			return nil, fmt.Errorf("%s: function %q: cap %d: expected >= 0", path, f.Name, f.Cap)
		}
		if _, err := f.MemoryBytes(); err != nil {
			return nil, fmt.Errorf("%s: function %q: %w", path, f.Name, err)
		}
		if _, dup := c.byName[f.Name]; dup {
			return nil, fmt.Errorf("%s: function %q listed twice", path, f.Name)
		}
		c.byName[f.Name] = i
	}
	return &c, nil
}

// Lookup returns the named function.
func (c *Catalog) Lookup(name string) (Function, bool) {
	i, ok := c.byName[name]
	if !ok {
		return Function{}, false
	}
	return c.Functions[i], true
}
