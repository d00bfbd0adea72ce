package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable/hooks"
	"github.com/go-retryable/retryable/policy"
)

// shortCircuit is a hook that answers every command itself, as a
// successful Redis would, without a connection: added after a policy, it
// is the "next" the policy wraps, so a benchmark through it measures the
// client's own path and the hooks, no network.
type shortCircuit struct{}

var _ redis.Hook = shortCircuit{}

func (shortCircuit) DialHook(next redis.DialHook) redis.DialHook { return next }

func (shortCircuit) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(context.Context, redis.Cmder) error { return nil }
}

func (shortCircuit) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(context.Context, []redis.Cmder) error { return nil }
}

// microAddr is the address of the short-circuited clients: never dialed.
const microAddr = "127.0.0.1:1"

// noNetwork fails every dial of a short-circuited client.
func noNetwork(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("bench: a short-circuited client dialed")
}

// shortOptions are the options of the short-circuited clients.
func shortOptions() *redis.Options {
	return &redis.Options{Addr: microAddr, Dialer: noNetwork, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true}
}

// micro is one microbenchmark's figures: the median ns/op of its rounds.
type micro struct {
	Case     string  `json:"case"`
	Path     string  `json:"path"` // "success" or "refused"
	NsPerOp  float64 `json:"ns_per_op"`
	AllocsOp int64   `json:"allocs_per_op"`
	BytesOp  int64   `json:"bytes_per_op"`
	N        int     `json:"n"`
}

// microCase is a function to measure; check tells a wrong result. setup,
// when set, runs before every timed run.
type microCase struct {
	name, path string
	fn         func() error
	check      func(error) error
	setup      func()
}

// microbenchmarks measures, in this process, a GET through a client whose
// last hook answers it: bare, under this library's hook, and inside
// failsafe-go, cenkalti/backoff and gobreaker; then the same call refused
// by an open breaker.
func microbenchmarks(benchtime time.Duration) ([]micro, error) {
	testing.Init()
	if f := flag.Lookup("test.benchtime"); f != nil {
		old := f.Value.String()
		if err := f.Value.Set(benchtime.String()); err != nil {
			return nil, err
		}
		defer func() { _ = f.Value.Set(old) }()
	}
	ctx := context.Background()
	const key = "bench:get:0"
	bare := redis.NewClient(shortOptions())
	bare.AddHook(shortCircuit{})
	defer bare.Close()
	get := func() error { return bare.Get(ctx, key).Err() }

	hooked := func(p policy.Policy) (*redis.Client, error) {
		rdb, err := hooks.NewClient(shortOptions(), p)
		if err != nil {
			return nil, err
		}
		rdb.AddHook(shortCircuit{})
		return rdb, nil
	}
	def := policy.Default()
	lib, err := hooked(def)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	tp, err := tunedPolicy()
	if err != nil {
		return nil, err
	}
	libTuned, err := hooked(tp)
	if err != nil {
		return nil, err
	}
	defer libTuned.Close()
	op := policy.Default()
	openLib, err := hooked(op)
	if err != nil {
		return nil, err
	}
	defer openLib.Close()
	op.Breakers().Get(microAddr).ForceOpen()

	fsRun, _ := failsafeExecutor()
	// failsafe-go's breaker half-opens after its delay (5 s), so it is
	// opened again before every timed run.
	fsOpenRun, fsOpen := failsafeExecutor()

	gb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: "bench"})
	gbOpen := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{Name: "open", Timeout: time.Hour,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 }})
	boom := errors.New("boom")
	for range 5 {
		_, _ = gbOpen.Execute(func() (any, error) { return nil, boom })
	}
	if gbOpen.State() != gobreaker.StateOpen {
		return nil, fmt.Errorf("gobreaker did not open: %v", gbOpen.State())
	}
	succeed := func(err error) error { return err }
	refused := func(err error) error {
		if kindOf(err) != kindCircuitOpen {
			return fmt.Errorf("want a refusal by an open breaker, got %v", err)
		}
		return nil
	}
	cases := []microCase{
		{"go-redis call (bare)", "success", get, succeed, nil},
		{"retryable hook, policy.Default()", "success", func() error { return lib.Get(ctx, key).Err() }, succeed, nil},
		{"retryable hook, retryable-tuned policy", "success", func() error { return libTuned.Get(ctx, key).Err() }, succeed, nil},
		{"failsafe-go executor (retry + breaker + budget)", "success", func() error {
			return fsRun(ctx, func(ctx context.Context) error { return bare.Get(ctx, key).Err() })
		}, succeed, nil},
		{"cenkalti/backoff Retry", "success", func() error {
			return cenkaltiRetry(ctx, func(ctx context.Context) error { return bare.Get(ctx, key).Err() })
		}, succeed, nil},
		{"gobreaker Execute alone", "success", func() error {
			_, err := gb.Execute(func() (any, error) { return nil, get() })
			return err
		}, succeed, nil},
		{"retryable hook, breaker forced open", "refused", func() error { return openLib.Get(ctx, key).Err() }, refused, nil},
		{"failsafe-go executor, breaker open", "refused", func() error {
			return fsOpenRun(ctx, func(ctx context.Context) error { return bare.Get(ctx, key).Err() })
		}, refused, func() {
			// Open on an open breaker keeps its old delay: close it first.
			fsOpen.Close()
			fsOpen.Open()
		}},
		{"gobreaker Execute, open", "refused", func() error {
			_, err := gbOpen.Execute(func() (any, error) { return nil, get() })
			return err
		}, refused, nil},
	}
	// Every case runs rounds times, round-robin, and keeps its median: on
	// a shared machine one timed run can land on a burst of other work.
	const rounds = 5
	ns := make([][]float64, len(cases))
	out := make([]micro, len(cases))
	for range rounds {
		for i, c := range cases {
			if c.setup != nil {
				c.setup()
			}
			if err := c.check(c.fn()); err != nil {
				return nil, fmt.Errorf("%s: %v", c.name, err)
			}
			var failed error
			r := testing.Benchmark(func(b *testing.B) {
				if c.setup != nil {
					c.setup()
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := c.check(c.fn()); err != nil {
						failed = err
						b.SkipNow()
					}
				}
			})
			if failed != nil {
				return nil, fmt.Errorf("%s: %v", c.name, failed)
			}
			ns[i] = append(ns[i], float64(r.T.Nanoseconds())/float64(max(r.N, 1)))
			out[i] = micro{Case: c.name, Path: c.path, AllocsOp: r.AllocsPerOp(), BytesOp: r.AllocedBytesPerOp(), N: r.N}
		}
	}
	for i := range out {
		slices.Sort(ns[i])
		out[i].NsPerOp = ns[i][len(ns[i])/2]
	}
	return out, nil
}
