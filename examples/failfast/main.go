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
// go-redis's own error value in one attempt.
//
// Failing fast also covers a node that is down. Each failed call counts
// once against the node's circuit breaker, however many attempts it made;
// after five failed calls in a row the breaker opens. The call whose
// failure opened it returns the node's own error (the breaker only refused
// its retry); the calls after it are refused in microseconds with an error
// of class CircuitOpen, instead of each waiting on a dead server. While it
// is open the breaker checks the node itself with a PING, every 25-50 ms at
// first and less often while the node stays down (up to every 250-500 ms),
// and closes as soon as the node answers: callers are refused until then,
// and served again from that moment.
//
// It starts a throwaway redis-server from PATH, or an in-process miniredis
// when there is none, and stops it for the second part:
//
//	go run ./examples/failfast
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("failfast", run) }

// ending remembers what the policy decided about the calls of one
// goroutine: the retries it scheduled and how the last failed call ended
// (its GaveUp or Refused event). It is safe for concurrent use: breaker
// changes come from the breaker's own goroutine, though it ignores them.
type ending struct {
	mu      sync.Mutex
	retries int
	last    policy.Event
}

func (e *ending) observe(ev policy.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Kind {
	case policy.RetryScheduled:
		e.retries++
	case policy.GaveUp, policy.Refused:
		e.last = ev
	}
}

// take returns what was recorded since the last take, and forgets it.
func (e *ending) take() (retries int, last policy.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	retries, last = e.retries, e.last
	e.retries, e.last = 0, policy.Event{}
	return retries, last
}

// describe says how a call that returned err ended, from what the policy
// reported about it: "Connection after 3 attempts (attempts exhausted)",
// "CircuitOpen, refused before any attempt" or "OK after 1 attempt".
func describe(err error, retries int, last policy.Event) string {
	c := retryable.Classify(err)
	switch last.Kind {
	case policy.Refused:
		return fmt.Sprintf("%v, refused before any attempt (%v)", c, last.Reason)
	case policy.GaveUp:
		return fmt.Sprintf("%v after %s (%v)", c, attempts(last.Attempt), last.Reason)
	}
	return fmt.Sprintf("%v after %s", c, attempts(1+retries))
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func run(ctx context.Context, w io.Writer) error {
	srv, err := program.OwnRedis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(w, "Redis: %s at %s\n", srv.Kind, srv.Addr)

	// The default policy (3 attempts, a breaker per node that opens after
	// 5 failed calls in a row), and an observer that tells the program how
	// each call ended.
	var seen ending
	p, err := policy.Default().With(policy.Observe(seen.observe))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	// A bug: LPUSH on a key that holds a string.
	if err := rdb.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		return err
	}
	seen.take()
	err = rdb.LPush(ctx, "greeting", "world").Err()
	retries, last := seen.take()
	var reply redis.Error
	c := retryable.Classify(err)
	fmt.Fprintf(w, "LPUSH on a string: %v\n", err)
	fmt.Fprintf(w, "  %s, recoverable %v: %s\n", describe(err, retries, last), c.Recoverable(), c.Action())
	fmt.Fprintf(w, "  go-redis's own error reaches the caller: errors.As(err, &redis.Error) = %v\n", errors.As(err, &reply))

	get := func(i int) error {
		seen.take()
		start := time.Now()
		err := rdb.Get(ctx, "greeting").Err()
		took := time.Since(start)
		retries, last := seen.take()
		fmt.Fprintf(w, "  GET %d: %s, %v\n", i, describe(err, retries, last), took.Round(time.Microsecond))
		return err
	}

	// A dead node: the breaker turns slow failures into instant ones.
	srv.Stop()
	fmt.Fprintln(w, "the server is stopped; GET it eight times:")
	for i := 1; i <= 8; i++ {
		if err := get(i); err == nil || err == redis.Nil {
			return errors.New("failfast: GET succeeded on a stopped server")
		}
	}
	brk := p.Breakers().Get(srv.Addr)
	n := breaker.DefaultConsecutiveFailures
	fmt.Fprintf(w, "GET %d, the %dth call in a row to fail, opened the breaker, which refused its retry: it returned the node's own error;\n", n, n)
	fmt.Fprintf(w, "the breaker of %s is %v: the calls after it fail in microseconds, without touching the network,\n",
		srv.Addr, brk.State())
	fmt.Fprintln(w, "until the breaker's own PING finds the node back")

	// The node comes back: the breaker's next PING closes it.
	restart := time.Now()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	if err := program.Until(ctx, 10*time.Second, "the breaker closes", func() bool { return brk.State() == breaker.Closed }); err != nil {
		return err
	}
	fmt.Fprintf(w, "the server is restarted; the breaker's PING found it and closed the breaker %v after the restart began:\n",
		time.Since(restart).Round(time.Millisecond))
	if err := get(9); err != nil && err != redis.Nil {
		return fmt.Errorf("failfast: GET after the recovery: %w", err)
	}
	return nil
}
