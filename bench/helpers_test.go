package main

import (
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) {
	// The quick-run test starts this binary as the contenders' workers.
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(os.Stdin, os.Stdout))
	}
	// A go-redis pool whose dials kept failing probes the server from a
	// goroutine that sleeps 1 s between probes and notices Close only
	// after its sleep; it ends on its own.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

const (
	// key is the key every GET reads.
	key = "bench:key"
	// callers is the number of goroutines of the concurrent workloads.
	callers = 64
	// poolSize is the pool of both clients of the GET workloads, one
	// connection per caller.
	poolSize = callers
)

// parallelism returns the b.SetParallelism argument that makes RunParallel
// start at least n goroutines.
func parallelism(n int) int {
	p := runtime.GOMAXPROCS(0)
	return (n + p - 1) / p
}

// bareOptions are the options of the client without the policy: the same
// settings hooks.NewClient forces (no go-redis retries, context deadlines
// on), so that the two differ only by the hook.
func bareOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		PoolSize:              poolSize,
		MaxRetries:            -1,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
	}
}

// newBare returns a client for opt without the policy, closed at tb's end.
func newBare(tb testing.TB, opt *redis.Options) *redis.Client {
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// newHooked returns hooks.NewClient(opt, p), closed at tb's end.
func newHooked(tb testing.TB, opt *redis.Options, p policy.Policy) *redis.Client {
	tb.Helper()
	rdb, err := hooks.NewClient(opt, p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// seed writes the key every GET reads.
func seed(tb testing.TB, rdb *redis.Client) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Set(ctx, key, "value", 0).Err(); err != nil {
		tb.Fatalf("SET %s: %v", key, err)
	}
}

// countingDialer returns a Dialer that counts every dial into n.
func countingDialer(n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
}

// load is the result of a paced workload.
type load struct {
	lat  []time.Duration // one per call, sorted
	errs int             // calls that returned an error
}

// pct returns the q-th quantile (0 < q <= 1) of the latencies.
func (l load) pct(q float64) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(l.lat))+0.5) - 1
	return l.lat[max(0, min(i, len(l.lat)-1))]
}

// paced runs call from workers goroutines for d: each goroutine starts a
// call every pace, or at once when the previous call took longer, as a
// service with steady traffic does. It returns every call's latency.
func paced(workers int, d, pace time.Duration, call func() error) load {
	var (
		mu  sync.Mutex
		all load
		wg  sync.WaitGroup
	)
	end := time.Now().Add(d)
	for range workers {
		wg.Go(func() {
			var mine load
			for next := time.Now(); time.Now().Before(end); {
				start := time.Now()
				err := call()
				mine.lat = append(mine.lat, time.Since(start))
				if err != nil {
					mine.errs++
				}
				next = next.Add(pace)
				if wait := time.Until(next); wait > 0 {
					time.Sleep(wait)
				} else {
					next = time.Now()
				}
			}
			mu.Lock()
			all.lat = append(all.lat, mine.lat...)
			all.errs += mine.errs
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all.lat)
	return all
}
