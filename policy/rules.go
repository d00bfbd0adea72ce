package policy

import (
	"errors"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/bridge"
)

// rules are the settings that may differ per command. Once a policy is
// built they are never changed.
type rules struct {
	retryOn        classSet
	abortOn        classSet
	retryIf        func(Failure) bool
	maxAttempts    int
	maxElapsed     time.Duration
	attemptTimeout time.Duration
	backoff        backoff.Strategy
	retryAmbiguous bool
	fallback       FallbackFunc
	swallow        bool
}

// classSet is a set of classes as a bit mask.
type classSet uint32

func setOf(cs ...retryable.Class) classSet {
	var s classSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// kinds returns s with every class that is a kind of a class in s added:
// Connection brings Timeout and BusyLoading. Built policies keep their
// sets expanded, so that a lookup is one bit test.
func (s classSet) kinds() classSet {
	out := s
	for _, c := range retryable.Classes() {
		for _, t := range retryable.Classes() {
			if s&(1<<t) != 0 && c.Is(t) {
				out |= 1 << c
			}
		}
	}
	return out
}

func (s classSet) has(c retryable.Class) bool { return c < 32 && s&(1<<c) != 0 }

// neverRetried are the classes no policy retries: the command succeeded,
// or repeating it cannot help.
var neverRetried = setOf(retryable.OK, retryable.Response, retryable.Data, retryable.Canceled, retryable.Closed)

// stop is every reason to stop retrying a call, in the order checked. It
// returns the delay before the next attempt and Retry, or the first
// reason that stops the call. It is pure until its last step, which takes
// the retry from the budget when in.Draw is set, and allocates nothing.
func (r *rules) stop(f *Failure, prev time.Duration, in *bridge.Inputs, budget *breaker.Budget) (time.Duration, Reason) {
	// 1. The class: some are never retried; the policy picks among the
	// rest. A refusal by a breaker that the policy does not retry says
	// so, rather than "class not retried".
	if why := r.classRetried(f); why != Retry {
		return 0, why
	}
	// 2. A blocking command's timeout is its normal way to end.
	if f.Info.Blocking && f.Class.Is(retryable.Timeout) {
		return 0, BlockingTimeout
	}
	// 3. The command-safety rule.
	if !r.safe(f) {
		return 0, Unsafe
	}
	// 4. The caller asked for no retries.
	if in.OptedOut {
		return 0, CallerOptOut
	}
	// 5. Attempts.
	if f.Attempt >= r.maxAttempts {
		return 0, Exhausted
	}
	// 6. The delay: the backoff's, or longer when a breaker said how long
	// it stays open.
	var d time.Duration
	if r.backoff != nil {
		d = max(r.backoff.Delay(f.Attempt, prev), 0)
	}
	if f.Class == retryable.CircuitOpen {
		// errors.AsType, unlike errors.As, does not make its target
		// escape: this path allocates nothing either.
		if oe, ok := errors.AsType[*breaker.OpenError](f.Err); ok && oe != nil && oe.RetryIn > d {
			d = oe.RetryIn
		}
	}
	// 7. The time spent retrying.
	if r.maxElapsed > 0 && f.Elapsed+d > r.maxElapsed {
		return 0, ElapsedLimit
	}
	// 8. The caller's deadline: a retry that would start at or after it
	// cannot answer in time, so the call ends now with its last error.
	if in.Done || !in.Deadline.IsZero() && !in.Now.Add(d).Before(in.Deadline) {
		return 0, Deadline
	}
	// 9. The node's breaker: a retry it will still refuse is not started.
	if in.BreakerWait > d {
		return 0, CircuitOpen
	}
	// 10. The budget, last, because asking it spends a retry.
	if in.Draw && !budget.AllowRetry() {
		return 0, BudgetExhausted
	}
	return d, Retry
}

// safe is step 3 of stop: an unsafe command runs again only after a
// failure that proves it did not run (or, with RetryAmbiguous, one that
// leaves it unknown).
func (r *rules) safe(f *Failure) bool {
	if f.Info.Kind != retryable.Unsafe {
		return true
	}
	return f.Execution == retryable.NotExecuted || f.Execution == retryable.Ambiguous && r.retryAmbiguous
}

// classRetried is step 1 of stop.
func (r *rules) classRetried(f *Failure) Reason {
	// A refusal the policy does not retry says who refused.
	not := NotRetryable
	switch f.Class {
	case retryable.CircuitOpen:
		not = CircuitOpen
	case retryable.Throttled:
		not = RateLimited
	}
	switch {
	case neverRetried.has(f.Class), !f.Class.Valid(), r.abortOn.has(f.Class):
		return not
	case r.retryOn.has(f.Class):
		return Retry
	case r.retryIf != nil && r.retryIf(*f):
		return Retry
	}
	return not
}

// retriesNothing reports whether no failure can be retried under r.
func (r *rules) retriesNothing() bool { return r.retryOn == 0 && r.retryIf == nil }
