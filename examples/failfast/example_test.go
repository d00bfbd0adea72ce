package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// A bug fails fast: WRONGTYPE is a Response error, which no policy
// retries, and the caller gets go-redis's own error.
func Example() {
	m, _ := miniredis.Run()
	defer m.Close()
	rdb, _ := hooks.NewClient(&redis.Options{Addr: m.Addr()}, policy.Default())
	defer rdb.Close()
	ctx := context.Background()

	rdb.Set(ctx, "greeting", "hello", 0)
	err := rdb.LPush(ctx, "greeting", "world").Err()
	fmt.Println(err)
	fmt.Println(retryable.Classify(err), retryable.Classify(err).Recoverable())
	// Output:
	// WRONGTYPE Operation against a key holding the wrong kind of value
	// Response false
}
