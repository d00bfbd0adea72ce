// Command observe shows what a policy decides, as log records with log/slog
// and as OpenTelemetry metrics with the retryableotel module.
//
// policy.Logger takes a *slog.Logger: the policy logs its decisions
// (retries, give-ups, refusals, breaker changes, fallbacks, swallowed
// errors) with attributes such as command, class and reason. policy.Observe
// takes a function that receives each decision as a policy.Event; the
// retryableotel module's Metrics.Observe is one, which turns them into
// counters, a gauge of each node's breaker state and a histogram of retry
// delays.
//
// The program stages an outage: it kills its Redis, keeps sending commands
// (the breaker opens, the fallback answers GETs, the best-effort SETs are
// swallowed, INCRs fail), restarts it and waits for the breaker to close.
// Then it prints the metrics. A real program would export them (OTLP,
// Prometheus) instead of reading them with the SDK's ManualReader.
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
	"github.com/go-retryable/retryable/breaker"
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
	fmt.Fprintf(w, "Redis: %s at %s\n", srv.Kind, srv.Addr)

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
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime}))

	p, err := policy.Default().With(
		policy.Breaker(breaker.Settings{OpenTimeout: 200 * time.Millisecond}), // the default's 5 s is long for a demo
		policy.Command([]string{"get"}, policy.Fallback(fromDatabase)),
		policy.LogAndContinue("set"),
		policy.Logger(logger),
		policy.Observe(metrics.Observe),
	)
	if err != nil {
		return err
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 250 * time.Millisecond}, p)
	if err != nil {
		return err
	}
	defer rdb.Close()

	traffic := func() {
		_ = rdb.Set(ctx, "page:/", "<html>", time.Minute).Err()
		_ = rdb.Get(ctx, "user:1").Err()
		if err := rdb.Incr(ctx, "visits").Err(); err != nil {
			fmt.Fprintf(w, "INCR visits: %v (class %v)\n", err, retryable.Classify(err))
		}
	}
	fmt.Fprintln(w, "== Redis up")
	traffic()

	fmt.Fprintln(w, "== Redis killed")
	srv.Stop()
	traffic() // retries, then the breaker opens
	traffic() // refused at once

	fmt.Fprintln(w, "== Redis restarted")
	if err := srv.Start(ctx); err != nil {
		return err
	}
	brk := p.Breakers().Get(srv.Addr)
	for brk.State() != breaker.Closed {
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("the breaker did not close (state %v): %w", brk.State(), err)
		}
		traffic()
	}
	traffic()

	fmt.Fprintln(w, "== metrics")
	return printMetrics(ctx, w, reader)
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
