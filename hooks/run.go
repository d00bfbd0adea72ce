package hooks

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/internal/bridge"
	"github.com/go-retryable/retryable/policy"
)

// enter returns the hook of calls of one kind: x is a command (T a
// redis.Cmder) or a batch (T a []redis.Cmder), and mk makes its call. On a
// plain client it is the whole success path, written once for both kinds
// and kept in the closure because it runs for every command: one breaker
// check, one budget deposit, the call, one breaker report; no clock, no
// lock, no allocation. Everything else (admission, the in-flight table of
// a cluster, a refusal, a failure) goes on to run, with the call built
// only then.
func enter[T any](h *retryHook, next func(context.Context, T) error, mk func(T) call) func(context.Context, T) error {
	return func(ctx context.Context, x T) error {
		head := headOf(&x)
		if head == nil { // an empty batch
			return next(ctx, x)
		}
		if !h.plain {
			c := mk(x)
			return h.run(ctx, &c)
		}
		var t breaker.Ticket
		if b := h.brk; b != nil {
			var err error
			if t, err = b.Allow(); err != nil {
				if handshakeCmd(head) || isProbe(ctx) {
					// A handshake nested inside a command the breaker
					// admitted is part of it; a probe is the breaker's own.
					return next(ctx, x)
				}
				c := mk(x)
				return h.failed(ctx, &c, nil, h.node, t, err, nil, false)
			}
		}
		if h.budget != nil && !handshakeCmd(head) {
			h.budget.Request()
		}
		err := next(ctx, x)
		if err == nil || err == redis.Nil {
			if b := h.brk; b != nil {
				b.Done(t, breaker.Success)
			}
			return err
		}
		c := mk(x)
		return h.failed(ctx, &c, nil, h.node, t, err, nil, true)
	}
}

// headOf returns the command *x is, or the first of the batch, or nil for
// an empty batch. It takes a pointer so that the type switch costs two
// comparisons and no copy.
func headOf[T any](x *T) redis.Cmder {
	switch v := any(x).(type) {
	case *redis.Cmder:
		return *v
	case *[]redis.Cmder:
		if len(*v) > 0 {
			return (*v)[0]
		}
	}
	return nil
}

// run is the path of every call that enter does not finish: admission
// (an admission limiter or a per-attempt timeout: slow), the breaker of a
// Sentinel client's current master, the in-flight table at the top of a
// cluster or ring, a refusal; then the first attempt, and on failure the
// retry loop.
func (h *retryHook) run(ctx context.Context, c *call) error {
	var r *rules
	if h.slow {
		if c.handshake() {
			return c.send(ctx)
		}
		r = h.eng.Rules(c.name())
		if err := h.eng.Limiter.Admit(ctx); err != nil {
			return h.failed(ctx, c, r, h.guard(), breaker.Ticket{}, err, nil, false)
		}
	}
	g := h.guard()
	t, err := g.allow()
	if err != nil {
		if c.handshake() || isProbe(ctx) {
			return c.send(ctx) // as in enter
		}
		h.watch.poke(h)
		return h.failed(ctx, c, r, g, t, err, nil, false)
	}
	if h.budget != nil && !c.handshake() {
		h.budget.Request()
	}
	v, err := h.attempt(ctx, c, r, false)
	if err == nil || err == redis.Nil {
		g.done(t, breaker.Success)
		return err
	}
	return h.failed(ctx, c, r, g, t, err, v, true)
}

// attempt runs one attempt of c: under the command's attempt timeout, if
// any, and at the top of a cluster or ring with the in-flight table and
// the verdicts of the node hooks' contract (node.go).
func (h *retryHook) attempt(ctx context.Context, c *call, r *rules, retry bool) (*verdict, error) {
	if r != nil && r.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.AttemptTimeout)
		defer cancel()
	}
	if h.inFlight == nil {
		return nil, c.send(ctx)
	}
	if c.cmd != nil {
		h.inFlight.put(c.cmd, retry)
		err := c.send(ctx)
		h.inFlight.drop(c.cmd)
		v, _ := err.(*verdict)
		if v != nil {
			err = v.err
			c.cmd.SetErr(err) // the node client stamped the verdict on it
		}
		return v, err
	}
	return nil, c.send(ctx)
}

// failed takes over a call whose first attempt failed with err (reached
// set) or was refused with err before it was sent: it describes the
// failure once, counts it against the node, and runs the retry loop. It
// runs only after a failure, so its work never touches the success path.
func (h *retryHook) failed(ctx context.Context, c *call, r *rules, g *guard, t breaker.Ticket, err error, v *verdict, reached bool) error {
	if reached && (c.handshake() || brokenConn(err)) {
		// A handshake is neither retried nor counted: the command around
		// it sees the same failure and is the one retried and counted. A
		// dedicated connection an earlier failure broke was not even sent.
		g.done(t, breaker.Ignore)
		return err
	}
	if r == nil {
		r = h.eng.Rules(c.name())
	}
	g.closed(err)
	f := policy.Failure{Command: c.name(), Attempt: 1}
	c.describe(h.eng, &f, err, v)
	if reached {
		g.done(t, outcome(f.Class))
	} else if c.cmds != nil {
		c.stamp(err)
	}
	if v != nil {
		g = v.node
	}
	return h.loop(ctx, c, r, g, &f, reached)
}

// loop retries a call whose attempt failed as f says, until an attempt
// succeeds or Stop gives a reason to stop. g is the node's guard, for the
// breaker's look-ahead and events. reached says whether an attempt
// reached the node: then the caller gets the node's last error, whatever
// refuses the next retry.
func (h *retryHook) loop(ctx context.Context, c *call, r *rules, g *guard, f *policy.Failure, reached bool) error {
	last := f.Err
	if !reached {
		last = nil
	}
	first := h.now()
	var prev time.Duration
	for {
		in := h.inputs(ctx, g)
		f.Elapsed = in.Now.Sub(first)
		d, why := r.Stop(*f, prev, in)
		if why != policy.Retry {
			return h.finish(ctx, c, r, g, f, stopped{why, last})
		}
		h.emit(ctx, policy.Event{Kind: policy.RetryScheduled, Command: f.Command, Node: g.name(),
			Attempt: f.Attempt, Delay: d, Class: f.Class, Err: f.Err})
		if h.sleep(ctx, d) != nil {
			return h.finish(ctx, c, r, g, f, stopped{policy.Deadline, last})
		}
		prev = d
		f.Attempt++
		if err := h.eng.Limiter.Admit(ctx); err != nil {
			return h.finish(ctx, c, r, g, f, stopped{policy.RateLimited, orRefusal(last, err)})
		}
		if h.inFlight == nil {
			g = h.guard() // a Sentinel client may have a new master
		}
		t, err := g.allow()
		if err != nil {
			// The breaker opened since the last attempt: the node's last
			// error stands.
			h.watch.poke(h)
			return h.finish(ctx, c, r, g, f, stopped{policy.CircuitOpen, orRefusal(last, err)})
		}
		if c.cmds != nil {
			c.stamp(nil) // a batch the top hook sends carries no errors (node.go)
		}
		v, err := h.attempt(ctx, c, r, true)
		if end, res := h.ended(ctx, c, r, g, t, f, err, last); end {
			return res
		}
		c.describe(h.eng, f, err, v)
		if v != nil {
			g = v.node
		}
		if f.Class != retryable.CircuitOpen && f.Class != retryable.Throttled {
			// A node's breaker in a cluster refuses through the node hook:
			// that attempt never reached a node, and the last error of one
			// that did stands.
			last, reached = err, true
		}
		if h.reload != nil && topologyHint(f.Class) {
			h.reload()
		}
	}
}

// ended reports whether the retry that just returned err ends the call,
// and with what: a success, or a dedicated connection (Conn, the Tx of
// Watch) that the last failure broke, so that the retry could not be sent
// and no later one can be; that was no attempt: no verdict, no budget
// spent. Otherwise the retry's failure goes to the breaker as Ignore: a
// call counts once against its node, at its first attempt.
func (h *retryHook) ended(ctx context.Context, c *call, r *rules, g *guard, t breaker.Ticket, f *policy.Failure, err, last error) (bool, error) {
	switch {
	case err == nil || err == redis.Nil:
		g.done(t, breaker.Success)
		h.emit(ctx, policy.Event{Kind: policy.Recovered, Command: f.Command, Node: g.name(),
			Attempt: f.Attempt, Class: f.Class, Err: f.Err})
		return true, err
	case last != nil && brokenConn(err):
		g.done(t, breaker.Ignore)
		h.eng.Budget.Refund()
		c.keepLast(err, last)
		f.Attempt--
		return true, h.finish(ctx, c, r, g, f, stopped{policy.ConnBroken, last})
	}
	g.done(t, breaker.Ignore)
	return false, nil
}

// inputs are what Stop needs to know of the call's context, the clock and
// the node's breaker.
func (h *retryHook) inputs(ctx context.Context, g *guard) bridge.Inputs {
	in := bridge.Inputs{OptedOut: h.eng.OptedOut(ctx), Done: ctx.Err() != nil, Now: h.now(),
		BreakerWait: g.wait(), Draw: h.budget != nil}
	if dl, ok := ctx.Deadline(); ok {
		in.Deadline = dl
	}
	return in
}

// stopped is how a call ends: why, and the error the caller gets.
type stopped struct {
	why policy.Reason
	err error
}

// orRefusal is the caller's error when a refusal ends a call: the node's
// last error if an attempt reached it, else the refusal.
func orRefusal(last, refusal error) error {
	if last != nil {
		return last
	}
	return refusal
}

// finish ends a call that will not be retried: it reports the decision
// and applies log-and-continue or the fallback, which apply to single
// commands only (a pipeline's caller reads each command's own error).
func (h *retryHook) finish(ctx context.Context, c *call, r *rules, g *guard, f *policy.Failure, s stopped) error {
	err := s.err
	if err == nil { // refused before any attempt, by Stop itself
		err = f.Err
	}
	class := retryable.Classify(err)
	if h.eng.Observed && (f.Attempt > 1 || s.why != policy.NotRetryable || class.Recoverable()) {
		e := policy.Event{Kind: policy.GaveUp, Command: f.Command, Node: g.name(), Attempt: f.Attempt,
			Class: class, Err: err, Reason: s.why}
		if class == retryable.CircuitOpen || class == retryable.Throttled {
			e.Kind, e.Attempt = policy.Refused, 0
		}
		h.emit(ctx, e)
	}
	if !class.Recoverable() || c.cmd == nil {
		return err
	}
	if r.Swallow {
		h.emit(ctx, policy.Event{Kind: policy.Swallowed, Command: f.Command, Node: g.name(),
			Attempt: f.Attempt, Class: class, Err: err, Reason: s.why})
		return nil
	}
	if r.Fallback != nil {
		h.emit(ctx, policy.Event{Kind: policy.FallbackUsed, Command: f.Command, Node: g.name(),
			Attempt: f.Attempt, Class: class, Err: err, Reason: s.why})
		return r.Fallback(ctx, c.cmd, err)
	}
	return err
}

func (h *retryHook) emit(ctx context.Context, e policy.Event) {
	if h.eng.Observed {
		h.eng.Emit(ctx, e)
	}
}

// topologyHint reports classes after which a cluster's slot map may be
// stale.
func topologyHint(c retryable.Class) bool {
	return c.Is(retryable.Connection) || c == retryable.ReadOnly || c == retryable.ClusterDown
}

// brokenConn reports go-redis's error for a command sent on a dedicated
// connection (Conn, the Tx of Watch) that an earlier failure broke.
func brokenConn(err error) bool {
	return strings.HasPrefix(err.Error(), "redis: Conn is in a bad state")
}
