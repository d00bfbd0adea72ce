package backoff_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

const maxDuration = time.Duration(math.MaxInt64)

// seeded returns a deterministic, not goroutine-safe source for tests.
func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

var (
	attempts = []int{math.MinInt, -1, 0, 1, 2, 3, 10, 62, 63, 64, 65, 1000, math.MaxInt - 1, math.MaxInt}
	prevs    = []time.Duration{math.MinInt64, -1, 0, 1, time.Millisecond, time.Second,
		maxDuration / 3, maxDuration/3 + 1, maxDuration - 1, maxDuration}
)

type strategyCase struct {
	name string
	s    backoff.Strategy
	// ceil is the largest delay s may return.
	ceil time.Duration
	// valid says whether Validate must accept s.
	valid bool
	// monotone says whether delays must not decrease with the attempt.
	monotone bool
}

// strategyCases lists every strategy of the package in ordinary and
// extreme settings, valid or not, with the bound it must respect.
func strategyCases() []strategyCase {
	exp := backoff.NewExponential(10*time.Millisecond, time.Second, 2)
	dec := backoff.NewDecorrelated(10*time.Millisecond, time.Second).WithRand(seeded())
	return []strategyCase{
		{"Constant", backoff.Constant(time.Second), time.Second, true, true},
		{"Constant/zero", backoff.Constant(0), 0, true, true},
		{"Constant/max", backoff.Constant(maxDuration), maxDuration, true, true},
		{"Constant/negative", backoff.Constant(-time.Second), 0, false, true},
		{"Linear", backoff.NewLinear(10*time.Millisecond, 20*time.Millisecond, time.Second), time.Second, true, true},
		{"Linear/zero", backoff.Linear{}, 0, true, true},
		{"Linear/huge", backoff.NewLinear(maxDuration/2, maxDuration, maxDuration), maxDuration, true, true},
		{"Linear/step1", backoff.NewLinear(0, 1, maxDuration), maxDuration, true, true},
		{"Linear/maxBelowBase", backoff.NewLinear(time.Second, time.Second, time.Millisecond), time.Millisecond, false, true},
		{"Linear/negative", backoff.NewLinear(-time.Second, -time.Second, time.Second), time.Second, false, true},
		{"Linear/negativeMax", backoff.NewLinear(time.Second, time.Second, -time.Second), 0, false, true},
		{"Exponential", exp, time.Second, true, true},
		{"Exponential/zero", backoff.Exponential{}, 0, true, true},
		{"Exponential/defaultFactor", backoff.Exponential{Base: 1, Max: maxDuration}, maxDuration, true, true},
		{"Exponential/huge", backoff.NewExponential(maxDuration/2, maxDuration, 2), maxDuration, true, true},
		{"Exponential/1.5", backoff.NewExponential(1, maxDuration, 1.5), maxDuration, true, true},
		{"Exponential/maxFactor", backoff.NewExponential(1, maxDuration, math.MaxFloat64), maxDuration, true, true},
		{"Exponential/factor1", backoff.NewExponential(time.Second, maxDuration, 1), maxDuration, true, true},
		{"Exponential/NaN", backoff.NewExponential(time.Second, 2*time.Second, math.NaN()), 2 * time.Second, false, true},
		{"Exponential/Inf", backoff.NewExponential(time.Second, 2*time.Second, math.Inf(1)), 2 * time.Second, false, true},
		{"Exponential/factorBelow1", backoff.NewExponential(time.Second, 2*time.Second, 0.5), 2 * time.Second, false, true},
		{"Exponential/negativeFactor", backoff.NewExponential(time.Second, 2*time.Second, -2), 2 * time.Second, false, true},
		{"Exponential/maxBelowBase", backoff.NewExponential(time.Second, time.Millisecond, 2), time.Millisecond, false, true},
		{"Exponential/negative", backoff.NewExponential(-time.Second, -time.Millisecond, 2), 0, false, true},
		{"FullJitter/Exponential", backoff.FullJitter(exp).WithRand(seeded()), time.Second, true, false},
		{"FullJitter/max", backoff.FullJitter(backoff.Constant(maxDuration)).WithRand(seeded()), maxDuration, true, false},
		{"FullJitter/nil", backoff.FullJitter(nil), 0, false, true},
		{"FullJitter/zero", backoff.Jitter{}, 0, false, true},
		{"FullJitter/invalidInner", backoff.FullJitter(backoff.Constant(-1)).WithRand(seeded()), 0, false, true},
		{"EqualJitter/Exponential", backoff.EqualJitter(exp).WithRand(seeded()), time.Second, true, false},
		{"EqualJitter/max", backoff.EqualJitter(backoff.Constant(maxDuration)).WithRand(seeded()), maxDuration, true, false},
		{"EqualJitter/Decorrelated", backoff.EqualJitter(dec), time.Second, true, false},
		{"EqualJitter/defaultRand", backoff.EqualJitter(exp), time.Second, true, false},
		{"Decorrelated", dec, time.Second, true, false},
		{"Decorrelated/zero", backoff.Decorrelated{}, 0, true, true},
		{"Decorrelated/defaultRand", backoff.NewDecorrelated(time.Millisecond, time.Second), time.Second, true, false},
		{"Decorrelated/huge", backoff.NewDecorrelated(maxDuration/4, maxDuration).WithRand(seeded()), maxDuration, true, false},
		{"Decorrelated/1ns", backoff.NewDecorrelated(1, maxDuration).WithRand(seeded()), maxDuration, true, false},
		{"Decorrelated/zeroBase", backoff.NewDecorrelated(0, time.Second).WithRand(seeded()), time.Second, false, false},
		{"Decorrelated/maxBelowBase", backoff.NewDecorrelated(time.Second, time.Millisecond).WithRand(seeded()), time.Millisecond, false, false},
		{"Decorrelated/negative", backoff.NewDecorrelated(-time.Second, -1).WithRand(seeded()), 0, false, false},
		{"Func", backoff.Func(func(a int, _ time.Duration) time.Duration { return time.Duration(a) }), maxDuration, true, false},
		{"Func/nil", backoff.Func(nil), 0, false, true},
	}
}

// TestProperties checks, for every strategy, that no attempt number and no
// previous delay yields a negative delay, a delay above the cap, or a
// panic, and that Validate agrees with the case's validity.
func TestProperties(t *testing.T) {
	for _, c := range strategyCases() {
		t.Run(c.name, func(t *testing.T) {
			err := backoff.Validate(c.s)
			if c.valid && err != nil {
				t.Fatalf("Validate: %v, want nil", err)
			}
			if !c.valid && !errors.Is(err, backoff.ErrInvalid) {
				t.Fatalf("Validate: %v, want an error matching ErrInvalid", err)
			}
			for _, a := range attempts {
				for _, p := range prevs {
					if d := c.s.Delay(a, p); d < 0 || d > c.ceil {
						t.Fatalf("Delay(%d, %d) = %d, want within [0, %d]", a, p, d, c.ceil)
					}
				}
			}
			// A chain of retries, each fed the previous delay, as a policy runs it.
			var prev time.Duration
			for a := 1; a <= 200; a++ {
				d := c.s.Delay(a, prev)
				if d < 0 || d > c.ceil {
					t.Fatalf("attempt %d: Delay = %d, want within [0, %d]", a, d, c.ceil)
				}
				if c.monotone && d < prev {
					t.Fatalf("attempt %d: Delay = %v, below the previous %v", a, d, prev)
				}
				prev = d
			}
		})
	}
}

// TestJitterBelowInner checks that a jittered delay never exceeds the
// delay of the strategy it decorates, and that equal jitter never goes
// below half of it.
func TestJitterBelowInner(t *testing.T) {
	inners := []struct {
		name string
		s    backoff.Strategy
	}{
		{"Constant", backoff.Constant(time.Second)},
		{"Constant/1ns", backoff.Constant(1)},
		{"Constant/max", backoff.Constant(maxDuration)},
		{"Linear", backoff.NewLinear(time.Millisecond, 3*time.Millisecond, time.Minute)},
		{"Exponential", backoff.NewExponential(time.Millisecond, maxDuration, 2)},
		{"Exponential/3", backoff.NewExponential(7, maxDuration, 3)},
		{"Func", backoff.Func(func(a int, p time.Duration) time.Duration { return time.Duration(a) + p })},
	}
	for _, in := range inners {
		for _, equal := range []bool{false, true} {
			name := "Full/" + in.name
			j := backoff.FullJitter(in.s).WithRand(seeded())
			if equal {
				name = "Equal/" + in.name
				j = backoff.EqualJitter(in.s).WithRand(seeded())
			}
			t.Run(name, func(t *testing.T) {
				for _, a := range attempts {
					for _, p := range prevs {
						d, want := j.Delay(a, p), in.s.Delay(a, p)
						lo := time.Duration(0)
						if equal {
							lo = want / 2
						}
						if d < lo || d > want {
							t.Fatalf("Delay(%d, %d) = %d, want within [%d, %d]", a, p, d, lo, want)
						}
					}
				}
			})
		}
	}
}

// badRand returns values outside [0, n).
type badRand struct{ v int64 }

func (r badRand) Int64N(n int64) int64 { return n*r.v - r.v }

func TestBadRandIsClamped(t *testing.T) {
	for _, v := range []int64{-3, 5, math.MaxInt64} {
		full := backoff.FullJitter(backoff.Constant(time.Second)).WithRand(badRand{v})
		equal := backoff.EqualJitter(backoff.Constant(time.Second)).WithRand(badRand{v})
		dec := backoff.NewDecorrelated(time.Millisecond, time.Second).WithRand(badRand{v})
		for _, s := range []backoff.Strategy{full, equal, dec} {
			if d := s.Delay(2, 2*time.Millisecond); d < 0 || d > time.Second {
				t.Errorf("%T with Int64N off by %d: Delay = %v, want within [0, 1s]", s, v, d)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       backoff.Strategy
		setting string // "" when valid
		msg     string
	}{
		{"nil", nil, "strategy", "backoff: strategy is nil"},
		{"custom without Validate", fixed(time.Second), "", ""},
		{"Constant", backoff.Constant(time.Second), "", ""},
		{"Constant/negative", backoff.Constant(-time.Millisecond), "delay", "backoff: Constant: delay (-1ms) is negative"},
		{"Linear", backoff.NewLinear(time.Millisecond, time.Millisecond, time.Second), "", ""},
		{"Linear/constant", backoff.NewLinear(time.Millisecond, 0, time.Millisecond), "", ""},
		{"Linear/negativeBase", backoff.NewLinear(-time.Millisecond, 0, time.Second), "base", "backoff: Linear: base (-1ms) is negative"},
		{"Linear/negativeStep", backoff.NewLinear(time.Millisecond, -time.Millisecond, time.Second), "step", "backoff: Linear: step (-1ms) is negative"},
		{"Linear/negativeMax", backoff.NewLinear(0, 0, -time.Second), "max", "backoff: Linear: max (-1s) is negative"},
		{"Linear/maxBelowBase", backoff.NewLinear(10*time.Millisecond, 0, 5*time.Millisecond), "max", "backoff: Linear: max (5ms) is below base (10ms)"},
		{"Linear/zeroMax", backoff.Linear{Step: time.Millisecond}, "max", "backoff: Linear: max is zero, so step (1ms) has no effect"},
		{"Exponential", backoff.NewExponential(10*time.Millisecond, time.Second, 1.5), "", ""},
		{"Exponential/zero", backoff.Exponential{}, "", ""},
		{"Exponential/maxBelowBase", backoff.NewExponential(10*time.Millisecond, 5*time.Millisecond, 2), "max", "backoff: Exponential: max (5ms) is below base (10ms)"},
		{"Exponential/negativeBase", backoff.NewExponential(-1, 5*time.Millisecond, 2), "base", "backoff: Exponential: base (-1ns) is negative"},
		{"Exponential/factor0.5", backoff.NewExponential(1, 2, 0.5), "factor", "backoff: Exponential: factor (0.5) is not a finite number of at least 1"},
		{"Exponential/NaN", backoff.NewExponential(1, 2, math.NaN()), "factor", "backoff: Exponential: factor (NaN) is not a finite number of at least 1"},
		{"Exponential/Inf", backoff.NewExponential(1, 2, math.Inf(1)), "factor", "backoff: Exponential: factor (+Inf) is not a finite number of at least 1"},
		{"FullJitter", backoff.FullJitter(backoff.Constant(1)), "", ""},
		{"FullJitter/nil", backoff.FullJitter(nil), "strategy", "backoff: FullJitter: strategy is nil"},
		{"EqualJitter/nil", backoff.EqualJitter(nil), "strategy", "backoff: EqualJitter: strategy is nil"},
		{"EqualJitter/invalidInner", backoff.EqualJitter(backoff.NewExponential(2, 1, 2)), "max", "backoff: Exponential: max (1ns) is below base (2ns)"},
		{"Decorrelated", backoff.NewDecorrelated(time.Millisecond, time.Second), "", ""},
		{"Decorrelated/zero", backoff.Decorrelated{}, "", ""},
		{"Decorrelated/zeroBase", backoff.NewDecorrelated(0, time.Second), "base", "backoff: Decorrelated: base is zero, so every delay would be zero"},
		{"Decorrelated/maxBelowBase", backoff.NewDecorrelated(time.Second, time.Millisecond), "max", "backoff: Decorrelated: max (1ms) is below base (1s)"},
		{"Func", backoff.Func(func(int, time.Duration) time.Duration { return 0 }), "", ""},
		{"Func/nil", backoff.Func(nil), "function", "backoff: Func: function is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := backoff.Validate(tt.s)
			if tt.setting == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.msg {
				t.Fatalf("Validate = %v, want %q", err, tt.msg)
			}
			if !errors.Is(err, backoff.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var ie *backoff.InvalidError
			if !errors.As(err, &ie) || ie.Setting != tt.setting {
				t.Errorf("errors.As(%v) gives setting %+v, want %q", err, ie, tt.setting)
			}
		})
	}
}

// fixed is a custom strategy without a Validate method.
type fixed time.Duration

func (f fixed) Delay(int, time.Duration) time.Duration { return time.Duration(f) }

// TestNoAllocs makes the benchmarks' 0 allocs/op a test failure when lost.
func TestNoAllocs(t *testing.T) {
	for _, c := range benchCases() {
		t.Run(c.name, func(t *testing.T) {
			var prev time.Duration
			attempt := 0
			allocs := testing.AllocsPerRun(1000, func() {
				attempt = attempt%10 + 1
				prev = c.s.Delay(attempt, prev)
			})
			if allocs != 0 {
				t.Fatalf("Delay allocates %v times per call, want 0", allocs)
			}
		})
	}
}

// TestConcurrentUse shares each default-rand strategy between goroutines;
// run with -race it proves that one value serves every goroutine.
func TestConcurrentUse(t *testing.T) {
	for _, c := range benchCases() {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan time.Duration)
			for range 4 {
				go func() {
					var prev, most time.Duration
					for a := 1; a <= 200; a++ {
						prev = c.s.Delay(a, prev)
						most = max(most, prev)
					}
					done <- most
				}()
			}
			for range 4 {
				if most := <-done; most < 0 || most > time.Second {
					t.Errorf("largest delay %v, want within [0, 1s]", most)
				}
			}
		})
	}
}
