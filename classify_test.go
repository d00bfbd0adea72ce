package retryable

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/go-retryable/retryable/breaker"
)

// fakeRedis is a loopback server that speaks just enough RESP for go-redis
// to parse the replies a test scripts into go-redis's own error types,
// without a redis-server: "RAW <bytes>" writes the bytes as the reply,
// "CLOSE" closes the connection unanswered, "HANG" never answers, "EXEC"
// answers a null array (a WATCHed key changed), and
// every other command gets +OK (HELLO is refused, so go-redis falls back
// to RESP2 as it does with an old server). A silent fakeRedis answers
// nothing at all.
type fakeRedis struct {
	silent bool

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startFakeRedis(t testing.TB) *fakeRedis { return startFake(t, false) }

func startFake(t testing.TB, silent bool) *fakeRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake redis: listen: %v", err)
	}
	f := &fakeRedis{silent: silent, ln: ln, conns: make(map[net.Conn]struct{})}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		f.mu.Lock()
		for c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeRedis) Addr() string { return f.ln.Addr().String() }

func (f *fakeRedis) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[c] = struct{}{}
		f.mu.Unlock()
		f.wg.Add(1)
		go f.serve(c)
	}
}

func (f *fakeRedis) serve(c net.Conn) {
	defer f.wg.Done()
	defer func() {
		_ = c.Close()
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
	}()
	rd := bufio.NewReader(c)
	if f.silent {
		_, _ = io.Copy(io.Discard, rd)
		return
	}
	for {
		args, err := readCommand(rd)
		if err != nil {
			return
		}
		var reply string
		switch strings.ToUpper(args[0]) {
		case "HELLO":
			reply = "-ERR unknown command 'HELLO'\r\n"
		case "PING":
			reply = "+PONG\r\n"
		case "RAW":
			reply = args[1]
		case "EXEC":
			reply = "*-1\r\n"
		case "CLOSE":
			return
		case "HANG":
			_, _ = io.Copy(io.Discard, rd) // until the client goes away
			return
		default:
			reply = "+OK\r\n"
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// readCommand reads one RESP array of bulk strings, as go-redis sends.
func readCommand(rd *bufio.Reader) ([]string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[0] != '*' {
		return nil, fmt.Errorf("fake redis: bad command line %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("fake redis: bad array length %q", line)
	}
	args := make([]string, n)
	for i := range args {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(line[1:]))
		if err != nil || line[0] != '$' || size < 0 {
			return nil, fmt.Errorf("fake redis: bad bulk header %q", line)
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}

func (f *fakeRedis) client(t testing.TB, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{
		Addr:            f.Addr(),
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
		ReadTimeout:     2 * time.Second,
	}
	for _, opt := range opts {
		opt(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// reply returns the error go-redis makes of the RESP error line msg.
func (f *fakeRedis) reply(t testing.TB, msg string) error {
	t.Helper()
	err := f.client(t).Do(context.Background(), "RAW", "-"+msg+"\r\n").Err()
	if err == nil {
		t.Fatalf("fake redis: -%s: go-redis returned no error", msg)
	}
	return err
}

// freeAddr returns a loopback address that nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// classifyCase is one error, built the way go-redis or Go builds it, and
// what Classify and Executed must say about it.
type classifyCase struct {
	name  string
	err   func(t *testing.T, f *fakeRedis) error
	class Class
	exec  Execution
}

func errOf(err error) func(*testing.T, *fakeRedis) error {
	return func(*testing.T, *fakeRedis) error { return err }
}

func replyOf(msg string) func(*testing.T, *fakeRedis) error {
	return func(t *testing.T, f *fakeRedis) error { return f.reply(t, msg) }
}

func classifyCases() []classifyCase {
	expired, cancelExpired := context.WithTimeout(context.Background(), -time.Second)
	cancelExpired()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	dial := func(ctx context.Context) error {
		_, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1")
		return err
	}
	resetRead := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	return []classifyCase{
		{"nil", errOf(nil), OK, Completed},
		{"redis.Nil", errOf(redis.Nil), OK, Completed},
		{"redis.Nil from a reply", func(t *testing.T, f *fakeRedis) error {
			return f.client(t).Do(context.Background(), "RAW", "$-1\r\n").Err()
		}, OK, Completed},

		// Refusals by this library.
		{"ErrThrottled", errOf(breaker.ErrThrottled), Throttled, NotExecuted},
		{"ThrottledError first attempt", errOf(&breaker.ThrottledError{Reason: "rate limit"}), Throttled, NotExecuted},
		{"ThrottledError after EOF", errOf(&breaker.ThrottledError{Reason: "budget", Last: io.EOF}), Throttled, Ambiguous},
		{"ThrottledError after LOADING", replyThen(func(err error) error {
			return &breaker.ThrottledError{Reason: "budget", Last: err}
		}, "LOADING Redis is loading the dataset in memory"), Throttled, NotExecuted},
		{"ThrottledError after redis.Nil", errOf(&breaker.ThrottledError{Reason: "budget", Last: redis.Nil}), Throttled, Completed},
		{"ThrottledError after OpenError", errOf(&breaker.ThrottledError{Reason: "budget",
			Last: &breaker.OpenError{Node: "n", Err: gobreaker.ErrOpenState}}), Throttled, NotExecuted},
		{"OpenError open", errOf(&breaker.OpenError{Node: "127.0.0.1:6379", RetryIn: time.Second, Err: gobreaker.ErrOpenState}), CircuitOpen, NotExecuted},
		{"OpenError half-open", errOf(&breaker.OpenError{Node: "n", Err: gobreaker.ErrTooManyRequests}), CircuitOpen, NotExecuted},
		{"OpenError wrapping EOF", errOf(&breaker.OpenError{Node: "n", Err: io.EOF}), CircuitOpen, NotExecuted},
		{"gobreaker.ErrOpenState", errOf(gobreaker.ErrOpenState), CircuitOpen, NotExecuted},
		{"gobreaker.ErrTooManyRequests", errOf(gobreaker.ErrTooManyRequests), CircuitOpen, NotExecuted},

		// The client and its pool.
		{"ErrClosed", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t)
			_ = c.Close()
			return c.Ping(context.Background()).Err()
		}, Closed, NotExecuted},
		{"ErrPoolTimeout", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t, func(o *redis.Options) { o.PoolSize = 1; o.PoolTimeout = 20 * time.Millisecond })
			conn := c.Conn() // holds the only pooled connection
			t.Cleanup(func() { _ = conn.Close() })
			if err := conn.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("ping: %v", err)
			}
			return c.Ping(context.Background()).Err()
		}, Connection, NotExecuted},
		{"ErrPoolExhausted", errOf(redis.ErrPoolExhausted), Connection, NotExecuted},

		// Dialing.
		{"dial refused", func(t *testing.T, f *fakeRedis) error {
			c := redis.NewClient(&redis.Options{Addr: freeAddr(t), MaxRetries: -1, DialerRetries: 1})
			defer c.Close()
			return c.Ping(context.Background()).Err()
		}, Connection, NotExecuted},
		{"dial timeout", errOf(dial(expired)), Timeout, NotExecuted},
		{"dial canceled", errOf(dial(canceled)), Canceled, NotExecuted},
		{"dial DNS", errOf(&net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "redis.invalid", IsNotFound: true}}), Connection, NotExecuted},
		{"DNS timeout", errOf(&net.DNSError{Err: "i/o timeout", Name: "redis.invalid", IsTimeout: true}), Timeout, NotExecuted},
		{"dial ETIMEDOUT", errOf(&net.OpError{Op: "dial", Net: "tcp",
			Err: &os.SyscallError{Syscall: "connect", Err: syscall.ETIMEDOUT}}), Connection, NotExecuted},
		{"bare ECONNREFUSED", errOf(syscall.ECONNREFUSED), Connection, NotExecuted},

		// The caller's context.
		{"context.Canceled", errOf(context.Canceled), Canceled, Ambiguous},
		{"context.DeadlineExceeded", errOf(context.DeadlineExceeded), Canceled, Ambiguous},
		{"canceled call", func(t *testing.T, f *fakeRedis) error {
			return f.client(t).Ping(canceled).Err()
		}, Canceled, Ambiguous},

		// Reads and writes.
		{"EOF", errOf(io.EOF), Connection, Ambiguous},
		{"EOF from a closed connection", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t)
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("ping: %v", err)
			}
			return c.Do(context.Background(), "CLOSE").Err()
		}, Connection, Ambiguous},
		{"unexpected EOF", errOf(io.ErrUnexpectedEOF), Connection, Ambiguous},
		{"read reset", errOf(resetRead), Connection, Ambiguous},
		{"read closed", errOf(&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}), Connection, Ambiguous},
		{"net.ErrClosed", errOf(net.ErrClosed), Connection, Ambiguous},
		{"read timeout", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t, func(o *redis.Options) { o.ReadTimeout = 50 * time.Millisecond })
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("ping: %v", err)
			}
			return c.Do(context.Background(), "HANG").Err()
		}, Timeout, Ambiguous},
		{"read ETIMEDOUT", errOf(&net.OpError{Op: "read", Net: "tcp",
			Err: &os.SyscallError{Syscall: "read", Err: syscall.ETIMEDOUT}}), Connection, Ambiguous},
		{"write broken pipe", errOf(&net.OpError{Op: "write", Net: "tcp",
			Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}), Connection, NotExecuted},
		{"write timeout", errOf(&net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}), Timeout, NotExecuted},
		{"handshake write error", errOf(&os.SyscallError{Syscall: "write", Err: syscall.EPIPE}), Connection, NotExecuted},
		{"handshake read reset", errOf(&os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}), Connection, NotExecuted},
		{"handshake read timeout", func(t *testing.T, _ *fakeRedis) error {
			// go-redis dials for the first command; HELLO gets no answer in
			// time, and the command is never written.
			silent := startFake(t, true)
			c := silent.client(t, func(o *redis.Options) { o.ReadTimeout = 50 * time.Millisecond })
			return c.Ping(context.Background()).Err()
		}, Timeout, NotExecuted},
		{"bare deadline", errOf(os.ErrDeadlineExceeded), Timeout, NotExecuted},
		{"ECONNABORTED", errOf(syscall.ECONNABORTED), Connection, Ambiguous},
		{"ENETUNREACH", errOf(syscall.ENETUNREACH), Connection, Ambiguous},
		{"EHOSTUNREACH", errOf(syscall.EHOSTUNREACH), Connection, Ambiguous},

		// Error replies, parsed by go-redis.
		{"LOADING", replyOf("LOADING Redis is loading the dataset in memory"), BusyLoading, NotExecuted},
		{"READONLY", replyOf("READONLY You can't write against a read only replica."), ReadOnly, NotExecuted},
		{"READONLY in a script", replyOf("ERR Error running script (call to f_0123): @user_script:1: " +
			"-READONLY You can't write against a read only replica."), ReadOnly, NotExecuted},
		{"CLUSTERDOWN", replyOf("CLUSTERDOWN The cluster is down"), ClusterDown, NotExecuted},
		{"TRYAGAIN", replyOf("TRYAGAIN Multiple keys request during rehashing of slot"), ClusterDown, NotExecuted},
		{"MASTERDOWN", replyOf("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), ClusterDown, NotExecuted},
		{"NOREPLICAS", replyOf("NOREPLICAS Not enough good replicas to write."), ClusterDown, NotExecuted},
		{"BUSY", replyOf("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), Busy, NotExecuted},
		{"BUSY after ERR", replyOf("ERR BUSY Redis is busy running a script"), Busy, NotExecuted},
		{"BUSYKEY", replyOf("BUSYKEY Target key name already exists."), Response, NotExecuted},
		{"BUSYGROUP", replyOf("BUSYGROUP Consumer Group name already exists"), Response, NotExecuted},
		{"OOM", replyOf("OOM command not allowed when used memory > 'maxmemory'."), Capacity, NotExecuted},
		{"max clients", replyOf("ERR max number of clients reached"), Capacity, NotExecuted},
		{"WRONGTYPE", replyOf("WRONGTYPE Operation against a key holding the wrong kind of value"), Response, NotExecuted},
		{"ERR syntax", replyOf("ERR syntax error"), Response, NotExecuted},
		{"ERR unknown command", replyOf("ERR unknown command 'FOO', with args beginning with: "), Response, NotExecuted},
		{"NOSCRIPT", replyOf("NOSCRIPT No matching script. Please use EVAL."), Response, NotExecuted},
		{"NOAUTH", replyOf("NOAUTH Authentication required."), Response, NotExecuted},
		{"WRONGPASS", replyOf("WRONGPASS invalid username-password pair or user is disabled."), Response, NotExecuted},
		{"NOPERM", replyOf("NOPERM User default has no permissions to run the 'get' command"), Response, NotExecuted},
		{"EXECABORT", replyOf("EXECABORT Transaction discarded because of previous errors."), Response, NotExecuted},
		{"MOVED", replyOf("MOVED 3999 127.0.0.1:6381"), Response, NotExecuted},
		{"ASK", replyOf("ASK 3999 127.0.0.1:6381"), Response, NotExecuted},
		{"CROSSSLOT", replyOf("CROSSSLOT Keys in request don't hash to the same slot"), Response, NotExecuted},
		{"MISCONF", replyOf("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), Response, NotExecuted},
		{"ErrCrossSlot", errOf(redis.ErrCrossSlot), Response, NotExecuted},
		{"TxFailedErr", errOf(redis.TxFailedErr), Response, NotExecuted},
		{"TxFailedErr from EXEC", func(t *testing.T, f *fakeRedis) error {
			// The fake answers EXEC with a null array, as Redis does when
			// a WATCHed key changed.
			_, err := f.client(t).TxPipelined(context.Background(), func(p redis.Pipeliner) error {
				p.Do(context.Background(), "RAW", "+QUEUED\r\n")
				return nil
			})
			return err
		}, Response, NotExecuted},

		// Client-side encoding and decoding.
		{"can't marshal", func(t *testing.T, f *fakeRedis) error {
			return f.client(t).Set(context.Background(), "k", struct{}{}, 0).Err()
		}, Data, NotExecuted},
		{"can't parse int", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t)
			cmd := redis.NewIntCmd(context.Background(), "RAW", ":12x\r\n")
			_ = c.Process(context.Background(), cmd)
			return cmd.Err()
		}, Data, Completed},
		{"invalid reply", func(t *testing.T, f *fakeRedis) error {
			return f.client(t).Do(context.Background(), "RAW", "?what\r\n").Err()
		}, Data, Completed},
		{"array length", func(t *testing.T, f *fakeRedis) error {
			c := f.client(t)
			cmd := redis.NewKeyValueSliceCmd(context.Background(), "RAW", "*1\r\n$1\r\na\r\n")
			_ = c.Process(context.Background(), cmd)
			return cmd.Err()
		}, Data, Completed},
		{"strconv from a result", func(t *testing.T, f *fakeRedis) error {
			_, err := f.client(t).Do(context.Background(), "RAW", "$3\r\nabc\r\n").Int()
			return err
		}, Data, Completed},
		{"unknown", errOf(errors.New("boom")), Data, Ambiguous},
		{"plain error with a reply's text", errOf(errors.New("LOADING not a reply")), Data, Ambiguous},
	}
}

// replyThen builds the error of the reply msg, then passes it to wrap.
func replyThen(wrap func(error) error, msg string) func(*testing.T, *fakeRedis) error {
	return func(t *testing.T, f *fakeRedis) error { return wrap(f.reply(t, msg)) }
}

// wrappings are the ways a hook or a caller may wrap an error; Classify
// and Executed must see through every one.
var wrappings = []struct {
	name string
	wrap func(error) error
}{
	{"bare", func(err error) error { return err }},
	{"%w", func(err error) error { return fmt.Errorf("hooks: get: %w", err) }},
	{"%w twice", func(err error) error { return fmt.Errorf("a: %w", fmt.Errorf("b: %w", err)) }},
	{"%w three times", func(err error) error {
		return fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", err)))
	}},
	{"Join", func(err error) error { return errors.Join(err) }},
	{"Join after unrelated", func(err error) error { return errors.Join(errors.New("unrelated"), err) }},
	{"%w in Join", func(err error) error { return fmt.Errorf("x: %w", errors.Join(err, errors.New("y"))) }},
	{"two %w", func(err error) error { return fmt.Errorf("x: %w (%w)", err, errors.New("y")) }},
}

func TestClassifyAndExecuted(t *testing.T) {
	t.Parallel()
	f := startFakeRedis(t)
	for _, tc := range classifyCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := tc.err(t, f)
			if tc.name != "nil" && base == nil {
				t.Fatal("building the error returned nil")
			}
			for _, w := range wrappings {
				err := base
				if base != nil {
					err = w.wrap(base)
				}
				if got := Classify(err); got != tc.class {
					t.Errorf("%s: Classify(%v) = %v, want %v", w.name, err, got, tc.class)
				}
				if got := Executed(err); got != tc.exec {
					t.Errorf("%s: Executed(%v) = %v, want %v", w.name, err, got, tc.exec)
				}
				if base == nil {
					break
				}
			}
		})
	}
}

func TestInfoExecuted(t *testing.T) {
	t.Parallel()
	f := startFakeRedis(t)
	script := Info{Kind: Unsafe, Script: true}
	plain := Info{Kind: Unsafe}
	tests := []struct {
		name       string
		err        func(*testing.T, *fakeRedis) error
		plain, scr Execution
	}{
		{"nil", errOf(nil), Completed, Completed},
		{"redis.Nil", errOf(redis.Nil), Completed, Completed},
		{"LOADING", replyOf("LOADING loading"), NotExecuted, Ambiguous},
		{"BUSY", replyOf("BUSY Redis is busy running a script."), NotExecuted, Ambiguous},
		{"ERR from a script", replyOf("ERR Error running script (call to f_0123): @user_script:1: boom"), NotExecuted, Ambiguous},
		{"WRONGTYPE", replyOf("WRONGTYPE Operation against a key holding the wrong kind of value"), NotExecuted, Ambiguous},
		{"NOSCRIPT", replyOf("NOSCRIPT No matching script. Please use EVAL."), NotExecuted, NotExecuted},
		{"TxFailedErr", errOf(redis.TxFailedErr), NotExecuted, NotExecuted},
		{"dial", errOf(&net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}), NotExecuted, NotExecuted},
		{"pool timeout", errOf(redis.ErrPoolTimeout), NotExecuted, NotExecuted},
		{"open breaker", errOf(&breaker.OpenError{Node: "n", Err: gobreaker.ErrOpenState}), NotExecuted, NotExecuted},
		{"throttled", errOf(&breaker.ThrottledError{Reason: "budget"}), NotExecuted, NotExecuted},
		{"throttled after LOADING", replyThen(func(err error) error {
			return &breaker.ThrottledError{Reason: "budget", Last: err}
		}, "LOADING loading"), NotExecuted, Ambiguous},
		{"EOF", errOf(io.EOF), Ambiguous, Ambiguous},
		{"decode", errOf(errors.New("redis: can't parse int reply: \"x\"")), Completed, Completed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := tc.err(t, f)
			for _, w := range wrappings {
				err := base
				if base != nil {
					err = w.wrap(base)
				}
				if got := plain.Executed(err); got != tc.plain {
					t.Errorf("%s: plain.Executed(%v) = %v, want %v", w.name, err, got, tc.plain)
				}
				if got := (Info{Kind: Read}).Executed(err); got != tc.plain {
					t.Errorf("%s: read.Executed(%v) = %v, want %v", w.name, err, got, tc.plain)
				}
				if got := script.Executed(err); got != tc.scr {
					t.Errorf("%s: script.Executed(%v) = %v, want %v", w.name, err, got, tc.scr)
				}
				if base == nil {
					break
				}
			}
		})
	}
}

// panicky is an error whose Unwrap dereferences a nil pointer.
type panicky struct{ next *panicky }

func (p *panicky) Error() string { return "panicky" }
func (p *panicky) Unwrap() error { return p.next.next }

func TestClassifyNilPointers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		class Class
		exec  Execution
	}{
		{"nil ThrottledError", fmt.Errorf("x: %w", (*breaker.ThrottledError)(nil)), Throttled, NotExecuted},
		// Its Unwrap is nil-safe, like ThrottledError's.
		{"nil OpenError", fmt.Errorf("x: %w", (*breaker.OpenError)(nil)), CircuitOpen, NotExecuted},
		{"nil OpError", fmt.Errorf("x: %w", (*net.OpError)(nil)), Data, Ambiguous},
		{"nil DNSError", fmt.Errorf("x: %w", (*net.DNSError)(nil)), Data, Ambiguous},
		{"nil SyscallError", fmt.Errorf("x: %w", (*os.SyscallError)(nil)), Data, Ambiguous},
		{"OpError without Err", &net.OpError{Op: "read"}, Connection, Ambiguous},
		{"OpenError without Err", &breaker.OpenError{Node: "n"}, CircuitOpen, NotExecuted},
		{"panicking Unwrap", &panicky{next: &panicky{}}, Data, Ambiguous},
		{"panicking Unwrap, joined", errors.Join(&panicky{}), Data, Ambiguous},
		{"typed nil in Join", errors.Join((*net.OpError)(nil), io.EOF), Data, Ambiguous},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tc.err); got != tc.class {
				t.Errorf("Classify = %v, want %v", got, tc.class)
			}
			if got := Executed(tc.err); got != tc.exec {
				t.Errorf("Executed = %v, want %v", got, tc.exec)
			}
			_ = Info{Script: true}.Executed(tc.err)
		})
	}
}

func TestClassTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		class       Class
		name        string
		parent      Class
		recoverable bool
		counts      bool
	}{
		{OK, "OK", OK, false, false},
		{Connection, "Connection", Connection, true, true},
		{Timeout, "Timeout", Connection, true, true},
		{BusyLoading, "BusyLoading", Connection, true, true},
		{ReadOnly, "ReadOnly", ReadOnly, true, true},
		{ClusterDown, "ClusterDown", ClusterDown, true, true},
		{Busy, "Busy", Busy, true, true},
		{Capacity, "Capacity", Capacity, true, true},
		{Response, "Response", Response, false, false},
		{Data, "Data", Data, false, false},
		{Canceled, "Canceled", Canceled, false, false},
		{Closed, "Closed", Closed, false, false},
		{CircuitOpen, "CircuitOpen", CircuitOpen, true, false},
		{Throttled, "Throttled", Throttled, true, false},
	}
	if len(tests) != len(Classes()) {
		t.Fatalf("the test covers %d classes, Classes has %d", len(tests), len(Classes()))
	}
	actions := make(map[string]Class)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if Classes()[i] != tc.class {
				t.Errorf("Classes[%d] = %v, want %v", i, Classes()[i], tc.class)
			}
			if got := tc.class.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			if got := tc.class.Recoverable(); got != tc.recoverable {
				t.Errorf("Recoverable() = %v, want %v", got, tc.recoverable)
			}
			if got := tc.class.CountsAsFailure(); got != tc.counts {
				t.Errorf("CountsAsFailure() = %v, want %v", got, tc.counts)
			}
			a := tc.class.Action()
			if len(a) < 10 {
				t.Errorf("Action() = %q, want a recommendation", a)
			}
			if other, dup := actions[a]; dup {
				t.Errorf("Action() = %q, the same as %v's", a, other)
			}
			actions[a] = tc.class
			for _, target := range Classes() {
				want := target == tc.class || target == tc.parent
				if got := tc.class.Is(target); got != want {
					t.Errorf("%v.Is(%v) = %v, want %v", tc.class, target, got, want)
				}
			}
		})
	}
	bad := Class(200)
	if bad.String() != "Class(?)" || bad.Recoverable() || bad.CountsAsFailure() || bad.Action() != "" {
		t.Errorf("Class(200): String %q Recoverable %v CountsAsFailure %v Action %q",
			bad.String(), bad.Recoverable(), bad.CountsAsFailure(), bad.Action())
	}
	for _, target := range Classes() {
		if bad.Is(target) {
			t.Errorf("Class(200).Is(%v) = true", target)
		}
	}
}

func TestClassActionsFollowRecoverable(t *testing.T) {
	t.Parallel()
	for _, c := range Classes() {
		a := c.Action()
		retries := strings.Contains(a, "retry") && !strings.Contains(a, "do not retry")
		if c != OK && retries != c.Recoverable() {
			t.Errorf("%v: Action %q, Recoverable %v", c, a, c.Recoverable())
		}
	}
}

func TestExecutionString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Execution
		want string
	}{
		{NotExecuted, "not executed"},
		{Ambiguous, "ambiguous"},
		{Completed, "completed"},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("Execution(%d).String() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	f := startFakeRedis(b)
	readOnly := f.reply(b, "READONLY You can't write against a read only replica.")
	benches := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"redis.Nil", redis.Nil},
		{"READONLY", readOnly},
		{"EOF", io.EOF},
		{"wrapped READONLY", fmt.Errorf("hooks: %w", readOnly)},
		{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var c Class
			for b.Loop() {
				c = Classify(bc.err)
			}
			_ = c
		})
	}
	for _, bc := range benches {
		b.Run("Executed/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var e Execution
			for b.Loop() {
				e = Executed(bc.err)
			}
			_ = e
		})
	}
}

func TestDescribeBatchedWrite(t *testing.T) {
	t.Parallel()
	write := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	read := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name    string
		err     error
		batched bool
		exec    Execution
	}{
		{"write error, single command", write, false, NotExecuted},
		{"write error, one of a pipeline", write, true, Ambiguous},
		{"wrapped write error, one of a pipeline", fmt.Errorf("x: %w", write), true, Ambiguous},
		{"read error, single command", read, false, Ambiguous},
		{"dial error, one of a pipeline", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true, NotExecuted},
		{"error reply, one of a pipeline", redis.Nil, true, Completed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			class, exec := Describe(tc.err, Info{}, tc.batched)
			if exec != tc.exec {
				t.Errorf("Describe execution = %v, want %v", exec, tc.exec)
			}
			if class != Classify(tc.err) {
				t.Errorf("Describe class = %v, Classify = %v", class, Classify(tc.err))
			}
			if !tc.batched && exec != Executed(tc.err) {
				t.Errorf("Describe execution = %v, Executed = %v", exec, Executed(tc.err))
			}
		})
	}
}
