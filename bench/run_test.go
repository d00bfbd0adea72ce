package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testLog is an io.Writer into t.Log, for the command's progress lines.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestQuickRun runs the whole command, every fault and every contender, in
// quick mode on a tiny time scale, so that the harness cannot rot. It
// checks the shape of what it writes, never a speed: on this time scale
// (60 ms deadlines, under -race) the figures themselves mean nothing.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts about 50 redis-server processes")
	}
	out := t.TempDir()
	cfg, err := parseFlags([]string{"-quick", "-duration", "60ms", "-rate", "300", "-out", out}, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.together {
		t.Fatal("-quick runs a fault's contenders together")
	}
	cfg.progress = testLog{t}
	cfg.benchtime = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	if err := runAndWrite(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Logf("the quick run on a 60 ms scale took %v", time.Since(start).Round(100*time.Millisecond))

	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var js jsonReport
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(js.Faults) != len(faults) {
		t.Fatalf("%d faults in results.json, want %d", len(js.Faults), len(faults))
	}
	for _, f := range js.Faults {
		if len(f.Results) != len(contenders) || len(f.Episodes) != len(contenders) {
			t.Errorf("%s: %d results and %d episodes, want %d of each", f.Name, len(f.Results), len(f.Episodes), len(contenders))
			continue
		}
		for _, r := range f.Results {
			if r.Calls == 0 || r.OK > r.Calls || r.Incrs == 0 || r.Doubles > r.Incrs || r.Received < 0 {
				t.Errorf("%s, %s: calls %d, ok %d, incrs %d, doubles %d, received %d: inconsistent",
					f.Name, r.Contender, r.Calls, r.OK, r.Incrs, r.Doubles, r.Received)
			}
			if f.Name == "lost" && r.Incrs != r.Calls {
				t.Errorf("lost, %s: %d INCRs of %d calls, want only INCRs", r.Contender, r.Incrs, r.Calls)
			}
			if (f.Name == "steady") != (r.FaultEnd < 0) {
				t.Errorf("%s, %s: fault end %v ms", f.Name, r.Contender, r.FaultEnd)
			}
			if len(r.Series.Success) == 0 || len(r.Series.Success) != len(r.Series.P99) {
				t.Errorf("%s, %s: series of %d and %d buckets", f.Name, r.Contender, len(r.Series.Success), len(r.Series.P99))
			}
		}
	}
	if len(js.Headline) != len(contenders) || len(js.Micro) == 0 || len(js.Capacity) != len(contenders) {
		t.Errorf("%d headline rows, %d microbenchmarks, %d capacity rows", len(js.Headline), len(js.Micro), len(js.Capacity))
	}
	md, err := os.ReadFile(filepath.Join(out, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Headline", "## Where this library is not ahead", "## Microbenchmarks",
		"## Closed-loop GET throughput", cfg.command} {
		if !strings.Contains(string(md), want) {
			t.Errorf("REPORT.md lacks %q", want)
		}
	}
	for _, f := range faults {
		if !strings.Contains(string(md), "### "+f.title) {
			t.Errorf("REPORT.md lacks the section of %s", f.name)
		}
		for _, suffix := range []string{"-success.svg", "-p99.svg"} {
			if _, err := os.Stat(filepath.Join(out, "charts", f.name+suffix)); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "charts", "recovery.svg")); err != nil {
		t.Error(err)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		faults  int
		conts   int
		wantErr bool
	}{
		{nil, len(faults), len(contenders), false},
		{[]string{"-faults", "restart, freeze", "-contenders", "retryable,go-redis"}, 2, 2, false},
		{[]string{"-faults", "nosuch"}, 0, 0, true},
		{[]string{"-contenders", "nosuch"}, 0, 0, true},
		{[]string{"-duration", "0s"}, 0, 0, true},
		{[]string{"stray"}, 0, 0, true},
		{[]string{"-together", "maybe"}, 0, 0, true},
	} {
		cfg, err := parseFlags(tc.args, testLog{t})
		if (err != nil) != tc.wantErr {
			t.Errorf("parseFlags(%q): %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if err == nil && (len(cfg.faults) != tc.faults || len(cfg.contenders) != tc.conts) {
			t.Errorf("parseFlags(%q): %d faults, %d contenders; want %d, %d", tc.args, len(cfg.faults), len(cfg.contenders), tc.faults, tc.conts)
		}
	}
}

// TestDefaultOut checks that the report lands in bench/results whether the
// command runs from the repository root or from bench.
func TestDefaultOut(t *testing.T) {
	if got := defaultOut(); got != "results" {
		t.Errorf("from bench: %q, want results", got)
	}
	if got := commandLine([]string{"-quick"}); got != "cd bench && go run . -quick" {
		t.Errorf("from bench: command %q", got)
	}
	t.Chdir("..")
	if got := defaultOut(); got != filepath.Join("bench", "results") {
		t.Errorf("from the root: %q, want bench/results", got)
	}
	if got := commandLine(nil); got != "go run ./bench" {
		t.Errorf("from the root: command %q", got)
	}
}
