package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// report is everything a run measured.
type report struct {
	Started  time.Time
	Elapsed  time.Duration
	Config   *config
	Faults   []faultRun
	Capacity []capacity
	Micro    []micro
	// Failures are the parts of the run that failed.
	Failures []string
}

// meta describes the run: machine, versions, command.
type meta struct {
	Date       string            `json:"date"`
	Command    string            `json:"command"`
	ElapsedS   float64           `json:"elapsed_s"`
	Machine    string            `json:"machine"`
	CPUs       int               `json:"cpus"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	Kernel     string            `json:"kernel"`
	Go         string            `json:"go"`
	Redis      string            `json:"redis"`
	Modules    map[string]string `json:"modules"`
	Settings   map[string]string `json:"settings"`
}

// headline is one contender's row of the headline table. NaN (null in
// JSON) marks what this run did not measure; a recovery of -1 means not
// recovered within the watched time.
type headline struct {
	Contender       string `json:"contender"`
	Doubles         int    `json:"double_executions"` // summed over the faults
	RecoveryRestart num    `json:"recovery_restart_ms"`
	RecoveryOutage  num    `json:"recovery_outage_ms"`
	RecoveryFreeze  num    `json:"recovery_freeze_ms"`
	FrozenP50       num    `json:"frozen_p50_ms"` // p50 of the calls started while the server was frozen
	WorstAmp        num    `json:"worst_amplification"`
	WorstAmpFault   string `json:"worst_amplification_fault"`
	OverheadNs      num    `json:"success_path_overhead_ns"` // in process, over the bare call
	OverheadAllocs  int64  `json:"success_path_overhead_allocs"`
	Throughput      num    `json:"get_throughput_ratio"` // closed loop, over the first contender
}

// num is a float64 whose NaN is null in JSON.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// libraryNames are the contenders that are this library.
var libraryNames = []string{"retryable", "retryable-tuned"}

func isLibrary(name string) bool { return slices.Contains(libraryNames, name) }

// microOf names the microbenchmark of each contender's success path.
var microOf = map[string]string{
	"go-redis":         "go-redis call (bare)",
	"go-redis-tuned":   "go-redis call (bare)",
	"failsafe-go":      "failsafe-go executor (retry + breaker + budget)",
	"cenkalti-backoff": "cenkalti/backoff Retry",
	"retryable":        "retryable hook, policy.Default()",
	"retryable-tuned":  "retryable hook, retryable-tuned policy",
}

func (r *report) meta() meta {
	m := meta{
		Date:       r.Started.UTC().Format(time.RFC3339),
		Command:    r.Config.command,
		ElapsedS:   math.Round(r.Elapsed.Seconds()*10) / 10,
		Machine:    cpuModel(),
		CPUs:       runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Kernel:     strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		Go:         runtime.Version(),
		Redis:      redisVersion(),
		Modules:    map[string]string{},
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			for _, want := range []string{"github.com/redis/go-redis/v9", "github.com/failsafe-go/failsafe-go",
				"github.com/cenkalti/backoff/v5", "github.com/sony/gobreaker/v2", "github.com/Shopify/toxiproxy/v2",
				"gonum.org/v1/plot"} {
				if d.Path == want {
					m.Modules[d.Path] = d.Version
				}
			}
		}
	}
	c := r.Config
	m.Settings = map[string]string{
		"duration (time scale)":          c.d.String(),
		"quick":                          fmt.Sprint(c.quick),
		"calls per second per contender": fmt.Sprint(c.rate),
		"call deadline":                  c.deadline().String(),
		"lead-in":                        c.lead().String(),
		"watched tail":                   c.tail().String(),
		"bucket":                         c.bucket().String(),
	}
	return m
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func cpuModel() string {
	for line := range strings.SplitSeq(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	for f := range strings.FieldsSeq(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(string(out))
}

// fault returns the run of the fault called name, or nil.
func (r *report) fault(name string) *faultRun {
	for i := range r.Faults {
		if r.Faults[i].Name == name {
			return &r.Faults[i]
		}
	}
	return nil
}

// of returns the result of contender in f, or nil.
func (f *faultRun) of(contender string) *runResult {
	if f == nil {
		return nil
	}
	for i := range f.Results {
		if f.Results[i].Contender == contender {
			return &f.Results[i]
		}
	}
	return nil
}

// micro returns the microbenchmark called name, or nil.
func (r *report) micro(name string) *micro {
	for i := range r.Micro {
		if r.Micro[i].Case == name {
			return &r.Micro[i]
		}
	}
	return nil
}

// headlines computes the headline table. NaN marks what was not measured.
func (r *report) headlines() []headline {
	nan := num(math.NaN())
	var out []headline
	for _, c := range r.Config.contenders {
		h := headline{Contender: c.name, RecoveryRestart: nan, RecoveryOutage: nan, RecoveryFreeze: nan,
			FrozenP50: nan, WorstAmp: nan, OverheadNs: nan, OverheadAllocs: -1, Throughput: nan}
		for _, f := range r.Faults {
			res := f.of(c.name)
			h.Doubles += res.Doubles
			if f.Name != "steady" && (math.IsNaN(float64(h.WorstAmp)) || num(res.Amplification) > h.WorstAmp) {
				h.WorstAmp, h.WorstAmpFault = num(res.Amplification), f.Name
			}
		}
		if res := r.fault("restart").of(c.name); res != nil {
			h.RecoveryRestart = num(res.Recovery)
		}
		if res := r.fault("outage").of(c.name); res != nil {
			h.RecoveryOutage = num(res.Recovery)
		}
		if res := r.fault("freeze").of(c.name); res != nil {
			h.RecoveryFreeze = num(res.Recovery)
			h.FrozenP50 = num(res.P50On)
		}
		bare, mine := r.micro(microOf["go-redis"]), r.micro(microOf[c.name])
		if bare != nil && mine != nil {
			h.OverheadNs = num(mine.NsPerOp - bare.NsPerOp)
			h.OverheadAllocs = mine.AllocsOp - bare.AllocsOp
			if microOf[c.name] == microOf["go-redis"] {
				h.OverheadNs, h.OverheadAllocs = 0, 0
			}
		}
		for _, cp := range r.Capacity {
			if cp.Contender == c.name {
				h.Throughput = num(cp.Ratio)
			}
		}
		out = append(out, h)
	}
	return out
}

// jsonReport is the machine-readable output.
type jsonReport struct {
	Meta     meta       `json:"meta"`
	Headline []headline `json:"headline"`
	Verdicts []string   `json:"verdicts"`
	Failures []string   `json:"failures,omitempty"`
	Faults   []faultRun `json:"faults"`
	Capacity []capacity `json:"capacity"`
	Micro    []micro    `json:"micro"`
}

// write writes REPORT.md, results.json and the charts into dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		return err
	}
	charts, err := r.charts(filepath.Join(dir, "charts"))
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	js := jsonReport{Meta: r.meta(), Headline: r.headlines(), Verdicts: r.verdicts(), Failures: r.Failures, Faults: r.Faults,
		Capacity: r.Capacity, Micro: r.Micro}
	b, err := json.MarshalIndent(js, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "REPORT.md"), []byte(r.markdown(js, charts)), 0o644)
}
