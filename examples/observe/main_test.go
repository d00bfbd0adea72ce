package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	retryableotel "github.com/go-retryable/retryable/otel"
	"github.com/go-retryable/retryable/policy"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T)
		kind  string
	}{
		{"redis-server on PATH", func(t *testing.T) { examplestest.RedisOnPath(t) }, "redis-server"},
		{"no Redis at all", func(t *testing.T) { examplestest.NoRedis(t) }, "miniredis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			out := examplestest.Run(t, run)
			// The log records: their levels and messages are the
			// library's to change; commands and classes are stable.
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at ",
				"== Redis killed",
				"command=set", "class=Connection",
				"command=get",
				"INCR visits: breaker: ", "(class CircuitOpen)",
				"== Redis restarted",
				"== metrics",
			)
			// Every instrument has points, with the attributes that matter.
			examplestest.InOrder(t, out,
				"retryable.attempt.failures{db.operation.name=GET,error.type=Connection} ",
				"retryable.breaker.state{retryable.breaker.state=closed,server.address=127.0.0.1,server.port=",
				"retryable.breaker.transitions{retryable.breaker.previous_state=closed,retryable.breaker.state=open,",
				"retryable.breaker.transitions{retryable.breaker.previous_state=half_open,retryable.breaker.state=closed,",
				"retryable.fallbacks{db.operation.name=GET,",
				"retryable.give_ups{db.operation.name=",
				"retryable.refusals{db.operation.name=INCR,retryable.refused_by=breaker,",
				"retryable.retries{db.operation.name=",
				"retryable.retry.delay{db.operation.name=",
				"retryable.swallowed_errors{db.operation.name=SET,",
			)
		})
	}
}

// printMetrics prints what the Metrics recorded, one point a line.
func Example_printMetrics() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())
	metrics, _ := retryableotel.New(retryableotel.WithMeterProvider(provider))

	metrics.Observe(policy.Event{Kind: policy.RetryScheduled, Command: "get", Attempt: 1, Delay: 20 * time.Millisecond, Class: retryable.Timeout})
	metrics.Observe(policy.Event{Kind: policy.BreakerChanged, Node: "127.0.0.1:6380", From: breaker.Closed, To: breaker.Open})
	metrics.Observe(policy.Event{Kind: policy.FallbackUsed, Command: "get", Class: retryable.CircuitOpen})
	_ = printMetrics(context.Background(), os.Stdout, reader)
	fmt.Println("done")
	// Output:
	// retryable.attempt.failures{db.operation.name=GET,error.type=Timeout} 1
	// retryable.breaker.state{retryable.breaker.state=closed,server.address=127.0.0.1,server.port=6380} 0
	// retryable.breaker.state{retryable.breaker.state=open,server.address=127.0.0.1,server.port=6380} 1
	// retryable.breaker.transitions{retryable.breaker.previous_state=closed,retryable.breaker.state=open,server.address=127.0.0.1,server.port=6380} 1
	// retryable.fallbacks{db.operation.name=GET,error.type=CircuitOpen} 1
	// retryable.retries{db.operation.name=GET,error.type=Timeout} 1
	// retryable.retry.delay{db.operation.name=GET,error.type=Timeout} count=1 sum=0.0200s
	// done
}
