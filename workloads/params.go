package workloads

import (
	"bytes"
	"embed"
	"fmt"

	"gopkg.in/yaml.v3"

	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
)

//go:embed params/*.yaml
var paramsFS embed.FS

// BurstParams parameterise W1 and W2 (params/w1.yaml, params/w2.yaml).
type BurstParams struct {
	Cycles       int `yaml:"cycle_num"`
	WarmupCycles int `yaml:"warmup_cycle"`
	// UnusedShuffle is the length of the list upstream shuffles and throws
	// away before drawing counts (0 = none).
	UnusedShuffle int `yaml:"unused_shuffle"`
	// RandomCounts draws each burst's count from a normal distribution (W1);
	// false means every burst second carries MaxConcurrency (W2).
	RandomCounts bool        `yaml:"random_counts"`
	Functions    []BurstSlot `yaml:"functions"`
}

// BurstSlot is one function's slot in a W1/W2 cycle.
type BurstSlot struct {
	Name           string `yaml:"name"`
	MaxConcurrency int    `yaml:"max_concurrency"`
	PeakTimes      int    `yaml:"peak_times"`
	Interval       int    `yaml:"interval"` // seconds between bursts; 0 = consecutive
	Last           int    `yaml:"last"`     // slot length, seconds
}

// FuncParams parameterise the func workload (params/func.yaml).
type FuncParams struct {
	Functions []struct {
		Name string `yaml:"name"`
		Last int    `yaml:"last"`
	} `yaml:"functions"`
}

// AzureParams parameterise the azure workload (params/azure.yaml).
type AzureParams struct {
	Day                 int     `yaml:"day"`
	FirstMinute         int     `yaml:"first_minute"`
	LastMinute          int     `yaml:"last_minute"`
	WarmupSeconds       int     `yaml:"warmup_seconds"`
	SkewProbability     float64 `yaml:"skew_probability"`
	CopySkewProbability float64 `yaml:"copy_skew_probability"`
	AlwaysSkew          string  `yaml:"always_skew"`
	RecheckCap          bool    `yaml:"recheck_cap"`
	Functions           []struct {
		Name string `yaml:"name"`
		Row  int    `yaml:"row"` // 0-based position in the joined table
	} `yaml:"functions"`
}

// HuaweiParams parameterise the huawei workload (params/huawei.yaml).
type HuaweiParams struct {
	WindowMinutes       int     `yaml:"window_minutes"`
	WarmupSeconds       int     `yaml:"warmup_seconds"`
	SkewProbability     float64 `yaml:"skew_probability"`
	CopySkewProbability float64 `yaml:"copy_skew_probability"`
	Functions           []struct {
		Name     string `yaml:"name"`
		Function int    `yaml:"function"` // Huawei function id (column)
		Day      int    `yaml:"day"`
		Hour     int    `yaml:"hour"`
		Offset   int    `yaml:"offset"` // minutes; the window starts at hour*60 - offset
	} `yaml:"functions"`
}

// Selection is what the azure workload reads of the dataset: day, minutes
// and joined-table positions, in function order.
func (p AzureParams) Selection() azure.Selection {
	sel := azure.Selection{Day: p.Day, First: p.FirstMinute, Last: p.LastMinute}
	for _, f := range p.Functions {
		sel.Positions = append(sel.Positions, f.Row)
	}
	return sel
}

// Windows are the dataset windows the functions replay, in function order.
func (p HuaweiParams) Windows() []huawei.Window {
	ws := make([]huawei.Window, len(p.Functions))
	for i, f := range p.Functions {
		ws[i] = huawei.Window{Function: f.Function, Day: f.Day, StartHour: f.Hour, Offset: f.Offset, Length: p.WindowMinutes}
	}
	return ws
}

// loadParams decodes params/<name>.yaml into v, rejecting unknown fields.
func loadParams(name string, v any) error {
	data, err := paramsFS.ReadFile("params/" + name + ".yaml")
	if err != nil {
		return fmt.Errorf("workloads: parameters %q: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("workloads: params/%s.yaml: %w", name, err)
	}
	return nil
}
