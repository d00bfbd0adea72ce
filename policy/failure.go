package policy

import (
	"time"

	"github.com/go-retryable/retryable"
)

// Failure describes one failed attempt of a call: what the engine knows
// when it decides whether to try again. [RetryIf] predicates receive it;
// [Policy.Describe] builds the one of a first attempt for [Policy.Decide].
type Failure struct {
	// Command is the lowercase command name, or "pipeline" / "multi" for
	// a pipeline or a MULTI/EXEC transaction.
	Command string
	// Attempt is the number of attempts made so far: 1 after the first.
	Attempt int
	// Err is the attempt's error, as go-redis returned it.
	Err error
	// Class is the class of Err (see retryable.Classify).
	Class retryable.Class
	// Execution says whether the failed command can have run. For a
	// pipeline it is the least safe answer among its unsafe commands,
	// each judged by its own error.
	Execution retryable.Execution
	// Info is what the command table says of the command, with the
	// policy's marks applied. For a pipeline, Kind is the least safe kind
	// among the commands that may have run, and Blocking is set when any
	// command blocks.
	Info retryable.Info
	// Elapsed is the time since the first attempt failed.
	Elapsed time.Duration
}

// Reason says why the engine stopped retrying a call, or [Retry] when it
// did not.
type Reason uint8

// The reasons, in the order [Policy.Decide] and the hooks check them.
const (
	// Retry is not a reason to stop: the failure is retried.
	Retry Reason = iota
	// CallerOptOut: the call's context asked for no retries (see [NoRetry]).
	CallerOptOut
	// NotRetryable: the policy does not retry the failure's class
	// (RetryOn, RetryIf, AbortOn), or no class ever is (Response, Data,
	// Canceled, Closed).
	NotRetryable
	// CircuitOpen: a breaker refused the call or its retry, or will still
	// refuse it when the retry's delay ends.
	CircuitOpen
	// BlockingTimeout: a blocking command timed out, which it may do.
	BlockingTimeout
	// Unsafe: the command may already have run and must not run twice.
	Unsafe
	// Exhausted: MaxAttempts reached.
	Exhausted
	// ElapsedLimit: the next retry would start past MaxElapsed.
	ElapsedLimit
	// Deadline: the next retry would start at or past the context's
	// deadline, or the context was done.
	Deadline
	// BudgetExhausted: the retry budget refused the retry.
	BudgetExhausted
	// RateLimited: the admission limiter refused the call or its retry.
	RateLimited
	// ConnBroken: the call runs on a dedicated connection (Conn, or the
	// Tx of Watch) that its failure broke, so a retry cannot succeed.
	ConnBroken
)

var reasonNames = [...]string{
	Retry:           "retry",
	CallerOptOut:    "retries disabled for this call",
	NotRetryable:    "class not retried",
	CircuitOpen:     "circuit open",
	BlockingTimeout: "blocking command timed out",
	Unsafe:          "unsafe to repeat",
	Exhausted:       "attempts exhausted",
	ElapsedLimit:    "max elapsed reached",
	Deadline:        "deadline",
	BudgetExhausted: "retry budget exhausted",
	RateLimited:     "rate limited",
	ConnBroken:      "connection broken",
}

// String describes the reason in a few words, for example "unsafe to
// repeat".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}
