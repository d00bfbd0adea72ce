package backoff

import "time"

// Jitter is a strategy that randomises the delays of another strategy, so
// that clients which failed together do not retry together. [FullJitter]
// and [EqualJitter] build it, following the AWS Architecture Blog's
// "Exponential Backoff And Jitter".
//
// The zero value has no inner strategy and waits not at all; Validate
// reports it. Jitter is safe for concurrent use when its inner strategy
// and its [Rand] are.
type Jitter struct {
	inner Strategy
	equal bool
	rand  Rand
}

var _ Strategy = Jitter{}

// FullJitter returns a strategy that waits a uniformly random delay in
// [0, d], where d is the delay s returns: the AWS "full jitter". It spreads
// retries the most. Randomness comes from math/rand/v2 until replaced by
// [Jitter.WithRand].
func FullJitter(s Strategy) Jitter {
	return Jitter{inner: s}
}

// EqualJitter returns a strategy that waits d/2 plus a uniformly random
// delay in [0, d/2], where d is the delay s returns: the AWS "equal
// jitter". It never waits less than half of d. Randomness comes from
// math/rand/v2 until replaced by [Jitter.WithRand].
func EqualJitter(s Strategy) Jitter {
	return Jitter{inner: s, equal: true}
}

// WithRand returns a copy of j that draws from r; a nil r restores the
// default, math/rand/v2's goroutine-safe top-level generator. r must be
// safe for concurrent use if the strategy is shared by several goroutines.
func (j Jitter) WithRand(r Rand) Jitter {
	j.rand = r
	return j
}

// Delay returns a random delay within the bounds of the jitter formula
// applied to the inner strategy's Delay(attempt, prev): [0, d] for full
// jitter, [d/2, d] for equal jitter. It never exceeds d.
func (j Jitter) Delay(attempt int, prev time.Duration) time.Duration {
	if j.inner == nil {
		return 0
	}
	d := j.inner.Delay(attempt, prev)
	if d <= 0 {
		return 0
	}
	if j.equal {
		half := d / 2
		return half + time.Duration(randUpTo(j.rand, int64(d-half)))
	}
	return time.Duration(randUpTo(j.rand, int64(d)))
}

// Validate reports a nil inner strategy, or returns the inner strategy's
// own [Validate] error.
func (j Jitter) Validate() error {
	if j.inner == nil {
		return invalid(j.name(), "strategy", "is nil")
	}
	return Validate(j.inner)
}

func (j Jitter) name() string {
	if j.equal {
		return "EqualJitter"
	}
	return "FullJitter"
}
