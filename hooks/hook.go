package hooks

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/bridge"
	"github.com/go-retryable/retryable/policy"
)

// engine and rules are the bridge's types as the policy package fills
// them.
type (
	engine = bridge.Engine[policy.Failure, policy.Reason, policy.Event, policy.FallbackFunc]
	rules  = bridge.Rules[policy.Failure, policy.Reason, policy.FallbackFunc]
)

// engineOf returns the engine p was built with; the zero Policy's is a
// policy.New() one.
func engineOf(p policy.Policy) *engine {
	if e, ok := bridge.Handle(p).Engine().(*engine); ok {
		return e
	}
	zero, _ := policy.New()
	return bridge.Handle(zero).Engine().(*engine)
}

// retryHook runs the policy's retry loop. On a plain or Sentinel client
// it also guards the client's node with its breaker; at the top of a
// ClusterClient or Ring it guards nothing itself (each node hook guards
// its node) and talks to the node hooks through its in-flight table (see
// node.go).
type retryHook struct {
	eng *engine
	// slow and budget are eng.Slow and eng.Budget, read by every call.
	slow   bool
	budget *breaker.Budget
	// node is the node a plain client talks to, and its breaker; nil at
	// the top of a cluster or ring, and on a Sentinel client, whose node
	// is cur, switched by DialHook when it connects to a new master.
	node *guard
	cur  atomic.Pointer[guard]
	// plain is set on a plain client whose policy has no admission work
	// (slow unset), and brk is then node's breaker: start's fast path.
	plain bool
	brk   *breaker.Breaker
	// failover is set on a Sentinel client: DialHook then keys the
	// breaker by the address the connection reached.
	failover bool
	// watch asks the Sentinels for a new master while the breaker
	// refuses calls (sentinel.go); set by NewFailoverClient, nil
	// elsewhere.
	watch  *masterWatch
	client *redis.Client // the plain or Sentinel client, for probes
	// inFlight is the table the node hooks read, at the top of a
	// ClusterClient or Ring; nil elsewhere.
	inFlight *inFlight
	// reload asks a ClusterClient to refresh its slot map after failures
	// that suggest the topology changed; nil elsewhere.
	reload func()

	// seams for tests
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

var _ redis.Hook = (*retryHook)(nil)

func newHook(p policy.Policy) *retryHook {
	eng := engineOf(p)
	return &retryHook{eng: eng, slow: eng.Slow, budget: eng.Budget, now: time.Now, sleep: sleep}
}

// newClientHook returns the hook of a plain client (node is its address)
// or, with failover set, of a Sentinel client.
func newClientHook(p policy.Policy, c *redis.Client, node string, failover bool) *retryHook {
	h := newHook(p)
	h.client, h.failover = c, failover
	if failover {
		h.cur.Store(h.guardFor(node))
	} else {
		h.node = h.guardFor(node)
		h.plain, h.brk = !h.slow, h.node.brk
	}
	return h
}

// newClusterHook returns the hook at the top of a ClusterClient.
func newClusterHook(p policy.Policy, c *redis.ClusterClient) *retryHook {
	h := newHook(p)
	h.inFlight = new(inFlight)
	h.reload = func() { c.ReloadState(context.Background()) }
	return h
}

// newRingHook returns the hook at the top of a Ring.
func newRingHook(p policy.Policy) *retryHook {
	h := newHook(p)
	h.inFlight = new(inFlight)
	return h
}

// guard returns the guard of the node the next attempt goes to.
func (h *retryHook) guard() *guard {
	if h.node != nil {
		return h.node
	}
	return h.cur.Load()
}

// guardFor returns the guard of node, with a probe through the client.
func (h *retryHook) guardFor(node string) *guard {
	return newGuard(node, h.eng.Breakers.Get(node), h.client)
}

// DialHook keys a Sentinel client's breaker by the master it reached: a
// failover is a new node, whose breaker the old master's open one must not
// hold back.
func (h *retryHook) DialHook(next redis.DialHook) redis.DialHook {
	if !h.failover {
		return next
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil && conn != nil && conn.RemoteAddr() != nil {
			if node := conn.RemoteAddr().String(); node != h.cur.Load().name() {
				h.cur.Store(h.guardFor(node))
			}
		}
		return conn, err
	}
}

// ProcessHook runs a single command under the policy.
func (h *retryHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return enter(h, next, func(cmd redis.Cmder) call { return call{cmd: cmd, next: next} })
}

// ProcessPipelineHook runs a pipeline or a MULTI/EXEC transaction under
// the policy.
func (h *retryHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return enter(h, next, func(cmds []redis.Cmder) call { return call{cmds: cmds, nextBatch: next} })
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
