// Command degrade answers redis-py's "Pattern 2: Graceful degradation":
// when the cache is unreachable, serve from the database instead.
//
// In redis-py:
//
//	try:
//	    cached_value = r.get(key)
//	    if cached_value:
//	        return cached_value
//	except redis.ConnectionError:
//	    logger.warning("Cache unavailable, using database")
//
//	# Fallback to database
//	return database.get(key)
//
// With retryable the fallback is part of the policy, declared once for the
// GET command instead of at every call site. It runs after the policy's
// retries fail, or at once when the circuit breaker is open, and only for
// recoverable failures: a WRONGTYPE bug still reaches the caller. It sets
// the command's value, so the caller's rdb.Get(...).Result() returns the
// database's value and a nil error. A cache miss (redis.Nil) is an answer,
// not a failure: the caller handles it as usual.
//
// It runs against an embedded miniredis, which it stops halfway:
//
//	go run ./examples/degrade
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("degrade", run) }

// database is the authoritative store behind the cache.
type database map[string]string

// fallback answers a failed GET from the database. It is the policy's
// FallbackFunc for GET: it gets the command and the final error, sets the
// command's value and returns nil, or returns the error when it cannot help.
func (db database) fallback(logger *slog.Logger) policy.FallbackFunc {
	return func(_ context.Context, cmd policy.Cmd, err error) error {
		get, isGet := cmd.(*redis.StringCmd)
		args := cmd.Args()
		if !isGet || len(args) < 2 {
			return err
		}
		key, _ := args[1].(string)
		v, found := db[key]
		if !found {
			return err
		}
		logger.Warn("cache unavailable, using database", "key", key, "error", err)
		get.SetVal(v)
		return nil
	}
}

func run(ctx context.Context, w io.Writer) error {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return err
	}
	defer m.Close()

	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	db := database{"user:1": "ada", "user:2": "grace"}
	p, err := policy.Default().With(policy.Command([]string{"get"}, policy.Fallback(db.fallback(logger))))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: m.Addr(), DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	// getUser is the application's read path: cache first, database on a
	// miss. It has no error handling for outages: the policy has it.
	getUser := func(key string) (string, error) {
		v, err := rdb.Get(ctx, key).Result()
		if err == redis.Nil {
			v = db[key]
			fmt.Fprintf(w, "  %s: cache miss, loaded from the database, caching it\n", key)
			return v, rdb.Set(ctx, key, v, time.Hour).Err()
		}
		return v, err
	}
	read := func(key string) error {
		v, err := getUser(key)
		fmt.Fprintf(w, "GET %s = %q, err = %v\n", key, v, err)
		return err
	}

	fmt.Fprintln(w, "cache up:")
	for _, k := range []string{"user:1", "user:1"} {
		if err := read(k); err != nil {
			return err
		}
	}

	m.Close()
	fmt.Fprintln(w, "cache down (the server is stopped):")
	for _, k := range []string{"user:1", "user:2", "user:1", "user:2"} {
		if err := read(k); err != nil {
			return fmt.Errorf("degrade: the fallback did not serve %s: %w", k, err)
		}
	}
	fmt.Fprintf(w, "every read was served; the cache's breaker is %v, so the last reads did not even try the network\n",
		p.Breakers().Get(rdb.Options().Addr).State())
	return nil
}

// dropTime removes the time from log records, to keep the output short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
