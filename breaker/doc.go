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
// # Who runs what
//
// gobreaker's TwoStepCircuitBreaker runs the states: Closed, Open and
// HalfOpen, their generations (an outcome from an earlier one is dropped),
// the trip decision (its ReadyToTrip, on gobreaker's own Counts), the
// half-open probe slots (its MaxRequests is [Settings.HalfOpenProbes]) and
// the transitions (its OnStateChange). The Breaker keeps only two things
// of its own:
//
//   - A lock-free fast path for the closed state. gobreaker takes a mutex
//     and reads the clock on every call (about 200 ns), while a Redis
//     command costs tens of microseconds and a healthy node answers
//     nearly all of them: so while closed, Allow is one atomic load, and
//     a Success is one more; only failures, and the first success after
//     them, reach gobreaker, which is all its consecutive-failure rule
//     needs. The state it reads is a mirror of gobreaker's, updated from
//     gobreaker's OnStateChange, not a second state machine. (With
//     [Settings.FailureRatio] every outcome goes to gobreaker, whose
//     rolling window needs them all.)
//   - A schedule that decides when an open breaker sends its probe.
//     gobreaker's open time (its Timeout) is one fixed value, made for
//     fleets of interchangeable hosts. A Redis node owns its slots: there
//     is no other host for its traffic, so every moment its breaker stays
//     open after it is back is an outage the library made, while a probe
//     costs one command. So the open time is short, jittered (so that
//     clients do not probe together), grows while probes fail, and decays
//     rather than resets while the node stays healthy, an ejection
//     multiplier as in Envoy's and gRPC's outlier detection: by default
//     25-50 ms the first time, doubling up to 250-500 ms (see
//     [Settings.OpenTimeout], [Settings.DecayInterval]). gobreaker's
//     Timeout is set to the schedule's floor, so its own timer has always
//     run out when the schedule says the probe is due, and the breaker
//     consults gobreaker only then: gobreaker moves to half-open (and
//     reports it) at the schedule's time.
//
// [Breaker.ForceOpen] and [Breaker.ForceClose] are an operator's overlay,
// a flag over gobreaker's state until [Breaker.Release].
//
// # Probes
//
// With no [Probe] registered, the first callers after the open time are
// the half-open probes, as in gobreaker. A client that reaches the node
// registers a Probe with [Breaker.AddProbe] (the hooks package sends a
// PING that bypasses the breaker): then no caller is ever a probe, every
// call is refused in microseconds until the breaker closes, and the
// breaker probes the node itself from a timer, one probe at a time, as
// soon as the schedule allows. [Breaker.RetryIn] says when that is, so
// that a caller can skip a retry that would be refused anyway.
//
// # Budgets and limits
//
// A [Budget] caps retries at a fraction of first attempts plus a small
// floor, so that a fleet of clients cannot multiply an outage; a
// [Limiter] caps the rate of all calls. Their refusals become
// [*ThrottledError] values, which match [ErrThrottled].
package breaker
