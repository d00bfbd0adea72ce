// Command retry answers redis-py's "Pattern 3: Retry with backoff": retry
// temporary errors, such as timeouts and a server still loading its data,
// with a growing delay between attempts.
//
// In redis-py the retry is configured on the client:
//
//	retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 5)
//	r = redis.Redis(retry=retry, retry_on_error=[BusyLoadingError, ...])
//
// With retryable it is a policy installed as a go-redis hook. Beyond what
// redis-py does, the policy knows which commands are safe to repeat: an
// INCR is retried after a LOADING reply, which proves the server never ran
// it, but not after a lost reply, which would risk counting twice. It never
// sleeps past the caller's deadline, and when it gives up the caller gets
// the last real error, not a context error.
//
// It runs against an embedded miniredis that it makes answer LOADING, then
// stops:
//
//	go run ./examples/retry
package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("retry", run) }

func run(ctx context.Context, w io.Writer) error {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return err
	}
	defer m.Close()

	// Retry connection failures (which include timeouts and LOADING) up to
	// 5 attempts, waiting 20 ms, 40 ms, 80 ms, 160 ms. A fleet of clients
	// should add jitter, backoff.FullJitter(...), so that they do not retry
	// in lockstep; this program keeps the delays exact to print them.
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(5),
		policy.Backoff(backoff.NewExponential(20*time.Millisecond, 200*time.Millisecond, 2)),
		policy.Observe(func(e policy.Event) {
			switch e.Kind {
			case policy.RetryScheduled:
				fmt.Fprintf(w, "  attempt %d: %v (%v): retry in %v\n", e.Attempt, e.Class, e.Err, e.Delay)
			case policy.GaveUp:
				fmt.Fprintf(w, "  attempt %d: %v (%v): gave up, %v\n", e.Attempt, e.Class, e.Err, e.Reason)
			case policy.Recovered:
				fmt.Fprintf(w, "  attempt %d: succeeded, after %v\n", e.Attempt, e.Class)
			}
		}),
	)
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: m.Addr(), DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Set(ctx, "config", "v1", 0).Err(); err != nil {
		return err
	}

	// 1. A server loading its dataset answers LOADING for a while.
	loading(m, 3)
	fmt.Fprintln(w, "GET while the server answers LOADING to the next 3 commands:")
	v, err := rdb.Get(ctx, "config").Result()
	fmt.Fprintf(w, "GET config = %q, err = %v\n", v, err)
	if err != nil {
		return err
	}

	// 2. An unsafe command: retried, because LOADING proves it did not run.
	loading(m, 2)
	fmt.Fprintln(w, "INCR while the server answers LOADING to the next 2 commands:")
	n, err := rdb.Incr(ctx, "visits").Result()
	fmt.Fprintf(w, "INCR visits = %d, err = %v: it ran exactly once\n", n, err)
	if err != nil {
		return err
	}

	// 3. A server that stays away: the policy gives up after 5 attempts
	// and returns the last real error.
	m.Close()
	fmt.Fprintln(w, "GET with the server stopped:")
	start := time.Now()
	err = rdb.Get(ctx, "config").Err()
	fmt.Fprintf(w, "GET config: err = %v (class %v) after %v of backoff\n",
		err, retryable.Classify(err), time.Since(start).Round(10*time.Millisecond))
	return nil
}

// loading makes m answer the next n commands with a LOADING error, as a
// Redis does while it loads its dataset after a restart.
func loading(m *miniredis.Miniredis, n int64) {
	var left atomic.Int64
	left.Store(n)
	m.Server().SetPreHook(func(c *server.Peer, _ string, _ ...string) bool {
		if left.Add(-1) < 0 {
			return false
		}
		c.WriteError("LOADING Redis is loading the dataset in memory")
		return true
	})
}
