package backoff

import (
	"math"
	"time"
)

// Decorrelated is the AWS "decorrelated jitter" strategy: each delay is
// min(Max, random in [Base, 3*prev]), where prev is the delay returned for
// the previous retry, so delays wander upwards from Base without the
// lock-step of a fixed schedule. Before the first retry (attempt 1, or
// prev below Base) prev counts as Base. Attempt numbers above 1 only
// matter through prev.
//
// The zero value waits not at all. Validate reports a negative Base or Max,
// a Max below Base, and a zero Base with a positive Max (every delay would
// be zero). Until validated, a bad setting is clamped: a negative Base
// counts as zero and the delay never exceeds Max. Randomness comes from
// math/rand/v2 until replaced by [Decorrelated.WithRand]. Decorrelated is
// safe for concurrent use when its [Rand] is.
type Decorrelated struct {
	// Base is the smallest delay, and the starting point of the first one.
	Base time.Duration
	// Max caps the delay.
	Max time.Duration

	rand Rand
}

var _ Strategy = Decorrelated{}

// NewDecorrelated returns the Decorrelated strategy with the given
// settings. It does not validate them; see [Validate].
func NewDecorrelated(base, max time.Duration) Decorrelated {
	return Decorrelated{Base: base, Max: max}
}

// WithRand returns a copy of d that draws from r; a nil r restores the
// default, math/rand/v2's goroutine-safe top-level generator. r must be
// safe for concurrent use if the strategy is shared by several goroutines.
func (d Decorrelated) WithRand(r Rand) Decorrelated {
	d.rand = r
	return d
}

// Delay returns min(Max, random in [Base, 3*prev]), computed without
// overflow.
func (d Decorrelated) Delay(attempt int, prev time.Duration) time.Duration {
	ceil := d.Max
	if ceil <= 0 {
		return 0
	}
	base := min(max(d.Base, 0), ceil)
	if attempt <= 1 || prev < base {
		prev = base
	}
	hi := time.Duration(math.MaxInt64)
	if prev <= hi/3 {
		hi = prev * 3
	}
	v := base + time.Duration(randUpTo(d.rand, int64(hi-base)))
	return min(v, ceil)
}

// Validate reports negative delays, a Max below Base, and a zero Base with
// a positive Max.
func (d Decorrelated) Validate() error {
	if err := checkBaseMax("Decorrelated", d.Base, d.Max); err != nil {
		return err
	}
	if d.Base == 0 && d.Max > 0 {
		return invalid("Decorrelated", "base", "is zero, so every delay would be zero")
	}
	return nil
}
