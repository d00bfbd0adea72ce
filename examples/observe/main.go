// Command observe shows what a policy decides, as log records with log/slog
// and as OpenTelemetry metrics with the retryableotel module.
//
// policy.Logger takes a *slog.Logger, meant to be read by a person during
// an incident: the breaker opening (Warn) and closing (Info), and a summary
// (Warn) of the retries, recoveries, give-ups, refusals, fallbacks and
// swallowed errors since the last one, when a breaker closes or every 10 s
// while failures go on. Each decision is logged on its own at Debug, with
// attributes such as command, attempt, class and reason; this program
// shows them all. policy.Observe takes a function that receives each
// decision as a policy.Event; the retryableotel module's Metrics.Observe is
// one, which turns them into counters, a gauge of each node's breaker state
// and histograms of retry delays and of the attempts of recovered calls.
//
// The program's first connection fails, as if Redis were still starting,
// so its first command recovers at its second attempt. Then it stages an
// outage: it kills its Redis and keeps sending commands (the breaker opens
// after five failed calls, the fallback answers GETs, the best-effort SETs
// are swallowed, INCRs fail), and restarts it: the breaker, which PINGs the
// node itself while it is open, closes on its own, with no traffic needed,
// and the logger writes the summary of the outage. Then it prints the
// metrics. A real program would export them (OTLP, Prometheus) instead of
// reading them with the SDK's ManualReader.
//
// It starts a throwaway redis-server from PATH, or an in-process miniredis
// when there is none:
//
//	go run ./examples/observe
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/program"
	"github.com/go-retryable/retryable/hooks"
	retryableotel "github.com/go-retryable/retryable/otel"
	"github.com/go-retryable/retryable/policy"
)

func main() { program.Main("observe", run) }

func run(ctx context.Context, w io.Writer) error {
	srv, err := program.OwnRedis(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	// The logger hears the breaker's changes on the breaker's own
	// goroutine: out keeps the lines whole and in order.
	out := program.NewOutput(w)
	out.Printf("Redis: %s at %s\n", srv.Kind, srv.Addr)

	// Metrics: an SDK MeterProvider whose reader this program reads itself.
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.WithoutCancel(ctx))
	metrics, err := retryableotel.New(retryableotel.WithMeterProvider(provider))
	if err != nil {
		return err
	}

	// Logs: every decision down to Debug, without timestamps to keep the
	// output short.
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime}))

	p, err := policy.Default().With(
		policy.Command([]string{"get"}, policy.Fallback(fromDatabase)),
		policy.LogAndContinue("set"),
		policy.Logger(logger),
		policy.Observe(metrics.Observe),
	)
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 250 * time.Millisecond, Dialer: program.FailFirstDial()}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	traffic := func() {
		_ = rdb.Set(ctx, "page:/", "<html>", time.Minute).Err()
		_ = rdb.Get(ctx, "user:1").Err()
		if err := rdb.Incr(ctx, "visits").Err(); err != nil {
			out.Printf("INCR visits: %v (class %v)\n", err, retryable.Classify(err))
		}
	}
	out.Printf("== Redis up (the first connection attempt fails)\n")
	traffic()

	out.Printf("== Redis killed\n")
	srv.Stop()
	traffic() // three calls fail after their retries
	traffic() // the fifth failed call opens the breaker; the INCR after it is refused

	out.Printf("== Redis restarted\n")
	if err := srv.Start(ctx); err != nil {
		return err
	}
	// No traffic is needed for the breaker to close: its own PING finds
	// the node, and the logger writes the summary of the outage.
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := out.WaitFor(wait, `msg="retryable: summary of the outage"`); err != nil {
		return fmt.Errorf("the breaker did not close (state %v): %w", p.Breakers().Get(srv.Addr).State(), err)
	}
	traffic()

	out.Printf("== metrics\n")
	return printMetrics(ctx, out, reader)
}

// fromDatabase is the fallback for GET: it answers from the application's
// database when Redis cannot.
func fromDatabase(_ context.Context, cmd policy.Cmd, err error) error {
	get, ok := cmd.(*redis.StringCmd)
	if !ok {
		return err
	}
	get.SetVal("ada")
	return nil
}

// dropTime removes the time from log records.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
