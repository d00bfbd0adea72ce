package retryable

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable/breaker"
)

// Classify returns the class of err, an error a go-redis v9 call returned
// (or one this library's breaker or budget returned). It is safe for
// concurrent use, never panics and allocates nothing for nil and redis.Nil.
//
// Wrapped errors classify as the error they wrap: Classify looks through
// fmt.Errorf("%w"), errors.Join and any Unwrap method, so a hook that wraps
// a go-redis error does not change its class. The checks run in this order,
// and the first that matches decides:
//
//   - nil and redis.Nil: [OK] (a miss is an answer);
//   - a refusal by this library: breaker.ErrThrottled is [Throttled];
//     *breaker.OpenError, gobreaker.ErrOpenState and ErrTooManyRequests
//     are [CircuitOpen]. They come before the rest because they wrap the
//     last real error of the call;
//   - a wrapped redis.Nil: [OK];
//   - a Redis error reply (the redis.Error interface): redis.TxFailedErr is
//     [Response]; LOADING is [BusyLoading]; READONLY (also inside a
//     script's error) is [ReadOnly]; CLUSTERDOWN, TRYAGAIN, MASTERDOWN and
//     NOREPLICAS are [ClusterDown]; BUSY (not BUSYKEY or BUSYGROUP) is
//     [Busy]; OOM and "max number of clients reached" are [Capacity]; every
//     other reply (WRONGTYPE, ERR, NOSCRIPT, NOAUTH, NOPERM, EXECABORT,
//     MOVED, ASK, ...) is [Response]. go-redis's own helpers
//     (redis.IsLoadingError, ...) decide;
//   - redis.ErrClosed: [Closed];
//   - a dial error (*net.OpError with Op "dial"): [Timeout] if the dial
//     timed out, [Canceled] if the caller's context canceled it, else
//     [Connection]. go-redis dials under a DialTimeout context, so a dial
//     timeout also matches context.DeadlineExceeded: it is checked first;
//   - context.Canceled and context.DeadlineExceeded: [Canceled];
//   - redis.ErrPoolTimeout and redis.ErrPoolExhausted: [Connection];
//   - syscall.ETIMEDOUT (the kernel gave up on the peer): [Connection];
//   - any error with a Timeout method that reports true (a socket read or
//     write deadline, os.ErrDeadlineExceeded): [Timeout];
//   - io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, connection refused,
//     reset, aborted, broken pipe, network or host unreachable, and any
//     *net.OpError, *net.DNSError or *os.SyscallError: [Connection];
//   - anything else, such as a value go-redis cannot marshal or a reply it
//     cannot decode: [Data].
//
// Only typed Redis errors (those with go-redis's RedisError method) are read
// as replies: a plain errors.New("LOADING ...") is Data, so wrapping never
// changes the answer. If an error in the chain panics (a nil pointer inside
// a wrapper), Classify returns Data.
//
// Classify sees only the error, not the context. With
// Options.ContextTimeoutEnabled, go-redis reports a read cut short by the
// caller's own deadline as a socket timeout, not as
// context.DeadlineExceeded: a Timeout at or past the context's deadline is
// the caller's and must not be retried. Compare the deadline with the
// clock rather than test ctx.Err(): the socket's timer may fire a moment
// before the context's.
func Classify(err error) Class {
	if err == nil || err == redis.Nil {
		return OK
	}
	c, _ := describe(err, false, false)
	return c
}

// Executed reports whether the command that failed with err can have run
// on the server. It is safe for concurrent use, never panics, and
// allocates nothing for nil and redis.Nil. Like [Classify] it looks through
// wrapping.
//
//   - [Completed]: nil, redis.Nil, a reply go-redis could not decode
//     ("redis: can't parse ...", "redis: got 3 elements ...", a
//     *strconv.NumError from a result accessor): the command ran and
//     its reply came back.
//   - [NotExecuted]: a dial or DNS error, connection refused, a pool
//     timeout or exhaustion, redis.ErrClosed, a write error
//     (*net.OpError with Op "write", write timeouts included: the command
//     never reached the server whole), a handshake failure (go-redis
//     returns those as a bare *os.SyscallError or os.ErrDeadlineExceeded
//     before it writes the command), a value go-redis cannot marshal,
//     every error reply (LOADING, READONLY, BUSY, OOM, MOVED, WRONGTYPE,
//     redis.TxFailedErr, ...), and a call this library's breaker or
//     budget refused. A breaker.ThrottledError that wraps the error of an
//     earlier attempt reports that error's answer instead, because that
//     attempt may have run.
//   - [Ambiguous]: everything else, and in particular io.EOF, a reset or
//     other read error, a read timeout, net.ErrClosed, the caller's own
//     context error, and any error it does not know: the command may have
//     run.
//
// An error reply to a script does not prove it did not run; use
// [Info.Executed] when the command is known. For a pipeline, the answer
// is about the command whose error it is: an error reply to one command
// of a MULTI/EXEC block does not mean the others did not run.
func Executed(err error) Execution {
	if err == nil || err == redis.Nil {
		return Completed
	}
	_, e := describe(err, false, false)
	return e
}

// Executed is [Executed] for a command whose [Info] is known. An error
// reply to a script (i.Script) may come after part of it ran, so it is
// Ambiguous, except NOSCRIPT, which the server sends before it runs
// anything. Every other answer is the same as Executed(err). It is safe
// for concurrent use.
func (i Info) Executed(err error) Execution {
	if err == nil || err == redis.Nil {
		return Completed
	}
	_, e := describe(err, i.Script, false)
	return e
}

// Describe returns, in one walk of err's chain, what [Classify] and
// [Info.Executed] return for a command whose table entry is info. batched
// is set for a command sent with others in one plain pipeline (not a
// MULTI/EXEC block): go-redis stamps a pipeline's write error on every
// command in it, yet the server may already have run the commands that
// went out whole before the failing byte, so for them a write error is
// Ambiguous, not NotExecuted. It is safe for concurrent use, never panics
// and allocates nothing for nil and redis.Nil.
func Describe(err error, info Info, batched bool) (Class, Execution) {
	if err == nil || err == redis.Nil {
		return OK, Completed
	}
	return describe(err, info.Script, batched)
}

// facts is what one walk of an error chain found; describe decides both
// the class and the execution from it, so the two cannot drift apart.
type facts struct {
	throttled                                *breaker.ThrottledError // the first one, if any
	isThrottle, open, nilReply, closed, pool bool
	reply                                    redis.Error  // the first Redis error reply
	op                                       *net.OpError // the first socket error
	canceled, deadline                       bool         // the context's own errors
	timeout                                  int8         // the outermost Timeout method: 1 true, -1 false, 0 none
	etimedout, refused, connErrno            bool         // syscall errnos
	eof, dns, syscall, osDeadline            bool         // other connection failures
	number                                   bool         // a result accessor's *strconv.NumError
	// leaves are the errors at the ends of the chain, whose text says
	// whether go-redis failed to encode or decode; read only when the
	// execution depends on it, so a leaf whose Error method panics (a nil
	// pointer inside a wrapper) cannot change a decision made before.
	leaves [4]error
	more   []error // leaves beyond the fourth
	n      int
}

func describe(err error, script, batched bool) (c Class, e Execution) {
	defer func() {
		if recover() != nil {
			c, e = Data, Ambiguous
		}
	}()
	switch err { // the common bare errors, without a walk
	case io.EOF, io.ErrUnexpectedEOF:
		return Connection, Ambiguous
	case context.Canceled, context.DeadlineExceeded:
		return Canceled, Ambiguous
	}
	var f facts
	f.walk(err)
	return f.class(), f.execution(script, batched)
}

// walk records what every error in err's chain is, outermost first,
// following Unwrap() error and Unwrap() []error as errors.Is does.
func (f *facts) walk(err error) {
	for err != nil {
		f.see(err)
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				f.walk(e)
			}
			return
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				f.leaf(err)
			}
			err = next
		default:
			f.leaf(err)
			return
		}
	}
}

// is reports whether err itself is target, as one step of errors.Is.
func is(err, target error) bool {
	if err == target {
		return true
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(target)
}

// see records what err itself is.
func (f *facts) see(err error) {
	switch v := err.(type) {
	case *breaker.ThrottledError:
		if v != nil && f.throttled == nil {
			f.throttled = v
		}
	case *breaker.OpenError:
		f.open = true // even a nil one: its Unwrap is nil-safe, the refusal is what it says
	case *net.OpError:
		if v != nil && f.op == nil {
			f.op = v
		}
	case *net.DNSError:
		f.dns = true
	case *os.SyscallError:
		f.syscall = true
	case *strconv.NumError:
		f.number = true
	case syscall.Errno:
		switch v {
		case syscall.ETIMEDOUT:
			f.etimedout, f.connErrno = true, true
		case syscall.ECONNREFUSED:
			f.refused, f.connErrno = true, true
		case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED, syscall.ENETUNREACH, syscall.EHOSTUNREACH:
			f.connErrno = true
		}
	}
	if r, ok := err.(redis.Error); ok && f.reply == nil {
		f.reply = r
	}
	if t, ok := err.(timeoutError); ok && f.timeout == 0 {
		f.timeout = -1
		if t.Timeout() {
			f.timeout = 1
		}
	}
	switch {
	case is(err, breaker.ErrThrottled):
		f.isThrottle = true
	case err == gobreaker.ErrOpenState, err == gobreaker.ErrTooManyRequests:
		f.open = true
	case err == redis.Nil:
		f.nilReply = true
	case is(err, redis.ErrClosed):
		f.closed = true
	case is(err, redis.ErrPoolTimeout), is(err, redis.ErrPoolExhausted):
		f.pool = true
	case is(err, context.Canceled):
		f.canceled = true
	case is(err, context.DeadlineExceeded):
		f.deadline = true
	case is(err, io.EOF), is(err, io.ErrUnexpectedEOF), is(err, net.ErrClosed):
		f.eof = true
	}
	if is(err, os.ErrDeadlineExceeded) {
		f.osDeadline = true
	}
}

// leaf keeps an error at the end of the chain for leafSays. Wrappers are
// not kept, so that the text a wrapper adds ("hooks: get: ...") cannot
// change the answer.
func (f *facts) leaf(err error) {
	if f.n < len(f.leaves) {
		f.leaves[f.n] = err
		f.n++
		return
	}
	f.more = append(f.more, err)
}

// leafSays reports whether the text of a leaf matches.
func (f *facts) leafSays(match func(string) bool) bool {
	for _, e := range append(f.leaves[:f.n:f.n], f.more...) {
		if textMatches(e, match) {
			return true
		}
	}
	return false
}

// textMatches reports whether err's text matches; an Error method that
// panics matches nothing.
func textMatches(err error, match func(string) bool) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return match(err.Error())
}

func isMarshalError(msg string) bool { return strings.HasPrefix(msg, "redis: can't marshal ") }

// class decides the class; see [Classify] for the order.
func (f *facts) class() Class {
	switch {
	case f.isThrottle: // before the breaker: a refusal may wrap an earlier one
		return Throttled
	case f.open:
		return CircuitOpen
	case f.nilReply:
		return OK
	case f.reply != nil:
		return replyClass(f.reply)
	case f.closed:
		return Closed
	case f.op != nil && f.op.Op == "dial":
		// go-redis dials under a DialTimeout context, so a dial timeout
		// also matches context.DeadlineExceeded: the dial decides first.
		switch {
		case errors.Is(f.op, context.Canceled):
			return Canceled
		case timedOut(f.op):
			return Timeout
		}
		return Connection
	case f.canceled, f.deadline:
		return Canceled
	case f.pool:
		return Connection
	case f.timeout > 0 && !f.etimedout:
		// ETIMEDOUT is the kernel declaring the peer dead, not a deadline.
		return Timeout
	case f.eof, f.connErrno, f.op != nil, f.dns, f.syscall:
		return Connection
	}
	return Data
}

// execution decides whether the command can have run; see [Executed].
func (f *facts) execution(script, batched bool) Execution {
	switch {
	case f.isThrottle:
		// A refusal that wraps an earlier attempt's error says what that
		// attempt did.
		if f.throttled != nil && f.throttled.Last != nil {
			_, e := describe(f.throttled.Last, script, batched)
			return e
		}
		return NotExecuted
	case f.open:
		return NotExecuted
	case f.nilReply:
		return Completed
	case f.reply != nil:
		if script && f.reply != redis.TxFailedErr && !redis.HasErrorPrefix(f.reply, "NOSCRIPT ") {
			return Ambiguous
		}
		return NotExecuted
	case f.closed, f.pool:
		return NotExecuted
	case f.op != nil:
		// Checked before the context errors: a dial timeout matches
		// context.DeadlineExceeded.
		switch {
		case f.op.Op == "dial", f.op.Op == "write" && !batched:
			return NotExecuted
		}
		return Ambiguous
	case f.dns, f.refused:
		return NotExecuted
	case f.canceled, f.deadline:
		return Ambiguous
	case f.syscall, f.osDeadline:
		// go-redis reports every socket error of a command as a
		// *net.OpError (io.EOF aside); it strips that wrapper only from
		// the errors of the connection handshake, which runs before the
		// command is written.
		return NotExecuted
	case f.leafSays(isMarshalError):
		return NotExecuted
	case f.number, f.leafSays(isDecodeError):
		return Completed
	}
	return Ambiguous
}

// timeoutError is what go-redis itself checks for a timeout: any error
// with a Timeout method, net.Error included.
type timeoutError interface {
	error
	Timeout() bool
}

// timedOut reports whether the outermost error in err's chain that knows
// about timeouts says it is one. ETIMEDOUT says so too, but it is the
// kernel declaring the peer dead, not a deadline, so it is a Connection.
func timedOut(err error) bool {
	te, ok := errors.AsType[timeoutError](err)
	return ok && te != nil && te.Timeout() && !errors.Is(err, syscall.ETIMEDOUT)
}

// replyClass classifies one Redis error reply. It is given the reply
// itself, not the error that wraps it, so that go-redis's helpers, which
// fall back to matching the whole message, see the reply's own text.
func replyClass(rerr redis.Error) Class {
	if rerr == redis.TxFailedErr {
		return Response
	}
	msg := rerr.Error()
	// Dispatch on the reply's first letter so that the common cases call
	// one of go-redis's helpers, not all of them.
	var first byte
	if msg != "" {
		first = msg[0]
	}
	switch {
	case first == 'L' && redis.IsLoadingError(rerr):
		return BusyLoading
	case first == 'C' && redis.IsClusterDownError(rerr),
		first == 'T' && redis.IsTryAgainError(rerr),
		first == 'M' && redis.IsMasterDownError(rerr),
		first == 'N' && redis.IsNoReplicasError(rerr):
		return ClusterDown
	case first == 'O' && redis.IsOOMError(rerr):
		return Capacity
	case first == 'B' && redis.HasErrorPrefix(rerr, "BUSY "):
		return Busy
	case (first == 'R' || first == 'E') && redis.IsReadOnlyError(rerr):
		// "ERR Error running script ...: -READONLY ..." is a script's
		// write refused by a replica.
		return ReadOnly
	case first == 'E' && redis.IsMaxClientsError(rerr):
		return Capacity
	case first == 'E' && redis.HasErrorPrefix(rerr, "BUSY "):
		// KVRocks prefixes its replies with "ERR ".
		return Busy
	}
	return Response
}

// decodePrefixes are the messages of go-redis's reply-decoding errors: the
// reply was read, it was not what the command expected.
var decodePrefixes = [...]string{
	"redis: can't parse",
	"redis: can't read raw reply",
	"redis: invalid reply",
	"redis: invalid map key",
	"redis: got ",
	"redis: unexpected type",
	"redis: unexpected response",
	"redis: unexpected EXEC reply",
	"redis: the length of the array",
	"redis: RESP3 map key",
	"redis: buffer too small",
	"redis: Scan",
	"redis.Scan(",
	"cannot scan redis.result",
}

func isDecodeError(msg string) bool {
	for _, p := range decodePrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
