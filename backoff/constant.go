package backoff

import "time"

// Constant is a strategy that waits the same delay before every retry:
// backoff.Constant(100*time.Millisecond). The zero value waits not at all.
// A negative Constant is reported by Validate and waits not at all.
// Constant is safe for concurrent use.
type Constant time.Duration

var _ Strategy = Constant(0)

// Delay returns c, or 0 when c is negative.
func (c Constant) Delay(int, time.Duration) time.Duration {
	return max(time.Duration(c), 0)
}

// Validate reports a negative delay.
func (c Constant) Validate() error {
	if c < 0 {
		return invalid("Constant", "delay", "(%v) is negative", time.Duration(c))
	}
	return nil
}
