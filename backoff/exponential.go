package backoff

import (
	"math"
	"time"
)

// DefaultFactor is the growth factor of an [Exponential] whose Factor is
// zero.
const DefaultFactor = 2

// Exponential is a strategy whose delay grows by a constant factor at every
// retry: Base before the first retry, Base*Factor before the second, and
// so on, up to Max: min(Max, Base * Factor^(attempt-1)).
//
// The zero value waits not at all. A zero Factor means [DefaultFactor]. Max
// caps every delay. Validate reports a negative Base or Max, a Max below
// Base, and a Factor below 1, infinite or NaN. Until validated, a bad
// setting is clamped: a negative Base counts as zero, a Factor below 1 or
// NaN as 1, and the delay never exceeds Max. Exponential is safe for
// concurrent use.
type Exponential struct {
	// Base is the delay before the first retry.
	Base time.Duration
	// Max caps the delay.
	Max time.Duration
	// Factor multiplies the delay at every further retry; 0 means 2.
	Factor float64
}

var _ Strategy = Exponential{}

// NewExponential returns the Exponential strategy with the given settings.
// It does not validate them; see [Validate].
func NewExponential(base, max time.Duration, factor float64) Exponential {
	return Exponential{Base: base, Max: max, Factor: factor}
}

// Delay returns min(Max, Base * Factor^(attempt-1)), computed without
// overflow; with a Factor of 2 it is exact. It ignores prev.
func (e Exponential) Delay(attempt int, _ time.Duration) time.Duration {
	ceil := e.Max
	if ceil <= 0 {
		return 0
	}
	base := min(max(e.Base, 0), ceil)
	factor := e.Factor
	if factor == 0 {
		factor = DefaultFactor
	}
	if attempt <= 1 || base == 0 || !(factor > 1) {
		return base
	}
	n := attempt - 1
	if factor == 2 {
		if n >= 63 || base > ceil>>uint(n) {
			return ceil
		}
		return base << uint(n)
	}
	d := float64(base) * math.Pow(factor, float64(n))
	if !(d < float64(ceil)) {
		return ceil
	}
	return min(time.Duration(d), ceil)
}

// Validate reports negative delays, a Max below Base, and a Factor that is
// below 1, infinite or NaN.
func (e Exponential) Validate() error {
	if err := checkBaseMax("Exponential", e.Base, e.Max); err != nil {
		return err
	}
	if f := e.Factor; f != 0 && !(f >= 1 && f <= math.MaxFloat64) {
		return invalid("Exponential", "factor", "(%v) is not a finite number of at least 1", f)
	}
	return nil
}
