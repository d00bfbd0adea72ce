package breaker

import (
	"errors"
	"fmt"
	"time"
)

// ErrThrottled is matched, through errors.Is, by every error a [Budget] or
// [Limiter] returns when it refuses a retry or a call.
var ErrThrottled = errors.New("breaker: throttled")

// OpenError is the error of a call that a node's breaker refused. It wraps
// gobreaker's ErrOpenState (open) or ErrTooManyRequests (half-open, every
// probe slot taken), so errors.Is works with either.
type OpenError struct {
	// Node is the address (or name) of the node whose breaker refused.
	Node string
	// RetryIn is how long the breaker stays open from now; zero when the
	// breaker is half-open or forced open by an operator.
	RetryIn time.Duration
	// Err is gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests.
	Err error
}

func (e *OpenError) Error() string {
	if e.RetryIn > 0 {
		return fmt.Sprintf("breaker: %s: %v (retry in %v)", e.Node, e.Err, e.RetryIn)
	}
	return fmt.Sprintf("breaker: %s: %v", e.Node, e.Err)
}

// Unwrap returns gobreaker's error.
func (e *OpenError) Unwrap() error { return e.Err }

// ThrottledError is the error of a retry or call that a [Budget] or
// [Limiter] refused. It matches [ErrThrottled] through errors.Is and wraps
// the last real error of the call (nil when the first attempt was refused),
// so errors.Is(err, redis.Nil)-style checks on the cause keep working.
type ThrottledError struct {
	// Reason says which limit refused, for example "retry budget exhausted".
	Reason string
	// Last is the error of the last attempt that ran, or nil.
	Last error
}

func (e *ThrottledError) Error() string {
	if e.Last == nil {
		return "breaker: throttled: " + e.Reason
	}
	return "breaker: throttled: " + e.Reason + ": " + e.Last.Error()
}

// Is reports whether target is [ErrThrottled].
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Unwrap returns the last real error, or nil.
func (e *ThrottledError) Unwrap() error { return e.Last }
