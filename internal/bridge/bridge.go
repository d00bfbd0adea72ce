// Package bridge is the contract between package policy, which builds a
// policy, and package hooks, which runs it inside go-redis, kept out of
// both packages' public API.
//
// A policy.Policy is defined as a Handle, so hooks converts one to the
// other (bridge.Handle(p)) and reaches the Engine the policy built; users,
// who cannot import this package, see only Policy's own methods. Engine
// and Rules are generic over the policy package's public types (Failure,
// Reason, Event, FallbackFunc) so that this package imports neither side.
package bridge

import (
	"context"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// Handle is the underlying type of policy.Policy. Its zero value holds no
// engine.
type Handle struct{ e any }

// NewHandle returns a Handle holding e, an *Engine of the policy package.
func NewHandle(e any) Handle { return Handle{e} }

// Engine returns what NewHandle was given, or nil for the zero Handle.
func (h Handle) Engine() any { return h.e }

// Engine is a built policy as the hooks run it: what every call needs,
// resolved once when the policy is built. F, R, E and FB are the policy
// package's Failure, Reason, Event and FallbackFunc. An Engine is
// immutable and safe for concurrent use.
type Engine[F, R, E, FB any] struct {
	// Policy is the policy package's own state, opaque to the hooks.
	Policy any
	// Breakers holds one breaker per node, or is nil when the policy has
	// none. Copies of a policy share it unless they set new breakers.
	Breakers *breaker.Group
	// Budget, when not nil, counts first attempts (Request) and is drawn
	// from by Rules.Stop before every retry.
	Budget *breaker.Budget
	// Limiter, when not nil, admits every attempt.
	Limiter *breaker.Limiter
	// Slow is set when every call needs work before its first attempt
	// (an admission limiter or a per-attempt timeout somewhere), so that
	// the hooks skip that work with one branch when it is not.
	Slow bool
	// Observed is set when events go anywhere, so that the hooks skip
	// building them when they do not.
	Observed bool
	// Emit reports an event to the policy's observer and logger.
	Emit func(ctx context.Context, e E)
	// OptedOut reports whether the call's context asked for no retries.
	OptedOut func(ctx context.Context) bool
	// Lookup is retryable.Lookup with the policy's marks applied.
	Lookup func(args []any) retryable.Info
	// Rules returns the rules for a lowercase command name (or "pipeline",
	// "multi"), resolved once per failed call. It never returns nil.
	Rules func(name string) *Rules[F, R, FB]
}

// Rules are a policy's settings for one command.
type Rules[F, R, FB any] struct {
	// AttemptTimeout bounds each attempt; 0 means none.
	AttemptTimeout time.Duration
	// Fallback runs when the command fails for good; nil is none.
	Fallback FB
	// Swallow makes a final recoverable failure a logged success.
	Swallow bool
	// Stop is every reason to stop retrying, in one ordered function: it
	// returns the delay before the next attempt and the policy's "retry"
	// reason, or a reason to stop. It draws from the budget last, only
	// when in.Draw is set and every other check says retry.
	// f and in are passed by value so that a failed call's description
	// stays on the caller's stack.
	Stop func(f F, prev time.Duration, in Inputs) (time.Duration, R)
}

// Inputs are what Rules.Stop needs beyond the failure: the call's
// context, the clock and the node's breaker.
type Inputs struct {
	// OptedOut is set when the call's context asked for no retries.
	OptedOut bool
	// Done is set when the call's context is done.
	Done bool
	// Now is the clock's reading; Deadline is the context's deadline, the
	// zero time when it has none.
	Now, Deadline time.Time
	// BreakerWait is how long the breaker of the node the retry would go
	// to will keep refusing calls: 0 when it is closed or unknown.
	BreakerWait time.Duration
	// Draw asks Stop to take the retry from the policy's budget.
	Draw bool
}
