package backoff

import "time"

// Func adapts a function to a [Strategy], as http.HandlerFunc adapts one to
// a handler: backoff.Func(f). A negative result counts as zero. The zero
// value (a nil function) waits not at all, and Validate reports it.
//
// f must be safe for concurrent use if the strategy is shared by several
// goroutines; a pure function of its arguments is.
type Func func(attempt int, prev time.Duration) time.Duration

var _ Strategy = Func(nil)

// Delay returns f(attempt, prev), or 0 when that is negative or f is nil.
func (f Func) Delay(attempt int, prev time.Duration) time.Duration {
	if f == nil {
		return 0
	}
	return max(f(attempt, prev), 0)
}

// Validate reports a nil function.
func (f Func) Validate() error {
	if f == nil {
		return invalid("Func", "function", "is nil")
	}
	return nil
}
