// Command quickstart wraps a go-redis client in retryable's default policy
// and shows it retrying a connection that failed, and the call recovering.
//
// It uses the Redis at REDIS_ADDR when that is set; otherwise it starts a
// throwaway redis-server from PATH on a free port, or, when there is none,
// an in-process miniredis, so it runs on any machine with Go:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("quickstart", run) }

func run(ctx context.Context, w io.Writer) error {
	srv, err := program.Redis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(w, "Redis: %s at %s\n", srv.Kind, srv.Addr)

	// The production default (3 attempts, jittered exponential backoff, a
	// circuit breaker per node, a retry budget), plus an observer that
	// prints each retry the policy decides on, and the attempt that
	// succeeded after one.
	p, err := policy.Default().With(policy.Observe(func(e policy.Event) {
		switch e.Kind {
		case policy.RetryScheduled:
			fmt.Fprintf(w, "  attempt %d failed: %v (class %v); retry in %v\n",
				e.Attempt, e.Err, e.Class, e.Delay.Round(100*time.Microsecond))
		case policy.Recovered:
			fmt.Fprintf(w, "  attempt %d succeeded: the call recovered\n", e.Attempt)
		}
	}))
	if err != nil {
		return err
	}

	// hooks.NewClient is redis.NewClient with the policy installed (and
	// go-redis's own retries off, so that the two do not multiply).
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, Dialer: program.FailFirstDial()}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	fmt.Fprintln(w, "SET greeting hello (the first connection attempt fails, as if Redis were restarting):")
	if err := rdb.Set(ctx, "greeting", "hello", time.Minute).Err(); err != nil {
		return err
	}
	v, err := rdb.Get(ctx, "greeting").Result()
	fmt.Fprintf(w, "GET greeting = %q, err = %v\n", v, err)
	if err != nil {
		return err
	}

	// Errors stay go-redis's own; retryable.Classify says what they mean.
	err = rdb.Get(ctx, "no-such-key").Err()
	fmt.Fprintf(w, "GET no-such-key: err == redis.Nil is %v (class %v: a miss is an answer, not a failure)\n",
		err == redis.Nil, retryable.Classify(err))
	return nil
}
