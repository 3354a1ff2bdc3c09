package calibration

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the name errors give the embedded default model.
const DefaultFile = "default.yaml"

// FormatVersion is the only Model.Version this package reads. Version 2
// added the resource model (host_threads, vm_vcpus, device_mb_s, page_in,
// resident_at_start, repurpose_carry; each function's threads and
// page_in_ms), which version 1 files lack.
const FormatVersion = 2

// Bounds on a model's numbers, checked by Validate beside their signs.
// They keep every latency the platform model composes from them (see the
// package comment) far inside time.Duration's ±292 years, so no sum
// overflows into a negative latency, however the draws fall: the worst is
// an execution of MaxDraw × MaxFactor × MaxVariantFactor, 46 years, plus a
// start-up of MaxDraw × (1 + MaxSlowdown × the other starts). They sit far
// above any measured cost: the default model's largest median is 1,850 ms,
// sigma 0.3, exec factor 33.5, variant factor 4, slowdown 0.17 and
// resident size 502 MB.
const (
	// MaxMs bounds every duration in milliseconds: the medians of startup,
	// exec and reuse, and http_overhead_ms. One hour; a request waits at
	// most a minute per attempt (workloads.DriverAttemptTimeout).
	MaxMs = 3_600_000
	// MaxSigma bounds a log-normal's sigma: 3, a P99 1,100 times the
	// median.
	MaxSigma = 3
	// MaxDraw bounds every duration drawn from a Dist (FromNormal): four
	// times MaxMs, so a wide distribution is cut only far in its tail.
	MaxDraw = 4 * time.Hour
	// MaxFactor bounds first_exec_factor and warm_exec_factor: 1,000, 30
	// times the default's largest (lazy restore's page faults counted as
	// execution of a 1 ms function).
	MaxFactor = 1000
	// MaxVariantFactor bounds a copy's exec_factor: 100.
	MaxVariantFactor = 100
	// MaxSlowdown bounds concurrent_start_slowdown: 10, each other start
	// making one ten times longer.
	MaxSlowdown = 10
	// MaxResidentMB bounds resident_mb: 1,000,000 MB, 1 TB per instance.
	MaxResidentMB = 1_000_000
	// MaxHostThreads bounds host_threads: 2^20 hardware threads.
	MaxHostThreads = 1 << 20
	// MaxThreads bounds vm_vcpus and a function's threads: 1,024.
	MaxThreads = 1024
	// MaxMBps bounds device_mb_s and stream_mb_s: 10^7 MB/s, 10 TB/s.
	MaxMBps = 1e7
)

// Prefixes a Source may start with instead of a key of Model.Sources.
const (
	// EstimatePrefix marks a number estimated without a direct measurement;
	// the rest of the source says how.
	EstimatePrefix = "estimate:"
	// FittedPrefix marks a number fitted from a run (trenv-bench sim
	// calibrate); the rest says from which.
	FittedPrefix = "fitted:"
)

// Sentinel errors. Validate and Parse return errors that wrap one of them
// (test with errors.Is); ParseError and FieldError carry the place.
var (
	// ErrSyntax: the file is not valid YAML for a Model (syntax, an unknown
	// field, a value of the wrong type, an empty file).
	ErrSyntax = errors.New("calibration: invalid YAML")
	// ErrMissing: a function, method key or field that must be there is not.
	ErrMissing = errors.New("calibration: missing entry")
	// ErrUnknownMethod: a per-method map has a key that is not in Methods.
	ErrUnknownMethod = errors.New("calibration: unknown method key")
	// ErrValue: a number is out of range (negative, zero where a positive
	// value is needed, NaN, infinite, not whole where a count is needed,
	// above its bound: MaxMs, MaxSigma, MaxFactor, MaxVariantFactor,
	// MaxSlowdown, MaxResidentMB, MaxHostThreads, MaxThreads, MaxMBps; a
	// share above 1, a page-in longer than its phase), a page-in names an
	// unknown device or phase, or the version is not FormatVersion.
	ErrValue = errors.New("calibration: invalid value")
	// ErrSource: a source is empty, names no key of Sources, or is an
	// "estimate:"/"fitted:" with nothing after it.
	ErrSource = errors.New("calibration: invalid source")
	// ErrUnknownFunction: Cost was asked for a function the model has no
	// costs for.
	ErrUnknownFunction = errors.New("calibration: unknown function")
)

// ParseError reports a file that could not be decoded into a Model.
type ParseError struct {
	File string // as given to Parse or Load
	Line int    // 1-based, as yaml.v3 reports it (for an unclosed flow collection, near where it opens); 0 when unknown
	Msg  string // the decoder's message without its "yaml: line N:" prefix
	Err  error  // the decoder's error, or nil
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("calibration: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("calibration: %s: %s", e.File, e.Msg)
}

// Unwrap returns ErrSyntax and the decoder's error.
func (e *ParseError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrSyntax}
	}
	return []error{ErrSyntax, e.Err}
}

var (
	_ error = (*ParseError)(nil)
	_ error = (*FieldError)(nil)
)

// FieldError reports one invalid or missing entry of a Model. Its message
// is "calibration: FILE:LINE: PATH: DETAIL", e.g.
//
//	calibration: my.yaml:12: functions.pyaes.startup.criu.median_ms: must be ≤ 3600000 (MaxMs, 1 h), got 1e+17
type FieldError struct {
	File     string // the file the model came from; "" if built in code
	Line     int    // 1-based line of Path in File, or of the entry that should hold it when it is missing; 0 when unknown
	Path     string // the entry's YAML path, e.g. "functions.pyaes.startup.criu.median_ms"
	Function string // function or copy name; "" for version, sources, platform
	Method   string // method key; "" when the field is not per method
	Field    string // e.g. "startup.median_ms", "exec.source", "platform.reuse.sigma"
	Err      error  // ErrMissing, ErrUnknownMethod, ErrValue or ErrSource
	Detail   string // what was expected and what was found
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("calibration: ")
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	}
	fmt.Fprintf(&b, "%s: %s", e.Path, e.Detail)
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Default returns the embedded default model (default.yaml), validated on
// its own (Validate(nil)). Each call returns a fresh copy.
func Default() (*Model, error) {
	m, err := Parse(defaultYAML, DefaultFile)
	if err != nil {
		return nil, err
	}
	if err := m.Validate(nil); err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads and parses a cost model file. It does not validate it: call
// Validate with the functions the run needs.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes one YAML document into a Model, rejecting unknown fields.
// name is the file name errors report. It does not validate the model.
func Parse(data []byte, name string) (*Model, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Model
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{File: name, Msg: "empty file, expected a cost model"}
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(name, err)
		}
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, &ParseError{File: name, Line: line, Msg: "a second YAML document; expected one"}
	}
	m.file = name
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil { // decoded once already
		return nil, yamlError(name, err)
	}
	m.lines = lineIndex{}
	if len(root.Content) > 0 {
		m.lines.add(root.Content[0], "")
	}
	return &m, nil
}

// lineIndex maps the YAML path of each mapping key of a file
// ("functions.pyaes.startup.criu") to its line.
type lineIndex map[string]int

func (x lineIndex) add(n *yaml.Node, prefix string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		path := n.Content[i].Value
		if prefix != "" {
			path = prefix + "." + path
		}
		x[path] = n.Content[i].Line
		x.add(n.Content[i+1], path)
	}
}

// line returns the line of path, or of the nearest entry holding it when
// it is missing (0 when neither is known, e.g. for a model built in code).
func (x lineIndex) line(path string) int {
	for path != "" {
		if l, ok := x[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// yamlPath is the YAML path of a FieldError's entry: the function's or
// copy's entry, then field with the method key after its first part (for
// platform fields, after its second).
func yamlPath(function, method, field string) string {
	head, rest, _ := strings.Cut(field, ".")
	switch {
	case function != "" && head == "variants":
		head = "variants." + function
	case function != "" && head == "functions":
		head = "functions." + function
	case function != "":
		head = "functions." + function + "." + head
	case head == "platform" && rest != "":
		second, tail, _ := strings.Cut(rest, ".")
		head, rest = "platform."+second, tail
	}
	if method != "" {
		head += "." + method
	}
	if rest != "" {
		head += "." + rest
	}
	return head
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError turns a yaml.v3 error into a ParseError with the first line
// number it mentions.
func yamlError(name string, err error) *ParseError {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	pe := &ParseError{File: name, Err: err}
	for i, msg := range msgs {
		if sm := yamlLineRE.FindStringSubmatch(msg); sm != nil {
			if pe.Line == 0 {
				pe.Line, _ = strconv.Atoi(sm[1])
			}
			if i == 0 {
				msg = strings.TrimPrefix(msg, sm[0])
			}
		}
		msgs[i] = strings.TrimPrefix(msg, "yaml: ")
	}
	pe.Msg = strings.Join(msgs, "; ")
	return pe
}

// SplitCopy splits a copy's name such as "pyaes_1" into its base
// ("pyaes"): the text before the last "_" when all after it are digits.
// ok is false for a name that is not a copy.
func SplitCopy(name string) (base string, ok bool) {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 {
		return "", false
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return name[:i], true
}

// Cost returns the costs of a function and the factor its execution time
// is scaled by. A name with its own Functions entry gets that entry and
// factor 1; a copy ("pyaes_1") gets its base's entry and its Variants exec
// factor. Anything else is an error wrapping ErrUnknownFunction.
func (m *Model) Cost(function string) (Function, float64, error) {
	if f, ok := m.Functions[function]; ok {
		return f, 1, nil
	}
	base, ok := SplitCopy(function)
	if !ok {
		return Function{}, 0, fmt.Errorf("%w %q: no cost entry", ErrUnknownFunction, function)
	}
	v, ok := m.Variants[function]
	if !ok {
		return Function{}, 0, fmt.Errorf("%w %q: a copy of %q without a variants entry", ErrUnknownFunction, function, base)
	}
	f, ok := m.Functions[base]
	if !ok {
		return Function{}, 0, fmt.Errorf("%w %q: its base %q has no cost entry", ErrUnknownFunction, function, base)
	}
	return f, v.ExecFactor.Value, nil
}

// Median is the distribution's median as a Duration.
func (d Dist) Median() time.Duration { return msToDuration(d.MedianMs) }

// Quantile returns the p-quantile, median·exp(Sigma·Φ⁻¹(p)); Quantile(0.5)
// is the median and Quantile(0.99) = median·exp(2.326·Sigma). With Sigma 0
// every quantile is the median. Otherwise p ≤ 0 gives 0, p ≥ 1 the largest
// Duration, and NaN gives 0.
func (d Dist) Quantile(p float64) time.Duration {
	if d.Sigma == 0 {
		return d.Median()
	}
	if math.IsNaN(p) || p <= 0 {
		return 0
	}
	if p >= 1 {
		return math.MaxInt64
	}
	return d.FromNormal(math.Sqrt2 * math.Erfinv(2*p-1))
}

// FromNormal maps a standard normal draw z to the distribution:
// median·exp(Sigma·z). The caller draws z from its own seeded source. The
// result is clamped to [0, MaxDraw], so that sums of draws cannot overflow;
// a NaN z gives 0.
func (d Dist) FromNormal(z float64) time.Duration {
	if d.Sigma == 0 {
		return d.Median()
	}
	return min(msToDuration(d.MedianMs*math.Exp(d.Sigma*z)), MaxDraw)
}

// msToDuration converts milliseconds to a Duration, rounded to the
// nanosecond and clamped to [0, the largest Duration]; NaN gives 0.
func msToDuration(ms float64) time.Duration {
	ns := math.Round(ms * 1e6)
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// Validate checks the model and that it covers functions (names as the
// run uses them: a base name needs a Functions entry; a copy such as
// "pyaes_1" needs a Variants entry and its base a Functions entry). It
// always checks every entry the model has, listed or not: version, sources,
// platform costs for every method key, and for every function every method
// key in startup, first_exec_factor, warm_exec_factor and resident_mb, with
// no unknown keys; medians, factors and resident sizes positive and finite;
// sigmas, the HTTP overhead and slowdowns non-negative and finite; the
// resource model (host_threads, vm_vcpus and each function's threads
// positive whole numbers; device bandwidths and stream rates positive;
// page_in naming known devices and phases; resident_at_start for every
// method key and repurpose_carry shares; page_in_ms for exactly the
// methods of page_in, each at most the median phase it is part of); every
// number within its bound (MaxMs, MaxSigma, MaxFactor, MaxVariantFactor,
// MaxSlowdown, MaxResidentMB, MaxHostThreads, MaxThreads, MaxMBps); every
// number with a source naming a key of Sources (or starting "estimate:" or
// "fitted:" followed by how). All problems are returned, joined, each a
// *FieldError naming the YAML path and, for a model read from a file, its
// line.
func (m *Model) Validate(functions []string) error {
	c := &checker{m: m}
	switch {
	case m.Version == 1:
		c.fail("", "", "version", ErrValue, "must be %d, got 1: version 1 files lack the resource model (platform.host_threads, vm_vcpus, device_mb_s, page_in, resident_at_start, repurpose_carry; each function's threads and page_in_ms); add them as the embedded default has them", FormatVersion)
	case m.Version != FormatVersion:
		c.fail("", "", "version", ErrValue, "must be %d, got %d", FormatVersion, m.Version)
	}
	for _, k := range sortedKeys(m.Sources) {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\n") {
			c.fail("", "", "sources", ErrSource, "key %q must be one word", k)
		}
		if strings.TrimSpace(m.Sources[k]) == "" {
			c.fail("", "", "sources."+k, ErrSource, "empty reference")
		}
	}

	p := m.Platform
	c.number("", "", "platform.http_overhead_ms", p.HTTPOverheadMs, false, boundMs)
	c.dist("", "", "platform.reuse", p.Reuse)
	perMethod(c, "", "platform.concurrent_start_slowdown", p.ConcurrentStartSlowdown, func(method string, n Number) {
		c.number("", method, "platform.concurrent_start_slowdown", n, false, boundSlowdown)
	})
	c.whole("", "", "platform.host_threads", p.HostThreads, boundHostThreads)
	c.whole("", "", "platform.vm_vcpus", p.VMVCPUs, boundThreads)
	if len(p.DeviceMBps) == 0 && len(p.PageIn) > 0 {
		c.fail("", "", "platform.device_mb_s", ErrMissing, "no devices, but page_in names some")
	}
	for _, d := range sortedKeys(p.DeviceMBps) {
		if strings.TrimSpace(d) == "" || strings.ContainsAny(d, " \t\n.") {
			c.fail("", "", "platform.device_mb_s", ErrValue, "device name %q must be one word without dots", d)
			continue
		}
		c.number("", "", "platform.device_mb_s."+d, p.DeviceMBps[d], true, boundMBps)
	}
	for _, k := range sortedKeys(p.PageIn) {
		if !isMethod(k) {
			c.fail("", k, "platform.page_in", ErrUnknownMethod, "want one of %s", strings.Join(Methods, ", "))
			continue
		}
		pi := p.PageIn[k]
		if !hasKey(p.DeviceMBps, pi.Device) {
			c.fail("", k, "platform.page_in.device", ErrValue, "device %q is not a key of platform.device_mb_s (%s)", pi.Device, strings.Join(sortedKeys(p.DeviceMBps), ", "))
		}
		if pi.Phase != PhaseStartup && pi.Phase != PhaseFirstExec {
			c.fail("", k, "platform.page_in.phase", ErrValue, "phase %q: want %s or %s", pi.Phase, PhaseStartup, PhaseFirstExec)
		}
		c.number("", k, "platform.page_in.stream_mb_s", pi.StreamMBps, true, boundMBps)
	}
	perMethod(c, "", "platform.resident_at_start", p.ResidentAtStart, func(method string, n Number) {
		c.number("", method, "platform.resident_at_start", n, false, boundShare)
	})
	c.number("", "", "platform.repurpose_carry", p.RepurposeCarry, false, boundShare)
	if p.RepurposeCarry.Value == 1 {
		c.fail("", "", "platform.repurpose_carry.value", ErrValue, "must be < 1 (a share kept at every repurpose), got 1")
	}

	for _, name := range sortedKeys(m.Functions) {
		f := m.Functions[name]
		c.dist(name, "", "exec", f.Exec)
		perMethod(c, name, "startup", f.Startup, func(method string, d Dist) { c.dist(name, method, "startup", d) })
		perMethod(c, name, "first_exec_factor", f.FirstExecFactor, func(method string, n Number) {
			c.number(name, method, "first_exec_factor", n, true, boundFactor)
		})
		perMethod(c, name, "warm_exec_factor", f.WarmExecFactor, func(method string, n Number) {
			c.number(name, method, "warm_exec_factor", n, true, boundFactor)
		})
		perMethod(c, name, "resident_mb", f.ResidentMB, func(method string, n Number) {
			c.number(name, method, "resident_mb", n, true, boundResident)
		})
		c.whole(name, "", "threads", f.Threads, boundThreads)
		for _, method := range Methods {
			pi, paged := p.PageIn[method]
			n, ok := f.PageInMs[method]
			switch {
			case paged && !ok:
				c.fail(name, method, "page_in_ms", ErrMissing, "platform.page_in has this method key: give its page-in time (0 for none)")
			case !paged && ok:
				c.fail(name, method, "page_in_ms", ErrUnknownMethod, "platform.page_in has no entry for this method key")
			case ok:
				c.number(name, method, "page_in_ms", n, false, boundMs)
				phase := f.Startup[method].MedianMs
				if pi.Phase == PhaseFirstExec {
					phase = f.Exec.MedianMs * f.FirstExecFactor[method].Value
				}
				if n.Value > phase*(1+1e-9) {
					c.fail(name, method, "page_in_ms.value", ErrValue, "%v ms is longer than the median %s it is part of (%.4g ms)", n.Value, pi.Phase, phase)
				}
			}
		}
		for _, k := range sortedKeys(f.PageInMs) {
			if !isMethod(k) {
				c.fail(name, k, "page_in_ms", ErrUnknownMethod, "want one of %s", strings.Join(Methods, ", "))
			}
		}
	}

	for _, name := range sortedKeys(m.Variants) {
		base, ok := SplitCopy(name)
		switch {
		case !ok:
			c.fail(name, "", "variants", ErrValue, "not a copy's name (want base_N, e.g. pyaes_1)")
		case !hasKey(m.Functions, base):
			c.fail(name, "", "variants", ErrMissing, "its base %q has no functions entry", base)
		}
		c.number(name, "", "variants.exec_factor", m.Variants[name].ExecFactor, true, boundVariant)
	}

	for _, name := range functions {
		if hasKey(m.Functions, name) {
			continue
		}
		base, ok := SplitCopy(name)
		switch {
		case !ok:
			c.fail(name, "", "functions", ErrMissing, "no cost entry for this function")
		case !hasKey(m.Variants, name):
			c.fail(name, "", "variants", ErrMissing, "no variants entry for this copy of %q", base)
		case !hasKey(m.Functions, base):
			// reported above, with the variants entry
		}
	}
	return errors.Join(c.errs...)
}

// checker accumulates Validate's findings.
type checker struct {
	m    *Model
	errs []error
}

func (c *checker) fail(function, method, field string, sentinel error, format string, args ...any) {
	path := yamlPath(function, method, field)
	c.errs = append(c.errs, &FieldError{
		File: c.m.file, Line: c.m.lines.line(path), Path: path,
		Function: function, Method: method, Field: field,
		Err: sentinel, Detail: fmt.Sprintf(format, args...),
	})
}

// bound is an upper bound of a number and how errors name it.
type bound struct {
	max  float64
	name string
}

// The bounds Validate checks.
var (
	boundMs          = bound{MaxMs, "MaxMs, 1 h"}
	boundSigma       = bound{MaxSigma, "MaxSigma"}
	boundFactor      = bound{MaxFactor, "MaxFactor"}
	boundVariant     = bound{MaxVariantFactor, "MaxVariantFactor"}
	boundSlowdown    = bound{MaxSlowdown, "MaxSlowdown"}
	boundResident    = bound{MaxResidentMB, "MaxResidentMB, 1 TB"}
	boundHostThreads = bound{MaxHostThreads, "MaxHostThreads"}
	boundThreads     = bound{MaxThreads, "MaxThreads"}
	boundMBps        = bound{MaxMBps, "MaxMBps, 10 TB/s"}
	boundShare       = bound{1, "a share"}
)

// number checks a Number: finite, > 0 if positive else ≥ 0, at most max,
// with a source.
func (c *checker) number(function, method, field string, n Number, positive bool, max bound) {
	c.value(function, method, field+".value", n.Value, positive, max)
	c.source(function, method, field+".source", n.Source)
}

// whole checks a Number that counts things: as number (positive), and a
// whole number.
func (c *checker) whole(function, method, field string, n Number, max bound) {
	c.number(function, method, field, n, true, max)
	if v := n.Value; v > 0 && v <= max.max && v != math.Trunc(v) {
		c.fail(function, method, field+".value", ErrValue, "must be a whole number, got %v", v)
	}
}

// dist checks a Dist: a positive median of at most MaxMs, a non-negative
// sigma of at most MaxSigma, a source.
func (c *checker) dist(function, method, field string, d Dist) {
	c.value(function, method, field+".median_ms", d.MedianMs, true, boundMs)
	c.value(function, method, field+".sigma", d.Sigma, false, boundSigma)
	c.source(function, method, field+".source", d.Source)
}

func (c *checker) value(function, method, field string, v float64, positive bool, max bound) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		c.fail(function, method, field, ErrValue, "must be finite, got %v", v)
	case positive && v <= 0:
		c.fail(function, method, field, ErrValue, "must be > 0, got %v", v)
	case v < 0:
		c.fail(function, method, field, ErrValue, "must be ≥ 0, got %v", v)
	case v > max.max:
		c.fail(function, method, field, ErrValue, "must be ≤ %s (%s), got %v", strconv.FormatFloat(max.max, 'f', -1, 64), max.name, v)
	}
}

func (c *checker) source(function, method, field, src string) {
	if err := checkSource(src, c.m.Sources); err != "" {
		c.fail(function, method, field, ErrSource, "%s", err)
	}
}

// checkSource returns what is wrong with src, or "".
func checkSource(src string, sources map[string]string) string {
	s := strings.TrimSpace(src)
	if s == "" {
		return "missing or empty; name a key of sources and the place, or start with \"estimate:\" and say how"
	}
	for _, prefix := range []string{EstimatePrefix, FittedPrefix} {
		if strings.HasPrefix(s, prefix) {
			if strings.TrimSpace(s[len(prefix):]) == "" {
				return fmt.Sprintf("%q says nothing about how", s)
			}
			return ""
		}
	}
	key := strings.TrimRight(strings.Fields(s)[0], ":,;")
	if !hasKey(sources, key) {
		return fmt.Sprintf("%q does not start with a key of sources (%s) or with \"estimate:\"/\"fitted:\"",
			s, strings.Join(sortedKeys(sources), ", "))
	}
	return ""
}

// perMethod reports missing and unknown method keys of a per-method map and
// calls each for the present ones, in Methods order.
func perMethod[V any](c *checker, function, field string, m map[string]V, each func(method string, v V)) {
	for _, method := range Methods {
		v, ok := m[method]
		if !ok {
			c.fail(function, method, field, ErrMissing, "no entry for this method key")
			continue
		}
		each(method, v)
	}
	for _, k := range sortedKeys(m) {
		if !isMethod(k) {
			c.fail(function, k, field, ErrUnknownMethod, "want one of %s", strings.Join(Methods, ", "))
		}
	}
}

func isMethod(k string) bool {
	for _, m := range Methods {
		if m == k {
			return true
		}
	}
	return false
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
