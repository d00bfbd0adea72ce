package backoff

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Strategy computes the delay before a retry.
//
// Delay returns the wait before retry number attempt (1 for the first
// retry), given prev, the delay it returned for the previous retry (0
// before the first). Implementations must be pure, or at least safe for
// concurrent use, so that one value serves every goroutine; they must never
// return a negative delay. Attempt numbers below 1 count as 1.
//
// A Strategy that also has a method Validate() error has its settings
// checked by [Validate].
type Strategy interface {
	Delay(attempt int, prev time.Duration) time.Duration
}

// Rand is the source of randomness of the jittered strategies
// ([FullJitter], [EqualJitter], [Decorrelated]). Int64N returns a value in
// [0, n) for n > 0; results outside that range are clamped into it.
//
// math/rand/v2's *rand.Rand satisfies Rand but is not safe for concurrent
// use: a Rand given to a strategy that is shared by several goroutines
// must be safe for concurrent use (guard it with a mutex, or use the
// default, math/rand/v2's top-level functions).
type Rand interface {
	Int64N(n int64) int64
}

// ErrInvalid is matched, through errors.Is, by every error [Validate]
// returns for a bad setting.
var ErrInvalid = errors.New("backoff: invalid strategy")

// InvalidError reports a bad setting of a strategy, for example
// "backoff: Exponential: max (5ms) is below base (10ms)". It matches
// [ErrInvalid] through errors.Is.
type InvalidError struct {
	// Strategy names the strategy, for example "Exponential"; it is empty
	// when the strategy itself is missing.
	Strategy string
	// Setting names the bad setting, for example "max".
	Setting string
	// Problem says what is wrong with it, for example
	// "(5ms) is below base (10ms)".
	Problem string
}

// Error says which strategy and setting are wrong, and why.
func (e *InvalidError) Error() string {
	if e.Strategy == "" {
		return "backoff: " + e.Setting + " " + e.Problem
	}
	return "backoff: " + e.Strategy + ": " + e.Setting + " " + e.Problem
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(strategy, setting, format string, args ...any) error {
	return &InvalidError{Strategy: strategy, Setting: setting, Problem: fmt.Sprintf(format, args...)}
}

// Validate reports whether s is usable: a nil s is an error, and when s has
// a method Validate() error (every strategy of this package does, and
// custom strategies may) its result is returned. Errors name the strategy
// and the setting and match [ErrInvalid].
func Validate(s Strategy) error {
	if s == nil {
		return &InvalidError{Setting: "strategy", Problem: "is nil"}
	}
	if v, ok := s.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// checkBaseMax validates the base and max settings that several strategies
// share.
func checkBaseMax(strategy string, base, ceil time.Duration) error {
	if base < 0 {
		return invalid(strategy, "base", "(%v) is negative", base)
	}
	if ceil < 0 {
		return invalid(strategy, "max", "(%v) is negative", ceil)
	}
	if ceil < base {
		return invalid(strategy, "max", "(%v) is below base (%v)", ceil, base)
	}
	return nil
}

// randUpTo returns a random value in [0, n], or 0 when n <= 0. A nil r
// means math/rand/v2's top-level generator.
func randUpTo(r Rand, n int64) int64 {
	if n <= 0 {
		return 0
	}
	span := n + 1
	if n == math.MaxInt64 {
		span = n // [0, n) instead of [0, n]: one value of 2⁶³ is missed
	}
	if r == nil {
		return rand.Int64N(span)
	}
	v := r.Int64N(span)
	if v < 0 {
		return 0
	}
	return min(v, n)
}
