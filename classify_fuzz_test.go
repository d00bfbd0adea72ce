package retryable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable/breaker"
)

// fuzzSentinels are errors that go-redis, Go or this library return as
// they are.
var fuzzSentinels = []error{
	io.EOF, io.ErrUnexpectedEOF, context.Canceled, context.DeadlineExceeded,
	redis.Nil, redis.ErrClosed, redis.ErrPoolTimeout, redis.ErrPoolExhausted,
	redis.TxFailedErr, net.ErrClosed, os.ErrDeadlineExceeded,
	syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNREFUSED, syscall.ETIMEDOUT,
	breaker.ErrThrottled, gobreaker.ErrOpenState, gobreaker.ErrTooManyRequests,
}

// FuzzClassify builds an error from the input (a reply go-redis parsed, a
// plain error, a sentinel, a network error or a refusal by this library),
// wraps it up to three times with fmt.Errorf("%w") and errors.Join, and
// checks that Classify and Executed neither panic nor change their answer
// because of the wrapping.
func FuzzClassify(f *testing.F) {
	srv := startFakeRedis(f)
	c := srv.client(f)
	ctx := context.Background()
	reply := func(t *testing.T, msg string) error {
		msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
		err := c.Do(ctx, "RAW", "-"+msg+"\r\n").Err()
		if err == nil {
			t.Fatalf("reply -%s: no error", msg)
		}
		if _, ok := errors.AsType[redis.Error](err); !ok {
			t.Fatalf("reply -%s: %T %v is not a redis.Error", msg, err, err)
		}
		return err
	}

	f.Add(uint8(0), "LOADING Redis is loading the dataset in memory", uint8(0))
	f.Add(uint8(0), "READONLY You can't write against a read only replica.", uint8(1))
	f.Add(uint8(0), "ERR Error running script: -READONLY You can't write against a read only replica.", uint8(2))
	f.Add(uint8(0), "BUSY Redis is busy running a script.", uint8(3))
	f.Add(uint8(0), "BUSYKEY Target key name already exists.", uint8(7))
	f.Add(uint8(0), "ERR max number of clients reached", uint8(5))
	f.Add(uint8(0), "OOM command not allowed", uint8(6))
	f.Add(uint8(0), "CLUSTERDOWN The cluster is down", uint8(9))
	f.Add(uint8(0), "MOVED 3999 127.0.0.1:6381", uint8(10))
	f.Add(uint8(0), "NOSCRIPT No matching script.", uint8(11))
	f.Add(uint8(0), "redis: nil", uint8(1))
	f.Add(uint8(0), "", uint8(0))
	f.Add(uint8(1), "redis: can't parse int reply", uint8(13))
	f.Add(uint8(1), "redis: can't marshal struct {}", uint8(14))
	f.Add(uint8(1), "LOADING but a plain error", uint8(15))
	f.Add(uint8(2), "abc", uint8(63))
	f.Add(uint8(2), "abcdefgh", uint8(21))
	f.Add(uint8(3), "dial", uint8(2))
	f.Add(uint8(3), "write", uint8(3))
	f.Add(uint8(3), "read%w", uint8(62))
	f.Add(uint8(4), "retry budget exhausted", uint8(5))
	f.Add(uint8(5), "127.0.0.1:6379", uint8(6))

	f.Fuzz(func(t *testing.T, kind uint8, msg string, wraps uint8) {
		base := fuzzError(t, kind, msg, reply)
		err := base
		for i := range int(wraps % 4) {
			switch (wraps >> (2 + 2*i)) % 4 {
			case 0:
				err = fmt.Errorf("%s: %w", msg, err)
			case 1:
				err = errors.Join(err)
			case 2:
				err = errors.Join(errors.New("unrelated"), err)
			default:
				err = fmt.Errorf("%w (%w)", err, errors.New("unrelated"))
			}
		}
		class, exec := Classify(base), Executed(base)
		if class >= numClasses || exec > Completed {
			t.Fatalf("%T %q: Classify %d, Executed %d", base, base, class, exec)
		}
		if got := Classify(err); got != class {
			t.Errorf("Classify(%q) = %v, Classify(%q) = %v", err, got, base, class)
		}
		if got := Executed(err); got != exec {
			t.Errorf("Executed(%q) = %v, Executed(%q) = %v", err, got, base, exec)
		}
		script := Info{Script: true}
		if got, want := script.Executed(err), script.Executed(base); got != want {
			t.Errorf("script.Executed(%q) = %v, script.Executed(%q) = %v", err, got, base, want)
		}
		if kind%6 == 0 && base != redis.Nil {
			// A reply: the server refused the command.
			if exec != NotExecuted {
				t.Errorf("reply %q: Executed = %v", base, exec)
			}
			switch class {
			case BusyLoading, ReadOnly, ClusterDown, Busy, Capacity, Response:
			default:
				t.Errorf("reply %q: Classify = %v", base, class)
			}
		}
	})
}

// fuzzError builds the base error of one fuzz input.
func fuzzError(t *testing.T, kind uint8, msg string, reply func(*testing.T, string) error) error {
	sentinel := fuzzSentinels[len(msg)%len(fuzzSentinels)]
	switch kind % 6 {
	case 0:
		return reply(t, msg)
	case 1:
		return errors.New(msg)
	case 2:
		return sentinel
	case 3:
		op := msg
		switch len(msg) % 4 {
		case 0:
			op = "dial"
		case 1:
			op = "read"
		case 2:
			op = "write"
		}
		return &net.OpError{Op: op, Net: "tcp", Err: sentinel}
	case 4:
		var last error
		if len(msg)%2 == 0 {
			last = sentinel
		}
		return &breaker.ThrottledError{Reason: msg, Last: last}
	default:
		return &breaker.OpenError{Node: msg, Err: gobreaker.ErrOpenState}
	}
}
