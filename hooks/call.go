package hooks

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/policy"
)

// Names under which pipelines and transactions appear in events and in
// per-command policy overrides.
const (
	pipelineName = "pipeline"
	multiName    = "multi"
)

// call is one go-redis call under the policy, built on the caller's stack:
// a single command (cmd and next) or a batch, a pipeline or a MULTI/EXEC
// block (cmds and nextBatch). Everything the retry loop does to a call
// goes through its methods, so that one loop serves both.
type call struct {
	cmd       redis.Cmder
	next      redis.ProcessHook
	cmds      []redis.Cmder
	nextBatch redis.ProcessPipelineHook
}

// send runs one attempt as go-redis would without this library.
func (c *call) send(ctx context.Context) error {
	if c.cmd != nil {
		return c.next(ctx, c.cmd)
	}
	return c.nextBatch(ctx, c.cmds)
}

// name is the command's lowercase name, or "pipeline" or "multi".
func (c *call) name() string {
	switch {
	case c.cmd != nil:
		return c.cmd.Name()
	case isTx(c.cmds):
		return multiName
	}
	return pipelineName
}

// handshake reports whether the call is a connection handshake that
// go-redis sends nested inside the command that needed the connection: it
// passes through, neither retried nor counted, since the command around it
// is. It looks at one command only, so that the success path stays O(1):
// go-redis's handshake pipelines start with a handshake command.
func (c *call) handshake() bool {
	if c.cmd != nil {
		return handshakeCmd(c.cmd)
	}
	return handshakeCmd(c.cmds[0])
}

// describe fills f's class, execution and command info for err, the
// error of an attempt; v is the node hook's verdict when the attempt went
// through a cluster (nil otherwise). A single command is judged by err. A
// batch is judged by each command's own error: its class is err's, its
// execution and kind the least safe among its commands, so that it is
// retried only when every command in it may be. A transaction is unsafe
// as a whole; only a failure that proves nothing ran lets it be retried.
func (c *call) describe(eng *engine, f *policy.Failure, err error, v *verdict) {
	f.Err = err
	if c.cmd != nil {
		f.Info = eng.Lookup(c.cmd.Args())
		if v != nil {
			f.Class, f.Execution = v.class, v.exec
			return
		}
		f.Class, f.Execution = retryable.Describe(err, f.Info, false)
		return
	}
	f.Class = retryable.Classify(err)
	if isTx(c.cmds) {
		_, f.Execution = retryable.Describe(err, retryable.Info{}, false)
		f.Info = retryable.Info{Kind: retryable.Unsafe}
		for _, cmd := range c.cmds {
			// An error reply to a script inside EXEC may follow part of it.
			if info := eng.Lookup(cmd.Args()); info.Script && f.Execution == retryable.NotExecuted {
				_, f.Execution = retryable.Describe(cmd.Err(), info, false)
			}
		}
		return
	}
	batched := len(c.cmds) > 1
	kind, exec, blocking := retryable.Read, retryable.NotExecuted, false
	for _, cmd := range c.cmds {
		info := eng.Lookup(cmd.Args())
		blocking = blocking || info.Blocking
		_, e := retryable.Describe(cmd.Err(), info, batched)
		if info.Kind == retryable.Unsafe && e > exec {
			exec = e
		}
		if info.Kind < kind && (info.Kind != retryable.Unsafe || e != retryable.NotExecuted) {
			kind = info.Kind
		}
	}
	f.Info = retryable.Info{Kind: kind, Blocking: blocking}
	f.Execution = exec
}

// stamp gives every command of a batch that the library refused before
// it ran the refusal as its own error: a caller reads each command's
// error, and must not read a value that was never sent.
func (c *call) stamp(err error) {
	for _, cmd := range c.cmds {
		cmd.SetErr(err)
	}
}

// keepLast gives every command of a batch that a failed retry left with
// err (a connection its previous failure broke) the error it had before.
func (c *call) keepLast(err, last error) {
	for _, cmd := range c.cmds {
		if cmd.Err() == err {
			cmd.SetErr(last)
		}
	}
}

func isTx(cmds []redis.Cmder) bool {
	return len(cmds) > 0 && cmds[0].Name() == multiName
}

// isHandshake reports commands go-redis sends while it sets up a
// connection.
func isHandshake(name string) bool {
	switch name {
	case "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

// handshakeCmd is isHandshake for a command: go-redis writes the names of
// its handshake commands in lowercase, so the first argument is compared
// as is, without the copy cmd.Name() makes of a name in capitals.
func handshakeCmd(cmd redis.Cmder) bool {
	args := cmd.Args()
	if len(args) == 0 {
		return false
	}
	name, ok := args[0].(string)
	return ok && isHandshake(name)
}
