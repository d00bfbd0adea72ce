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
// gobreaker's ErrOpenState (open) or ErrTooManyRequests (half-open, no
// probe slot for the call), so errors.Is works with either. It is the one
// allocation of a refusal.
type OpenError struct {
	// Node is the address (or name) of the node whose breaker refused.
	Node string
	// RetryIn is how long from now the breaker's next probe is due, as
	// [Breaker.RetryIn] says; zero when the breaker is half-open, when the
	// probe is due, or when an operator forced it open.
	RetryIn time.Duration
	// Err is gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests.
	Err error
}

// Error names the node and, while the open time runs, how long is left.
func (e *OpenError) Error() string {
	if e.RetryIn > 0 {
		return fmt.Sprintf("breaker: %s: %v (retry in %v)", e.Node, e.Err, e.RetryIn)
	}
	return fmt.Sprintf("breaker: %s: %v", e.Node, e.Err)
}

// Unwrap returns gobreaker's error.
func (e *OpenError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

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

// Error says which limit refused and, if any, the last real error.
func (e *ThrottledError) Error() string {
	if e.Last == nil {
		return "breaker: throttled: " + e.Reason
	}
	return "breaker: throttled: " + e.Reason + ": " + e.Last.Error()
}

// Is reports whether target is [ErrThrottled].
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Unwrap returns the last real error, or nil.
func (e *ThrottledError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Last
}

// Reasons a [ThrottledError] gives.
const (
	// ReasonBudget is the Reason of a retry that a [Budget] refused.
	ReasonBudget = "retry budget exhausted"
	// ReasonRateLimit is the Reason of a call that a [Limiter] refused.
	ReasonRateLimit = "rate limit"
)

// ErrInvalid is matched, through errors.Is, by every error that
// [Settings.Validate], [BudgetSettings.Validate] and [NewLimiter] return
// for a bad setting.
var ErrInvalid = errors.New("breaker: invalid setting")

// InvalidError reports a bad setting, for example
// "breaker: Settings.FailureRatio (1.5) must be in (0, 1]". It matches
// [ErrInvalid] through errors.Is, and wraps the cause when there is one
// (for example the error of an invalid [Settings.OpenBackoff] strategy).
type InvalidError struct {
	// Setting names the bad setting, for example "Settings.OpenTimeout".
	Setting string
	// Problem says what is wrong with it, for example "(-1s) is negative".
	Problem string
	// Err is the underlying error, or nil.
	Err error
}

// Error names the setting and what is wrong with it.
func (e *InvalidError) Error() string {
	if e.Err != nil {
		return "breaker: " + e.Setting + " " + e.Problem + ": " + e.Err.Error()
	}
	return "breaker: " + e.Setting + " " + e.Problem
}

// Is reports whether target is [ErrInvalid].
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the underlying error, or nil.
func (e *InvalidError) Unwrap() error { return e.Err }

func invalid(setting, format string, args ...any) error {
	return &InvalidError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
}
