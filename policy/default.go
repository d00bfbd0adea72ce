package policy

import (
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
)

// The values of [Default], documented here and in the README.
const (
	DefaultMaxAttempts = 3
	DefaultBaseDelay   = 20 * time.Millisecond
	DefaultMaxDelay    = 1 * time.Second
	DefaultMaxElapsed  = 5 * time.Second
	// DefaultBudgetRatio and DefaultBudgetFloor are the retry budget's
	// settings: retries up to 20% of first attempts, plus 10 a second.
	DefaultBudgetRatio = 0.2
	DefaultBudgetFloor = 10
)

// Default returns a production default:
//
//   - retries Connection (with Timeout and BusyLoading), ReadOnly,
//     ClusterDown, Busy and Capacity; never Response, Data, Canceled,
//     Closed, and not CircuitOpen or Throttled (those fail fast so a
//     fallback runs at once);
//   - at most 3 attempts, never past 5 s of retrying, never past the
//     context's deadline;
//   - full-jitter exponential backoff: base 20 ms, doubling, capped at 1 s;
//   - unsafe commands only retried when the failure proves they did not
//     run;
//   - a circuit breaker per node with breaker.Settings' defaults: it opens
//     after 5 calls in a row fail, fails calls in microseconds while open,
//     and checks the node with its own PING after 25-50 ms, then after
//     longer and longer waits up to 250-500 ms while the node stays down,
//     so a client is back within a probe interval of the node;
//   - a retry budget: retries up to 20% of first attempts, plus 10 retries
//     a second whatever the traffic.
//
// Each call returns a policy with its own breakers and budget; share one
// Default() value between clients to share them. Customise it with With:
//
//	p, err := policy.Default().With(policy.MaxAttempts(5), policy.Logger(slog.Default()))
func Default() Policy {
	budget, err := breaker.NewBudget(breaker.BudgetSettings{Ratio: DefaultBudgetRatio, MinPerSecond: DefaultBudgetFloor})
	if err != nil {
		panic("policy: Default budget: " + err.Error()) // constant settings: cannot happen
	}
	p, err := New(
		RetryOn(retryable.Connection, retryable.ReadOnly, retryable.ClusterDown, retryable.Busy, retryable.Capacity),
		MaxAttempts(DefaultMaxAttempts),
		MaxElapsed(DefaultMaxElapsed),
		Backoff(backoff.FullJitter(backoff.NewExponential(DefaultBaseDelay, DefaultMaxDelay, 2))),
		Breaker(breaker.Settings{}),
		Budget(budget),
	)
	if err != nil {
		panic("policy: Default: " + err.Error()) // constant settings: cannot happen
	}
	return p
}
