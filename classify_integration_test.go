package retryable

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable/internal/redistest"
)

// Integration tests: every class produced for real by a redis-server that
// internal/redistest starts, and the error go-redis returns for it.

// noRetry makes a client report the first failure as it is: no built-in
// retries, one dial attempt.
func noRetry(o *redis.Options) {
	o.MaxRetries = -1
	o.DialerRetries = 1
}

// checkErr fails the test unless err classifies as want and Executed says
// exec; with script set it also checks Info{Script: true}.Executed.
func checkErr(t *testing.T, what string, err error, want Class, exec Execution) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, want)
	}
	if got := Classify(err); got != want {
		t.Errorf("%s: Classify(%T %q) = %v, want %v", what, err, err, got, want)
	}
	if got := Executed(err); got != exec {
		t.Errorf("%s: Executed(%T %q) = %v, want %v", what, err, err, got, exec)
	}
}

// waitBlocked waits until n clients of s are blocked in a command.
func waitBlocked(t *testing.T, s *redistest.Server, n int) {
	t.Helper()
	redistest.WaitFor(t, 5*time.Second, func() bool {
		v, _ := strconv.Atoi(s.Info(t, "clients")["blocked_clients"])
		return v >= n
	})
}

func TestIntegrationErrorReplies(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t, noRetry)
	ctx := context.Background()
	script := Info{Kind: Unsafe, Script: true}

	t.Run("error_reply", func(t *testing.T) {
		// A script's error_reply goes through go-redis's reply parser, so it
		// gets the same typed error as the server's own reply would.
		tests := []struct {
			reply string
			want  Class
		}{
			{"LOADING Redis is loading the dataset in memory", BusyLoading},
			{"READONLY You can't write against a read only replica.", ReadOnly},
			{"CLUSTERDOWN The cluster is down", ClusterDown},
			{"TRYAGAIN Multiple keys request during rehashing of slot", ClusterDown},
			{"MASTERDOWN Link with MASTER is down", ClusterDown},
			{"NOREPLICAS Not enough good replicas to write.", ClusterDown},
			{"BUSY Redis is busy running a script.", Busy},
			{"BUSYKEY Target key name already exists.", Response},
			{"OOM command not allowed when used memory > 'maxmemory'.", Capacity},
			{"ERR max number of clients reached", Capacity},
			{"MOVED 3999 127.0.0.1:6381", Response},
			{"ASK 3999 127.0.0.1:6381", Response},
			{"NOAUTH Authentication required.", Response},
			{"NOPERM this user has no permissions", Response},
			{"EXECABORT Transaction discarded because of previous errors.", Response},
			{"ERR something else", Response},
		}
		for _, tc := range tests {
			err := c.Eval(ctx, "return redis.error_reply(ARGV[1])", nil, tc.reply).Err()
			checkErr(t, tc.reply, err, tc.want, NotExecuted)
			if got := script.Executed(err); got != Ambiguous {
				t.Errorf("%s: script.Executed = %v, want ambiguous", tc.reply, got)
			}
		}
	})

	t.Run("WRONGTYPE", func(t *testing.T) {
		if err := c.Set(ctx, "wrongtype", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := c.LPush(ctx, "wrongtype", "x").Err()
		checkErr(t, "LPUSH on a string", err, Response, NotExecuted)
		if !redis.HasErrorPrefix(err, "WRONGTYPE") {
			t.Errorf("LPUSH on a string: %v, want WRONGTYPE", err)
		}
		err = c.Eval(ctx, "return redis.call('lpush', KEYS[1], 'x')", []string{"wrongtype"}).Err()
		checkErr(t, "WRONGTYPE in a script", err, Response, NotExecuted)
		if got := script.Executed(err); got != Ambiguous {
			t.Errorf("WRONGTYPE in a script: script.Executed = %v, want ambiguous", got)
		}
	})

	t.Run("NOSCRIPT", func(t *testing.T) {
		err := c.EvalSha(ctx, "0123456789012345678901234567890123456789", nil).Err()
		checkErr(t, "EVALSHA unknown", err, Response, NotExecuted)
		if got := script.Executed(err); got != NotExecuted {
			t.Errorf("NOSCRIPT: script.Executed = %v, want not executed", got)
		}
	})

	t.Run("EXECABORT", func(t *testing.T) {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "execabort", "v", 0)
			p.Do(ctx, "NOSUCHCOMMAND")
			return nil
		})
		checkErr(t, "MULTI with an unknown command", err, Response, NotExecuted)
		if n, _ := c.Exists(ctx, "execabort").Result(); n != 0 {
			t.Errorf("EXECABORT: the transaction ran (%d keys)", n)
		}
	})

	t.Run("TxFailedErr", func(t *testing.T) {
		other := s.Client(t, noRetry)
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			if err := other.Set(ctx, "watched", "changed", 0).Err(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "watched-counter")
				return nil
			})
			return err
		}, "watched")
		if err != redis.TxFailedErr {
			t.Fatalf("WATCH then a change: %v, want redis.TxFailedErr", err)
		}
		checkErr(t, "TxFailedErr", err, Response, NotExecuted)
	})

	t.Run("redis.Nil", func(t *testing.T) {
		err := c.Get(ctx, "no-such-key").Err()
		if err != redis.Nil {
			t.Fatalf("GET missing: %v, want redis.Nil", err)
		}
		if Classify(err) != OK || Executed(err) != Completed {
			t.Errorf("redis.Nil: %v, %v", Classify(err), Executed(err))
		}
	})

	t.Run("decode", func(t *testing.T) {
		if err := c.Set(ctx, "not-a-number", "abc", 0).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := c.Get(ctx, "not-a-number").Int()
		checkErr(t, "Int() of abc", err, Data, Completed)
	})

	t.Run("marshal", func(t *testing.T) {
		err := c.Set(ctx, "marshal", struct{ A int }{1}, 0).Err()
		checkErr(t, "SET of a struct", err, Data, NotExecuted)
		if n, _ := c.Exists(ctx, "marshal").Result(); n != 0 {
			t.Errorf("marshal error: the SET ran")
		}
	})
}

func TestIntegrationOOM(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "maxmemory 1mb", "maxmemory-policy noeviction")
	c := s.Client(t, noRetry)
	ctx := context.Background()
	value := string(make([]byte, 64<<10))
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = c.Set(ctx, "fill:"+strconv.Itoa(i), value, 0).Err()
	}
	checkErr(t, "SET past maxmemory", err, Capacity, NotExecuted)
	if !redis.IsOOMError(err) {
		t.Errorf("SET past maxmemory: %v, want OOM", err)
	}
}

// hookRecorder is a go-redis hook that records the error of every command,
// those of the connection handshake included, as this library's hook sees
// them.
type hookRecorder struct {
	mu   sync.Mutex
	errs map[string][]error
}

func (h *hookRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *hookRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.record(cmd.Name(), err)
		return err
	}
}

func (h *hookRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			h.record(cmd.Name(), cmd.Err())
		}
		return err
	}
}

func (h *hookRecorder) record(name string, err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.errs == nil {
		h.errs = make(map[string][]error)
	}
	h.errs[name] = append(h.errs[name], err)
}

func (h *hookRecorder) errors(name string) []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs[name]...)
}

// dialAfterGreeting dials addr and returns once the server has sent
// something (or 2 s passed), so that a server that refuses the connection
// has written its error reply before go-redis writes HELLO.
func dialAfterGreeting(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return conn, nil
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_ = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN
	})
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

func TestIntegrationMaxClients(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "maxclients 1")
	ctx := context.Background()
	first := s.Client(t, noRetry)
	if err := first.Ping(ctx).Err(); err != nil {
		t.Fatalf("first client: %v", err)
	}
	rec := &hookRecorder{}
	second := s.Client(t, noRetry, func(o *redis.Options) { o.Dialer = dialAfterGreeting })
	second.AddHook(rec)
	err := second.Ping(ctx).Err()
	// The server answers the second connection's first command (HELLO) with
	// the error and closes it: the hook sees the reply, the caller the
	// broken connection of the handshake that follows. Neither ran PING.
	hello := rec.errors("hello")
	if len(hello) != 1 {
		t.Fatalf("HELLO errors seen by the hook: %v, want one (caller got %v)", hello, err)
	}
	checkErr(t, "HELLO over maxclients", hello[0], Capacity, NotExecuted)
	if !redis.IsMaxClientsError(hello[0]) {
		t.Errorf("HELLO over maxclients: %v, want the max clients reply", hello[0])
	}
	// The handshake's next write fails, or its read meets the closed
	// connection; a bare EOF cannot tell a handshake from a command, so
	// Executed stays conservative for it.
	want := NotExecuted
	if err == io.EOF {
		want = Ambiguous
	}
	checkErr(t, "PING over maxclients", err, Connection, want)
}

func TestIntegrationBusy(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "busy-reply-threshold 100")
	ctx := context.Background()
	runner := s.Client(t, noRetry, func(o *redis.Options) { o.ReadTimeout = 20 * time.Second })
	other := s.Client(t, noRetry, func(o *redis.Options) { o.ReadTimeout = 20 * time.Second })
	if err := other.Ping(ctx).Err(); err != nil { // dial before the server is busy
		t.Fatal(err)
	}
	scriptErr := make(chan error, 1)
	go func() {
		scriptErr <- runner.Eval(ctx, "local i = 0 while true do i = i + 1 end", nil).Err()
	}()
	var err error
	redistest.WaitFor(t, 10*time.Second, func() bool {
		err = other.Get(ctx, "k").Err()
		return err != nil && err != redis.Nil
	})
	checkErr(t, "GET during a long script", err, Busy, NotExecuted)
	if err := other.ScriptKill(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	killed := <-scriptErr
	// The killed script's error is a reply; it ran in part.
	checkErr(t, "killed script", killed, Response, NotExecuted)
	if got := (Info{Kind: Unsafe, Script: true}).Executed(killed); got != Ambiguous {
		t.Errorf("killed script: script.Executed = %v, want ambiguous", got)
	}
	if err := other.Ping(ctx).Err(); err != nil {
		t.Errorf("server after SCRIPT KILL: %v", err)
	}
}

func TestIntegrationReadOnly(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	c := replica.Client(t, noRetry)
	ctx := context.Background()
	err := c.Set(ctx, "k", "v", 0).Err()
	checkErr(t, "SET on a replica", err, ReadOnly, NotExecuted)
	err = c.Eval(ctx, "return redis.call('set', KEYS[1], 'v')", []string{"k"}).Err()
	checkErr(t, "a script's SET on a replica", err, ReadOnly, NotExecuted)
	if got := (Info{Kind: Unsafe, Script: true}).Executed(err); got != Ambiguous {
		t.Errorf("a script's SET on a replica: script.Executed = %v, want ambiguous", got)
	}
}

func TestIntegrationAuth(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "requirepass secret")
	s.Do(t, "ACL", "SETUSER", "limited", "on", ">pw", "~*", "+@connection")
	ctx := context.Background()
	tests := []struct {
		name           string
		user, password string
		prefix         string
	}{
		{"no password", "", "", "NOAUTH"},
		{"wrong password", "", "wrong", "WRONGPASS"},
		{"no permission", "limited", "pw", "NOPERM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Client(t, noRetry, func(o *redis.Options) {
				o.Username, o.Password = tc.user, tc.password
			})
			err := c.Get(ctx, "k").Err()
			checkErr(t, tc.name, err, Response, NotExecuted)
			if !redis.HasErrorPrefix(err, tc.prefix) {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.prefix)
			}
		})
	}
}

func TestIntegrationConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		c := s.Client(t, noRetry)
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		s.Kill()
		// The pool drops its dead connection and dials again.
		checkErr(t, "GET after Kill", c.Get(ctx, "k").Err(), Connection, NotExecuted)
		fresh := s.Client(t, noRetry)
		err := fresh.Get(ctx, "k").Err()
		checkErr(t, "GET of a new client after Kill", err, Connection, NotExecuted)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("GET of a new client after Kill: %v, want connection refused", err)
		}
	})

	t.Run("EOF", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		c := s.Client(t, noRetry)
		conn := c.Conn()
		defer conn.Close()
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		blpop := make(chan error, 1)
		go func() { blpop <- conn.BLPop(ctx, 10*time.Second, "eof-list").Err() }()
		waitBlocked(t, s, 1)
		s.Do(t, "CLIENT", "KILL", "ID", id)
		checkErr(t, "BLPOP of a killed client", <-blpop, Connection, Ambiguous)
	})

	t.Run("lost reply", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		p := redistest.NewProxy(t, s.Addr())
		opts := &redis.Options{Addr: p.Addr()}
		noRetry(opts)
		c := redis.NewClient(opts)
		defer c.Close()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		p.DropNextReply()
		err := c.Incr(ctx, "lost").Err()
		checkErr(t, "INCR whose reply was lost", err, Connection, Ambiguous)
		// Ambiguous indeed: the INCR ran.
		if v := s.Do(t, "GET", "lost"); v != "1" {
			t.Errorf("after the lost reply, lost = %v, want 1", v)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		c := s.Client(t, noRetry, func(o *redis.Options) { o.ReadTimeout = 100 * time.Millisecond })
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		s.Freeze()
		defer s.Thaw()
		checkErr(t, "GET of a frozen server", c.Get(ctx, "k").Err(), Timeout, Ambiguous)
		// A new connection is accepted by the kernel, and its handshake
		// times out before the command is written.
		fresh := s.Client(t, noRetry, func(o *redis.Options) { o.ReadTimeout = 100 * time.Millisecond })
		checkErr(t, "first GET of a new client", fresh.Get(ctx, "k").Err(), Timeout, NotExecuted)
		// With ContextTimeoutEnabled, the caller's deadline is the socket's:
		// go-redis reports a socket timeout, and only the context's
		// deadline tells it was the caller's. ctx.Err() may still be nil
		// when the socket gives up: its timer and the context's race.
		cte := s.Client(t, noRetry, func(o *redis.Options) {
			o.ReadTimeout = 10 * time.Second
			o.ContextTimeoutEnabled = true
		})
		s.Thaw()
		if err := cte.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		s.Freeze()
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		checkErr(t, "GET past the caller's deadline", cte.Get(dctx, "k").Err(), Timeout, Ambiguous)
		if d, _ := dctx.Deadline(); time.Now().Before(d) {
			t.Errorf("GET past the caller's deadline returned %v before it", time.Until(d))
		}
	})

	t.Run("pool timeout", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		c := s.Client(t, noRetry, func(o *redis.Options) {
			o.PoolSize = 1
			o.PoolTimeout = 50 * time.Millisecond
		})
		conn := c.Conn()
		defer conn.Close()
		blpop := make(chan error, 1)
		go func() { blpop <- conn.BLPop(ctx, 10*time.Second, "pool-list").Err() }()
		waitBlocked(t, s, 1)
		err := c.Get(ctx, "k").Err()
		checkErr(t, "GET with the only connection taken", err, Connection, NotExecuted)
		if !errors.Is(err, redis.ErrPoolTimeout) {
			t.Errorf("GET with the only connection taken: %v, want redis.ErrPoolTimeout", err)
		}
		s.Do(t, "RPUSH", "pool-list", "x")
		if err := <-blpop; err != nil {
			t.Errorf("BLPOP: %v", err)
		}
	})

	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		s := redistest.Start(t)
		c := s.Client(t, noRetry)
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		err := c.Get(ctx, "k").Err()
		checkErr(t, "GET on a closed client", err, Closed, NotExecuted)
	})
}

func TestIntegrationContext(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithTimeout(context.Background(), -time.Second)
	defer cancelExpired()
	for _, cte := range []bool{false, true} {
		t.Run("ContextTimeoutEnabled="+strconv.FormatBool(cte), func(t *testing.T) {
			c := s.Client(t, noRetry, func(o *redis.Options) { o.ContextTimeoutEnabled = cte })
			// A new client (the dial sees the context) and a warm one.
			for _, warm := range []bool{false, true} {
				if warm {
					if err := c.Ping(context.Background()).Err(); err != nil {
						t.Fatal(err)
					}
				}
				err := c.Get(canceled, "k").Err()
				checkErr(t, "GET with a canceled context", err, Canceled, Ambiguous)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("GET with a canceled context: %v", err)
				}
				err = c.Get(expired, "k").Err()
				checkErr(t, "GET past its deadline", err, Canceled, Ambiguous)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("GET past its deadline: %v", err)
				}
			}
		})
	}
}
