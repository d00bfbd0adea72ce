package hooks

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/policy"
)

// Names under which pipelines and transactions appear in events and
// per-command policy overrides.
const (
	pipelineName = "pipeline"
	multiName    = "multi"
)

// ProcessPipelineHook runs a pipeline or a MULTI/EXEC transaction under
// the policy. A pipeline is retried only when every command in it may be
// run again given what its own error says; a transaction only when nothing
// in it was executed.
func (h *retryHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 {
			return next(ctx, cmds)
		}
		if h.slow {
			if done, err := h.pipelineAdmit(ctx, cmds, next); done {
				return err
			}
		}
		var t breaker.Ticket
		if h.brk != nil {
			var err error
			if t, err = h.brk.Allow(); err != nil {
				if allHandshake(cmds) {
					return next(ctx, cmds)
				}
				return h.pipelineLoop(ctx, cmds, next, err)
			}
		}
		// go-redis's handshake pipelines start with a handshake command;
		// looking at the first only keeps the success path O(1).
		if h.budget != nil && !handshakeCmd(cmds[0]) {
			h.budget.Request()
		}
		var err error
		if h.slow {
			err = h.pipelineAttempt(ctx, cmds, next)
		} else {
			err = next(ctx, cmds)
		}
		if err == nil || err == redis.Nil {
			if h.brk != nil {
				h.brk.Done(t, breaker.Success)
			}
			return err
		}
		return h.pipelineFailed(ctx, cmds, next, t, err)
	}
}

// pipelineAdmit runs what a slow policy does before a pipeline's first
// attempt: handshakes pass through, the limiter admits or refuses. done
// reports that the call is over, with err its result.
func (h *retryHook) pipelineAdmit(ctx context.Context, cmds []redis.Cmder, next redis.ProcessPipelineHook) (done bool, err error) {
	if allHandshake(cmds) {
		return true, next(ctx, cmds)
	}
	if h.limiter != nil {
		if err := h.limiter.Admit(ctx); err != nil {
			return true, h.finish(ctx, nil, policy.Failure{Command: pipelineName, Err: err, Class: retryable.Classify(err)}, policy.RateLimited, err)
		}
	}
	return false, nil
}

func (h *retryHook) pipelineFailed(ctx context.Context, cmds []redis.Cmder, next redis.ProcessPipelineHook, t breaker.Ticket, err error) error {
	if allHandshake(cmds) {
		if h.brk != nil {
			h.brk.Done(t, breaker.Ignore)
		}
		return err
	}
	if h.brk != nil {
		h.brk.Done(t, outcome(retryable.Classify(err)))
	}
	return h.pipelineLoop(ctx, cmds, next, err)
}

func (h *retryHook) pipelineLoop(ctx context.Context, cmds []redis.Cmder, next redis.ProcessPipelineHook, err error) error {
	name := pipelineName
	if isTx(cmds) {
		name = multiName
	}
	f := policy.Failure{Command: name, Attempt: 1}
	describe := func(f *policy.Failure, err error) { h.describe(f, cmds, err) }
	describe(&f, err)
	attempt := func(ctx context.Context) error { return h.pipelineAttempt(ctx, cmds, next) }
	res, ok, why, refusal := h.retry(ctx, &f, attempt, describe)
	if ok {
		return res
	}
	return h.finish(ctx, nil, f, why, refusal)
}

// describe fills f for a failed pipeline. The pipeline's kind is the least
// safe of its commands, judged with each command's own error: a command that
// completed, or may have, makes the pipeline unsafe to repeat when the
// command itself is unsafe. A transaction is unsafe as a whole, so only a
// failure that proves nothing ran lets it be retried.
func (h *retryHook) describe(f *policy.Failure, cmds []redis.Cmder, err error) {
	f.Err, f.Class = err, retryable.Classify(err)
	if f.Command == multiName {
		f.Info = retryable.Info{Kind: retryable.Unsafe}
		f.Execution = retryable.Executed(err)
		for _, c := range cmds {
			if h.p.Lookup(c.Args()).Script && f.Execution == retryable.NotExecuted && c.Err() != nil {
				// An error reply to a script inside EXEC may follow part of it.
				f.Execution = retryable.Info{Script: true}.Executed(c.Err())
			}
		}
		return
	}
	kind := retryable.Read
	exec := retryable.NotExecuted
	blocking := false
	for _, c := range cmds {
		info := h.p.Lookup(c.Args())
		blocking = blocking || info.Blocking
		if info.Kind < kind {
			kind = info.Kind
		}
		if info.Kind != retryable.Unsafe {
			continue
		}
		e := info.Executed(c.Err())
		if e > exec {
			exec = e
		}
	}
	f.Info = retryable.Info{Kind: kind, Blocking: blocking}
	f.Execution = exec
}

func (h *retryHook) pipelineAttempt(ctx context.Context, cmds []redis.Cmder, next redis.ProcessPipelineHook) error {
	if d := h.p.AttemptTimeout(pipelineName); d > 0 {
		actx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return next(actx, cmds)
	}
	return next(ctx, cmds)
}

func isTx(cmds []redis.Cmder) bool {
	return len(cmds) > 0 && cmds[0].Name() == multiName
}

func allHandshake(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if !isHandshake(c.Name()) {
			return false
		}
	}
	return len(cmds) > 0
}
