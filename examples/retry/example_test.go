package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// The delays the policy chose: exponential from 20 ms, doubling, while the
// server answers LOADING.
func Example_loading() {
	m, _ := miniredis.Run()
	defer m.Close()
	p, _ := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(5),
		policy.Backoff(backoff.NewExponential(20*time.Millisecond, 200*time.Millisecond, 2)),
		policy.Observe(func(e policy.Event) {
			if e.Kind == policy.RetryScheduled {
				fmt.Println("retry in", e.Delay, "after", e.Class)
			}
		}),
	)
	rdb, _ := hooks.NewClient(&redis.Options{Addr: m.Addr()}, p)
	defer rdb.Close()

	ctx := context.Background()
	rdb.Set(ctx, "config", "v1", 0) // connect first: LOADING is for commands, not the handshake
	loading(m, 3)
	fmt.Println(rdb.Get(ctx, "config").Result())
	// Output:
	// retry in 20ms after BusyLoading
	// retry in 40ms after BusyLoading
	// retry in 80ms after BusyLoading
	// v1 <nil>
}
