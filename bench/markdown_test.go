package main

import (
	"strings"
	"testing"
)

func TestVerdicts(t *testing.T) {
	res := func(name string, success, p99, amp float64, doubles int, recovery float64) runResult {
		return runResult{Contender: name, Calls: 1000, Success: success, Goodput: success * 10, P99: p99,
			Amplification: amp, Doubles: doubles, Recovery: recovery, RecoveryWindow: 6000, FaultEnd: 2000}
	}
	r := &report{Config: &config{contenders: contenders}, Faults: []faultRun{
		{Name: "even", Results: []runResult{
			res("go-redis", 100, 2, 1.0, 0, 0),
			res("failsafe-go", 40, 0.3, 0.4, 0, 0), // refuses: neither less amplification nor a p99 to beat
			res("retryable", 100, 2.1, 1.0, 0, 0),
		}},
		{Name: "worse", Results: []runResult{
			res("go-redis", 100, 2, 1.3, 12, 0),
			res("retryable", 90, 2, 1.0, 0, -1),
		}},
	}}
	v := r.verdicts()
	want := []string{
		"retryable is ahead of or level with every other contender on every measure in 1 of 2 faults.",
		"**even**, retryable: ahead of or level with every other contender on every measure.",
		"**worse**, retryable is behind on success rate: 90.0% against 100% for go-redis (whose successes include 12 INCRs run twice; retryable ran none twice)",
		"recovery time: > 6.00 s against 0 for go-redis",
	}
	all := strings.Join(v, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("verdicts lack %q:\n%s", w, all)
		}
	}
	if strings.Contains(all, "amplification") {
		t.Errorf("a contender whose breaker refused calls beat the library on amplification, or the library lost on it with less:\n%s", all)
	}

	// A p99 beaten by mostly refused calls says so.
	r.Faults = []faultRun{{Name: "refusals", Results: []runResult{
		res("failsafe-go", 40, 0.3, 0.4, 0, 0),
		res("retryable", 95, 20, 1.0, 0, 0),
	}}}
	if all := strings.Join(r.verdicts(), "\n"); !strings.Contains(all, "its fast answers are mostly refusals") {
		t.Errorf("no note on refusals:\n%s", all)
	}
}
