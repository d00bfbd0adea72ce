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
// Each failed read counts once against the cache's breaker. The fifth in a
// row opens it: that read's retry is refused and the fallback gets the
// node's own error; the reads after it are refused before they touch the
// network, and the fallback answers them at once. While it is open the
// breaker PINGs the cache itself, and closes as soon as the cache answers:
// reads go to the cache again from that moment, with nobody resetting
// anything.
//
// It starts a throwaway redis-server from PATH, or an in-process miniredis
// when there is none, which it stops halfway and then restarts:
//
//	go run ./examples/degrade
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
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
	srv, err := program.OwnRedis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(w, "Redis: %s at %s\n", srv.Kind, srv.Addr)

	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	db := database{"user:1": "ada", "user:2": "grace"}
	p, err := policy.Default().With(policy.Command([]string{"get"}, policy.Fallback(db.fallback(logger))))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
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
	read := func(keys ...string) error {
		for _, key := range keys {
			v, err := getUser(key)
			fmt.Fprintf(w, "GET %s = %q, err = %v\n", key, v, err)
			if err != nil {
				return fmt.Errorf("degrade: %s was not served: %w", key, err)
			}
		}
		return nil
	}

	fmt.Fprintln(w, "cache up:")
	if err := read("user:1", "user:1"); err != nil {
		return err
	}

	srv.Stop()
	fmt.Fprintln(w, "cache down (the server is stopped):")
	if err := read("user:1", "user:2", "user:1", "user:2", "user:1", "user:2"); err != nil {
		return err
	}
	brk := p.Breakers().Get(srv.Addr)
	fmt.Fprintf(w, "every read was served; the cache's breaker is %v, so the last read did not even try the network,\n", brk.State())
	fmt.Fprintln(w, "and reads go straight to the database until the breaker's own PING finds the cache back")

	restart := time.Now()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	if err := program.Until(ctx, 10*time.Second, "the cache's breaker closes", func() bool { return brk.State() == breaker.Closed }); err != nil {
		return err
	}
	fmt.Fprintf(w, "cache back (the server is restarted; its breaker closed %v after the restart began):\n",
		time.Since(restart).Round(time.Millisecond))
	return read("user:1", "user:2")
}

// dropTime removes the time from log records, to keep the output short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
