package hooks

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
)

// probeKey marks the context of a breaker's own PING, which the hooks let
// through a breaker that refuses every caller: the engine, not a caller's
// command, finds out when the node is back.
type probeKey struct{}

var probeCtxValue = new(int)

func withProbe(ctx context.Context) context.Context {
	return context.WithValue(ctx, probeKey{}, probeCtxValue)
}

// isProbe is read only when a breaker refused, never on the success path.
func isProbe(ctx context.Context) bool { return ctx.Value(probeKey{}) == probeCtxValue }

// probeWith registers with g's breaker a probe that PINGs through c, and
// returns g. The probe takes itself off when c is closed.
func probeWith(g *guard, c *redis.Client) *guard {
	if g.brk == nil {
		return g
	}
	var remove atomic.Pointer[func()]
	r := g.brk.AddProbe(func(ctx context.Context) breaker.Outcome {
		err := c.Ping(withProbe(ctx)).Err()
		switch {
		case err == nil:
			return breaker.Success
		case errors.Is(err, redis.ErrClosed):
			if r := remove.Load(); r != nil {
				(*r)()
			}
			return breaker.Ignore
		}
		return breaker.Failure
	})
	remove.Store(&r)
	return g
}
