package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/policy"
)

// shortCircuit is a hook that answers every command itself, as a
// successful Redis would, without a connection: added after the policy,
// it is the "next" the policy wraps, so a benchmark through it measures
// the client's own path and the hooks, no network.
type shortCircuit struct{}

var _ redis.Hook = shortCircuit{}

func (shortCircuit) DialHook(next redis.DialHook) redis.DialHook { return next }

func (shortCircuit) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(context.Context, redis.Cmder) error { return nil }
}

func (shortCircuit) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(context.Context, []redis.Cmder) error { return nil }
}

// noDial fails the test if a client of this file ever dials.
func noDial(tb testing.TB) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		tb.Error("a short-circuited client dialed")
		return nil, net.ErrClosed
	}
}

// newFailsafe returns a failsafe-go executor with the nearest equivalent of
// policy.Default(): 3 attempts with exponential backoff from 20 ms to 1 s,
// and a breaker that opens after 5 failures in a row for 5 s.
func newFailsafe() failsafe.Executor[any] {
	rp := retrypolicy.NewBuilder[any]().
		WithMaxAttempts(policy.DefaultMaxAttempts).
		WithBackoff(policy.DefaultBaseDelay, policy.DefaultMaxDelay).
		WithJitterFactor(0.5).
		Build()
	cb := circuitbreaker.NewBuilder[any]().
		WithFailureThreshold(5).
		WithDelay(5 * time.Second).
		Build()
	return failsafe.With[any](rp, cb)
}

// BenchmarkFailsafe compares the in-process cost of a successful call
// under failsafe-go (retry policy + circuit breaker) and under this
// library's hook (policy.Default()), first around a bare no-op function,
// then around a go-redis GET that a final hook answers without a network.
//
//	func/*:   the protected function alone; failsafe-go can wrap it, our
//	          hook only wraps go-redis commands, so it has no row here.
//	client/*: rdb.Get(ctx, key) through a client whose last hook returns
//	          nil: bare, with our hook, and inside failsafe-go's Run.
func BenchmarkFailsafe(b *testing.B) {
	ctx := context.Background()
	noop := func() error { return nil }
	fs := newFailsafe()

	opt := func() *redis.Options {
		return &redis.Options{Addr: "127.0.0.1:1", Dialer: noDial(b), MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true}
	}
	bare := newBare(b, opt())
	bare.AddHook(shortCircuit{})
	hooked := newHooked(b, opt(), policy.Default())
	hooked.AddHook(shortCircuit{})

	cases := []struct {
		name string
		fn   func() error
	}{
		{"func/bare", noop},
		{"func/failsafe-go", func() error { return fs.Run(noop) }},
		{"client/bare", func() error { return bare.Get(ctx, key).Err() }},
		{"client/retryable", func() error { return hooked.Get(ctx, key).Err() }},
		{"client/failsafe-go", func() error { return fs.Run(func() error { return bare.Get(ctx, key).Err() }) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.fn(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
