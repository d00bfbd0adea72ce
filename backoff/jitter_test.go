package backoff_test

import (
	"math"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

const samples = 10000

// spread summarises samples of a random delay.
type spread struct {
	lo, hi   time.Duration
	mean     float64
	distinct int
	buckets  []int // counts over equal-width buckets of [from, to]
}

func measure(n int, from, to time.Duration, nBuckets int, draw func() time.Duration) spread {
	s := spread{lo: math.MaxInt64, hi: math.MinInt64, buckets: make([]int, nBuckets)}
	seen := make(map[time.Duration]bool)
	var sum float64
	width := (float64(to) - float64(from)) / float64(nBuckets)
	for range n {
		d := draw()
		s.lo, s.hi = min(s.lo, d), max(s.hi, d)
		sum += float64(d)
		seen[d] = true
		i := int((float64(d) - float64(from)) / width)
		s.buckets[min(max(i, 0), nBuckets-1)]++
	}
	s.mean, s.distinct = sum/float64(n), len(seen)
	return s
}

// TestJitterSpread checks, with a fixed seed, that jittered delays stay in
// their formula's bounds, have the formula's mean, and spread evenly.
func TestJitterSpread(t *testing.T) {
	tests := []struct {
		name        string
		s           backoff.Strategy
		from, to    time.Duration // bounds of the formula
		mean        float64
		minDistinct int
	}{
		{"FullJitter", backoff.FullJitter(backoff.Constant(1000)).WithRand(seeded()), 0, 1000, 500, 990},
		{"FullJitter/odd", backoff.FullJitter(backoff.Constant(999)).WithRand(seeded()), 0, 999, 499.5, 990},
		{"FullJitter/max", backoff.FullJitter(backoff.Constant(maxDuration)).WithRand(seeded()), 0, maxDuration, float64(maxDuration) / 2, samples},
		{"FullJitter/defaultRand", backoff.FullJitter(backoff.Constant(1000)), 0, 1000, 500, 990},
		{"EqualJitter", backoff.EqualJitter(backoff.Constant(1000)).WithRand(seeded()), 500, 1000, 750, 495},
		{"EqualJitter/odd", backoff.EqualJitter(backoff.Constant(1001)).WithRand(seeded()), 500, 1001, 750.5, 495},
		{"EqualJitter/max", backoff.EqualJitter(backoff.Constant(maxDuration)).WithRand(seeded()), maxDuration / 2, maxDuration, float64(maxDuration) * 0.75, samples},
		{"EqualJitter/defaultRand", backoff.EqualJitter(backoff.Constant(1000)), 500, 1000, 750, 495},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := measure(samples, tt.from, tt.to, 10, func() time.Duration { return tt.s.Delay(1, 0) })
			checkSpread(t, sp, tt.from, tt.to, tt.mean, tt.minDistinct)
			for i, n := range sp.buckets {
				if n < samples/10*85/100 || n > samples/10*115/100 {
					t.Errorf("bucket %d of 10 holds %d samples, want %d ± 15%%: %v", i, n, samples/10, sp.buckets)
				}
			}
		})
	}
}

func checkSpread(t *testing.T, sp spread, from, to time.Duration, mean float64, minDistinct int) {
	t.Helper()
	if sp.lo < from || sp.hi > to {
		t.Errorf("delays within [%d, %d], want within [%d, %d]", sp.lo, sp.hi, from, to)
	}
	if math.Abs(sp.mean-mean) > 0.02*mean {
		t.Errorf("mean %.1f, want %.1f ± 2%%", sp.mean, mean)
	}
	if sp.distinct < minDistinct {
		t.Errorf("%d distinct delays, want at least %d", sp.distinct, minDistinct)
	}
	// The extremes of the range are reached, up to 1% of its width.
	slack := float64(to-from) / 100
	if float64(sp.lo-from) > slack || float64(to-sp.hi) > slack {
		t.Errorf("delays within [%d, %d], want them to reach near both ends of [%d, %d]", sp.lo, sp.hi, from, to)
	}
}

// TestDecorrelatedSpread checks the AWS formula min(max, rand[base, 3*prev]).
func TestDecorrelatedSpread(t *testing.T) {
	t.Run("uncapped", func(t *testing.T) {
		s := backoff.NewDecorrelated(100, 1e6).WithRand(seeded())
		sp := measure(samples, 100, 3000, 10, func() time.Duration { return s.Delay(5, 1000) })
		checkSpread(t, sp, 100, 3000, 1550, 2500)
	})
	t.Run("first retry", func(t *testing.T) {
		// prev 0, attempt 1 and prev below base all start from base.
		s := backoff.NewDecorrelated(1000, 1e6).WithRand(seeded())
		for _, in := range []struct {
			attempt int
			prev    time.Duration
		}{{1, 0}, {1, 1e5}, {0, 1e5}, {7, 0}, {7, 999}, {7, -5}} {
			sp := measure(samples, 1000, 3000, 10, func() time.Duration { return s.Delay(in.attempt, in.prev) })
			checkSpread(t, sp, 1000, 3000, 2000, 1800)
		}
	})
	t.Run("capped", func(t *testing.T) {
		// With prev at the cap, rand[100, 3000] exceeds 1000 with
		// probability 2000/2901: those delays are the cap itself.
		s := backoff.NewDecorrelated(100, 1000).WithRand(seeded())
		capped := 0
		sp := measure(samples, 100, 1000, 10, func() time.Duration {
			d := s.Delay(9, 1000)
			if d == 1000 {
				capped++
			}
			return d
		})
		if sp.lo < 100 || sp.hi > 1000 {
			t.Errorf("delays within [%d, %d], want within [100, 1000]", sp.lo, sp.hi)
		}
		if want := float64(samples) * 2001 / 2901; math.Abs(float64(capped)-want) > 0.03*want {
			t.Errorf("%d delays at the cap, want %.0f ± 3%%", capped, want)
		}
		if sp.distinct < 850 {
			t.Errorf("%d distinct delays, want at least 850", sp.distinct)
		}
	})
	t.Run("chain", func(t *testing.T) {
		// Fed its own delays, the chain climbs from base to the cap and
		// keeps wandering below it.
		s := backoff.NewDecorrelated(time.Millisecond, time.Second).WithRand(seeded())
		var prev time.Duration
		atCap, below := 0, 0
		for a := 1; a <= 1000; a++ {
			d := s.Delay(a, prev)
			if d < time.Millisecond || d > time.Second {
				t.Fatalf("attempt %d: Delay = %v, want within [1ms, 1s]", a, d)
			}
			if d == time.Second {
				atCap++
			} else if a > 100 {
				below++
			}
			prev = d
		}
		if atCap == 0 || below == 0 {
			t.Fatalf("chain of 1000 retries: %d at the cap, %d below it after the 100th, want both > 0", atCap, below)
		}
	})
}
