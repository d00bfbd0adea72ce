package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/examples/internal/examplestest"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

// The fallback sets the GET's value from the database and logs why;
// for a key the database lacks it returns the error unchanged.
func Example_fallback() {
	ctx := context.Background()
	db := database{"user:1": "ada"}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	fallback := db.fallback(logger)
	down := errors.New("dial tcp: connection refused")

	get := redis.NewStringCmd(ctx, "get", "user:1")
	fmt.Println(fallback(ctx, get, down), get.Val())
	fmt.Println(fallback(ctx, redis.NewStringCmd(ctx, "get", "user:9"), down))
	// Output:
	// level=WARN msg="cache unavailable, using database" key=user:1 error="dial tcp: connection refused"
	// <nil> ada
	// dial tcp: connection refused
}
