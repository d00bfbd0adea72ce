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
// is reported to the policy's observer and the call returns nil. Only
// recoverable classes are swallowed: a WRONGTYPE or a canceled context
// still reaches the caller, and commands that are not named keep
// returning their errors.
//
// Two loggers share the work. The application logs its own warning for
// each swallowed write, from a policy.Observe function: redis-py's except
// clause, declared once. The policy's own slog logger (policy.Logger) is
// for the operator: it writes each decision at Debug only, and above that
// what matters during an incident: the breaker opening (Warn) and closing
// (Info), and a summary of what the policy did (Warn), when the breaker
// closes or every 10 s while failures go on. The outage here opens the
// breaker after five failed writes, so the sixth is refused at once; when
// the server is back, the breaker's own PING closes it and the summary
// counts the outage.
//
// It starts a throwaway redis-server from PATH, or an in-process miniredis
// when there is none, which it stops halfway and then restarts:
//
//	go run ./examples/logcontinue
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("logcontinue", run) }

func run(ctx context.Context, w io.Writer) error {
	srv, err := program.OwnRedis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	// The policy's logger writes the breaker's closing from the breaker's
	// own goroutine: out keeps the lines whole and in order.
	out := program.NewOutput(w)
	out.Printf("Redis: %s at %s\n", srv.Kind, srv.Addr)

	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: dropTime}))
	// The application's warning for each write the policy swallowed.
	warn := func(e policy.Event) {
		if e.Kind == policy.Swallowed {
			logger.Warn("failed to cache, continuing without cache", "command", e.Command, "class", e.Class, "error", e.Err)
		}
	}
	p, err := policy.Default().With(policy.LogAndContinue("set"), policy.Observe(warn), policy.Logger(logger))
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true, DialTimeout: 250 * time.Millisecond}, p)
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
		out.Printf("SET report:%s EX 3600: err = %v; served %q\n", id, err, report)
		if err != nil {
			return fmt.Errorf("logcontinue: SET was not swallowed: %w", err)
		}
		return nil
	}

	out.Printf("cache up:\n")
	if err := render("1"); err != nil {
		return err
	}
	// A bug is not swallowed: SET with a zero TTL is an error reply.
	err = rdb.Do(ctx, "set", "report:bad", "x", "ex", 0).Err()
	out.Printf("SET report:bad x EX 0 (a bug): err = %v (class %v)\n", err, retryable.Classify(err))
	if retryable.Classify(err) != retryable.Response {
		return fmt.Errorf("logcontinue: SET with a zero TTL: %v, want an error reply", err)
	}

	srv.Stop()
	out.Printf("cache down (the server is stopped):\n")
	for _, id := range []string{"2", "3", "4", "5", "6", "7"} {
		if err := render(id); err != nil {
			return err
		}
	}
	// GET is not named: its failure is the caller's to see.
	err = rdb.Get(ctx, "report:1").Err()
	out.Printf("GET report:1 (not best-effort): err = %v (class %v)\n", err, retryable.Classify(err))
	if err == nil {
		return fmt.Errorf("logcontinue: GET succeeded on a stopped server")
	}

	out.Printf("cache back (the server is restarted):\n")
	if err := srv.Start(ctx); err != nil {
		return err
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := out.WaitFor(wait, `msg="retryable: summary of the outage"`); err != nil {
		return err
	}
	return render("8")
}

// dropTime removes the time from log records, to keep the output short.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
