// Command logcontinue answers redis-py's "Pattern 4: Log and continue": a
// failed write that is not critical, such as filling a cache, is logged
// and the application carries on.
//
// In redis-py:
//
//	try:
//	    r.setex(key, 3600, value)
//	except redis.ConnectionError:
//	    logger.warning(f"Failed to cache {key}, continuing without cache")
//	    # Application continues normally
//
// With retryable the policy names the best-effort commands once:
// LogAndContinue("set") (go-redis's Set with an expiration sends SET ...
// EX, its form of SETEX). After its retries, a recoverable failure of SET
// is logged with the policy's slog logger, reported to its observer,
// and the call returns nil. Only recoverable classes are swallowed: a
// WRONGTYPE or a canceled context still reaches the caller, and commands
// that are not named keep returning their errors.
//
// It runs against an embedded miniredis, which it stops halfway:
//
//	go run ./examples/logcontinue
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("logcontinue", run) }

func run(ctx context.Context, w io.Writer) error {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return err
	}
	defer m.Close()

	// Warn level: give-ups and swallowed errors, not each retry.
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: dropTime}))
	p, err := policy.Default().With(policy.LogAndContinue("set"), policy.Logger(logger))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: m.Addr(), DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	// render is the application: it builds a report and caches it for an
	// hour, best effort. There is no error handling for the cache write: a
	// failure the policy can swallow never reaches it.
	render := func(id string) error {
		report := "report " + id + ": all systems nominal"
		err := rdb.Set(ctx, "report:"+id, report, time.Hour).Err()
		fmt.Fprintf(w, "SET report:%s EX 3600: err = %v; served %q\n", id, err, report)
		return err
	}

	fmt.Fprintln(w, "cache up:")
	if err := render("1"); err != nil {
		return err
	}
	// A bug is not swallowed: SET with a zero TTL is an error reply.
	err = rdb.Do(ctx, "set", "report:bad", "x", "ex", 0).Err()
	fmt.Fprintf(w, "SET report:bad x EX 0 (a bug): err = %v (class %v)\n", err, retryable.Classify(err))
	if retryable.Classify(err) != retryable.Response {
		return fmt.Errorf("logcontinue: SET with a zero TTL: %v, want an error reply", err)
	}

	m.Close()
	fmt.Fprintln(w, "cache down (the server is stopped):")
	for _, id := range []string{"2", "3"} {
		if err := render(id); err != nil {
			return fmt.Errorf("logcontinue: SET was not swallowed: %w", err)
		}
	}

	// GET is not named: its failure is the caller's to see.
	err = rdb.Get(ctx, "report:1").Err()
	fmt.Fprintf(w, "GET report:1 (not best-effort): err = %v (class %v)\n", err, retryable.Classify(err))
	if err == nil {
		return fmt.Errorf("logcontinue: GET succeeded on a stopped server")
	}
	return nil
}

// dropTime removes the time from log records, to keep the output short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
