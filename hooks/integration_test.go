package hooks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/internal/redistest/policytest"
	"github.com/go-retryable/retryable/policy"
)

// Helpers shared by the real-Redis tests of this package. The servers,
// the load generator and the event recorder come from redistest and
// policytest; what is here builds this package's clients and policies.
//
// The retry tests (retry_*_integration_test.go) run the retry loop
// against real redis-server processes with the breaker off, so that what
// they see is the loop alone. Wherever the server can count, the tests
// assert with its own counters (INFO commandstats and errorstats, or
// values in Redis) rather than with what the client believes happened.

// itPolicy returns a breaker-less policy that retries every recoverable
// class with generous limits (200 attempts, 8 s, exponential backoff from
// 10 ms to 200 ms), changed by opts.
func itPolicy(t testing.TB, opts ...policy.Option) policy.Policy {
	t.Helper()
	base := []policy.Option{
		policy.RetryOn(retryable.Connection, retryable.ReadOnly, retryable.ClusterDown, retryable.Busy, retryable.Capacity),
		policy.MaxAttempts(200),
		policy.MaxElapsed(8 * time.Second),
		policy.Backoff(backoff.NewExponential(10*time.Millisecond, 200*time.Millisecond, 2)),
		policy.NoBreaker(),
	}
	p, err := policy.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("policy.New: %v", err)
	}
	if p.Breakers() != nil {
		t.Fatal("itPolicy: the policy has breakers; these tests isolate the retry loop")
	}
	return p
}

// itOptions are client options with short timeouts, so that a dead server
// costs milliseconds rather than go-redis's default seconds.
func itOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:         addr,
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
	}
}

// itClient returns hooks.NewClient(opt, p), closed at t's cleanup.
func itClient(t testing.TB, opt *redis.Options, p policy.Policy) *redis.Client {
	t.Helper()
	c, err := hooks.NewClient(opt, p)
	if err != nil {
		t.Fatalf("hooks.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// itCluster returns hooks.NewClusterClient(opt, p), closed at t's cleanup.
func itCluster(t testing.TB, opt *redis.ClusterOptions, p policy.Policy) *redis.ClusterClient {
	t.Helper()
	c, err := hooks.NewClusterClient(opt, p)
	if err != nil {
		t.Fatalf("hooks.NewClusterClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// itRefusal reports whether err is one of this library's own errors, which
// a breaker-less, budget-less policy must never return.
func itRefusal(err error) bool {
	if _, ok := errors.AsType[*breaker.OpenError](err); ok {
		return true
	}
	return errors.Is(err, breaker.ErrThrottled)
}

// checkOneOutage checks the changes of node's breaker over one outage and
// its recovery: a chain of the changes a breaker makes by itself, opened
// once and closed once, reported alike to OnStateChange (log) and to
// Observe (obs). It returns the changes log saw.
func checkOneOutage(t *testing.T, log, obs *policytest.Recorder, node string) []policytest.StateChange {
	t.Helper()
	changes := log.Changes(node)
	if err := policytest.CheckChain(changes); err != nil {
		t.Errorf("breaker of %s: %v", node, err)
	}
	if n := policytest.CountChanges(changes, breaker.Closed, breaker.Open); n != 1 {
		t.Errorf("breaker of %s: closed->open reported %d times; want once: %v", node, n, changes)
	}
	if n := policytest.CountChanges(changes, breaker.HalfOpen, breaker.Closed); n != 1 {
		t.Errorf("breaker of %s: half-open->closed reported %d times; want once: %v", node, n, changes)
	}
	if got := obs.Changes(node); !policytest.SameChanges(got, changes) {
		t.Errorf("breaker of %s: Observe saw changes %v; OnStateChange saw %v", node, got, changes)
	}
	return changes
}

// step runs fn as the subtest name of a test made of phases, each of which
// builds on the state the one before left. When fn ends the subtest early
// (t.Fatal, t.Skip), the test ends there too, as it would have without
// subtests; when fn only reports errors, the next phase runs.
func step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	finished := false
	passed := t.Run(name, func(t *testing.T) {
		fn(t)
		finished = true
	})
	switch {
	case finished:
	case passed:
		t.SkipNow()
	default:
		t.FailNow()
	}
}
