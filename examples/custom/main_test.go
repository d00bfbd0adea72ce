package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

func TestRun(t *testing.T) {
	// The program always embeds miniredis; without Redis on the machine it
	// runs the same.
	examplestest.NoRedis(t)
	out := examplestest.Run(t, run)
	want := []string{
		"GET while a script keeps the server BUSY for 2 commands (a read: retried, on the schedule):",
		"  get attempt 1: Busy: retry in 10ms",
		"  get attempt 2: Busy: retry in 50ms",
		`GET config = "v1", err = <nil>`,
		"SET while the server is BUSY (a write: the predicate says no, it fails fast):",
		"SET config: err = BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE. (class Busy)",
		"INCR while the server answers LOADING to 3 commands (RetryOn, delays from the Func):",
		"  incr attempt 1: BusyLoading: retry in 10ms",
		"  incr attempt 2: BusyLoading: retry in 25ms",
		"  incr attempt 3: BusyLoading: retry in 47.5ms",
		"INCR visits = 1, err = <nil>",
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, tt := range []struct {
		s    schedule
		want string
	}{
		{schedule{time.Millisecond}, ""},
		{nil, "schedule: no delays"},
		{schedule{time.Millisecond, -time.Millisecond}, "schedule: delay 2 (-1ms) is negative"},
	} {
		_, err := policy.New(policy.Backoff(tt.s))
		if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("policy.New(Backoff(%v)) = %v, want %q", tt.s, err, tt.want)
		}
	}
}

// The schedule's delays, retry by retry: past its table it keeps the last.
func Example_schedule() {
	s := schedule{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}
	var delays []time.Duration
	for attempt := 1; attempt <= 5; attempt++ {
		delays = append(delays, s.Delay(attempt, 0))
	}
	fmt.Println(delays)
	fmt.Println(backoff.Validate(schedule{}))
	// Output:
	// [10ms 50ms 100ms 100ms 100ms]
	// schedule: no delays
}

// growByHalf feeds each delay back in as prev, as the policy does.
func Example_growByHalf() {
	var delays []time.Duration
	var prev time.Duration
	for attempt := 1; attempt <= 8; attempt++ {
		prev = growByHalf.Delay(attempt, prev)
		delays = append(delays, prev)
	}
	fmt.Println(delays)
	// Output:
	// [10ms 25ms 47.5ms 81.25ms 131.875ms 200ms 200ms 200ms]
}

// The predicate retries BUSY for reads only.
func Example_busyReads() {
	for _, args := range [][]any{{"get", "k"}, {"set", "k", "v"}} {
		f := policy.Failure{Class: retryable.Busy, Info: retryable.Lookup(args)}
		fmt.Println(args[0], busyReads(f))
	}
	// Output:
	// get true
	// set false
}
