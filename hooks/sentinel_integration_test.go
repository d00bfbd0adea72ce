package hooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/internal/redistest"
	"github.com/go-retryable/retryable/policy"
)

// TestIntegrationSentinelWatchFollowsFailover isolates the master's
// breaker (ForceOpen: every call refused, no probe), then has the Sentinel
// fail over to the replica. No call reaches a node, so only the master
// watch, which asks the Sentinel while calls are refused, can move the
// client to the new master: without it the client would be refused for as
// long as the old master's breaker stays forced open. A client made with
// hooks.Install on an existing failover client has no watch (it cannot
// know the Sentinels' addresses) and stays refused.
func TestIntegrationSentinelWatchFollowsFailover(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	sentinel := redistest.StartSentinel(t, master, "mymaster")
	ctx := context.Background()
	p := policy.Default()
	opt := &redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{sentinel.Addr()},
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond}
	c, err := hooks.NewFailoverClient(opt, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// The same Sentinel client with the policy installed afterwards.
	io := *opt
	io.MaxRetries, io.DialerRetries, io.ContextTimeoutEnabled = -1, 1, true
	installed := redis.NewFailoverClient(&io)
	t.Cleanup(func() { _ = installed.Close() })
	if err := hooks.Install(installed, p); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*redis.Client{c, installed} {
		if err := cl.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("SET through the Sentinel client: %v", err)
		}
	}

	old := p.Breakers().Get(master.Addr())
	old.ForceOpen()
	t.Cleanup(old.Release)
	for _, cl := range []*redis.Client{c, installed} {
		if err := cl.Get(ctx, "k").Err(); retryable.Classify(err) != retryable.CircuitOpen {
			t.Fatalf("GET with the master isolated: %v, want CircuitOpen", err)
		}
	}

	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.Addr()})
	t.Cleanup(func() { _ = sc.Close() })
	// The Sentinel refuses a failover until it has seen the replica.
	redistest.WaitFor(t, 30*time.Second, func() bool { return sc.Failover(ctx, "mymaster").Err() == nil })
	redistest.WaitFor(t, 30*time.Second, func() bool { return sentinel.MasterAddr(t) == replica.Addr() })
	named := time.Now()

	var back time.Duration
	redistest.WaitFor(t, 10*time.Second, func() bool {
		err := c.Set(ctx, "k", "after", 0).Err()
		if err == nil {
			back = time.Since(named)
			return true
		}
		if cl := retryable.Classify(err); cl != retryable.CircuitOpen && cl != retryable.ReadOnly && cl != retryable.Connection {
			t.Fatalf("SET during the failover: %v (class %v)", err, cl)
		}
		time.Sleep(5 * time.Millisecond)
		return false
	})
	t.Logf("the Sentinel named the new master; the client's first write reached it %v later", back.Round(time.Millisecond))
	if v, err := replica.DoErr("GET", "k"); err != nil || v != "after" {
		t.Fatalf("GET k on the promoted replica: %v, %v; want the write made through the client", v, err)
	}
	if st := p.Breakers().Get(replica.Addr()).State(); st != breaker.Closed {
		t.Errorf("the new master's breaker is %v, want closed", st)
	}
	if st := old.State(); st != breaker.Open {
		t.Errorf("the old master's breaker is %v, want still forced open", st)
	}
	// Installed on an existing client: no watch, still refused.
	if err := installed.Get(ctx, "k").Err(); retryable.Classify(err) != retryable.CircuitOpen {
		t.Errorf("GET through the installed client, master isolated: %v, want CircuitOpen (it has no watch)", err)
	}
}
