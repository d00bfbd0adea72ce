package hooks

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// The contract between the hook at the top of a ClusterClient or Ring,
// which runs the retry loop, and the hook on each of its node clients,
// which guards that node with its breaker. It is kept in this file only.
//
//  1. Marks. Before each attempt of a single command the top hook sets the
//     command's error to markFirst or markRetry (go-redis never reads a
//     command's error before a node runs it); before a retry of a batch it
//     sets every command's error to markRetry. A node hook clears the mark
//     before the command is sent. A mark tells the node hook that a retry
//     loop of this library runs above it, and whether this attempt is a
//     retry: each call counts once against a node's breaker, at its first
//     attempt. A command that reaches a node hook without a mark comes from
//     elsewhere (the Tx of ClusterClient.Watch, a node client used through
//     ForEachShard) and is judged on its own. The top hook removes any mark
//     go-redis left in place, so that no mark reaches a caller.
//
//  2. Verdicts. go-redis's cluster loop (ClusterClient.process) retries a
//     command after EOF, a timeout, LOADING, CLUSTERDOWN, ..., whatever
//     MaxRetries says, without asking whether it may run twice. So a node
//     hook of a cluster returns the failure of a marked command as a
//     *verdict: an error go-redis does not retry (no Unwrap, no Timeout
//     method, no prefix go-redis matches), carrying the node's error, its
//     class and execution, and the node. The top hook unwraps it at once,
//     so the caller sees only go-redis's own error. MOVED, ASK and
//     ErrClosed pass as they are: go-redis must follow them, and a command
//     it re-sends for them keeps the error as its mark.
//
//  3. Re-sends. go-redis's cluster pipeline loop re-sends a node's whole
//     batch after one of its replies was lost, the commands whose replies
//     it had read included. A node hook of a cluster recognises a re-send
//     by the errors its commands carry and sends on only the commands
//     being redirected (MOVED, ASK, and the ASKING before them); the others
//     keep their outcome, and the top hook's policy decides about the
//     whole pipeline. MULTI/EXEC batches are left to go-redis, whose
//     transaction loop re-sends only after failures that prove EXEC did
//     not run.

// mark is the type of markFirst and markRetry.
type mark struct{ what string }

func (m *mark) Error() string {
	return "retryable: internal mark " + m.what + " (a bug if a caller sees it)"
}

var (
	markFirst = &mark{"first attempt"}
	markRetry = &mark{"retry"}
)

func isMark(err error) bool { return err == markFirst || err == markRetry }

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
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	return redis.HasErrorPrefix(rerr, "MOVED ") || redis.HasErrorPrefix(rerr, "ASK ")
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
	g   *guard
	eng *engine
	// cluster is set on the nodes of a ClusterClient, whose loops the
	// node hook must keep from repeating commands (verdicts and re-sends
	// in the contract above).
	cluster bool
}

var _ redis.Hook = (*nodeHook)(nil)

func newNodeHook(eng *engine, g *guard, cluster bool) *nodeHook {
	return &nodeHook{g: g, eng: eng, cluster: cluster}
}

// DialHook leaves dialing alone.
func (h *nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook guards a single command.
func (h *nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		m := cmd.Err()
		marked := isMark(m) || m != nil && redirect(m)
		if marked {
			cmd.SetErr(nil)
		}
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
		if m == markRetry {
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
		retry, single, resent := false, false, false
		for _, c := range cmds {
			switch e := c.Err(); {
			case e == nil:
			case e == markRetry:
				c.SetErr(nil)
				retry = true
			case e == markFirst:
				// The ASKING pipeline of a single command under the loop.
				c.SetErr(nil)
				single = true
			case redirect(e):
			default:
				resent = true
			}
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
		if retry || handshakeCmd(cmds[0]) {
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
