package policy

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// Failure describes one failed attempt: what the engine knows when it
// decides whether to try again.
type Failure struct {
	// Command is the lowercase command name, or "pipeline" / "multi".
	Command string
	// Attempt is the number of attempts made so far, 1 after the first.
	Attempt int
	// Err is the attempt's error, as go-redis returned it.
	Err error
	// Class is retryable.Classify(Err).
	Class retryable.Class
	// Execution says whether the failed command can have run.
	Execution retryable.Execution
	// Info is the command's kind from the built-in table and the policy's
	// marks.
	Info retryable.Info
	// Elapsed is the time since the first failure.
	Elapsed time.Duration
}

// Reason says why the engine stopped retrying.
type Reason uint8

// The reasons to stop.
const (
	// Retry is not a reason to stop: the failure is retried.
	Retry Reason = iota
	// NotRetryable: the class is not retried by this policy.
	NotRetryable
	// Unsafe: the command may already have run and must not run twice.
	Unsafe
	// BlockingTimeout: a blocking command timed out, which it may do.
	BlockingTimeout
	// Exhausted: MaxAttempts reached.
	Exhausted
	// ElapsedLimit: the next retry would end past MaxElapsed.
	ElapsedLimit
	// Deadline: the next retry would end past the context's deadline, or the
	// context was done.
	Deadline
	// BudgetExhausted: the retry budget refused the retry.
	BudgetExhausted
	// CallerOptOut: the call's context asked for no retries (see [NoRetry]).
	CallerOptOut
	// RateLimited: the admission limiter refused the call or a retry.
	RateLimited
)

var reasonNames = [...]string{"retry", "class not retried", "unsafe to repeat", "blocking command timed out",
	"attempts exhausted", "max elapsed reached", "deadline", "retry budget exhausted", "retries disabled for this call",
	"rate limited"}

// String describes the reason in a few words.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Decide returns whether the failure f is retried and after how long. prev
// is the previous delay (0 before the first retry). It applies the rules in
// order: the class (RetryOn, RetryIf, AbortOn), the command-safety rule,
// blocking commands, MaxAttempts, then the delay against MaxElapsed. The
// context's deadline, the budget and the breaker are the caller's to check
// (the hooks package does). Decide is pure and allocates nothing.
func (p Policy) Decide(f Failure, prev time.Duration) (time.Duration, Reason) {
	r := p.rulesFor(f.Command)
	if why := r.retryable(f); why != Retry {
		return 0, why
	}
	if f.Attempt >= r.maxAttempts {
		return 0, Exhausted
	}
	var d time.Duration
	if r.backoff != nil {
		d = r.backoff.Delay(f.Attempt, prev)
		if d < 0 {
			d = 0
		}
	}
	if f.Class == retryable.CircuitOpen {
		// errors.AsType, unlike errors.As, does not make its target escape:
		// Decide stays allocation-free on this path too.
		if oe, ok := errors.AsType[*breaker.OpenError](f.Err); ok && oe.RetryIn > d {
			d = oe.RetryIn
		}
	}
	if r.maxElapsed > 0 && f.Elapsed+d > r.maxElapsed {
		return 0, ElapsedLimit
	}
	return d, Retry
}

func (r *rules) retryable(f Failure) Reason {
	switch f.Class {
	case retryable.OK, retryable.Canceled, retryable.Closed, retryable.Response, retryable.Data:
		return NotRetryable
	}
	if r.abortOn.has(f.Class) {
		return NotRetryable
	}
	if !r.retryOn.has(f.Class) && (r.retryIf == nil || !r.retryIf(f)) {
		return NotRetryable
	}
	if f.Info.Blocking && f.Class.Is(retryable.Timeout) {
		return BlockingTimeout
	}
	switch f.Execution {
	case retryable.NotExecuted:
	case retryable.Ambiguous:
		if f.Info.Kind == retryable.Unsafe && !r.retryAmbiguous {
			return Unsafe
		}
	default: // Completed: running it again is a second run.
		if f.Info.Kind == retryable.Unsafe {
			return Unsafe
		}
	}
	return Retry
}

func (p Policy) rulesFor(cmd string) *rules {
	c := p.cfg()
	if len(c.overrides) != 0 {
		if r, ok := c.overrides[cmd]; ok {
			return r
		}
	}
	return &c.rules
}

// Lookup returns what the built-in command table knows of args, with the
// kind changed where the policy marks the command idempotent or unsafe.
func (p Policy) Lookup(args []any) retryable.Info {
	info := retryable.Lookup(args)
	c := p.cfg()
	if len(c.marks) != 0 && len(args) > 0 {
		// The same name types as retryable.Lookup, so that a []byte name
		// cannot slip past MarkUnsafe.
		var name string
		switch v := args[0].(type) {
		case string:
			name = v
		case []byte:
			name = string(v)
		}
		if k, ok := c.marks[strings.ToLower(name)]; ok {
			info.Kind = k
		}
	}
	return info
}

// MaxAttempts returns the attempt cap for cmd (lowercase name).
func (p Policy) MaxAttempts(cmd string) int { return p.rulesFor(cmd).maxAttempts }

// AttemptTimeout returns the per-attempt timeout for cmd, 0 when none.
func (p Policy) AttemptTimeout(cmd string) time.Duration { return p.rulesFor(cmd).attemptTimeout }

// HasAttemptTimeout reports whether any command has a per-attempt timeout.
func (p Policy) HasAttemptTimeout() bool {
	c := p.cfg()
	if c.attemptTimeout > 0 {
		return true
	}
	for _, r := range c.overrides {
		if r.attemptTimeout > 0 {
			return true
		}
	}
	return false
}

// Fallback returns the fallback for cmd, or nil.
func (p Policy) Fallback(cmd string) FallbackFunc { return p.rulesFor(cmd).fallback }

// Swallows reports whether cmd is a log-and-continue command.
func (p Policy) Swallows(cmd string) bool { return p.rulesFor(cmd).swallow }

// Breakers returns the policy's breakers, or nil when it has none. Use it to
// read a node's state or to isolate a node by hand.
func (p Policy) Breakers() *breaker.Group { return p.cfg().breakers }

// Budget returns the policy's retry budget, or nil.
func (p Policy) Budget() *breaker.Budget { return p.cfg().budget }

// Limiter returns the policy's admission limiter, or nil.
func (p Policy) Limiter() *breaker.Limiter { return p.cfg().limiter }

// Emit reports e to the policy's observer and logger, if any.
func (p Policy) Emit(ctx context.Context, e Event) {
	c := p.cfg()
	if c.observer != nil {
		c.observer(e)
	}
	if c.logger != nil {
		e.log(ctx, c.logger)
	}
}

// Observed reports whether events go anywhere, so callers can skip building
// them.
func (p Policy) Observed() bool {
	c := p.cfg()
	return c.observer != nil || c.logger != nil
}
