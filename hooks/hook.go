package hooks

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// retryHook runs the policy's retry loop. For a *redis.Client it also guards
// the client's one node with a breaker (brk); for a ClusterClient or Ring it
// runs at the top level with brk nil, and nodeHooks guard each node.
type retryHook struct {
	p       policy.Policy
	brk     *breaker.Breaker
	node    string
	budget  *breaker.Budget
	limiter *breaker.Limiter
	// slow is set when every call needs work before its first attempt (an
	// admission limit or a per-attempt timeout), so the fast path skips
	// those checks with one branch.
	slow bool
	// reload asks a ClusterClient to refresh its slot map after failures
	// that suggest the topology changed; nil elsewhere.
	reload func(ctx context.Context)
	// unhide undoes nodeHook's wrapping of errors hidden from go-redis's
	// cluster loop.
	unhide bool

	// seams for tests
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

var _ redis.Hook = (*retryHook)(nil)

func newRetryHook(p policy.Policy) *retryHook {
	h := &retryHook{
		p:       p,
		budget:  p.Budget(),
		limiter: p.Limiter(),
		now:     time.Now,
		sleep:   sleep,
	}
	h.slow = h.limiter != nil || p.HasAttemptTimeout()
	return h
}

// DialHook leaves dialing alone.
func (h *retryHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook runs a single command under the policy. The success path is
// one breaker check, one budget deposit and the call: no clock, no lock, no
// allocation. A policy with an admission limit or a per-attempt timeout
// (h.slow) adds those around the first attempt.
func (h *retryHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.slow {
			if done, err := h.admit(ctx, cmd, next); done {
				return err
			}
		}
		var t breaker.Ticket
		if h.brk != nil {
			var err error
			if t, err = h.brk.Allow(); err != nil {
				return h.refused(ctx, cmd, next, err)
			}
		}
		if h.budget != nil && !handshakeCmd(cmd) {
			h.budget.Request()
		}
		var err error
		if h.slow {
			err = h.attempt(ctx, cmd.Name(), cmd, next)
		} else {
			err = next(ctx, cmd)
		}
		if err == nil || err == redis.Nil {
			if h.brk != nil {
				h.brk.Done(t, breaker.Success)
			}
			return err
		}
		return h.failed(ctx, cmd, next, t, err)
	}
}

// admit runs what a slow policy does before a command's first attempt:
// handshakes pass through, the limiter admits or refuses. done reports that
// the call is over, with err its result.
func (h *retryHook) admit(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) (done bool, err error) {
	name := cmd.Name()
	if isHandshake(name) {
		return true, next(ctx, cmd)
	}
	if h.limiter != nil {
		if err := h.limiter.Admit(ctx); err != nil {
			return true, h.finish(ctx, cmd, policy.Failure{Command: name, Err: err, Class: retryable.Classify(err)}, policy.RateLimited, err)
		}
	}
	return false, nil
}

// refused handles a first attempt that the breaker turned away.
func (h *retryHook) refused(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook, err error) error {
	name := cmd.Name()
	if isHandshake(name) {
		// A connection handshake nested inside a command that the
		// breaker already admitted: it is part of that command.
		return next(ctx, cmd)
	}
	// Not sent, so no deposit in the budget.
	return h.loop(ctx, cmd, next, name, err)
}

// failed handles a first attempt that returned an error.
func (h *retryHook) failed(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook, t breaker.Ticket, err error) error {
	name := cmd.Name()
	if h.unhide {
		err = unhide(err)
		if err == redis.Nil {
			return err
		}
	}
	if isHandshake(name) {
		// Not retried, not counted: the command around it sees the same
		// failure and is the one retried and counted.
		if h.brk != nil {
			h.brk.Done(t, breaker.Ignore)
		}
		return err
	}
	if h.brk != nil {
		h.brk.Done(t, outcome(retryable.Classify(err)))
	}
	return h.loop(ctx, cmd, next, name, err)
}

// loop decides about a failed first attempt of a single command and runs
// its retries.
func (h *retryHook) loop(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook, name string, err error) error {
	info := h.p.Lookup(cmd.Args())
	f := policy.Failure{Command: name, Attempt: 1, Info: info}
	describe := func(f *policy.Failure, err error) {
		f.Err, f.Class, f.Execution = err, retryable.Classify(err), info.Executed(err)
	}
	describe(&f, err)
	attempt := func(ctx context.Context) error { return h.attempt(ctx, name, cmd, next) }
	res, ok, why, refusal := h.retry(ctx, &f, attempt, describe)
	if ok {
		return res
	}
	return h.finish(ctx, cmd, f, why, refusal)
}

// retry runs the retries of a call, single command or pipeline, whose first
// attempt failed as f says. When an attempt succeeds it returns that
// attempt's result (nil or redis.Nil) and ok. Otherwise f holds the last
// failure, why says why the retries stopped, and refusal is the limiter's
// error when it refused a retry. describe fills f from a failed attempt's
// error. It runs only after a failure, so its allocations do not touch the
// success path.
func (h *retryHook) retry(ctx context.Context, f *policy.Failure, attempt func(context.Context) error,
	describe func(*policy.Failure, error)) (res error, ok bool, why policy.Reason, refusal error) {
	if policy.RetriesDisabled(ctx) {
		return nil, false, policy.CallerOptOut, nil
	}
	first := h.now()
	var prev time.Duration
	for {
		f.Elapsed = h.now().Sub(first)
		d, why := h.p.Decide(*f, prev)
		if why == policy.Retry {
			why = h.admitRetry(ctx, d)
		}
		if why != policy.Retry {
			return nil, false, why, nil
		}
		if h.p.Observed() {
			h.p.Emit(ctx, policy.Event{Kind: policy.RetryScheduled, Command: f.Command, Node: h.node,
				Attempt: f.Attempt, Delay: d, Class: f.Class, Err: f.Err})
		}
		if h.sleep(ctx, d) != nil {
			return nil, false, policy.Deadline, nil
		}
		prev = d
		f.Attempt++
		if h.limiter != nil {
			if lerr := h.limiter.Admit(ctx); lerr != nil {
				return nil, false, policy.RateLimited, lerr
			}
		}
		var t breaker.Ticket
		if h.brk != nil {
			var berr error
			if t, berr = h.brk.Allow(); berr != nil {
				f.Err, f.Class, f.Execution = berr, retryable.CircuitOpen, retryable.NotExecuted
				continue
			}
		}
		err := attempt(ctx)
		if h.unhide {
			err = unhide(err)
		}
		if err == nil || err == redis.Nil {
			if h.brk != nil {
				h.brk.Done(t, breaker.Success)
			}
			return err, true, policy.Retry, nil
		}
		describe(f, err)
		if h.brk != nil {
			h.brk.Done(t, outcome(f.Class))
		}
		if h.reload != nil && topologyHint(f.Class) {
			h.reload(ctx)
		}
	}
}

// admitRetry checks what Decide leaves to the caller: the context and the
// retry budget.
func (h *retryHook) admitRetry(ctx context.Context, d time.Duration) policy.Reason {
	if ctx.Err() != nil {
		return policy.Deadline
	}
	if dl, ok := ctx.Deadline(); ok && !h.now().Add(d).Before(dl) {
		return policy.Deadline
	}
	if h.budget != nil && !h.budget.AllowRetry() {
		return policy.BudgetExhausted
	}
	return policy.Retry
}

// attempt runs one attempt, under the policy's per-attempt timeout if any.
func (h *retryHook) attempt(ctx context.Context, name string, cmd redis.Cmder, next redis.ProcessHook) error {
	if d := h.p.AttemptTimeout(name); d > 0 {
		actx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return next(actx, cmd)
	}
	return next(ctx, cmd)
}

// finish ends a call that will not be retried: it reports the decision and
// applies log-and-continue or the fallback. refusal, when set, is the error
// of a limiter that refused the call; otherwise the caller gets f.Err, or a
// Throttled error wrapping it when the budget ran out. cmd is nil for a
// pipeline: fallbacks and log-and-continue apply to single commands only,
// since a pipeline's caller reads each command's own error.
func (h *retryHook) finish(ctx context.Context, cmd redis.Cmder, f policy.Failure, why policy.Reason, refusal error) error {
	err := f.Err
	class := f.Class
	switch {
	case refusal != nil:
		// The limiter's refusal, or the caller's own context error if it
		// gave up while waiting for admission.
		err, class = refusal, retryable.Classify(refusal)
		if te, ok := refusal.(*breaker.ThrottledError); ok && te.Last == nil && f.Err != nil && f.Attempt > 0 {
			err = &breaker.ThrottledError{Reason: te.Reason, Last: f.Err}
		}
	case why == policy.BudgetExhausted:
		err, class = &breaker.ThrottledError{Reason: "retry budget exhausted", Last: f.Err}, retryable.Throttled
	}
	observed := h.p.Observed()
	if observed && (f.Attempt > 1 || why != policy.NotRetryable || class.Recoverable()) {
		kind := policy.GaveUp
		if refusal != nil || class == retryable.CircuitOpen && f.Attempt <= 1 {
			kind = policy.Refused
		}
		h.p.Emit(ctx, policy.Event{Kind: kind, Command: f.Command, Node: h.node, Attempt: f.Attempt,
			Class: class, Err: err, Reason: why})
	}
	if !class.Recoverable() || cmd == nil {
		return err
	}
	if h.p.Swallows(f.Command) {
		if observed {
			h.p.Emit(ctx, policy.Event{Kind: policy.Swallowed, Command: f.Command, Node: h.node,
				Attempt: f.Attempt, Class: class, Err: err, Reason: why})
		}
		return nil
	}
	if fb := h.p.Fallback(f.Command); fb != nil {
		if observed {
			h.p.Emit(ctx, policy.Event{Kind: policy.FallbackUsed, Command: f.Command, Node: h.node,
				Attempt: f.Attempt, Class: class, Err: err, Reason: why})
		}
		return fb(ctx, cmd, err)
	}
	return err
}

// outcome says how a breaker counts an attempt's class. The caller's own
// cancellation says nothing about the node and is ignored; a socket timeout
// counts even when the caller's deadline set it, because the node did not
// answer within the time the caller could give it (a frozen server is
// exactly that).
func outcome(c retryable.Class) breaker.Outcome {
	if c.CountsAsFailure() {
		return breaker.Failure
	}
	switch c {
	case retryable.Response, retryable.OK:
		// The node answered.
		return breaker.Success
	}
	return breaker.Ignore
}

// topologyHint reports classes after which a cluster's slot map may be
// stale.
func topologyHint(c retryable.Class) bool {
	return c.Is(retryable.Connection) || c == retryable.ReadOnly || c == retryable.ClusterDown
}

// isHandshake reports commands go-redis sends while it sets up a
// connection, nested inside the command that needed the connection. They
// pass through: neither retried nor counted twice.
func isHandshake(name string) bool {
	switch name {
	case "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

// handshakeCmd is isHandshake for the fast path: go-redis writes the
// names of its handshake commands in lowercase, so the first argument is
// compared as is, without the copy cmd.Name() makes of a name in capitals.
// A handshake is not a first attempt: the budget must not earn credit from
// it (a dead node behind a proxy would double the budget's ratio).
func handshakeCmd(cmd redis.Cmder) bool {
	args := cmd.Args()
	if len(args) == 0 {
		return false
	}
	name, ok := args[0].(string)
	return ok && isHandshake(name)
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

// hiddenError carries a node's error through go-redis's cluster loop
// without letting that loop retry it: it has no Unwrap, no Timeout method
// and a message no go-redis prefix check matches. The cluster-level hook
// unwraps it before anyone else sees it.
type hiddenError struct{ err error }

func (e *hiddenError) Error() string {
	return "retryable: hidden from the cluster loop: " + e.err.Error()
}

func unhide(err error) error {
	if h, ok := err.(*hiddenError); ok {
		return h.err
	}
	return err
}
