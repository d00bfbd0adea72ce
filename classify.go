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
	return classify(err)
}

func classify(err error) (c Class) {
	defer func() {
		if recover() != nil {
			c = Data
		}
	}()
	switch err { // the common bare errors, without a walk
	case io.EOF, io.ErrUnexpectedEOF:
		return Connection
	case context.Canceled, context.DeadlineExceeded:
		return Canceled
	}
	if r, ok := refusal(err); ok {
		return r
	}
	if errors.Is(err, redis.Nil) {
		return OK
	}
	// Replies before network errors: a reply is never one, so the order
	// only saves the network checks on the common path.
	if rerr, ok := errors.AsType[redis.Error](err); ok && rerr != nil {
		return replyClass(rerr)
	}
	if errors.Is(err, redis.ErrClosed) {
		return Closed
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op != nil && op.Op == "dial" {
		switch {
		case errors.Is(op, context.Canceled):
			return Canceled
		case timedOut(op):
			return Timeout
		default:
			return Connection
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return Connection
	}
	if timedOut(err) {
		return Timeout
	}
	if connectionError(err) {
		return Connection
	}
	return Data
}

// refusal reports whether err is a call this library refused, and how.
// ErrThrottled comes first: a ThrottledError may wrap an OpenError as the
// last error of the call, and the budget is what refused this one.
func refusal(err error) (Class, bool) {
	if errors.Is(err, breaker.ErrThrottled) {
		return Throttled, true
	}
	if _, ok := errors.AsType[*breaker.OpenError](err); ok {
		return CircuitOpen, true
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return CircuitOpen, true
	}
	return OK, false
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

func connectionError(err error) bool {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ETIMEDOUT):
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	_, ok := errors.AsType[*os.SyscallError](err)
	return ok
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
	return executed(err, false)
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
	return executed(err, i.Script)
}

func executed(err error, script bool) (e Execution) {
	defer func() {
		if recover() != nil {
			e = Ambiguous
		}
	}()
	switch err { // the common bare errors, without a walk
	case io.EOF, io.ErrUnexpectedEOF, context.Canceled, context.DeadlineExceeded:
		return Ambiguous
	}
	if errors.Is(err, breaker.ErrThrottled) {
		if te, ok := errors.AsType[*breaker.ThrottledError](err); ok && te != nil && te.Last != nil {
			return executed(te.Last, script)
		}
		return NotExecuted
	}
	if _, ok := refusal(err); ok {
		return NotExecuted
	}
	if errors.Is(err, redis.Nil) {
		return Completed
	}
	if rerr, ok := errors.AsType[redis.Error](err); ok && rerr != nil {
		if script && rerr != redis.TxFailedErr && !redis.HasErrorPrefix(rerr, "NOSCRIPT ") {
			return Ambiguous
		}
		return NotExecuted
	}
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return NotExecuted
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op != nil {
		// Checked before the context errors: a dial timeout matches
		// context.DeadlineExceeded.
		if op.Op == "dial" || op.Op == "write" {
			return NotExecuted
		}
		return Ambiguous
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return NotExecuted
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return NotExecuted
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Ambiguous
	}
	// go-redis reports every socket error of a command as a *net.OpError
	// (io.EOF aside). It strips that wrapper only from the errors of the
	// connection handshake, which runs before the command is written.
	if _, ok := errors.AsType[*os.SyscallError](err); ok {
		return NotExecuted
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return NotExecuted
	}
	if anyInChain(err, isMarshalError) {
		return NotExecuted
	}
	if _, ok := errors.AsType[*strconv.NumError](err); ok || anyInChain(err, isDecodeError) {
		return Completed
	}
	return Ambiguous
}

// anyInChain reports whether match holds for an error at the end of err's
// chain: one that wraps nothing. Wrappers are not asked, so that the text
// a wrapper adds ("hooks: get: ...") cannot change the answer.
func anyInChain(err error, match func(error) bool) bool {
	for err != nil {
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if anyInChain(e, match) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			next := u.Unwrap()
			if next == nil {
				return match(err)
			}
			err = next
		default:
			return match(err)
		}
	}
	return false
}

// isMarshalError reports whether err is go-redis's refusal to encode an
// argument, which it returns before anything is written.
func isMarshalError(err error) bool {
	return strings.HasPrefix(err.Error(), "redis: can't marshal ")
}

// isDecodeError reports whether err is one of go-redis's reply-decoding
// errors: the reply was read, it was not what the command expected.
func isDecodeError(err error) bool {
	prefixes := [...]string{
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
	msg := err.Error()
	for _, p := range prefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
