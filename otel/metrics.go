package retryableotel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// ScopeName is the instrumentation scope of the meter that New gets from
// its MeterProvider: this module's path.
const ScopeName = "github.com/go-retryable/retryable/otel"

// The instruments' names. Each is documented on [Metrics].
const (
	AttemptFailures    = "retryable.attempt.failures"
	Retries            = "retryable.retries"
	RetryDelay         = "retryable.retry.delay"
	GiveUps            = "retryable.give_ups"
	Refusals           = "retryable.refusals"
	BreakerState       = "retryable.breaker.state"
	BreakerTransitions = "retryable.breaker.transitions"
	Fallbacks          = "retryable.fallbacks"
	SwallowedErrors    = "retryable.swallowed_errors"
	Recoveries         = "retryable.recoveries"
	RecoveryAttempts   = "retryable.recovery.attempts"
)

// The attributes that are not OpenTelemetry semantic conventions. Their
// values are lowercase words joined by underscores.
const (
	// AttrReason is why a call gave up: [policy.Reason] in snake case,
	// for example "attempts_exhausted" or "deadline".
	AttrReason = attribute.Key("retryable.reason")
	// AttrRefusedBy is what refused a call or a retry: "breaker",
	// "budget" or "limiter", from the event's policy.Reason (CircuitOpen,
	// BudgetExhausted, RateLimited).
	AttrRefusedBy = attribute.Key("retryable.refused_by")
	// AttrBreakerState is a breaker state: "closed", "half_open" or
	// "open"; on transitions, the state entered.
	AttrBreakerState = attribute.Key("retryable.breaker.state")
	// AttrBreakerPreviousState is, on transitions, the state left.
	AttrBreakerPreviousState = attribute.Key("retryable.breaker.previous_state")
)

// The values of AttrRefusedBy.
const (
	byBreaker = "breaker"
	byBudget  = "budget"
	byLimiter = "limiter"
)

// DefaultAttemptBuckets returns the default bucket boundaries of the
// retryable.recovery.attempts histogram: one bucket per attempt up to 6,
// where nearly every policy's MaxAttempts lies, then wider ones. A
// recovered call made at least 2 attempts. Each call returns a new slice.
func DefaultAttemptBuckets() []float64 {
	return []float64{2, 3, 4, 5, 6, 8, 10, 16, 32}
}

// DefaultDelayBuckets returns the default bucket boundaries, in seconds,
// of the retryable.retry.delay histogram: from 1 ms, where a first jittered
// retry lands, to 10 s, beyond any sane backoff cap. Each call returns a
// new slice.
func DefaultDelayBuckets() []float64 {
	return []float64{0, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// Metrics turns a policy's events into OpenTelemetry metrics. Give its
// Observe method to the policy:
//
//	m, err := retryableotel.New()
//	p, err := policy.Default().With(policy.Observe(m.Observe))
//
// One Metrics may observe any number of policies and clients. It is safe
// for concurrent use by multiple goroutines; a nil *Metrics ignores events.
//
// Its instruments follow the OpenTelemetry semantic conventions' style
// (units in UCUM, counters without a _total suffix, attributes from the
// database conventions where one fits). No db.client.* metric fits: those
// measure operations and connection pools, which go-redis's redisotel
// already records, while these count the policy's decisions. So they live
// under retryable.*, as Polly's live under resilience.polly.*, and every
// measurement carries db.system.name "redis":
//
//		name                           instrument       unit          attributes
//		retryable.attempt.failures     Int64Counter     {attempt}     db.operation.name, error.type
//		retryable.retries              Int64Counter     {retry}       db.operation.name, error.type
//		retryable.retry.delay          Float64Histogram s             db.operation.name, error.type
//		retryable.recoveries           Int64Counter     {call}        db.operation.name, error.type
//		retryable.recovery.attempts    Int64Histogram   {attempt}     db.operation.name, error.type
//		retryable.give_ups             Int64Counter     {call}        db.operation.name, error.type, retryable.reason
//		retryable.refusals             Int64Counter     {refusal}     db.operation.name, retryable.refused_by, server.address, server.port
//		retryable.breaker.state        Int64Gauge       1             server.address, server.port, retryable.breaker.state
//		retryable.breaker.transitions  Int64Counter     {transition}  server.address, server.port, retryable.breaker.state, retryable.breaker.previous_state
//		retryable.fallbacks            Int64Counter     {call}        db.operation.name, error.type
//		retryable.swallowed_errors     Int64Counter     {error}       db.operation.name, error.type
//
//	  - retryable.attempt.failures: attempts that reached the node and failed,
//	    by the class of their error: the failure behind every retry, and the
//	    one a call gave up on. An error reply that is never retried
//	    (WRONGTYPE) on a first attempt is not an event of the policy and is
//	    not counted; redisotel's error.type counts every failure. A call that
//	    gave up while it waited for its retry (its context canceled, or a
//	    breaker that opened meanwhile refusing the retry) counts its last
//	    failure twice, at the retry and at the give-up: its events do not
//	    tell it from a call stopped at the failure itself. One whose retry
//	    the limiter refused counts it once.
//	  - retryable.retries: retries the policy scheduled, by the class of the
//	    failure retried.
//	  - retryable.retry.delay: the delay chosen before each retry, in seconds;
//	    bucket boundaries [DefaultDelayBuckets] unless WithDelayBuckets or a View sets others.
//	  - retryable.recoveries: calls whose first attempt failed and that then
//	    succeeded, by the class of the last failure before the success.
//	    With retryable.give_ups it says whether retries pay: recoveries /
//	    (recoveries + give-ups) of a command is the share of its failed
//	    calls that its retries saved.
//	  - retryable.recovery.attempts: the attempts each recovered call made,
//	    the first and the successful one included (so at least 2), as gRPC's
//	    per-call retry histograms (gRFC A96) record them; bucket boundaries
//	    [DefaultAttemptBuckets] unless a View sets others. Calls that needed
//	    their last allowed attempt say MaxAttempts is tight.
//	  - retryable.give_ups: calls that an attempt of theirs reached the node
//	    for, whose retries stopped and that failed, by the class of the
//	    node's last error (what the caller gets, whatever refused the next
//	    retry) and why they stopped; a call counted here may still succeed
//	    for its caller through a fallback or log-and-continue. Calls refused
//	    before any attempt are refusals, not give-ups.
//	  - retryable.refusals: first attempts and retries that the node's
//	    circuit breaker, the retry budget or the admission limiter refused
//	    before they were sent, by what refused: the event's reason
//	    (policy.CircuitOpen, policy.BudgetExhausted, policy.RateLimited).
//	    A refused retry is also a give-up, with that reason. server.* name
//	    the node of a breaker's refusal.
//	  - retryable.breaker.state: 1 for the state a node's breaker is in, 0 for
//	    the states it was in before; a node appears at its breaker's first
//	    transition (breakers start closed).
//	  - retryable.breaker.transitions: each state change of a node's breaker.
//	    While open, a breaker PINGs its node itself: each failed PING is a
//	    half_open -> open transition, the successful one half_open -> closed.
//	  - retryable.fallbacks: calls handed to the policy's fallback, by the
//	    class of the error it was given.
//	  - retryable.swallowed_errors: final failures of log-and-continue
//	    commands, logged and reported to the caller as success.
//
// db.operation.name is the command name in capitals ("GET"; "PIPELINE" and
// "MULTI" for batches), error.type the [retryable.Class] name ("Timeout",
// "CircuitOpen"), and server.address and server.port the node's address
// (a node whose name is no host:port, as a Sentinel client's "sentinel",
// has only server.address). The attributes' values come from the command
// names and node addresses the application uses: a bounded set.
type Metrics struct {
	attemptFailures, retries, giveUps, refusals metric.Int64Counter
	transitions, fallbacks, swallowed           metric.Int64Counter
	recoveries                                  metric.Int64Counter
	delay                                       metric.Float64Histogram
	attempts                                    metric.Int64Histogram
	state                                       metric.Int64Gauge
	base                                        []attribute.KeyValue
	mu                                          sync.RWMutex
	sets                                        map[setKey]measure
	maxSets                                     int
}

// Option configures [New]. Options are plain values: one may be given to
// any number of calls of New, from any goroutine.
type Option func(*config)

type config struct {
	provider metric.MeterProvider
	attrs    []attribute.KeyValue
	buckets  []float64
}

// WithMeterProvider sets the MeterProvider the instruments come from. The
// default is the global one, otel.GetMeterProvider(), at the time of New.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.provider = mp }
}

// WithAttributes adds attributes to every measurement, for example the name
// of the client or of the application's pool. None by default.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// WithDelayBuckets sets the bucket boundaries, in seconds, that the
// retryable.retry.delay histogram advises; the default is
// [DefaultDelayBuckets]. A View of the SDK still overrides them.
func WithDelayBuckets(bounds ...float64) Option {
	return func(c *config) { c.buckets = append([]float64(nil), bounds...) }
}

// New creates the instruments from the MeterProvider (the global one by
// default) and returns a Metrics that records into them. It returns an
// error when the provider refuses an instrument, for example for bucket
// boundaries that are not increasing.
func New(opts ...Option) (*Metrics, error) {
	c := config{buckets: DefaultDelayBuckets()}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.provider == nil {
		c.provider = otel.GetMeterProvider()
	}
	meter := c.provider.Meter(ScopeName)
	m := &Metrics{
		base:    append([]attribute.KeyValue{attribute.String("db.system.name", "redis")}, c.attrs...),
		sets:    make(map[setKey]measure),
		maxSets: 4096,
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		inst, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return inst
	}
	m.attemptFailures = counter(AttemptFailures, "{attempt}", "Attempts that reached the node and failed, by the class of their error.")
	m.retries = counter(Retries, "{retry}", "Retries scheduled, by the class of the failure retried.")
	m.giveUps = counter(GiveUps, "{call}", "Calls whose retries stopped and that failed, by error class and reason, before any fallback.")
	m.refusals = counter(Refusals, "{refusal}", "First attempts and retries refused by a circuit breaker, the retry budget or the admission limiter.")
	m.transitions = counter(BreakerTransitions, "{transition}", "State changes of each node's circuit breaker.")
	m.fallbacks = counter(Fallbacks, "{call}", "Calls handed to the policy's fallback, by the class of their error.")
	m.swallowed = counter(SwallowedErrors, "{error}", "Final failures of log-and-continue commands, logged and reported as success.")
	m.recoveries = counter(Recoveries, "{call}", "Calls whose first attempt failed and that then succeeded, by the class of the last failure.")
	var err error
	m.attempts, err = meter.Int64Histogram(RecoveryAttempts, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts each recovered call made, the first and the successful one included."),
		metric.WithExplicitBucketBoundaries(DefaultAttemptBuckets()...))
	errs = append(errs, err)
	m.delay, err = meter.Float64Histogram(RetryDelay, metric.WithUnit("s"),
		metric.WithDescription("Delay chosen before each retry."),
		metric.WithExplicitBucketBoundaries(c.buckets...))
	errs = append(errs, err)
	m.state, err = meter.Int64Gauge(BreakerState, metric.WithUnit("1"),
		metric.WithDescription("1 for the state each node's circuit breaker is in, 0 for the states it left."))
	errs = append(errs, err)
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("retryableotel: %w", err)
		}
	}
	return m, nil
}

// Observe records one event. Pass it to [policy.Observe]; to observe with
// a function of your own too, call both from one function. It is fast
// (no allocation once an attribute combination was seen) and safe for
// concurrent use. The policy calls it on failure paths only.
func (m *Metrics) Observe(e policy.Event) {
	if m == nil {
		return
	}
	ctx := context.Background()
	cmd := e.Command
	switch e.Kind {
	case policy.RetryScheduled:
		o := m.set(setKey{cmd: cmd, class: e.Class})
		if reached(e.Class) {
			m.attemptFailures.Add(ctx, 1, o.add...)
		}
		m.retries.Add(ctx, 1, o.add...)
		m.delay.Record(ctx, e.Delay.Seconds(), o.rec...)
	case policy.Recovered:
		// The failure before the success was counted at its retry.
		o := m.set(setKey{cmd: cmd, class: e.Class})
		m.recoveries.Add(ctx, 1, o.add...)
		m.attempts.Record(ctx, int64(e.Attempt), o.rec...)
	case policy.GaveUp:
		if reached(e.Class) && stoppedAtFailure(e.Reason) {
			m.attemptFailures.Add(ctx, 1, m.set(setKey{cmd: cmd, class: e.Class}).add...)
		}
		m.giveUps.Add(ctx, 1, m.set(setKey{kind: kindGiveUp, cmd: cmd, class: e.Class, reason: e.Reason.String()}).add...)
		if by := refusedBy(e); by != "" {
			m.refusals.Add(ctx, 1, m.set(setKey{kind: kindRefusal, cmd: cmd, by: by, node: refusalNode(e, by)}).add...)
		}
	case policy.Refused:
		by := refusedBy(e)
		m.refusals.Add(ctx, 1, m.set(setKey{kind: kindRefusal, cmd: cmd, by: by, node: refusalNode(e, by)}).add...)
	case policy.BreakerChanged:
		m.transitions.Add(ctx, 1, m.set(setKey{kind: kindTransition, node: e.Node, from: e.From, to: e.To}).add...)
		// Calls for one breaker never overlap, so the two records of a
		// node's change are not interleaved with those of its next one.
		m.state.Record(ctx, 0, m.set(setKey{kind: kindState, node: e.Node, to: e.From}).rec...)
		m.state.Record(ctx, 1, m.set(setKey{kind: kindState, node: e.Node, to: e.To}).rec...)
	case policy.FallbackUsed:
		m.fallbacks.Add(ctx, 1, m.set(setKey{cmd: cmd, class: e.Class}).add...)
	case policy.Swallowed:
		m.swallowed.Add(ctx, 1, m.set(setKey{cmd: cmd, class: e.Class}).add...)
	}
}

// reached reports whether an error of class c is one the node gave: not a
// refusal by a breaker, the budget or the limiter, which the library gives
// only to calls none of whose attempts reached the node.
func reached(c retryable.Class) bool {
	return c != retryable.CircuitOpen && c != retryable.Throttled
}

// stoppedAtFailure reports whether a call that gave up for reason r
// stopped at its last failure, rather than after a retry was scheduled
// for it (and its failure counted with the retry): the limiter refuses
// only a retry whose delay is over, and a broken dedicated connection is
// found only when the retry is sent.
func stoppedAtFailure(r policy.Reason) bool {
	return r != policy.RateLimited && r != policy.ConnBroken
}

// refusedBy says what refused the call or retry an event reports, or ""
// when nothing did: the event's reason says. A Refused event whose reason
// does not say is read from its class: the library gives the limiter's
// refusal of a first attempt the reason NotRetryable (its class, Throttled,
// is not retried), and the budget refuses only retries.
func refusedBy(e policy.Event) string {
	switch e.Reason {
	case policy.CircuitOpen:
		return byBreaker
	case policy.BudgetExhausted:
		return byBudget
	case policy.RateLimited:
		return byLimiter
	}
	switch {
	case e.Kind != policy.Refused:
		return ""
	case e.Class == retryable.Throttled:
		return byLimiter
	}
	return byBreaker
}

// refusalNode is the node whose breaker refused, when it is known: the
// event's node, or the one the breaker's error names.
func refusalNode(e policy.Event, by string) string {
	if by != byBreaker {
		return ""
	}
	if e.Node != "" {
		return e.Node
	}
	if oe, ok := errors.AsType[*breaker.OpenError](e.Err); ok {
		return oe.Node
	}
	return ""
}
