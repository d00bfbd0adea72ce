package main

import (
	"context"
	"fmt"
	"os"
	"strings"
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
			// The log records: the recovered first call, the outage's
			// calls at Debug, the breaker opening and closing, and the
			// summary, once the breaker closed by itself.
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at ",
				"== Redis up",
				`level=DEBUG msg="retryable: recovered" event=recovered command=set `, "attempt=2 class=Connection",
				"== Redis killed",
				`msg="retryable: gave up" event="gave up" command=set `, `reason="attempts exhausted" class=Connection`,
				`level=WARN msg="retryable: breaker open" `,
				`msg="retryable: gave up" event="gave up" command=get `, `reason="circuit open" class=Connection`,
				`msg="retryable: refused" event=refused command=incr `,
				"INCR visits: breaker: ", "(class CircuitOpen)",
				"== Redis restarted",
				`level=INFO msg="retryable: breaker closed" `,
				`level=WARN msg="retryable: summary of the outage" `, " recovered=1 ", " fallbacks=2 swallowed=2 ",
				"== metrics",
			)
			// Every instrument has points, with the attributes that matter.
			examplestest.InOrder(t, out,
				"retryable.attempt.failures{db.operation.name=GET,error.type=Connection} ",
				"retryable.breaker.state{retryable.breaker.state=closed,server.address=127.0.0.1,server.port=",
				"retryable.breaker.transitions{retryable.breaker.previous_state=closed,retryable.breaker.state=open,",
				"retryable.breaker.transitions{retryable.breaker.previous_state=half_open,retryable.breaker.state=closed,",
				"retryable.fallbacks{db.operation.name=GET,error.type=Connection} 2\n",
				"retryable.give_ups{db.operation.name=GET,error.type=Connection,retryable.reason=circuit_open} 1\n",
				"retryable.recoveries{db.operation.name=SET,error.type=Connection} 1\n",
				"retryable.recovery.attempts{db.operation.name=SET,error.type=Connection} count=1 sum=2\n",
				"retryable.refusals{db.operation.name=INCR,retryable.refused_by=breaker,",
				"retryable.retries{db.operation.name=",
				"retryable.retry.delay{db.operation.name=",
				"retryable.swallowed_errors{db.operation.name=SET,error.type=Connection} 2\n",
			)
			if n := strings.Count(out, "INCR visits: "); n != 2 {
				t.Errorf("%d INCRs failed, want 2: two during the outage, none after the breaker closed", n)
			}
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
	metrics.Observe(policy.Event{Kind: policy.Recovered, Command: "get", Attempt: 2, Class: retryable.Timeout})
	_ = printMetrics(context.Background(), os.Stdout, reader)
	fmt.Println("done")
	// Output:
	// retryable.attempt.failures{db.operation.name=GET,error.type=Timeout} 1
	// retryable.breaker.state{retryable.breaker.state=closed,server.address=127.0.0.1,server.port=6380} 0
	// retryable.breaker.state{retryable.breaker.state=open,server.address=127.0.0.1,server.port=6380} 1
	// retryable.breaker.transitions{retryable.breaker.previous_state=closed,retryable.breaker.state=open,server.address=127.0.0.1,server.port=6380} 1
	// retryable.fallbacks{db.operation.name=GET,error.type=CircuitOpen} 1
	// retryable.recoveries{db.operation.name=GET,error.type=Timeout} 1
	// retryable.recovery.attempts{db.operation.name=GET,error.type=Timeout} count=1 sum=2
	// retryable.retries{db.operation.name=GET,error.type=Timeout} 1
	// retryable.retry.delay{db.operation.name=GET,error.type=Timeout} count=1 sum=0.0200s
	// done
}
