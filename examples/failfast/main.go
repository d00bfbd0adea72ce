// Command failfast answers redis-py's "Pattern 1: Fail fast": an error that
// no retry can fix reaches the caller at once, unchanged.
//
// In redis-py:
//
//	try:
//	    result = r.get(key)
//	except redis.ResponseError:
//	    # This indicates a bug in the code
//	    raise
//
// With retryable the policy does the sorting, so the caller writes no
// except clause: an error reply such as WRONGTYPE classifies as
// retryable.Response, which no policy retries, and the caller gets
// go-redis's own error value in one attempt. Failing fast also covers a
// node that is down: after five failures in a row the circuit breaker
// refuses calls in microseconds, with an error of class CircuitOpen,
// instead of making every caller wait on a dead server.
//
// It runs against an embedded miniredis, which it stops for the second
// part:
//
//	go run ./examples/failfast
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("failfast", run) }

func run(ctx context.Context, w io.Writer) error {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return err
	}
	defer m.Close()
	addr := m.Addr() // m.Addr panics once m is closed

	// The default policy retries recoverable failures; it counts its
	// retries here so the program can show how many attempts a call took.
	var retries atomic.Int64
	p, err := policy.Default().With(policy.Observe(func(e policy.Event) {
		if e.Kind == policy.RetryScheduled {
			retries.Add(1)
		}
	}))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	// A bug: LPUSH on a key that holds a string.
	if err := rdb.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		return err
	}
	before := retries.Load()
	err = rdb.LPush(ctx, "greeting", "world").Err()
	var reply redis.Error
	fmt.Fprintf(w, "LPUSH on a string: %v\n", err)
	fmt.Fprintf(w, "  class %v, recoverable %v, attempts %d: %s\n",
		retryable.Classify(err), retryable.Classify(err).Recoverable(), 1+retries.Load()-before, retryable.Classify(err).Action())
	fmt.Fprintf(w, "  go-redis's own error reaches the caller: errors.As(err, &redis.Error) = %v\n", errors.As(err, &reply))

	// A dead node: the breaker turns slow failures into instant ones.
	m.Close()
	fmt.Fprintln(w, "the server is stopped; GET it eight times:")
	for i := 1; i <= 8; i++ {
		before := retries.Load()
		start := time.Now()
		err := rdb.Get(ctx, "greeting").Err()
		took := time.Since(start)
		c := retryable.Classify(err)
		fmt.Fprintf(w, "  GET %d: class %v after %d attempt(s), %v\n", i, c, 1+retries.Load()-before, took.Round(time.Microsecond))
		if c == retryable.OK {
			return errors.New("failfast: GET succeeded on a stopped server")
		}
	}
	fmt.Fprintf(w, "the breaker of %s is %v: calls fail fast until it lets a probe through\n",
		addr, p.Breakers().Get(addr).State())
	return nil
}
