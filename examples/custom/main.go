// Command custom plugs its own backoff strategy and its own retry
// predicate into a policy.
//
// A backoff strategy is anything with the method
// Delay(attempt int, prev time.Duration) time.Duration: a pure function of
// the retry's number (1 for the first retry) and of the delay it returned
// before, so one value serves every goroutine and needs no Reset. This
// program defines one as a type (schedule, a table of delays, validated
// when the policy is built) and one as a backoff.Func.
//
// A retry predicate, policy.RetryIf, decides about failures that RetryOn
// does not retry. Here it retries BUSY replies (a script is running on the
// server) for read-only commands only: a read may wait for the script to
// end, a write fails fast so that its caller decides. The policy's other
// rules still apply: the predicate never sees WRONGTYPE and friends, and an
// unsafe command is never retried when it may have run.
//
// It runs against an embedded miniredis that it makes answer BUSY and
// LOADING:
//
//	go run ./examples/custom
package main

import (
	"context"
	"errors"
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

func main() { program.Main("custom", run) }

// schedule is a backoff strategy from a table: the n-th retry waits
// schedule[n-1], and every retry past the table waits its last entry. It
// is a slice, so it must not be changed once given to a policy.
type schedule []time.Duration

var _ backoff.Strategy = schedule(nil)

// Delay returns the table's delay for the attempt.
func (s schedule) Delay(attempt int, _ time.Duration) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(max(attempt, 1), len(s))-1]
}

// Validate is called by policy.Backoff when the policy is built, so that a
// bad table is an error there, not a surprise at the first retry.
func (s schedule) Validate() error {
	if len(s) == 0 {
		return errors.New("schedule: no delays")
	}
	for i, d := range s {
		if d < 0 {
			return fmt.Errorf("schedule: delay %d (%v) is negative", i+1, d)
		}
	}
	return nil
}

// growByHalf is a backoff.Func: each delay is the previous one and half
// again, plus 10 ms, up to 200 ms (10 ms, 25 ms, 47.5 ms, ...).
var growByHalf = backoff.Func(func(_ int, prev time.Duration) time.Duration {
	return min(prev+prev/2+10*time.Millisecond, 200*time.Millisecond)
})

// busyReads is the retry predicate: BUSY replies are retried for commands
// that only read.
func busyReads(f policy.Failure) bool {
	return f.Class == retryable.Busy && f.Info.Kind == retryable.Read
}

func run(ctx context.Context, w io.Writer) error {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return err
	}
	defer m.Close()

	p, err := policy.New(
		policy.RetryOn(retryable.Connection), // with its kinds Timeout and BusyLoading
		policy.RetryIf(busyReads),
		policy.MaxAttempts(4),
		policy.Backoff(growByHalf),
		policy.Command([]string{"get", "mget"}, policy.Backoff(schedule{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond})),
		policy.Observe(func(e policy.Event) {
			if e.Kind == policy.RetryScheduled {
				fmt.Fprintf(w, "  %s attempt %d: %v: retry in %v\n", e.Command, e.Attempt, e.Class, e.Delay)
			}
		}),
	)
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: m.Addr(), DisableIdentity: true}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := rdb.Set(ctx, "config", "v1", 0).Err(); err != nil {
		return err
	}

	fmt.Fprintln(w, "GET while a script keeps the server BUSY for 2 commands (a read: retried, on the schedule):")
	reply(m, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", 2)
	v, err := rdb.Get(ctx, "config").Result()
	fmt.Fprintf(w, "GET config = %q, err = %v\n", v, err)

	fmt.Fprintln(w, "SET while the server is BUSY (a write: the predicate says no, it fails fast):")
	reply(m, "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", 1)
	err = rdb.Set(ctx, "config", "v2", 0).Err()
	fmt.Fprintf(w, "SET config: err = %v (class %v)\n", err, retryable.Classify(err))

	fmt.Fprintln(w, "INCR while the server answers LOADING to 3 commands (RetryOn, delays from the Func):")
	reply(m, "LOADING Redis is loading the dataset in memory", 3)
	n, err := rdb.Incr(ctx, "visits").Result()
	fmt.Fprintf(w, "INCR visits = %d, err = %v\n", n, err)
	return err
}

// reply makes m answer the next n commands with the error reply msg.
func reply(m *miniredis.Miniredis, msg string, n int64) {
	var left atomic.Int64
	left.Store(n)
	m.Server().SetPreHook(func(c *server.Peer, _ string, _ ...string) bool {
		if left.Add(-1) < 0 {
			return false
		}
		c.WriteError(msg)
		return true
	})
}
