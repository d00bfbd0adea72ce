package hooks

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
	"weak"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// A breaker that is open checks its node itself, with a PING, instead of
// letting a caller's command find out (breaker.Breaker.AddProbe). The
// first PING goes on a connection of its own, made with the client's
// options, not through the client's pool: failed probes never count
// towards go-redis's own dial limit (after PoolSize failed dials its pool
// returns the last dial error without dialing, until a background redial a
// second later succeeds). Once the node answers, a second PING goes
// through the client, past its breaker (the probe context marks it), so
// that the breaker closes only when the client itself can reach the node.

// prober is what a node's probe knows of the client that registered it.
type prober struct {
	client weak.Pointer[redis.Client] // a client dropped by its owner stops probing
	closed atomic.Bool                // set once a call through the client saw ErrClosed
	remove atomic.Pointer[func()]
}

// probeWith registers with g's breaker a probe through c's options, and
// returns the prober (nil when g has no breaker) so that the hook can tell
// it the client was closed.
func probeWith(g *guard, c *redis.Client) *prober {
	if g.brk == nil || c == nil {
		return nil
	}
	pr := &prober{client: weak.Make(c)}
	r := g.brk.AddProbe(pr.probe)
	pr.remove.Store(&r)
	return pr
}

func (pr *prober) probe(ctx context.Context) breaker.Outcome {
	c := pr.client.Value()
	if c == nil || pr.closed.Load() || clientClosed(c) {
		if r := pr.remove.Load(); r != nil {
			(*r)()
		}
		return breaker.Ignore
	}
	o := *c.Options()
	// One connection is dialed; a pool of one would reach go-redis's dial
	// limit (PoolSize failed dials) with it and start a background redial
	// that outlives the probe by a second.
	o.PoolSize, o.MinIdleConns, o.MaxIdleConns, o.MaxActiveConns = 2, 0, 0, 0
	o.MaxRetries, o.DialerRetries, o.ContextTimeoutEnabled = -1, 1, true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	pc := redis.NewClient(&o)
	defer pc.Close()
	if err := pc.Ping(ctx).Err(); err != nil {
		return breaker.Failure
	}
	// The node answers. The client's pool may still be returning its
	// last dial error, until go-redis's own redial (once a second) sees
	// the node: look again, briefly, within the probe's deadline.
	for {
		err := c.Ping(withProbe(ctx)).Err()
		switch {
		case err == nil:
			return breaker.Success
		case errors.Is(err, redis.ErrClosed):
			pr.closed.Store(true)
			return breaker.Ignore
		case retryable.Classify(err) != retryable.Connection || ctx.Err() != nil:
			return breaker.Failure
		}
		t := time.NewTimer(poolRecheck)
		select {
		case <-ctx.Done():
			t.Stop()
			return breaker.Failure
		case <-t.C:
		}
	}
}

// poolRecheck is how often a probe that reached the node looks again
// whether the client's own pool reaches it too.
const poolRecheck = 20 * time.Millisecond

// probeKey marks the context of a probe's PING through the client, which
// the hooks let past a breaker that refuses every caller.
type probeKey struct{}

func withProbe(ctx context.Context) context.Context { return context.WithValue(ctx, probeKey{}, true) }

// isProbe is read only when a breaker refused, never on the success path.
func isProbe(ctx context.Context) bool { return ctx.Value(probeKey{}) != nil }

// clientClosed asks c whether it was closed, without I/O: go-redis's pool
// answers ErrClosed before it looks at the context, and a context that is
// done before anything else.
func clientClosed(c *redis.Client) bool {
	ctx, cancel := context.WithCancel(withProbe(context.Background()))
	cancel()
	return errors.Is(c.Ping(ctx).Err(), redis.ErrClosed)
}

// sawClosed tells the prober the client was closed.
func (pr *prober) sawClosed() {
	if pr != nil {
		pr.closed.Store(true)
	}
}
