package backoff_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

// minBig returns min(x, ceil) as a Duration.
func minBig(x *big.Int, ceil time.Duration) time.Duration {
	if x.Cmp(big.NewInt(int64(ceil))) > 0 {
		return ceil
	}
	return time.Duration(x.Int64())
}

func FuzzLinear(f *testing.F) {
	f.Add(int64(10*time.Millisecond), int64(20*time.Millisecond), int64(time.Second), 3)
	f.Add(int64(0), int64(1), int64(math.MaxInt64), math.MaxInt)
	f.Add(int64(math.MaxInt64-1), int64(math.MaxInt64), int64(math.MaxInt64), 2)
	f.Add(int64(-1), int64(-1), int64(-1), math.MinInt)
	f.Add(int64(time.Second), int64(time.Second), int64(time.Millisecond), 64)
	f.Fuzz(func(t *testing.T, base, step, ceil int64, attempt int) {
		l := backoff.NewLinear(time.Duration(base), time.Duration(step), time.Duration(ceil))
		d := l.Delay(attempt, 0)
		if d < 0 || d > max(l.Max, 0) {
			t.Fatalf("%+v.Delay(%d) = %d, want within [0, max(Max, 0)]", l, attempt, d)
		}
		if backoff.Validate(l) != nil {
			return
		}
		// Exact: min(Max, Base + Step*(attempt-1)) in arbitrary precision.
		n := big.NewInt(int64(max(attempt, 1)))
		n.Sub(n, big.NewInt(1))
		want := n.Mul(n, big.NewInt(step))
		want.Add(want, big.NewInt(base))
		if w := minBig(want, l.Max); d != w {
			t.Fatalf("%+v.Delay(%d) = %d, want %d", l, attempt, d, w)
		}
	})
}

func FuzzExponential(f *testing.F) {
	f.Add(int64(10*time.Millisecond), int64(time.Second), 2.0, 5, uint64(1))
	f.Add(int64(1), int64(math.MaxInt64), 2.0, 64, uint64(2))
	f.Add(int64(1), int64(math.MaxInt64), 0.0, 63, uint64(3))
	f.Add(int64(1), int64(math.MaxInt64), 1.000001, math.MaxInt, uint64(4))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), math.MaxFloat64, 2, uint64(5))
	f.Add(int64(-5), int64(-1), math.NaN(), math.MinInt, uint64(6))
	f.Add(int64(3), int64(1000), math.Inf(1), 1000, uint64(7))
	f.Fuzz(func(t *testing.T, base, ceil int64, factor float64, attempt int, seed uint64) {
		e := backoff.NewExponential(time.Duration(base), time.Duration(ceil), factor)
		d := e.Delay(attempt, 0)
		if d < 0 || d > max(e.Max, 0) {
			t.Fatalf("%+v.Delay(%d) = %d, want within [0, max(Max, 0)]", e, attempt, d)
		}
		r := rand.New(rand.NewPCG(seed, 0))
		if j := backoff.FullJitter(e).WithRand(r).Delay(attempt, 0); j < 0 || j > d {
			t.Fatalf("FullJitter(%+v).Delay(%d) = %d, want within [0, %d]", e, attempt, j, d)
		}
		if j := backoff.EqualJitter(e).WithRand(r).Delay(attempt, 0); j < d/2 || j > d {
			t.Fatalf("EqualJitter(%+v).Delay(%d) = %d, want within [%d, %d]", e, attempt, j, d/2, d)
		}
		if backoff.Validate(e) != nil {
			return
		}
		if attempt <= 1 && d != e.Base {
			t.Fatalf("%+v.Delay(%d) = %d, want the base", e, attempt, d)
		}
		if attempt < math.MaxInt {
			if next := e.Delay(attempt+1, d); next < d {
				t.Fatalf("%+v: Delay(%d) = %d is below Delay(%d) = %d", e, attempt+1, next, attempt, d)
			}
		}
		if factor == 0 || factor == 2 {
			// Exact: min(Max, Base * 2^(attempt-1)).
			n := min(max(attempt, 1)-1, 64)
			want := new(big.Int).Lsh(big.NewInt(base), uint(n))
			if w := minBig(want, e.Max); d != w {
				t.Fatalf("%+v.Delay(%d) = %d, want %d", e, attempt, d, w)
			}
		}
	})
}

func FuzzDecorrelated(f *testing.F) {
	f.Add(int64(time.Millisecond), int64(time.Second), int64(0), 1, uint64(1))
	f.Add(int64(time.Millisecond), int64(time.Second), int64(time.Second), 7, uint64(2))
	f.Add(int64(1), int64(math.MaxInt64), int64(math.MaxInt64), 2, uint64(3))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64/3+1), 2, uint64(4))
	f.Add(int64(-1), int64(-1), int64(math.MinInt64), math.MinInt, uint64(5))
	f.Add(int64(time.Second), int64(time.Millisecond), int64(-1), math.MaxInt, uint64(6))
	f.Fuzz(func(t *testing.T, base, ceil, prev int64, attempt int, seed uint64) {
		s := backoff.NewDecorrelated(time.Duration(base), time.Duration(ceil)).WithRand(rand.New(rand.NewPCG(seed, 0)))
		d := s.Delay(attempt, time.Duration(prev))
		if d < 0 || d > max(s.Max, 0) {
			t.Fatalf("%+v.Delay(%d, %d) = %d, want within [0, max(Max, 0)]", s, attempt, prev, d)
		}
		if backoff.Validate(s) != nil {
			return
		}
		// min(Max, rand[Base, 3*prev']) where prev' is prev, or Base on the
		// first retry or when prev is below it.
		from := big.NewInt(base)
		if attempt > 1 && prev > base {
			from = big.NewInt(prev)
		}
		hi := minBig(from.Mul(from, big.NewInt(3)), s.Max)
		if d < min(s.Base, s.Max) || d > hi {
			t.Fatalf("%+v.Delay(%d, %d) = %d, want within [%d, %d]", s, attempt, prev, d, s.Base, hi)
		}
	})
}
