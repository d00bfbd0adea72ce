package backoff

import "time"

// Linear is a strategy whose delay grows by the same step at every retry:
// Base before the first retry, Base+Step before the second, and so on, up
// to Max: min(Max, Base + Step*(attempt-1)).
//
// The zero value waits not at all. Max caps every delay, so a Linear whose
// Max is zero never waits; Validate reports that and every other bad
// setting (negative Base, Step or Max, Max below Base). Until validated, a
// bad setting is clamped: a negative Base or Step counts as zero, and the
// delay never exceeds Max. Linear is safe for concurrent use.
type Linear struct {
	// Base is the delay before the first retry.
	Base time.Duration
	// Step is added to the delay at every further retry.
	Step time.Duration
	// Max caps the delay.
	Max time.Duration
}

var _ Strategy = Linear{}

// NewLinear returns the Linear strategy with the given settings. It does
// not validate them; see [Validate].
func NewLinear(base, step, max time.Duration) Linear {
	return Linear{Base: base, Step: step, Max: max}
}

// Delay returns min(Max, Base + Step*(attempt-1)), computed without
// overflow. It ignores prev.
func (l Linear) Delay(attempt int, _ time.Duration) time.Duration {
	ceil := l.Max
	if ceil <= 0 {
		return 0
	}
	base := min(max(l.Base, 0), ceil)
	if attempt <= 1 || l.Step <= 0 {
		return base
	}
	n := int64(attempt - 1)
	if int64(l.Step) > int64(ceil-base)/n {
		return ceil
	}
	return base + l.Step*time.Duration(n)
}

// Validate reports negative settings, a Max below Base, and a zero Max that
// would cancel a positive Step.
func (l Linear) Validate() error {
	if err := checkBaseMax("Linear", l.Base, l.Max); err != nil {
		return err
	}
	if l.Step < 0 {
		return invalid("Linear", "step", "(%v) is negative", l.Step)
	}
	if l.Max == 0 && l.Step > 0 {
		return invalid("Linear", "max", "is zero, so step (%v) has no effect", l.Step)
	}
	return nil
}
