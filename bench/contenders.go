package main

// The six contenders, each configured as its own documentation recommends.
// This file is the one to adjust when the library's defaults change.

import (
	"context"
	"errors"
	"time"

	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/budget"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// contenders are compared in this order; the first is the baseline of
// ratios.
var contenders = []contender{
	{
		name: "go-redis",
		how: "go-redis v9.23 alone with its defaults: `MaxRetries` 3 (backoff 10 ms to 1 s), " +
			"`DialerRetries` 5 (100 ms apart), `ReadTimeout` 5 s, `ContextTimeoutEnabled` false " +
			"(socket reads ignore the caller's deadline), `PoolSize` 10 per CPU.",
		build: func(t target) (*conn, error) {
			return &conn{rdb: redis.NewUniversalClient(t.options(nil))}, nil
		},
	},
	{
		name: "go-redis-tuned",
		how: "go-redis alone, tuned as its documentation suggests to a careful user: " +
			"`ContextTimeoutEnabled` true, `ReadTimeout`/`WriteTimeout` 500 ms, `DialTimeout` 500 ms, " +
			"`PoolTimeout` 1 s, `MaxRetries` 3 with retry backoff 8 to 256 ms, `DialerRetries` 2 (50 ms apart).",
		build: func(t target) (*conn, error) {
			return &conn{rdb: redis.NewUniversalClient(t.options(careful))}, nil
		},
	},
	{
		name: "failsafe-go",
		how: "the tuned go-redis options with go-redis's own retries off (`MaxRetries` -1, `DialerRetries` 1), " +
			"every call run by one failsafe-go v0.9 executor per client, as its docs compose them " +
			"(retry outside the breaker): retry policy with 3 attempts, backoff 20 ms to 1 s with " +
			"jitter factor 0.5, `ReturnLastFailure`, the default retry budget (`budget.New()`: retries at most 20% " +
			"of executions in flight, at least 3), aborting on an open breaker or the caller's context; " +
			"circuit breaker as in its docs' example (opens after 5 failures in a row, closes after " +
			"2 successes) with its 1-minute delay shortened to 5 s (Polly's default break duration). " +
			"Both treat as failures every error except `redis.Nil`, the caller's context errors and error " +
			"replies other than LOADING, READONLY, CLUSTERDOWN, TRYAGAIN and MASTERDOWN. One breaker guards " +
			"the whole client, also in a cluster: failsafe-go knows no nodes.",
		build: func(t target) (*conn, error) {
			return &conn{rdb: redis.NewUniversalClient(t.options(careful, noRetries)), run: newFailsafe()}, nil
		},
	},
	{
		name: "cenkalti-backoff",
		how: "the tuned go-redis options with go-redis's own retries off, every call run by " +
			"`backoff.Retry(ctx, op, backoff.WithBackOff(backoff.NewExponentialBackOff()), backoff.WithMaxTries(3))` " +
			"of cenkalti/backoff v5: its README's form (exponential backoff from 500 ms, factor 1.5, " +
			"randomization 0.5, a new `ExponentialBackOff` per call since it is stateful) with the 3 attempts " +
			"of the others; the same errors as failsafe-go's are retried, the rest are `backoff.Permanent`.",
		build: func(t target) (*conn, error) {
			return &conn{rdb: redis.NewUniversalClient(t.options(careful, noRetries)), run: cenkaltiRetry}, nil
		},
	},
	{
		name: "retryable",
		how: "this library as its README's quick start has it: `hooks.NewUniversalClient` (go-redis's retries off, " +
			"context deadlines on) with `policy.Default()` (3 attempts, full-jitter backoff 20 ms to 1 s, " +
			"a breaker per node opening after 5 failed calls in a row, open 25-50 ms at first and up to 250-500 ms " +
			"while its own PING probes fail, a retry budget of 20% plus 10/s) and go-redis's other defaults " +
			"(`ReadTimeout` 5 s).",
		build: func(t target) (*conn, error) {
			rdb, err := hooks.NewUniversalClient(t.options(nil), policy.Default())
			return &conn{rdb: rdb}, err
		},
	},
	{
		name: "retryable-tuned",
		how: "this library tuned for these faults: the tuned go-redis timeouts (`ReadTimeout` 500 ms, ...), so " +
			"that a frozen node is found out in half a second rather than five, and `policy.Default()` changed " +
			"to 4 attempts within 1 s with full-jitter backoff 10 to 250 ms; the breaker keeps its defaults.",
		build: func(t target) (*conn, error) {
			p, err := tunedPolicy()
			if err != nil {
				return nil, err
			}
			rdb, err := hooks.NewUniversalClient(t.options(careful), p)
			return &conn{rdb: rdb}, err
		},
	},
}

// careful sets the options a careful go-redis user picks.
func careful(o *redis.UniversalOptions) {
	o.ContextTimeoutEnabled = true
	o.ReadTimeout = 500 * time.Millisecond
	o.WriteTimeout = 500 * time.Millisecond
	o.DialTimeout = 500 * time.Millisecond
	o.PoolTimeout = time.Second
	o.MaxRetries = 3
	o.MinRetryBackoff = 8 * time.Millisecond
	o.MaxRetryBackoff = 256 * time.Millisecond
	o.DialerRetries = 2
	o.DialerRetryTimeout = 50 * time.Millisecond
}

// noRetries turns go-redis's own retry loops off, for the libraries that
// retry around the call.
func noRetries(o *redis.UniversalOptions) {
	o.MaxRetries = -1
	o.DialerRetries = 1
}

// tunedPolicy is the policy of retryable-tuned.
func tunedPolicy() (policy.Policy, error) {
	return policy.Default().With(
		policy.MaxAttempts(4),
		policy.MaxElapsed(time.Second),
		policy.Backoff(backoff.FullJitter(backoff.NewExponential(10*time.Millisecond, 250*time.Millisecond, 2))),
	)
}

// transient reports whether failsafe-go and cenkalti/backoff retry err:
// what a careful user of a general-purpose retry library would write for
// Redis. Nothing in it knows whether the command ran.
func transient(err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
			redis.IsTryAgainError(err) || redis.IsMasterDownError(err)
	}
	return true
}

// newFailsafe returns the failsafe-go executor of one client.
func newFailsafe() func(ctx context.Context, call func(context.Context) error) error {
	run, _ := failsafeExecutor()
	return run
}

// failsafeExecutor returns a function that runs calls under a new
// failsafe-go executor, and the executor's breaker.
func failsafeExecutor() (func(ctx context.Context, call func(context.Context) error) error, circuitbreaker.CircuitBreaker[any]) {
	failure := func(_ any, err error) bool { return transient(err) }
	rp := retrypolicy.NewBuilder[any]().
		HandleIf(failure).
		AbortOnErrors(circuitbreaker.ErrOpen, context.Canceled, context.DeadlineExceeded).
		WithMaxAttempts(3).
		WithBackoff(20*time.Millisecond, time.Second).
		WithJitterFactor(0.5).
		WithBudget(budget.New()).
		ReturnLastFailure().
		Build()
	cb := circuitbreaker.NewBuilder[any]().
		HandleIf(failure).
		WithFailureThreshold(5).
		WithSuccessThreshold(2).
		WithDelay(5 * time.Second).
		Build()
	ex := failsafe.With[any](rp, cb)
	return func(ctx context.Context, call func(context.Context) error) error {
		return ex.WithContext(ctx).RunWithExecution(func(e failsafe.Execution[any]) error {
			return call(e.Context())
		})
	}, cb
}

// cenkaltiRetry runs call under cenkalti/backoff's Retry.
func cenkaltiRetry(ctx context.Context, call func(context.Context) error) error {
	_, err := cenkalti.Retry(ctx, func() (struct{}, error) {
		err := call(ctx)
		if err != nil && !transient(err) {
			return struct{}{}, cenkalti.Permanent(err)
		}
		return struct{}{}, err
	}, cenkalti.WithBackOff(cenkalti.NewExponentialBackOff()), cenkalti.WithMaxTries(3))
	return err
}
