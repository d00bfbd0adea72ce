package main

import (
	"context"
	"testing"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/bench/internal/server"
	"github.com/go-retryable/retryable/policy"
)

// BenchmarkOpenBreaker measures a call that the open breaker refuses: the
// whole client path (command, hooks, policy decision, error), no network.
func BenchmarkOpenBreaker(b *testing.B) {
	srv := server.Start(b)
	p := policy.Default()
	rdb := newHooked(b, bareOptions(srv.Addr()), p)
	seed(b, rdb)
	p.Breakers().Get(srv.Addr()).ForceOpen()
	ctx := context.Background()
	check := func(b *testing.B, err error) bool {
		if c := retryable.Classify(err); c != retryable.CircuitOpen {
			b.Errorf("GET with the breaker open: %v (class %v), want CircuitOpen", err, c)
			return false
		}
		return true
	}

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !check(b, rdb.Get(ctx, key).Err()) {
				return
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !check(b, rdb.Get(ctx, key).Err()) {
					return
				}
			}
		})
	})
}
