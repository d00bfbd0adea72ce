package hooks_test

import (
	"context"
	"slices"
	"strconv"
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

// Real-Redis tests of circuit breaking on a cluster: one frozen master.

// TestIntegrationClusterFrozenMaster freezes (SIGSTOP) one master of a
// three-master cluster under load: its breaker opens, calls for its keys
// fail fast with CircuitOpen instead of waiting out the read timeout,
// calls for keys on the other masters keep their pace, and after the thaw
// a probe succeeds and the breaker closes by itself.
func TestIntegrationClusterFrozenMaster(t *testing.T) {
	const (
		threshold      = 3
		openTimeout    = 500 * time.Millisecond
		readTimeout    = 200 * time.Millisecond
		callDeadline   = 300 * time.Millisecond
		healthyWorkers = 4
		frozenWorkers  = 2
		phase          = time.Second
	)
	cl := redistest.StartCluster(t, 3, 0)
	// With its 1s node timeout the cluster would soon mark the frozen
	// master failed and, with no replica to promote, stop serving every
	// slot (cluster-require-full-coverage). This test is about the client
	// isolating one node, so the nodes are told to be patient.
	for _, s := range cl.Nodes() {
		s.ConfigSet(t, "cluster-node-timeout", "60000")
	}
	masters := cl.Masters()
	frozen := masters[0]
	var healthyKeys, frozenKeys []string
	for i := 0; len(healthyKeys) < 8 || len(frozenKeys) < 4; i++ {
		key := "key:" + strconv.Itoa(i)
		switch m := cl.MasterFor(key); {
		case m == frozen && len(frozenKeys) < 4:
			frozenKeys = append(frozenKeys, key)
		case m != frozen && len(healthyKeys) < 8:
			healthyKeys = append(healthyKeys, key)
		}
	}

	log := &policytest.Recorder{}
	obs := &policytest.Recorder{}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection, retryable.ClusterDown),
		policy.MaxAttempts(2),
		policy.Backoff(backoff.Constant(5*time.Millisecond)),
		policy.Breaker(breaker.Settings{ConsecutiveFailures: threshold, OpenTimeout: openTimeout, OnStateChange: log.OnStateChange}),
		policy.Observe(obs.Observe),
	)
	if err != nil {
		t.Fatal(err)
	}
	c := itCluster(t, &redis.ClusterOptions{
		Addrs:        cl.Addrs(),
		DialTimeout:  readTimeout,
		ReadTimeout:  readTimeout,
		WriteTimeout: readTimeout,
	}, p)
	ctx := context.Background()
	for _, k := range slices.Concat(healthyKeys, frozenKeys) {
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	get := func(keys []string) func(int) error {
		var n atomic.Int64
		return func(int) error {
			ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
			defer cancel()
			return c.Get(ctx, keys[int(n.Add(1))%len(keys)]).Err()
		}
	}
	healthy := policytest.StartLoad(t, healthyWorkers, 0, get(healthyKeys))
	frozenLoad := policytest.StartLoad(t, frozenWorkers, 2*time.Millisecond, get(frozenKeys))

	time.Sleep(200 * time.Millisecond)
	beforeFrom := time.Now()
	time.Sleep(phase)
	beforeTo := time.Now()

	freezeAt := time.Now()
	frozen.Freeze()
	open := log.AwaitChange(t, 3*time.Second, frozen.Addr(), breaker.Closed, breaker.Open, freezeAt)
	duringFrom := time.Now()
	time.Sleep(phase)
	duringTo := time.Now()
	thawAt := time.Now()
	frozen.Thaw()
	closed := log.AwaitChange(t, 10*time.Second, frozen.Addr(), breaker.HalfOpen, breaker.Closed, thawAt)
	time.Sleep(200 * time.Millisecond)
	hCalls := healthy.Stop()
	fCalls := frozenLoad.Stop()
	endAt := time.Now()

	okRate := func(calls []policytest.Call, from, to time.Time) float64 {
		return float64(policytest.CountClasses(policytest.Between(calls, from, to))[retryable.OK]) / to.Sub(from).Seconds()
	}
	before, during := okRate(hCalls, beforeFrom, beforeTo), okRate(hCalls, duringFrom, duringTo)
	fWhileOpen := policytest.Between(fCalls, open.At, thawAt)
	fFailed := policytest.Failed(fWhileOpen)
	fClasses := policytest.CountClasses(fFailed)
	p50, p99 := policytest.Quantile(policytest.Latencies(fFailed), 0.5), policytest.Quantile(policytest.Latencies(fFailed), 0.99)
	t.Logf("cluster: healthy masters %.0f ops/s before the freeze, %.0f ops/s while frozen (%.0f%%); breaker of the frozen master opened %v after SIGSTOP",
		before, during, 100*during/before, open.At.Sub(freezeAt).Round(time.Millisecond))
	t.Logf("cluster: frozen master's keys while its breaker was open: %d calls, %d failed [%s], failed-call latency p50 %v p99 %v (read timeout %v); closed %v after the thaw",
		len(fWhileOpen), len(fFailed), policytest.ClassSummary(fClasses), p50, p99, readTimeout, closed.At.Sub(thawAt).Round(time.Millisecond))

	if hc := policytest.CountClasses(hCalls); hc[retryable.OK] != len(hCalls) {
		t.Errorf("healthy masters' keys: %d calls, [%s] (%v); want every one to succeed", len(hCalls), policytest.ClassSummary(hc), policytest.DistinctErrors(hCalls, 3))
	}
	if before == 0 || during < before/2 {
		t.Errorf("healthy masters: %.0f ops/s while one master was frozen, %.0f before; want at least half", during, before)
	}
	if len(fFailed) == 0 || fClasses[retryable.CircuitOpen]*10 < len(fFailed)*9 {
		t.Errorf("frozen master's keys while open: [%s]; want at least 90%% CircuitOpen", policytest.ClassSummary(fClasses))
	}
	if p50 >= readTimeout/20 {
		t.Errorf("frozen master's keys while open: failed-call p50 %v; want well under the %v read timeout", p50, readTimeout)
	}
	if after := policytest.Between(fCalls, closed.At, endAt); len(after) == 0 || policytest.CountClasses(after)[retryable.OK] != len(after) {
		t.Errorf("frozen master's keys after its breaker closed: %d calls [%s] (%v); want all OK",
			len(after), policytest.ClassSummary(policytest.CountClasses(after)), policytest.DistinctErrors(after, 3))
	}

	checkOneOutage(t, log, obs, frozen.Addr())
	for _, m := range masters[1:] {
		if ch := log.Changes(m.Addr()); len(ch) != 0 {
			t.Errorf("healthy master %s: breaker transitions %v; want none", m.Addr(), ch)
		}
	}
	p.Breakers().Each(func(b *breaker.Breaker) {
		if st := b.State(); st != breaker.Closed {
			t.Errorf("breaker of %s at the end: %v; want closed", b.Node(), st)
		}
	})
	if b := p.Breakers().Get(frozen.Addr()); b.Counts().ConsecutiveFailures != 0 {
		t.Errorf("frozen master's breaker after closing: %+v; want its counters reset", b.Counts())
	}
}
