package main

import (
	"context"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/policy"
)

// noDial fails the test if a client of this file ever dials.
func noDial(tb testing.TB) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		tb.Error("a short-circuited client dialed")
		return nil, net.ErrClosed
	}
}

// BenchmarkFailsafe compares the in-process cost of a successful call
// under failsafe-go (the failsafe-go contender's retry policy, circuit
// breaker and budget) and under this
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
	fs, _ := failsafeExecutor()

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
		{"func/failsafe-go", func() error { return fs(ctx, func(context.Context) error { return noop() }) }},
		{"client/bare", func() error { return bare.Get(ctx, key).Err() }},
		{"client/retryable", func() error { return hooked.Get(ctx, key).Err() }},
		{"client/failsafe-go", func() error {
			return fs(ctx, func(ctx context.Context) error { return bare.Get(ctx, key).Err() })
		}},
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
