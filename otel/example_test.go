package retryableotel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/hooks"
	retryableotel "github.com/go-retryable/retryable/otel"
	"github.com/go-retryable/retryable/policy"
)

// A policy's events become metrics: here a GET to a port that refuses
// connections is tried three times, and the SDK's ManualReader (an
// exporter in production) reads what was recorded.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	m, err := retryableotel.New(retryableotel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	p, err := policy.New(
		policy.RetryOn(retryable.Connection),
		policy.MaxAttempts(3),
		policy.Backoff(backoff.Constant(10*time.Millisecond)),
		policy.Observe(m.Observe),
	)
	if err != nil {
		panic(err)
	}
	rdb, err := hooks.NewClient(&redis.Options{Addr: "127.0.0.1:1"}, p) // nothing listens there
	if err != nil {
		panic(err)
	}
	defer rdb.Close()
	_ = rdb.Get(context.Background(), "user:1").Err()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, md := range rm.ScopeMetrics[0].Metrics {
		switch d := md.Data.(type) {
		case metricdata.Sum[int64]:
			dp := d.DataPoints[0]
			op, _ := dp.Attributes.Value("db.operation.name")
			class, _ := dp.Attributes.Value("error.type")
			fmt.Printf("%s{%s %s} = %d %s\n", md.Name, op.String(), class.String(), dp.Value, md.Unit)
		case metricdata.Histogram[float64]:
			dp := d.DataPoints[0]
			fmt.Printf("%s: %d delays, %.2f %s in all\n", md.Name, dp.Count, dp.Sum, md.Unit)
		}
	}
	// Output:
	// retryable.attempt.failures{GET Connection} = 3 {attempt}
	// retryable.retries{GET Connection} = 2 {retry}
	// retryable.give_ups{GET Connection} = 1 {call}
	// retryable.retry.delay: 2 delays, 0.02 s in all
}

// The README's usage: metrics from the policy's events, on any client the
// policy is installed on.
func Example_policy() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	err := func() error {
		metrics, err := retryableotel.New(retryableotel.WithMeterProvider(provider))
		if err != nil {
			return err
		}
		p, err := policy.Default().With(policy.Observe(metrics.Observe)) // then hooks.NewClient(opts, p) as usual
		if err != nil {
			return err
		}
		rdb, err := hooks.NewClient(&redis.Options{Addr: "127.0.0.1:1"}, p) // nothing listens there
		if err != nil {
			return err
		}
		defer rdb.Close()
		fmt.Println(retryable.Classify(rdb.Get(context.Background(), "user:1").Err()))
		return nil
	}()
	fmt.Println(err)

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, md := range rm.ScopeMetrics[0].Metrics {
		if md.Name == retryableotel.GiveUps {
			fmt.Println(md.Name, md.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
		}
	}
	// Output:
	// Connection
	// <nil>
	// retryable.give_ups 1
}
