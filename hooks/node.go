package hooks

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// The contract between the hook at the top of a ClusterClient or Ring,
// which runs the retry loop, and the hook on each of its node clients,
// which guards that node with its breaker. It is kept in this file only.
//
//  1. In flight. Around each attempt of a single command the top hook
//     puts the command in the client's inFlight table, with whether the
//     attempt is a retry, and takes it out after. A node hook that finds
//     a command there knows that a retry loop of this library runs above
//     it, and whether this attempt is a retry: each call counts once
//     against a node's breaker, at its first attempt. A command that is
//     not there comes from elsewhere (the Tx of ClusterClient.Watch, a
//     node client used through ForEachShard, a command go-redis fans out
//     to several shards) and is judged on its own. The table is beside
//     the command, not on it, so that no other hook sees a trace of it.
//
//  2. Verdicts. go-redis's cluster loop (ClusterClient.process) retries a
//     command after EOF, a timeout, LOADING, CLUSTERDOWN, ..., whatever
//     MaxRetries says, without asking whether it may run twice. So a node
//     hook of a cluster returns the failure of a command in flight as a
//     *verdict: an error go-redis does not retry (no Unwrap, no Timeout
//     method, no prefix go-redis matches), carrying the node's error, its
//     class and execution, and the node. The top hook unwraps it at once,
//     so the caller sees only go-redis's own error; a hook added to the
//     ClusterClient after this library's sits between the two and sees
//     the verdict of a failed command. MOVED, ASK and ErrClosed pass as
//     they are: go-redis must follow them.
//
//  3. Re-sends. go-redis's cluster pipeline loop re-sends a node's whole
//     batch after one of its replies was lost, the commands whose replies
//     it had read included. A node hook of a cluster recognises a re-send
//     by the errors its commands carry (a batch the top hook sends, first
//     or retried, has none) and sends on only the commands being
//     redirected (MOVED, ASK, and the ASKING before them); the others keep
//     their outcome, and the top hook's policy decides about the whole
//     pipeline. MULTI/EXEC batches are left to go-redis, whose transaction
//     loop re-sends only after failures that prove EXEC did not run.

// inFlight is the table of point 1: a lock-free open-addressed set of the
// addresses of the commands in flight, the low bit telling a retry. The
// caller holds each command for as long as it is in the table, so an
// address cannot be reused meanwhile. A command that finds no free slot
// among its probes goes to a small locked map. It is safe for concurrent
// use and allocates nothing while the slots suffice.
type inFlight struct {
	slots [inFlightSlots]atomic.Uintptr
	nmore atomic.Int32 // entries in more, so that a miss takes no lock
	mu    sync.Mutex
	more  map[uintptr]bool // the overflow, rarely used
}

const (
	inFlightSlots  = 4096
	inFlightProbes = 8
)

// address returns the interface's data word: the command's address, for
// go-redis's commands, which are all pointers. Read in place, it leaves c
// on the stack.
func address(c redis.Cmder) uintptr { return (*[2]uintptr)(unsafe.Pointer(&c))[1] &^ 1 }

func (f *inFlight) slot(k uintptr, n int) *atomic.Uintptr {
	h := (k >> 3) * 0x9E3779B97F4A7C15 >> 52 // the top 12 bits: 4096 slots
	return &f.slots[(int(h)+n)%inFlightSlots]
}

func (f *inFlight) put(c redis.Cmder, retry bool) {
	k := address(c)
	v := k
	if retry {
		v |= 1
	}
	for n := range inFlightProbes {
		if f.slot(k, n).CompareAndSwap(0, v) {
			return
		}
	}
	f.mu.Lock()
	if f.more == nil {
		f.more = make(map[uintptr]bool)
	}
	f.more[k] = retry
	f.nmore.Store(int32(len(f.more)))
	f.mu.Unlock()
}

// get reports whether c is in flight, and whether as a retry. A nil table
// holds nothing.
func (f *inFlight) get(c redis.Cmder) (retry, ok bool) {
	if f == nil {
		return false, false
	}
	k := address(c)
	for n := range inFlightProbes {
		if v := f.slot(k, n).Load(); v&^1 == k {
			return v&1 == 1, true
		}
	}
	if f.nmore.Load() == 0 {
		return false, false
	}
	f.mu.Lock()
	retry, ok = f.more[k]
	f.mu.Unlock()
	return retry, ok
}

func (f *inFlight) drop(c redis.Cmder) {
	k := address(c)
	for n := range inFlightProbes {
		s := f.slot(k, n)
		if v := s.Load(); v&^1 == k {
			s.Store(0)
			return
		}
	}
	f.mu.Lock()
	delete(f.more, k)
	f.nmore.Store(int32(len(f.more)))
	f.mu.Unlock()
}

// verdict is a node's failure on its way up through go-redis's cluster
// loop; see the contract above.
type verdict struct {
	err   error
	class retryable.Class
	exec  retryable.Execution
	node  *guard
}

func (v *verdict) Error() string { return "retryable: node verdict: " + v.err.Error() }

// redirect reports errors go-redis must follow itself.
func redirect(err error) bool {
	if err == redis.ErrClosed {
		return true
	}
	rerr, ok := errors.AsType[redis.Error](err)
	return ok && rerr != nil && (redis.HasErrorPrefix(rerr, "MOVED ") || redis.HasErrorPrefix(rerr, "ASK "))
}

// guard is a node as the hooks see it: its name and its breaker (nil when
// the policy has none). A nil *guard allows everything.
type guard struct {
	node string
	brk  *breaker.Breaker
	pr   *prober // the breaker's probe through the node's client, if any
}

// newGuard returns the guard of node, whose breaker probes through c.
func newGuard(node string, brk *breaker.Breaker, c *redis.Client) *guard {
	g := &guard{node: node, brk: brk}
	g.pr = probeWith(g, c)
	return g
}

// closed tells the guard's probe, when err says so, that its client was
// closed.
func (g *guard) closed(err error) {
	if g != nil && errors.Is(err, redis.ErrClosed) {
		g.pr.sawClosed()
	}
}

func (g *guard) allow() (breaker.Ticket, error) {
	if g == nil || g.brk == nil {
		return breaker.Ticket{}, nil
	}
	return g.brk.Allow()
}

func (g *guard) done(t breaker.Ticket, o breaker.Outcome) {
	if g != nil && g.brk != nil {
		g.brk.Done(t, o)
	}
}

// wait is how long the node's breaker will keep refusing calls.
func (g *guard) wait() time.Duration {
	if g == nil || g.brk == nil {
		return 0
	}
	return g.brk.RetryIn()
}

func (g *guard) name() string {
	if g == nil {
		return ""
	}
	return g.node
}

// outcome says how a breaker counts an attempt's class. The caller's own
// cancellation says nothing about the node and is ignored; a socket
// timeout counts even when the caller's deadline set it, because the node
// did not answer within the time the caller could give it.
func outcome(c retryable.Class) breaker.Outcome {
	if c.CountsAsFailure() {
		return breaker.Failure
	}
	switch c {
	case retryable.Response, retryable.OK:
		return breaker.Success // the node answered
	}
	return breaker.Ignore
}

// nodeHook guards one node of a ClusterClient or Ring with its breaker;
// the retry loop runs above it, so that a retry can go to another node
// (the new master after a failover).
type nodeHook struct {
	g        *guard
	eng      *engine
	inFlight *inFlight // the top hook's
	// cluster is set on the nodes of a ClusterClient, whose loops the
	// node hook must keep from repeating commands (verdicts and re-sends
	// in the contract above).
	cluster bool
}

var _ redis.Hook = (*nodeHook)(nil)

func newNodeHook(eng *engine, g *guard, f *inFlight, cluster bool) *nodeHook {
	return &nodeHook{g: g, eng: eng, inFlight: f, cluster: cluster}
}

// DialHook leaves dialing alone.
func (h *nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook guards a single command.
func (h *nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		retry, marked := h.inFlight.get(cmd)
		t, err := h.g.allow()
		if err != nil {
			if handshakeCmd(cmd) || isProbe(ctx) {
				return next(ctx, cmd)
			}
			return err // go-redis does not retry a refusal
		}
		err = next(ctx, cmd)
		if err == nil || err == redis.Nil {
			h.g.done(t, breaker.Success)
			return err
		}
		h.g.closed(err)
		if handshakeCmd(cmd) {
			h.g.done(t, breaker.Ignore)
			return err
		}
		class, exec := retryable.Describe(err, h.eng.Lookup(cmd.Args()), false)
		o := outcome(class)
		if retry {
			o = breaker.Ignore // the call counted at its first attempt
		}
		h.g.done(t, o)
		if h.cluster && marked && !redirect(err) {
			return &verdict{err: err, class: class, exec: exec, node: h.g}
		}
		return err
	}
}

// ProcessPipelineHook guards a batch.
func (h *nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 {
			return next(ctx, cmds)
		}
		resent := false
		for _, c := range cmds {
			if e := c.Err(); e != nil && !redirect(e) {
				resent = true
			}
		}
		// The ASKING pipeline go-redis sends for a single command in flight.
		single := false
		if len(cmds) == 2 && cmds[0].Name() == "asking" {
			_, single = h.inFlight.get(cmds[1])
		}
		send := cmds
		if resent && h.cluster && !isTx(cmds) {
			if send = redirectedOnly(cmds); len(send) == 0 {
				// Returning without calling next ends go-redis's re-sends
				// of this batch; its commands keep their outcomes.
				return nil
			}
		}
		t, err := h.g.allow()
		if err != nil {
			if handshakeCmd(cmds[0]) {
				return next(ctx, send)
			}
			// go-redis's cluster pipeline reads each command's own error.
			for _, c := range send {
				c.SetErr(err)
			}
			return err
		}
		err = next(ctx, send)
		if err == nil || err == redis.Nil {
			h.g.done(t, breaker.Success)
			return err
		}
		class, exec := retryable.Describe(err, retryable.Info{}, len(send) > 1)
		o := outcome(class)
		if handshakeCmd(cmds[0]) {
			o = breaker.Ignore
		}
		h.g.done(t, o)
		if h.cluster && single && !redirect(err) {
			return &verdict{err: err, class: class, exec: exec, node: h.g}
		}
		return err
	}
}

// redirectedOnly returns the commands of a re-sent batch that go-redis
// is redirecting (MOVED, ASK) with the ASKING command before each.
func redirectedOnly(cmds []redis.Cmder) []redis.Cmder {
	var out []redis.Cmder
	for i, c := range cmds {
		switch {
		case c.Err() != nil && redirect(c.Err()):
			out = append(out, c)
		case c.Err() == nil && c.Name() == "asking" && i+1 < len(cmds) && cmds[i+1].Err() != nil && redirect(cmds[i+1].Err()):
			out = append(out, c)
		}
	}
	return out
}
