package hooks_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Real-Redis tests of the retry loop through a server that dies, loses
// its connections or freezes.

// TestIntegrationRestartDuringGets kills the server under a stream of
// GETs and restarts it a second later: every GET either succeeds, from the
// old server or the new one, or fails with a Connection error after the
// policy gave up, and the new server saw each of its GETs exactly once.
func TestIntegrationRestartDuringGets(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	var rec policytest.Recorder
	const (
		maxElapsed = 6 * time.Second
		outage     = time.Second
		workers    = 4 // worker 0 is the sequential stream; the rest run beside it
	)
	p := itPolicy(t, policy.MaxAttempts(100), policy.MaxElapsed(maxElapsed),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, 250*time.Millisecond, 2)), policy.Observe(rec.Observe))
	c := itClient(t, itOptions(s.Addr()), p)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "old", 0).Err(); err != nil {
		t.Fatalf("SET before the outage: %v", err)
	}

	var oldHits, wrong atomic.Int64
	// A stream, not a busy loop: a GET per millisecond at most.
	ld := policytest.StartLoad(t, workers, time.Millisecond, func(int) error {
		v, err := c.Get(ctx, "k").Result()
		switch {
		case err == nil && v == "old":
			oldHits.Add(1)
		case err == nil:
			wrong.Add(1)
		}
		return err
	})
	// A GET the new server answered: redis.Nil, its data set is empty.
	fresh := func(c policytest.Call) bool { return c.Err == redis.Nil }

	time.Sleep(200 * time.Millisecond)
	s.Kill()
	killed := time.Now()
	time.Sleep(outage)
	s.Restart(t)
	down := time.Since(killed)
	// Every worker, sequential or not, must get answers from the new server.
	ld.AwaitProgress(t, maxElapsed+3*time.Second, 5, fresh)
	calls := ld.Stop()

	perWorker := policytest.PerWorker(calls, workers, fresh)
	freshTotal := 0
	for _, n := range perWorker {
		freshTotal += n
	}
	failed := policytest.Failed(calls)
	slowest := policytest.Quantile(policytest.Latencies(calls), 1)
	t.Logf("outage %v: %d GETs answered by the old server, %d by the new one %v, %d failed; slowest call %v; events: %s",
		down.Round(time.Millisecond), oldHits.Load(), freshTotal, perWorker, len(failed), slowest.Round(time.Millisecond), rec.Summary())

	if wrong.Load() != 0 {
		t.Errorf("%d GETs returned a value that was never set", wrong.Load())
	}
	if oldHits.Load() == 0 {
		t.Error("no GET reached the server before it was killed")
	}
	for _, c := range failed {
		if !c.Class.Is(retryable.Connection) || itRefusal(c.Err) {
			t.Errorf("a GET failed with %v (class %v); want a go-redis Connection-class error", c.Err, c.Class)
		}
	}
	// A failure is allowed only after the policy was exhausted.
	exhausted := 0
	for _, e := range rec.Events() {
		if e.Kind == policy.GaveUp {
			if e.Reason != policy.Exhausted && e.Reason != policy.ElapsedLimit {
				t.Errorf("the engine gave up on %s for %q (%v); want only attempts or elapsed exhausted", e.Command, e.Reason, e.Err)
			}
			exhausted++
		}
		if e.Kind == policy.RetryScheduled && e.Attempt >= 100 {
			t.Errorf("retry scheduled after attempt %d, past MaxAttempts 100", e.Attempt)
		}
	}
	if exhausted != len(failed) {
		t.Errorf("%d GETs failed but the engine gave up %d times", len(failed), exhausted)
	}
	if rec.Count(policy.RetryScheduled, "get", retryable.Connection) == 0 {
		t.Error("no GET was retried after a Connection error: the outage was not exercised")
	}
	// The first failure starts MaxElapsed; one more attempt (a refused dial
	// takes microseconds, a dial timeout 1 s) may run before it ends.
	if limit := maxElapsed + 2*time.Second; slowest > limit {
		t.Errorf("slowest GET took %v, past the policy's MaxElapsed %v (+ slack)", slowest, maxElapsed)
	}
	// Every GET the new server answered ran on it exactly once.
	if got := s.CommandStat(t, "get").Calls; got != int64(freshTotal) {
		t.Errorf("the restarted server ran GET %d times; the clients got %d answers from it", got, freshTotal)
	}
}

// TestIntegrationClientKillMidStream cuts every client connection, again
// and again, while workers SET and GET: every call succeeds, the reads and
// idempotent writes that lost their connection being retried.
func TestIntegrationClientKillMidStream(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	var rec policytest.Recorder
	c := itClient(t, itOptions(s.Addr()), itPolicy(t, policy.Observe(rec.Observe)))
	ctx := context.Background()

	const workers = 3
	seq := make([]int, workers) // each written by its worker only
	ld := policytest.StartLoad(t, workers, 0, func(w int) error {
		seq[w]++
		key, val := "kill:"+strconv.Itoa(w), strconv.Itoa(seq[w])
		if err := c.Set(ctx, key, val, 0).Err(); err != nil {
			return fmt.Errorf("SET %s %s: %w", key, val, err)
		}
		if got, err := c.Get(ctx, key).Result(); err != nil || got != val {
			// %v, not %w: a miss (redis.Nil) is a failure here.
			return fmt.Errorf("GET %s = %q, %v; want %q", key, got, err, val)
		}
		return nil
	})

	var killed int64
	start := time.Now()
	for time.Since(start) < 6*time.Second {
		n, _ := s.Do(t, "CLIENT", "KILL", "TYPE", "normal").(int64)
		killed += n
		if time.Since(start) > time.Second && rec.Count(policy.RetryScheduled, "") >= 10 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	calls := ld.Stop()

	total := len(calls)
	setCalls := s.CommandStat(t, "set").Calls
	t.Logf("%v: %d connections killed, %d SET+GET rounds, server ran SET %d times; events: %s",
		time.Since(start).Round(time.Millisecond), killed, total, setCalls, rec.Summary())
	for _, c := range policytest.Failed(calls) {
		t.Error(c.Err)
	}
	if killed == 0 {
		t.Fatal("CLIENT KILL killed no connection")
	}
	if rec.Count(policy.RetryScheduled, "") == 0 {
		t.Fatal("no command lost its connection in flight: the test did not exercise the retry loop")
	}
	for _, e := range rec.Events() {
		if e.Kind != policy.RetryScheduled && e.Kind != policy.Recovered || (e.Command != "get" && e.Command != "set") || !e.Class.Is(retryable.Connection) {
			t.Errorf("unexpected event %v %s %v: %v", e.Kind, e.Command, e.Class, e.Err)
		}
	}
	// Rounds in flight when stop was called may not have reached the server.
	if setCalls < int64(total-workers) {
		t.Errorf("the server ran SET %d times for %d successful rounds", setCalls, total)
	}
}

// TestIntegrationFrozenServerDeadline calls a frozen (SIGSTOP) server with
// 300 ms deadlines: the hooked client returns within a few milliseconds of
// the deadline with go-redis's Timeout error; a bare go-redis client with
// default options waits out its 1 s read timeout.
func TestIntegrationFrozenServerDeadline(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	p, err := policy.Default().With(policy.NoBreaker())
	if err != nil {
		t.Fatal(err)
	}
	opt := itOptions(s.Addr())
	opt.ReadTimeout = time.Second
	c := itClient(t, opt, p)
	bare := s.Client(t, func(o *redis.Options) { o.ReadTimeout = time.Second })
	ctx := context.Background()
	for name, cl := range map[string]*redis.Client{"hooked": c, "bare": bare} {
		if err := cl.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s PING: %v", name, err)
		}
	}
	s.Freeze()
	defer s.Thaw()

	const deadline = 300 * time.Millisecond
	call := func(cl *redis.Client) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		start := time.Now()
		err := cl.Get(ctx, "k").Err()
		return time.Since(start) - deadline, err
	}
	var late []time.Duration
	for i := range 20 {
		d, err := call(c)
		late = append(late, d)
		if err == nil {
			t.Fatalf("call %d: GET on a frozen server succeeded", i)
		}
		if cl := retryable.Classify(err); cl != retryable.Timeout || err == context.DeadlineExceeded || itRefusal(err) {
			t.Errorf("call %d: error %v (%T, class %v); want go-redis's own Timeout-class error", i, err, err, cl)
		}
	}
	slices.Sort(late)
	t.Logf("hooked client, 20 calls with a %v deadline on a frozen server: lateness min %v, median %v, max %v",
		deadline, late[0].Round(time.Microsecond), late[len(late)/2].Round(time.Microsecond), late[len(late)-1].Round(time.Microsecond))
	if worst := late[len(late)-1]; worst >= 250*time.Millisecond {
		t.Errorf("a call returned %v after its deadline; want < 250ms", worst)
	}

	for i := range 2 {
		d, err := call(bare)
		t.Logf("bare go-redis client (ContextTimeoutEnabled false, ReadTimeout 1s, MaxRetries 3), call %d: returned %v after the %v deadline with %v",
			i, d.Round(time.Millisecond), deadline, err)
		if err == nil {
			t.Fatalf("bare call %d: GET on a frozen server succeeded", i)
		}
	}
}
