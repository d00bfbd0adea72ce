package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/bench/internal/server"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// Workload of the fault comparisons: workers goroutines, each starting a
// call every pace, for runFor.
const (
	workers = 8
	pace    = 5 * time.Millisecond
	runFor  = 3 * time.Second
)

// deadAddr starts a server and kills it: its port refuses connections.
func deadAddr(tb testing.TB) string {
	srv := server.Start(tb)
	srv.Kill()
	return srv.Addr()
}

// tripped calls GET until the policy's breaker for addr is open.
func tripped(tb testing.TB, rdb *redis.Client, p policy.Policy, addr string) {
	tb.Helper()
	ctx := context.Background()
	brk := p.Breakers().Get(addr)
	for i := 0; brk.State() != breaker.Open; i++ {
		if i == 100 {
			tb.Fatalf("breaker of %s still %v after 100 failed calls", addr, brk.State())
		}
		if rdb.Get(ctx, key).Err() == nil {
			tb.Fatalf("GET from dead %s succeeded", addr)
		}
	}
}

// BenchmarkDeadPort measures calls to a port that refuses connections, in
// the steady state that follows the first failures: a go-redis client with
// its defaults (MaxRetries 3, DialerRetries 5; after PoolSize failed dials
// it fails dials at once but still backs off between its retries) against
// hooks.NewClient with policy.Default() (the breaker is open). dials/op
// counts the connection attempts the dead port received.
func BenchmarkDeadPort(b *testing.B) {
	addr := deadAddr(b)
	var bareDials, hookedDials atomic.Int64
	bare := newBare(b, &redis.Options{Addr: addr, Dialer: countingDialer(&bareDials)})
	p := policy.Default()
	hooked := newHooked(b, &redis.Options{Addr: addr, Dialer: countingDialer(&hookedDials)}, p)
	ctx := context.Background()

	// Saturate go-redis's count of failed dials (PoolSize) at once:
	// serially, each of these calls takes about 1.7 s.
	var wg sync.WaitGroup
	for range bare.Options().PoolSize {
		wg.Go(func() { _ = bare.Get(ctx, key).Err() })
	}
	wg.Wait()
	tripped(b, hooked, p, addr)

	for _, c := range []struct {
		name  string
		rdb   *redis.Client
		dials *atomic.Int64
	}{
		{"bare-defaults", bare, &bareDials},
		{"hooked-default-policy", hooked, &hookedDials},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			before := c.dials.Load()
			for b.Loop() {
				if c.rdb.Get(ctx, key).Err() == nil {
					b.Fatal("GET from a dead port succeeded")
				}
			}
			b.ReportMetric(float64(c.dials.Load()-before)/float64(b.N), "dials/op")
		})
	}
}

// scenario is one client of a fault comparison.
type scenario struct {
	name   string
	client func(t *testing.T, opt *redis.Options) (*redis.Client, *breaker.Breaker)
}

// scenarios are the two clients every comparison runs: go-redis with its
// defaults, and hooks.NewClient with policy.Default().
var scenarios = []scenario{
	{"bare-defaults", func(t *testing.T, opt *redis.Options) (*redis.Client, *breaker.Breaker) {
		return newBare(t, opt), nil
	}},
	{"hooked-default-policy", func(t *testing.T, opt *redis.Options) (*redis.Client, *breaker.Breaker) {
		p := policy.Default()
		return newHooked(t, opt, p), p.Breakers().Get(opt.Addr)
	}},
}

// result is what a comparison measured for one client.
type result struct {
	load
	dials int64
}

// compare runs run for every scenario in parallel and checks what holds
// whatever the machine's speed: every call failed, and the policy made the
// median call at least ten times faster and completed more calls.
func compare(t *testing.T, fault string, run func(t *testing.T, sc scenario) result) {
	var (
		mu  sync.Mutex
		got = map[string]result{}
	)
	t.Run("group", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				r := run(t, sc)
				if len(r.lat) == 0 {
					t.Fatal("no call completed")
				}
				if r.errs != len(r.lat) {
					t.Errorf("%d of %d calls succeeded against a broken server", len(r.lat)-r.errs, len(r.lat))
				}
				t.Logf("%s, %s: %d calls in %v from %d goroutines (one call per %v each): p50 %v, p99 %v, max %v; %d dials", fault, sc.name,
					len(r.lat), runFor, workers, pace, r.pct(0.50), r.pct(0.99), r.pct(1), r.dials)
				mu.Lock()
				got[sc.name] = r
				mu.Unlock()
			})
		}
	})
	bare, hooked := got["bare-defaults"], got["hooked-default-policy"]
	if t.Failed() || len(bare.lat) == 0 || len(hooked.lat) == 0 {
		return
	}
	if hooked.pct(0.5)*10 > bare.pct(0.5) {
		t.Errorf("p50 hooked %v, bare %v: want the policy at least 10x faster", hooked.pct(0.5), bare.pct(0.5))
	}
	if len(hooked.lat) <= len(bare.lat) {
		t.Errorf("calls completed: hooked %d, bare %d: want more with the policy", len(hooked.lat), len(bare.lat))
	}
}

// TestDeadPortComparison sends steady traffic for 3 s to a port that
// refuses connections and logs, for go-redis's defaults and for the
// default policy, the latency of the calls and the number of dials the
// port received.
func TestDeadPortComparison(t *testing.T) {
	t.Parallel()
	compare(t, "dead port", func(t *testing.T, sc scenario) result {
		addr := deadAddr(t)
		var dials atomic.Int64
		rdb, brk := sc.client(t, &redis.Options{Addr: addr, Dialer: countingDialer(&dials)})
		ctx := context.Background()
		l := paced(workers, runFor, pace, func() error { return rdb.Get(ctx, key).Err() })
		r := result{load: l, dials: dials.Load()}
		if brk != nil {
			// Open, or half-open for the moment a probe's dial takes.
			if s := brk.State(); s == breaker.Closed {
				t.Errorf("breaker %v after %v of failures, want open or probing", s, runFor)
			}
			// The breaker opens after 5 failures; then the port sees the
			// dials of the calls that raced with it and of the probes.
			if limit := int64(5 + 3*workers); r.dials > limit {
				t.Errorf("%d dials to a dead port, want at most %d", r.dials, limit)
			}
		}
		return r
	})
}

// TestFrozenComparison freezes the server (SIGSTOP) under steady traffic:
// ReadTimeout 500 ms, every call with a 1 s deadline. With go-redis's
// defaults every call waits for its read timeout (go-redis v9.23 does not
// retry a read timeout once the command was written) and each timed-out
// connection is replaced by a new dial; the default policy opens the
// breaker after 5 timeouts and fails the calls after that at once.
func TestFrozenComparison(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	compare(t, "frozen server", func(t *testing.T, sc scenario) result {
		srv := server.Start(t)
		var dials atomic.Int64
		rdb, brk := sc.client(t, &redis.Options{
			Addr:        srv.Addr(),
			ReadTimeout: 500 * time.Millisecond,
			Dialer:      countingDialer(&dials),
		})
		seed(t, rdb)
		// Idle connections in the pool, as in a service that ran before.
		if l := paced(workers, 100*time.Millisecond, pace, func() error {
			return rdb.Get(context.Background(), key).Err()
		}); l.errs > 0 {
			t.Fatalf("%d of %d warm-up GETs failed", l.errs, len(l.lat))
		}
		if err := srv.Freeze(); err != nil {
			t.Fatal(err)
		}
		before := dials.Load()
		l := paced(workers, runFor, pace, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			return rdb.Get(ctx, key).Err()
		})
		r := result{load: l, dials: dials.Load() - before}
		if brk != nil {
			// Open, or half-open while a probe waits on the frozen
			// server; never closed.
			if s := brk.State(); s == breaker.Closed {
				t.Errorf("breaker %v after %v of timeouts, want open or probing", s, runFor)
			}
			// The policy never waits past the caller's deadline.
			if slack := 500 * time.Millisecond; r.pct(1) > deadline+slack {
				t.Errorf("slowest call took %v, want at most the %v deadline (+%v slack)", r.pct(1), deadline, slack)
			}
		}
		return r
	})
}
