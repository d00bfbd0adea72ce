package hooks_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
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

// Real-Redis tests of the retry loop through the error replies of a
// server in a passing state: LOADING, READONLY and BUSY.

// TestIntegrationLoading reloads a data set slowly (DEBUG RELOAD with
// key-load-delay) under a stream of GETs: they get LOADING, are retried
// and succeed once it is loaded. commandstats shows the rejected attempts
// and that each successful GET ran once.
func TestIntegrationLoading(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "loading-process-events-interval-bytes 1024")
	s.Do(t, "DEBUG", "POPULATE", 15000)
	s.ConfigSet(t, "key-load-delay", "10") // about 1.3 s of loading here
	var rec policytest.Recorder
	c := itClient(t, itOptions(s.Addr()), itPolicy(t, policy.Observe(rec.Observe),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, 100*time.Millisecond, 2))))
	ctx := context.Background()
	if v, err := c.Get(ctx, "key:1").Result(); err != nil || v != "value:1" {
		t.Fatalf("warm-up GET = %q, %v", v, err)
	}
	before := s.CommandStat(t, "get")

	const workers = 2
	var wrong atomic.Int64
	ld := policytest.StartLoad(t, workers, 2*time.Millisecond, func(int) error {
		v, err := c.Get(ctx, "key:7").Result()
		if err == redis.Nil || err == nil && v != "value:7" {
			wrong.Add(1)
		}
		return err
	})
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.Do(t, "DEBUG", "RELOAD")
	loading := time.Since(start)
	time.Sleep(50 * time.Millisecond)
	calls := ld.Stop()

	failed := policytest.Failed(calls)
	ok, slowest := len(calls)-len(failed), policytest.Quantile(policytest.Latencies(calls), 1)
	after := s.CommandStat(t, "get")
	loadingErrs := s.ErrorStat(t, "LOADING")
	retried := rec.Count(policy.RetryScheduled, "get", retryable.BusyLoading)
	t.Logf("DEBUG RELOAD took %v; %d GETs succeeded, %d failed, slowest %v; server: GET calls +%d, rejected +%d, errorstat_LOADING %d; events: %s",
		loading.Round(time.Millisecond), ok, len(failed), slowest.Round(time.Millisecond),
		after.Calls-before.Calls, after.Rejected-before.Rejected, loadingErrs, rec.Summary())
	for _, c := range failed {
		t.Errorf("GET failed: %v", c.Err)
	}
	if wrong.Load() != 0 {
		t.Errorf("%d GETs returned a wrong value", wrong.Load())
	}
	if loadingErrs == 0 || retried == 0 {
		t.Fatalf("no GET met LOADING (errorstat_LOADING %d, retries %d): the load was not exercised", loadingErrs, retried)
	}
	// Each LOADING reply is one rejected attempt that the engine retried;
	// each success ran exactly once.
	if got := after.Rejected - before.Rejected; got != int64(retried) || got != loadingErrs {
		t.Errorf("the server rejected %d GETs (errorstat_LOADING %d); the engine retried %d", got, loadingErrs, retried)
	}
	if got := after.Calls - before.Calls; got != int64(ok) {
		t.Errorf("the server ran GET %d times for %d successful GETs", got, ok)
	}
}

// TestIntegrationReadOnly writes to a replica, which answers READONLY,
// and promotes it while the writes are retrying: they all succeed, and
// each INCR that succeeded incremented exactly once.
func TestIntegrationReadOnly(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	var rec policytest.Recorder
	c := itClient(t, itOptions(replica.Addr()), itPolicy(t, policy.Observe(rec.Observe),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, 50*time.Millisecond, 2))))
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING the replica: %v", err)
	}

	const workers, rounds = 3, 4
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	var incrs atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("ro:%d:%d", w, i)
				set := func() {
					if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
						errMu.Lock()
						errs = append(errs, fmt.Errorf("SET %s: %w", key, err))
						errMu.Unlock()
					}
				}
				// Odd workers start with an INCR, so that both a write
				// that may be repeated and one that may not meet READONLY.
				if w%2 == 0 {
					set()
				}
				if err := c.Incr(ctx, "ro:ctr").Err(); err != nil {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("INCR: %w", err))
					errMu.Unlock()
				} else {
					incrs.Add(1)
				}
				if w%2 == 1 {
					set()
				}
			}
		})
	}
	t.Cleanup(wg.Wait)
	// Promote once every worker's first write has been refused a few times.
	redistest.WaitFor(t, 5*time.Second, func() bool { return replica.ErrorStat(t, "READONLY") >= 3*workers })
	replica.Promote(t)
	wg.Wait()

	ro := replica.ErrorStat(t, "READONLY")
	incr := replica.CommandStat(t, "incr")
	ctr, _ := replica.Do(t, "GET", "ro:ctr").(string)
	t.Logf("errorstat_READONLY %d; INCR calls %d rejected %d; counter %s after %d successful INCRs; events: %s",
		ro, incr.Calls, incr.Rejected, ctr, incrs.Load(), rec.Summary())
	for _, err := range errs {
		t.Error(err)
	}
	if rec.Count(policy.RetryScheduled, "set", retryable.ReadOnly) == 0 || rec.Count(policy.RetryScheduled, "incr", retryable.ReadOnly) == 0 {
		t.Fatal("SET and INCR did not both meet READONLY: the failover was not exercised")
	}
	if want := strconv.FormatInt(incrs.Load(), 10); ctr != want || incr.Calls != incrs.Load() {
		t.Errorf("counter %q, server ran INCR %d times; want %s each (one increment per successful INCR)", ctr, incr.Calls, want)
	}
	if int64(rec.Count(policy.RetryScheduled, "incr", retryable.ReadOnly)) != incr.Rejected {
		t.Errorf("the server refused %d INCRs; the engine retried %d", incr.Rejected, rec.Count(policy.RetryScheduled, "incr", retryable.ReadOnly))
	}
	if int64(rec.Count(policy.RetryScheduled, "", retryable.ReadOnly)) != ro {
		t.Errorf("the server refused %d writes with READONLY; the engine retried %d", ro, rec.Count(policy.RetryScheduled, "", retryable.ReadOnly))
	}
	for w := range workers {
		for i := range rounds {
			if v, _ := replica.Do(t, "GET", fmt.Sprintf("ro:%d:%d", w, i)).(string); v != "v" {
				t.Errorf("ro:%d:%d = %q after the writes succeeded", w, i, v)
			}
		}
	}
}

// TestIntegrationBusyScript runs a 1.5 s script on a server whose
// busy-reply-threshold is 100 ms: GETs meanwhile get BUSY, are retried
// slowly and succeed once the script ends.
func TestIntegrationBusyScript(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "busy-reply-threshold 100")
	var rec policytest.Recorder
	c := itClient(t, itOptions(s.Addr()), itPolicy(t, policy.Observe(rec.Observe),
		policy.Backoff(backoff.NewExponential(50*time.Millisecond, 400*time.Millisecond, 2))))
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	before := s.CommandStat(t, "get")

	const busyLoop = `local s = redis.call('TIME')
local t0 = s[1] * 1000000 + s[2]
while true do
  local n = redis.call('TIME')
  if n[1] * 1000000 + n[2] - t0 > tonumber(ARGV[1]) then break end
end
return 1`
	runner := s.Client(t, func(o *redis.Options) { o.ReadTimeout = 10 * time.Second; o.MaxRetries = -1 })
	if err := runner.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	scriptDone := make(chan error, 1)
	started := time.Now()
	go func() { scriptDone <- runner.Eval(ctx, busyLoop, nil, 1500000).Err() }()
	time.Sleep(200 * time.Millisecond) // past the 100 ms threshold

	const workers, calls = 2, 3
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	var ended []time.Duration
	for range workers {
		wg.Go(func() {
			for range calls {
				v, err := c.Get(ctx, "k").Result()
				errMu.Lock()
				if err != nil || v != "v" {
					errs = append(errs, fmt.Errorf("GET = %q, %w", v, err))
				}
				ended = append(ended, time.Since(started))
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := <-scriptDone; err != nil {
		t.Fatalf("the busy script failed: %v", err)
	}

	busy := s.ErrorStat(t, "BUSY")
	after := s.CommandStat(t, "get")
	retried := rec.Count(policy.RetryScheduled, "get", retryable.Busy)
	slices.Sort(ended)
	t.Logf("errorstat_BUSY %d; GET calls +%d rejected +%d; first GET returned %v after the script started; events: %s",
		busy, after.Calls-before.Calls, after.Rejected-before.Rejected, ended[0].Round(time.Millisecond), rec.Summary())
	for _, err := range errs {
		t.Error(err)
	}
	if busy == 0 || retried == 0 {
		t.Fatalf("no GET met BUSY (errorstat_BUSY %d, retries %d)", busy, retried)
	}
	if ended[0] < 1500*time.Millisecond {
		t.Errorf("a GET returned %v after the script started, before the script ended", ended[0])
	}
	if got := after.Rejected - before.Rejected; got != int64(retried) {
		t.Errorf("the server rejected %d GETs with BUSY; the engine retried %d", got, retried)
	}
	if got := after.Calls - before.Calls; got != workers*calls {
		t.Errorf("the server ran GET %d times; want %d, once per call", got, workers*calls)
	}
}
