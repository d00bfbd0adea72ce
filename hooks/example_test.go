package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// down is a loopback port nothing listens on: every dial is refused at once,
// so the examples show real go-redis failures without a server.
const down = "127.0.0.1:1"

// Pattern 1, fail fast: an error reply is a bug, not bad luck. It reaches
// the caller at once and unchanged, whatever the policy retries.
func Example_failFast() {
	ctx := context.Background()
	addr := down
	attempts := 0
	p, _ := policy.New(policy.RetryOn(retryable.Connection), policy.MaxAttempts(3))
	p, _ = p.With(policy.Observe(func(e policy.Event) {
		if e.Kind == policy.RetryScheduled {
			attempts++
		}
	}))
	rdb, _ := hooks.NewClient(&redis.Options{Addr: addr}, p)
	defer rdb.Close()

	// A Response error (here go-redis's own CROSSSLOT value, as a cluster
	// returns it) is never retried: Classify says so.
	fmt.Println(retryable.Classify(redis.ErrCrossSlot), retryable.Classify(redis.ErrCrossSlot).Recoverable())

	// A refused connection is recoverable and retried, then returned as is.
	err := rdb.Get(ctx, "user:1").Err()
	if !retryable.Classify(err).Recoverable() {
		fmt.Println(err) // WRONGTYPE and friends are bugs: one attempt, no retry
	}
	fmt.Println(retryable.Classify(err), "after", attempts, "retries")
	// Output:
	// Response false
	// Connection after 2 retries
}

// Pattern 2, graceful degradation: when Redis cannot answer, the fallback
// answers instead, here from "the database".
func Example_gracefulDegradation() {
	database := map[string]string{"user:1": "Ada"}
	p, _ := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(2),
		policy.Fallback(func(ctx context.Context, cmd policy.Cmd, err error) error {
			get, ok := cmd.(*redis.StringCmd)
			if !ok || cmd.Name() != "get" {
				return err
			}
			get.SetVal(database[fmt.Sprint(cmd.Args()[1])])
			return nil
		}),
	)
	rdb, _ := hooks.NewClient(&redis.Options{Addr: down}, p)
	defer rdb.Close()

	name, err := rdb.Get(context.Background(), "user:1").Result()
	fmt.Println(name, err)
	// Output:
	// Ada <nil>
}

// Pattern 3, retry with backoff: recoverable errors are retried with
// jittered exponential backoff, never past the context's deadline, and an
// INCR is never run twice when its reply was lost.
func Example_retryWithBackoff() {
	ctx := context.Background()
	addr := down
	var delays []time.Duration
	p, _ := policy.New(
		policy.RetryOn(retryable.Connection, retryable.ReadOnly, retryable.ClusterDown),
		policy.MaxAttempts(4),
		policy.Backoff(backoff.NewExponential(5*time.Millisecond, 100*time.Millisecond, 2)),
		policy.Observe(func(e policy.Event) {
			if e.Kind == policy.RetryScheduled {
				delays = append(delays, e.Delay)
			}
		}),
	)
	rdb, _ := hooks.NewClient(&redis.Options{Addr: addr}, p)
	defer rdb.Close()

	err := rdb.Incr(ctx, "counter").Err()
	// The dial was refused, so the INCR never ran and retrying it is safe.
	fmt.Println(retryable.Classify(err), retryable.Executed(err), delays)
	// Output:
	// Connection not executed [5ms 10ms 20ms]
}

// Pattern 4, log and continue: a best-effort cache write that fails is
// logged (with policy.Logger) and the call reports success.
func Example_logAndContinue() {
	ctx := context.Background()
	addr := down
	swallowed := 0
	p, _ := policy.New(policy.LogAndContinue("set"), policy.Logger(slog.New(slog.DiscardHandler)))
	p, _ = p.With(policy.Observe(func(e policy.Event) {
		if e.Kind == policy.Swallowed {
			swallowed++
		}
	}))
	rdb, _ := hooks.NewClient(&redis.Options{Addr: addr}, p)
	defer rdb.Close()

	err := rdb.Set(ctx, "page:/", "<html>", time.Hour).Err()
	fmt.Println(err, swallowed)
	// Output:
	// <nil> 1
}

// Install refuses a client whose own retries would multiply the policy's.
func ExampleInstall() {
	rdb := redis.NewClient(&redis.Options{Addr: down}) // MaxRetries defaults to 3
	defer rdb.Close()
	err := hooks.Install(rdb, policy.Default())
	fmt.Println(err != nil)

	rdb2 := redis.NewClient(&redis.Options{Addr: down, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
	defer rdb2.Close()
	fmt.Println(hooks.Install(rdb2, policy.Default()))
	// Output:
	// true
	// <nil>
}

// An open breaker fails calls in microseconds with an error that names the
// node; an operator can isolate a node by hand.
func ExampleNewClient_breaker() {
	p, _ := policy.New(policy.Breaker(breaker.Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}))
	rdb, _ := hooks.NewClient(&redis.Options{Addr: down}, p)
	defer rdb.Close()

	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_ = rdb.Get(ctx, "k").Err() // refused connections: counted failures
	}
	err := rdb.Get(ctx, "k").Err()
	var open *breaker.OpenError
	fmt.Println(retryable.Classify(err), errors.As(err, &open) && open.Node == down)
	fmt.Println(p.Breakers().Get(down).State())
	// Output:
	// CircuitOpen true
	// open
}

// The quick start of the README: build a client with the default policy;
// errors stay go-redis's own, and Classify tells what went wrong.
func ExampleNewClient() {
	ctx := context.Background()
	addr := down
	rdb, err := hooks.NewClient(&redis.Options{Addr: addr}, policy.Default())
	if err != nil {
		panic(err)
	}
	defer rdb.Close()
	val, err := rdb.Get(ctx, "user:1").Result()
	switch {
	case err == redis.Nil: // still go-redis's own errors
		fmt.Println("miss")
	case retryable.Classify(err) == retryable.CircuitOpen: // the node is known to be down
		fmt.Println("down")
	case err != nil:
		fmt.Println(retryable.Classify(err), retryable.Classify(err).Action())
	default:
		fmt.Println(val)
	}
	// Output:
	// Connection retry with backoff or fall back to an alternative
}

// Customising the default policy is one With; NoRetry turns retries off for
// one call, a health check for instance.
func ExampleNewClient_customDefault() {
	ctx := context.Background()
	p, err := policy.Default().With(policy.MaxAttempts(5), policy.Logger(slog.Default()))
	if err != nil {
		fmt.Println(err)
		return
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: down}, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rdb.Close()
	retries := 0
	counted, _ := p.With(policy.Observe(func(e policy.Event) {
		if e.Kind == policy.RetryScheduled {
			retries++
		}
	}))
	check, _ := hooks.NewClient(&redis.Options{Addr: down}, counted)
	defer check.Close()
	err = check.Ping(policy.NoRetry(ctx)).Err()
	fmt.Println(retryable.Classify(err), retries)
	// Output:
	// Connection 0
}
