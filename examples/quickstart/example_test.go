package main

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// The README's quick start, line for line, against an in-process server.
func Example_readme() {
	m, _ := miniredis.Run()
	defer m.Close()
	addr, ctx := m.Addr(), context.Background()

	err := func() error {
		rdb, err := hooks.NewClient(&redis.Options{Addr: addr}, policy.Default())
		if err != nil {
			return err
		}
		defer rdb.Close()
		err = rdb.Set(ctx, "greeting", "hello", 0).Err() // retried with backoff, never past ctx's deadline
		if err != nil {
			return err
		}
		fmt.Println(rdb.Get(ctx, "greeting").Val())
		return nil
	}()
	fmt.Println(err)
	// Output:
	// hello
	// <nil>
}
