package hooks

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// nodeHook guards one node of a ClusterClient or Ring with its breaker. The
// retry loop runs above it, at the cluster or ring level, so that a retry
// can go to another node (the new master after a failover).
type nodeHook struct {
	// brk is nil when the policy has no breaker: the hook then only hides
	// errors (see hide).
	brk *breaker.Breaker
	// hide wraps recoverable failures so go-redis's cluster loop, which
	// retries them without asking whether the command is safe to repeat,
	// passes them up to the policy untouched. READONLY is left to go-redis
	// (it re-routes, and the command did not run), as are MOVED and ASK.
	hide bool
}

var _ redis.Hook = (*nodeHook)(nil)

func (h *nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.brk == nil {
			err := next(ctx, cmd)
			if err == nil || err == redis.Nil || isHandshake(cmd.Name()) {
				return err
			}
			return h.failed(breaker.Ticket{}, err)
		}
		t, err := h.brk.Allow()
		if err != nil {
			if isHandshake(cmd.Name()) {
				return next(ctx, cmd)
			}
			return err
		}
		err = next(ctx, cmd)
		if err == nil || err == redis.Nil {
			h.brk.Done(t, breaker.Success)
			return err
		}
		if isHandshake(cmd.Name()) {
			h.brk.Done(t, breaker.Ignore)
			return err
		}
		return h.failed(t, err)
	}
}

func (h *nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	if h.brk == nil {
		return next
	}
	return func(ctx context.Context, cmds []redis.Cmder) error {
		t, err := h.brk.Allow()
		if err != nil {
			if allHandshake(cmds) {
				return next(ctx, cmds)
			}
			// go-redis's cluster pipeline reads each command's own error.
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		err = next(ctx, cmds)
		if err == nil || err == redis.Nil {
			h.brk.Done(t, breaker.Success)
			return err
		}
		if allHandshake(cmds) {
			h.brk.Done(t, breaker.Ignore)
			return err
		}
		h.brk.Done(t, outcome(retryable.Classify(err)))
		return err
	}
}

func (h *nodeHook) failed(t breaker.Ticket, err error) error {
	class := retryable.Classify(err)
	if h.brk != nil {
		h.brk.Done(t, outcome(class))
	}
	if h.hide && class.Recoverable() && class != retryable.ReadOnly {
		return &hiddenError{err}
	}
	return err
}
