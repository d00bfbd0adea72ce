package hooks

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/policy"
)

func okNext(ctx context.Context, cmd redis.Cmder) error { return nil }

func okPipeNext(ctx context.Context, cmds []redis.Cmder) error { return nil }

// BenchmarkProcessHook measures what the hook adds to a command that
// succeeds: compare "bare" (next alone) with the policies.
func BenchmarkProcessHook(b *testing.B) {
	ctx := context.Background()
	noBreaker, err := policy.Default().With(policy.NoBreaker())
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		fn   redis.ProcessHook
	}{
		{"bare", okNext},
		{"zero-policy", newClientHook(policy.Policy{}, nil, "127.0.0.1:6379", false).ProcessHook(okNext)},
		{"default-no-breaker", newClientHook(noBreaker, nil, "127.0.0.1:6379", false).ProcessHook(okNext)},
		{"default", newClientHook(policy.Default(), nil, "127.0.0.1:6379", false).ProcessHook(okNext)},
		{"cluster-top", newRingHook(policy.Default()).ProcessHook(okNext)},
		{"cluster-node", newNodeHook(engineOf(policy.Default()), &guard{node: "n", brk: policy.Default().Breakers().Get("n")}, new(inFlight), true).ProcessHook(okNext)},
	}
	for _, c := range cases {
		cmd := redis.NewStringCmd(ctx, "get", "k")
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(ctx, cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				cmd := redis.NewStringCmd(ctx, "get", "k")
				for pb.Next() {
					if err := c.fn(ctx, cmd); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkProcessPipelineHook(b *testing.B) {
	ctx := context.Background()
	h := newClientHook(policy.Default(), nil, "127.0.0.1:6379", false)
	fn := h.ProcessPipelineHook(okPipeNext)
	cmds := []redis.Cmder{redis.NewStringCmd(ctx, "get", "a"), redis.NewStringCmd(ctx, "get", "b")}
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(ctx, cmds); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSuccessPathAllocatesNothing keeps the benchmark's promise in the
// ordinary test run.
func TestSuccessPathAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	h := newClientHook(policy.Default(), nil, "n", false)
	fn := h.ProcessHook(okNext)
	pfn := h.ProcessPipelineHook(okPipeNext)
	cmd := redis.NewStringCmd(ctx, "get", "k")
	cmds := []redis.Cmder{cmd}
	if n := testing.AllocsPerRun(1000, func() { _ = fn(ctx, cmd) }); n != 0 {
		t.Fatalf("ProcessHook allocates %v per call on success", n)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = pfn(ctx, cmds) }); n != 0 {
		t.Fatalf("ProcessPipelineHook allocates %v per call on success", n)
	}
	nilNext := func(ctx context.Context, cmd redis.Cmder) error { return redis.Nil }
	nfn := h.ProcessHook(nilNext)
	if n := testing.AllocsPerRun(1000, func() { _ = nfn(ctx, cmd) }); n != 0 {
		t.Fatalf("ProcessHook allocates %v per call on a miss", n)
	}
}

// BenchmarkRefused measures a call that an open breaker refuses: it never
// reaches next, and the caller gets the breaker's *breaker.OpenError.
func BenchmarkRefused(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"command", "pipeline"} {
		b.Run(name, func(b *testing.B) {
			p := policy.Default()
			h := newClientHook(p, nil, "n", false)
			p.Breakers().Get("n").ForceOpen()
			fn := h.ProcessHook(okNext)
			pfn := h.ProcessPipelineHook(okPipeNext)
			cmd := redis.NewStringCmd(ctx, "get", "k")
			cmds := []redis.Cmder{cmd}
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if name == "command" {
					err = fn(ctx, cmd)
				} else {
					err = pfn(ctx, cmds)
				}
				if err == nil {
					b.Fatal("not refused")
				}
			}
		})
	}
}

// BenchmarkRefusedClient is BenchmarkRefused through a real client, as a
// caller sees it; compare with a bare client's call to a node that answers
// at once (go-redis itself allocates the command and its arguments).
func BenchmarkRefusedClient(b *testing.B) {
	ctx := context.Background()
	p := policy.Default()
	c, err := NewClient(&redis.Options{Addr: "127.0.0.1:1"}, p)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p.Breakers().Get("127.0.0.1:1").ForceOpen()
	b.ReportAllocs()
	for b.Loop() {
		if c.Get(ctx, "k").Err() == nil {
			b.Fatal("not refused")
		}
	}
}
