package backoff_test

import (
	"math"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

// delays returns the delays of retries first..last, each fed the previous.
func delays(s backoff.Strategy, first, last int) []time.Duration {
	var out []time.Duration
	var prev time.Duration
	for a := first; a <= last; a++ {
		prev = s.Delay(a, prev)
		out = append(out, prev)
	}
	return out
}

func equalDelays(t *testing.T, got, want []time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestExactDelays(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		s    backoff.Strategy
		want []time.Duration // attempts 1, 2, ...
	}{
		{"Constant", backoff.Constant(250 * ms), []time.Duration{250 * ms, 250 * ms, 250 * ms}},
		{"Linear", backoff.NewLinear(10*ms, 25*ms, 100*ms), []time.Duration{10 * ms, 35 * ms, 60 * ms, 85 * ms, 100 * ms, 100 * ms}},
		{"Linear/noStep", backoff.NewLinear(10*ms, 0, 100*ms), []time.Duration{10 * ms, 10 * ms}},
		{"Linear/baseIsMax", backoff.NewLinear(10*ms, ms, 10*ms), []time.Duration{10 * ms, 10 * ms}},
		{"Exponential/2", backoff.NewExponential(10*ms, time.Second, 2),
			[]time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}},
		{"Exponential/defaultFactor", backoff.Exponential{Base: 3, Max: 100}, []time.Duration{3, 6, 12, 24, 48, 96, 100, 100}},
		{"Exponential/1.5", backoff.NewExponential(100*ms, time.Second, 1.5),
			[]time.Duration{100 * ms, 150 * ms, 225 * ms, 337500 * time.Microsecond, 506250 * time.Microsecond, 759375 * time.Microsecond, time.Second}},
		{"Exponential/10", backoff.NewExponential(1, time.Hour, 10), []time.Duration{1, 10, 100, 1000, 10000}},
		{"Exponential/factor1", backoff.NewExponential(5*ms, time.Second, 1), []time.Duration{5 * ms, 5 * ms, 5 * ms}},
		{"Exponential/baseIsMax", backoff.NewExponential(time.Second, time.Second, 2), []time.Duration{time.Second, time.Second}},
		{"Func", backoff.Func(func(a int, p time.Duration) time.Duration { return p + time.Duration(a) }), []time.Duration{1, 3, 6, 10}},
		{"Func/negative", backoff.Func(func(int, time.Duration) time.Duration { return -time.Second }), []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equalDelays(t, delays(tt.s, 1, len(tt.want)), tt.want)
		})
	}
}

// TestAttemptBelowOne checks that attempt numbers below 1 count as the
// first retry.
func TestAttemptBelowOne(t *testing.T) {
	for _, s := range []backoff.Strategy{
		backoff.NewLinear(10*time.Millisecond, time.Millisecond, time.Second),
		backoff.NewExponential(10*time.Millisecond, time.Second, 2),
		backoff.NewExponential(10*time.Millisecond, time.Second, 3.5),
	} {
		for _, a := range []int{math.MinInt, -1, 0} {
			if got := s.Delay(a, time.Minute); got != 10*time.Millisecond {
				t.Errorf("%#v.Delay(%d) = %v, want the base 10ms", s, a, got)
			}
		}
	}
}

func TestExponentialAtTheLimits(t *testing.T) {
	tests := []struct {
		name    string
		e       backoff.Exponential
		attempt int
		want    time.Duration
	}{
		{"2^62", backoff.NewExponential(1, maxDuration, 2), 63, 1 << 62},
		{"2^63 is capped", backoff.NewExponential(1, maxDuration, 2), 64, maxDuration},
		{"just below max", backoff.NewExponential(maxDuration/2, maxDuration, 2), 2, maxDuration - 1},
		{"just above max", backoff.NewExponential(maxDuration/2+1, maxDuration, 2), 2, maxDuration},
		{"huge attempt", backoff.NewExponential(1, maxDuration, 2), math.MaxInt, maxDuration},
		{"huge attempt, factor 1.01", backoff.NewExponential(1, maxDuration, 1.01), math.MaxInt, maxDuration},
		{"factor 1.5 uncapped", backoff.NewExponential(1<<40, maxDuration, 1.5), 2, 3 << 39},
		{"factor 1.5 capped", backoff.NewExponential(maxDuration/2, maxDuration, 1.5), 3, maxDuration},
		{"max factor", backoff.NewExponential(1, time.Hour, math.MaxFloat64), 2, time.Hour},
		{"tiny cap", backoff.NewExponential(1, 1, 2), 1000, 1},
		{"NaN factor counts as 1", backoff.NewExponential(time.Second, time.Minute, math.NaN()), 10, time.Second},
		{"factor below 1 counts as 1", backoff.NewExponential(time.Second, time.Minute, 0.5), 10, time.Second},
		{"Inf factor caps", backoff.NewExponential(time.Second, time.Minute, math.Inf(1)), 2, time.Minute},
		{"max below base caps", backoff.NewExponential(time.Minute, time.Second, 2), 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Delay(tt.attempt, 0); got != tt.want {
				t.Fatalf("Delay(%d) = %d, want %d", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestLinearAtTheLimits(t *testing.T) {
	tests := []struct {
		name    string
		l       backoff.Linear
		attempt int
		want    time.Duration
	}{
		{"exactly max", backoff.NewLinear(1, 1, maxDuration), math.MaxInt, maxDuration},
		{"one below max", backoff.NewLinear(0, 1, maxDuration), math.MaxInt, maxDuration - 1},
		{"overflowing step", backoff.NewLinear(maxDuration-1, maxDuration, maxDuration), 2, maxDuration},
		{"huge attempt", backoff.NewLinear(time.Second, time.Second, time.Hour), math.MaxInt, time.Hour},
		{"negative step counts as 0", backoff.NewLinear(time.Second, -time.Second, time.Hour), 10, time.Second},
		{"negative base counts as 0", backoff.NewLinear(-time.Second, time.Second, time.Hour), 3, 2 * time.Second},
		{"max below base caps", backoff.NewLinear(time.Minute, time.Second, time.Second), 1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Delay(tt.attempt, 0); got != tt.want {
				t.Fatalf("Delay(%d) = %d, want %d", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestZeroValues(t *testing.T) {
	for _, s := range []backoff.Strategy{
		backoff.Constant(0), backoff.Linear{}, backoff.Exponential{},
		backoff.Jitter{}, backoff.Decorrelated{}, backoff.Func(nil),
	} {
		for _, a := range attempts {
			if d := s.Delay(a, time.Second); d != 0 {
				t.Errorf("zero %T: Delay(%d, 1s) = %v, want 0", s, a, d)
			}
		}
	}
}

// TestWithRandCopies checks that WithRand leaves the receiver alone.
func TestWithRandCopies(t *testing.T) {
	const n = 50
	base := backoff.FullJitter(backoff.Constant(time.Hour))
	a := base.WithRand(seeded())
	b := base.WithRand(seeded())
	_ = base.WithRand(badRand{5}) // must not affect a, b or base
	for i := range n {
		if x, y := a.Delay(1, 0), b.Delay(1, 0); x != y {
			t.Fatalf("sample %d: two copies with equal seeds gave %v and %v", i, x, y)
		}
	}
	dec := backoff.NewDecorrelated(time.Millisecond, time.Hour)
	c, d := dec.WithRand(seeded()), dec.WithRand(seeded())
	for i := range n {
		if x, y := c.Delay(2, time.Second), d.Delay(2, time.Second); x != y {
			t.Fatalf("sample %d: two copies with equal seeds gave %v and %v", i, x, y)
		}
	}
	// WithRand(nil) restores the default generator.
	restored := a.WithRand(nil)
	seen := map[time.Duration]bool{}
	for range n {
		seen[restored.Delay(1, 0)] = true
	}
	if len(seen) < n/2 {
		t.Fatalf("default generator gave %d distinct delays in %d, want at least %d", len(seen), n, n/2)
	}
}
