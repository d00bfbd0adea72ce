package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// With the server gone, the best-effort SET reports success and the
// policy reports what it swallowed; GET, not named, keeps its error.
func Example() {
	m, _ := miniredis.Run()
	addr := m.Addr()
	m.Close()
	p, _ := policy.New(
		policy.LogAndContinue("set"),
		policy.Observe(func(e policy.Event) {
			if e.Kind == policy.Swallowed {
				fmt.Println("swallowed:", e.Command, e.Class)
			}
		}),
	)
	rdb, _ := hooks.NewClient(&redis.Options{Addr: addr}, p)
	defer rdb.Close()
	ctx := context.Background()

	fmt.Println(rdb.Set(ctx, "page:/", "<html>", time.Hour).Err())
	fmt.Println(rdb.Get(ctx, "page:/").Err() != nil)
	// Output:
	// swallowed: set Connection
	// <nil>
	// true
}
