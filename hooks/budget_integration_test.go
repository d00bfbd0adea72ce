package hooks_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Real-Redis tests of the retry budget and the admission limiter through
// the hooks.

// TestIntegrationOutageBudgetCapsRetries runs the outage of
// TestIntegrationOutageBreakerOpens with no breaker and a shared retry
// budget: the retries the dead node gets stay within Ratio*requests plus
// MinPerSecond*time, and every retry the budget refuses ends the call with
// go-redis's own connection error (the call reached the node) and a GaveUp
// event that says the budget refused.
func TestIntegrationOutageBudgetCapsRetries(t *testing.T) {
	const (
		workers  = 32
		pace     = 10 * time.Millisecond
		ratio    = 0.1
		floor    = 10.0 // MinPerSecond
		attempts = 3
		outage   = 2 * time.Second
	)
	srv := redistest.Start(t)
	px := redistest.NewProxy(t, srv.Addr())

	budgetMade := time.Now()
	budget, err := breaker.NewBudget(breaker.BudgetSettings{Ratio: ratio, MinPerSecond: floor})
	if err != nil {
		t.Fatal(err)
	}
	obs := &policytest.Recorder{}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(attempts),
		policy.Backoff(backoff.Constant(time.Millisecond)),
		policy.Budget(budget),
		policy.Observe(obs.Observe),
	)
	if err != nil {
		t.Fatal(err)
	}
	if p.Breakers() != nil {
		t.Fatal("policy has a breaker; this test needs none")
	}
	c := itClient(t, &redis.Options{
		Addr:         px.Addr(),
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	}, p)

	var ownErrors atomic.Int64
	ld := policytest.StartLoad(t, workers, pace, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := c.Get(ctx, "missing").Err()
		if err != nil && err != redis.Nil && errors.Is(err, breaker.ErrThrottled) {
			ownErrors.Add(1)
		}
		return err
	})
	time.Sleep(300 * time.Millisecond)
	killAt, dialsAtKill := time.Now(), px.Dials()
	srv.Kill()
	time.Sleep(outage)
	restartAt, dialsAtRestart := time.Now(), px.Dials()
	srv.Restart(t)
	// Calls succeed again with no breaker to wait for: give the workers a
	// moment, then stop them.
	redistest.WaitFor(t, 3*time.Second, func() bool {
		cs := ld.Snapshot()
		return len(cs) > 0 && cs[len(cs)-1].Class == retryable.OK && cs[len(cs)-1].Start.After(restartAt)
	})
	time.Sleep(200 * time.Millisecond)
	calls := ld.Stop()
	elapsed := time.Since(budgetMade)
	requests, retries, refused := budget.Stats()

	during := policytest.Between(calls, killAt, restartAt)
	t.Logf("budget outage: %d calls in all (%d during the %v outage: [%s]); budget: requests=%d retries=%d refused=%d over %v; RetryScheduled=%d; proxy dials during the outage: %d",
		len(calls), len(during), outage, policytest.ClassSummary(policytest.CountClasses(during)), requests, retries, refused,
		elapsed.Round(time.Millisecond), obs.Count(policy.RetryScheduled, ""), dialsAtRestart-dialsAtKill)

	// A first attempt is one request: the connection handshake (HELLO)
	// nested inside it is not another.
	if requests != uint64(len(calls)) {
		t.Errorf("budget counted %d requests; the test made %d calls", requests, len(calls))
	}
	limit := ratio*float64(len(calls)) + floor*elapsed.Seconds() + floor + 2
	if float64(retries) > limit {
		t.Errorf("budget allowed %d retries for %d calls in %v; want at most Ratio*requests + MinPerSecond*t + burst = %.0f",
			retries, len(calls), elapsed, limit)
	}
	if got := obs.Count(policy.RetryScheduled, ""); uint64(got) != retries {
		t.Errorf("Observe saw %d RetryScheduled events; the budget allowed %d retries", got, retries)
	}
	if refused == 0 {
		t.Fatalf("the budget refused no retry during a %v outage of %d calls", outage, len(during))
	}
	// Without the budget every failed call would have retried: the
	// outage asked for far more retries than it got.
	if failed := len(policytest.Failed(during)); uint64(failed) < 2*retries {
		t.Errorf("%d calls failed during the outage and the budget allowed %d retries; want the budget to be the limit", failed, retries)
	}

	if n := ownErrors.Load(); n != 0 {
		t.Errorf("callers got %d Throttled errors; a call that reached the node must end with the node's error", n)
	}
	var refusals []error // the errors of calls whose retry the budget refused
	for _, e := range obs.Events() {
		if e.Kind == policy.GaveUp && e.Reason == policy.BudgetExhausted {
			refusals = append(refusals, e.Err)
		}
	}
	if uint64(len(refusals)) != refused {
		t.Errorf("%d calls gave up for the budget; the budget refused %d retries", len(refusals), refused)
	}
	for i, err := range refusals {
		if got := retryable.Classify(err); !got.Is(retryable.Connection) || itRefusal(err) {
			t.Errorf("a call whose retry the budget refused ended with %q (%T, %v); want go-redis's connection error", err, err, got)
		}
		if i == 0 {
			t.Logf("a refused retry ends with: %v (%T)", err, err)
		}
	}
	// Calls that start once the node is back succeed: the budget does not
	// outlive the outage.
	late := policytest.Between(calls, restartAt.Add(time.Second), time.Now())
	if n := policytest.CountClasses(late)[retryable.OK]; n != len(late) {
		t.Errorf("a second after the restart: %d of %d calls succeeded (%v)", n, len(late), policytest.DistinctErrors(late, 3))
	}
}

// TestIntegrationLimiter installs an admission limiter: a refusing one
// turns a burst beyond its bucket away at once with Throttled errors that
// never reach the server, and a waiting one refuses at once, without
// sleeping, when the wait would outlast the caller's deadline.
func TestIntegrationLimiter(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)

	newClient := func(t *testing.T, lim *breaker.Limiter, obs *policytest.Recorder) *redis.Client {
		t.Helper()
		p, err := policy.New(policy.Limit(lim), policy.Observe(obs.Observe))
		if err != nil {
			t.Fatal(err)
		}
		c := itClient(t, &redis.Options{Addr: srv.Addr(), PoolSize: 32}, p)
		return c
	}
	checkThrottled := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, breaker.ErrThrottled) {
			t.Fatalf("err = %v (%T); want one matching breaker.ErrThrottled", err, err)
		}
		if got := retryable.Classify(err); got != retryable.Throttled {
			t.Errorf("err %q classifies as %v; want Throttled", err, got)
		}
		if te, ok := errors.AsType[*breaker.ThrottledError](err); !ok || te.Reason != breaker.ReasonRateLimit {
			t.Errorf("err %q: want a *breaker.ThrottledError with Reason %q", err, breaker.ReasonRateLimit)
		}
	}

	t.Run("refuse", func(t *testing.T) {
		const burst, callers = 5, 20
		lim, err := breaker.NewLimiter(2, burst, false)
		if err != nil {
			t.Fatal(err)
		}
		obs := &policytest.Recorder{}
		c := newClient(t, lim, obs)
		before := srv.CommandStat(t, "incr").Reached()

		type result struct {
			err  error
			took time.Duration
		}
		results := make([]result, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				t0 := time.Now()
				err := c.Incr(context.Background(), "limited").Err()
				results[i] = result{err, time.Since(t0)}
			})
		}
		began := time.Now()
		close(start)
		wg.Wait()
		window := time.Since(began)

		ok, refusedTook := 0, []time.Duration{}
		for _, r := range results {
			if r.err == nil {
				ok++
				continue
			}
			checkThrottled(t, r.err)
			refusedTook = append(refusedTook, r.took)
		}
		// The bucket holds burst tokens and refills 2 a second; the
		// connection handshakes must not draw from it.
		maxOK := burst + int(2*window.Seconds()) + 1
		t.Logf("limiter refuse: burst of %d in %v: %d admitted, %d throttled; throttled latency p50 %v max %v",
			callers, window.Round(time.Microsecond), ok, len(refusedTook), policytest.Quantile(refusedTook, 0.5), policytest.Quantile(refusedTook, 1))
		if ok < burst || ok > maxOK {
			t.Errorf("%d calls admitted; want %d..%d", ok, burst, maxOK)
		}
		if p50 := policytest.Quantile(refusedTook, 0.5); p50 > 5*time.Millisecond {
			t.Errorf("throttled calls took p50 %v; want them refused at once", p50)
		}
		if got := srv.CommandStat(t, "incr").Reached() - before; got != int64(ok) {
			t.Errorf("server ran INCR %d times; want %d (refused calls must not reach it)", got, ok)
		}
		if v, err := srv.DoErr("GET", "limited"); err != nil || v != strconv.Itoa(ok) {
			t.Errorf("GET limited = %v, %v; want %d", v, err, ok)
		}
		if got := obs.Count(policy.Refused, ""); got != len(refusedTook) {
			t.Errorf("Observe saw %d Refused events; want %d", got, len(refusedTook))
		}
	})

	t.Run("wait", func(t *testing.T) {
		lim, err := breaker.NewLimiter(2, 1, true) // a token every 500ms
		if err != nil {
			t.Fatal(err)
		}
		obs := &policytest.Recorder{}
		c := newClient(t, lim, obs)
		if err := c.Set(context.Background(), "w", "1", 0).Err(); err != nil {
			t.Fatalf("first call, with the bucket full: %v", err)
		}

		// The next token is ~500ms away, past this deadline: refused at once.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		err = c.Get(ctx, "w").Err()
		took := time.Since(t0)
		checkThrottled(t, err)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %q matches context.DeadlineExceeded; want a throttle, decided before the deadline", err)
		}
		if ctx.Err() != nil || took > 150*time.Millisecond {
			t.Errorf("throttled after %v (context err %v); want at once, not at the 300ms deadline", took, ctx.Err())
		}

		// With time enough, the call waits for the token and runs.
		ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel2()
		t1 := time.Now()
		v, err := c.Get(ctx2, "w").Result()
		waited := time.Since(t1)
		t.Logf("limiter wait: refused in %v with a 300ms deadline; with 3s it waited %v and got %q, %v", took, waited, v, err)
		if err != nil || v != "1" {
			t.Errorf("GET with a 3s deadline = %q, %v; want \"1\" after waiting for a token", v, err)
		}
		if waited < 200*time.Millisecond {
			t.Errorf("GET ran after %v; want it to wait for the next token (~500ms after the first call)", waited)
		}
		if got := obs.Count(policy.Refused, ""); got != 1 {
			t.Errorf("Observe saw %d Refused events; want 1", got)
		}
	})
}
