// Package breaker keeps Redis nodes that are failing from being hammered:
// a circuit breaker per node on github.com/sony/gobreaker/v2, and a retry
// budget and an admission limit on golang.org/x/time/rate.
//
// It does not import go-redis: callers tell it what counts as a failure.
//
// A [Breaker] guards one node; a [Group] makes one per node on demand.
// Every call asks [Breaker.Allow] first and reports its [Outcome] with
// [Breaker.Done]:
//
//	t, err := b.Allow()
//	if err != nil {
//		return err // *OpenError: the node is isolated for now
//	}
//	err = call()
//	b.Done(t, outcomeOf(err)) // Success, Failure or Ignore
//
// While the breaker is closed and calls succeed, Allow and Done cost a few
// nanoseconds: no lock, no clock, no allocation. gobreaker runs the open
// and half-open states.
//
// A [Budget] caps retries at a fraction of first attempts plus a small
// floor, so that a fleet of clients cannot multiply an outage; a
// [Limiter] caps the rate of all calls. Their refusals become
// [*ThrottledError] values, which match [ErrThrottled].
package breaker
