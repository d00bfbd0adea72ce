package hooks_test

import (
	"context"
	"fmt"
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

// Real-Redis tests of the retry loop on a cluster: a slot migration and
// a master's failover.

// TestIntegrationClusterFailover kills a master of a 3-master cluster under
// a stream of SETs and GETs to its slots: they meet connection errors and
// CLUSTERDOWN, are retried at the cluster level and succeed once its
// replica took over. Before that, a multi-key read during a slot
// migration meets TRYAGAIN and is retried until the slot is stable.
func TestIntegrationClusterFailover(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, 3, 1)
	var rec policytest.Recorder
	const maxElapsed = 8 * time.Second
	p := itPolicy(t, policy.Observe(rec.Observe), policy.MaxElapsed(maxElapsed),
		policy.Backoff(backoff.NewExponential(20*time.Millisecond, 200*time.Millisecond, 2)))
	// Runs after the client is closed: the pool of the killed master
	// redials in the background until it notices.
	t.Cleanup(func() { redistest.AwaitRedialers(2 * time.Second) })
	c := itCluster(t, &redis.ClusterOptions{
		Addrs:        cl.Addrs(),
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	}, p)
	ctx := context.Background()

	t.Run("TRYAGAIN", func(t *testing.T) {
		const a, b = "{mig}a", "{mig}b"
		slot := redistest.Slot(a)
		src := cl.MasterFor(a)
		var dst *redistest.Server
		for _, m := range cl.Masters() {
			if m != src {
				dst = m
				break
			}
		}
		dstID, _ := dst.Do(t, "CLUSTER", "MYID").(string)
		if err := c.Set(ctx, a, "1", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		before := src.ErrorStat(t, "TRYAGAIN")
		src.Do(t, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID)
		stable := false
		defer func() {
			if !stable {
				src.Do(t, "CLUSTER", "SETSLOT", slot, "STABLE")
			}
		}()
		done := make(chan error, 1)
		var vals []any
		go func() {
			var err error
			vals, err = c.MGet(ctx, a, b).Result()
			done <- err
		}()
		// One key is here, the other is not: the source answers TRYAGAIN
		// until the slot is stable again.
		redistest.WaitFor(t, 5*time.Second, func() bool { return src.ErrorStat(t, "TRYAGAIN")-before >= 3 })
		src.Do(t, "CLUSTER", "SETSLOT", slot, "STABLE")
		stable = true
		if err := <-done; err != nil {
			t.Fatalf("MGET: %v", err)
		}
		if len(vals) != 2 || vals[0] != "1" || vals[1] != nil {
			t.Errorf("MGET = %v; want [1 <nil>]", vals)
		}
		tryagain := src.ErrorStat(t, "TRYAGAIN") - before
		retried := rec.Count(policy.RetryScheduled, "mget", retryable.ClusterDown)
		t.Logf("errorstat_TRYAGAIN +%d on the source; the engine retried MGET %d times", tryagain, retried)
		// Each policy attempt reaches the server once: go-redis's own
		// cluster loop must not multiply them.
		if int64(retried) != tryagain {
			t.Errorf("the source answered TRYAGAIN %d times; the engine retried %d: attempts were multiplied", tryagain, retried)
		}
	})

	t.Run("failover", func(t *testing.T) {
		const tag = "{fo}"
		victim := cl.MasterFor(tag)
		for i := range 20 {
			if err := c.Set(ctx, fmt.Sprintf("%sk%d", tag, i), "v", 0).Err(); err != nil {
				t.Fatalf("SET before the failover: %v", err)
			}
		}
		// Workers 0 and 1 use the victim's slots; worker 2 the slots of a
		// master that survives, which answers CLUSTERDOWN while the
		// cluster is without a master for some slots.
		survivor := ""
		for i := 0; survivor == ""; i++ {
			if tag := fmt.Sprintf("{sv%d}", i); cl.MasterFor(tag) != victim {
				survivor = tag
			}
		}
		const workers = 3
		seq := make([]int, workers)
		var wrong atomic.Int64
		ld := policytest.StartLoad(t, workers, 5*time.Millisecond, func(w int) error {
			seq[w]++
			key := fmt.Sprintf("%sw%d:%d", tag, w, seq[w])
			if w == 2 {
				key = fmt.Sprintf("%sw%d:%d", survivor, w, seq[w])
			}
			if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
				return err
			}
			v, err := c.Get(ctx, key).Result()
			if err == redis.Nil {
				return fmt.Errorf("GET %s after its SET: %v", key, err) // a miss is a failure here
			}
			if err == nil && v != "v" {
				wrong.Add(1)
			}
			return err
		})
		ld.AwaitProgress(t, 5*time.Second, 3, nil)
		victim.Kill()
		killed := time.Now()
		cl.WaitHealthy(t)
		healed := time.Since(killed)
		ld.AwaitProgress(t, maxElapsed+2*time.Second, 3, nil)
		calls := ld.Stop()

		failed := policytest.Failed(calls)
		total, slowest := len(calls)-len(failed), policytest.Quantile(policytest.Latencies(calls), 1)
		var clusterDown int64
		for _, n := range cl.Nodes() {
			if n != victim {
				clusterDown += n.ErrorStat(t, "CLUSTERDOWN")
			}
		}
		t.Logf("master killed, cluster healthy after %v; %d rounds succeeded, %d failed, slowest %v; errorstat_CLUSTERDOWN on the survivors %d; events: %s",
			healed.Round(time.Millisecond), total, len(failed), slowest.Round(time.Millisecond), clusterDown, rec.Summary())
		for _, c := range failed {
			t.Errorf("a call failed: %v (class %v)", c.Err, c.Class)
		}
		if wrong.Load() != 0 {
			t.Errorf("%d GETs returned a wrong value", wrong.Load())
		}
		if rec.Count(policy.RetryScheduled, "", retryable.Connection, retryable.ClusterDown) == 0 {
			t.Error("no command was retried: the failover was not exercised")
		}
		for _, e := range rec.Events() {
			if e.Kind == policy.RetryScheduled && !e.Class.Is(retryable.Connection) && e.Class != retryable.ClusterDown {
				t.Errorf("retry for an unexpected class %v: %v", e.Class, e.Err)
			}
		}
		// Every CLUSTERDOWN reply is one attempt, which the engine retried
		// (every call succeeded in the end): go-redis's cluster loop did
		// not retry any of them itself.
		if clusterDown == 0 {
			t.Error("no command met CLUSTERDOWN while the slots had no master")
		}
		if retried := rec.Count(policy.RetryScheduled, "set", retryable.ClusterDown) + rec.Count(policy.RetryScheduled, "get", retryable.ClusterDown); int64(retried) != clusterDown {
			t.Errorf("the survivors answered CLUSTERDOWN %d times; the engine retried %d", clusterDown, retried)
		}
		if slowest > maxElapsed+2*time.Second {
			t.Errorf("the slowest round took %v, past MaxElapsed %v", slowest, maxElapsed)
		}
	})
}
