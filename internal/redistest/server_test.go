package redistest

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStart(t *testing.T) {
	t.Parallel()
	s := Start(t, "maxmemory 2mb", "maxmemory-policy noeviction")
	if p := s.Port(); p == 6379 || p <= 0 || p >= maxPort {
		t.Fatalf("Port() = %d, want a free port below %d other than 6379", p, maxPort)
	}
	if want := "127.0.0.1:" + strconv.Itoa(s.Port()); s.Addr() != want {
		t.Errorf("Addr() = %q, want %q", s.Addr(), want)
	}
	for _, tc := range []struct{ param, want string }{
		{"maxmemory", "2097152"},
		{"maxmemory-policy", "noeviction"},
		{"save", ""},
		{"appendonly", "no"},
		{"bind", "127.0.0.1"},
	} {
		t.Run(tc.param, func(t *testing.T) {
			got, ok := s.Do(t, "CONFIG", "GET", tc.param).([]any)
			if !ok || len(got) != 2 || got[1] != tc.want {
				t.Errorf("CONFIG GET %s = %#v, want value %q", tc.param, got, tc.want)
			}
		})
	}
	info := s.Info(t, "server")
	if info["tcp_port"] != strconv.Itoa(s.Port()) || info["process_id"] != strconv.Itoa(s.Pid()) {
		t.Errorf("INFO server says port %s pid %s, want %d and %d", info["tcp_port"], info["process_id"], s.Port(), s.Pid())
	}
	if !s.Running() || s.Frozen() {
		t.Errorf("Running() = %v, Frozen() = %v, want true, false", s.Running(), s.Frozen())
	}

	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got := s.Do(t, "GET", "k"); got != "v" {
		t.Errorf("Do GET k = %#v, want \"v\"", got)
	}
	if got := s.Do(t, "GET", "missing"); got != nil {
		t.Errorf("Do GET missing = %#v, want nil", got)
	}
	if _, err := s.DoErr("INCR", "k"); err == nil || !strings.HasPrefix(err.Error(), "ERR") {
		t.Errorf("DoErr INCR on a string: err = %v, want an ERR reply", err)
	}
	s.ConfigSet(t, "maxmemory", "4mb")
	if got := s.Do(t, "CONFIG", "GET", "maxmemory").([]any)[1]; got != "4194304" {
		t.Errorf("after ConfigSet maxmemory = %v, want 4194304", got)
	}
	log, err := os.ReadFile(s.LogPath())
	if err != nil || !strings.Contains(string(log), "Ready to accept connections") {
		t.Errorf("log %s lacks the ready line (err %v)", s.LogPath(), err)
	}
}

func TestStartOverridesDefaults(t *testing.T) {
	t.Parallel()
	s := Start(t, "appendonly yes", `save "3600 1"`)
	for param, want := range map[string]string{"appendonly": "yes", "save": "3600 1"} {
		if got := s.Do(t, "CONFIG", "GET", param).([]any)[1]; got != want {
			t.Errorf("CONFIG GET %s = %q, want %q", param, got, want)
		}
	}
}

func TestStartWithPassword(t *testing.T) {
	t.Parallel()
	s := Start(t, `requirepass "s3cret"`)
	if got := s.Do(t, "PING"); got != "PONG" {
		t.Errorf("admin PING = %v, want PONG", got)
	}
	if err := s.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Errorf("Client PING: %v", err)
	}
	anon := s.Client(t, func(o *redis.Options) { o.Password = "" })
	if err := anon.Ping(context.Background()).Err(); err == nil {
		t.Error("PING without the password succeeded, want NOAUTH")
	}
}

func TestParallelServers(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			s.Do(t, "SET", "i", i)
			if got := s.Do(t, "GET", "i"); got != strconv.Itoa(i) {
				t.Errorf("GET i = %v, want %d", got, i)
			}
		})
	}
}

// TestStartFailures checks the failure messages; it is not parallel since
// one case changes PATH.
func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		conf  []string
		path  bool // empty PATH
		wants []string
	}{
		{"missing binary", nil, true, []string{missingBinary}},
		{"reserved port", []string{"port 1234"}, false, []string{"set by the harness"}},
		{"reserved dir", []string{"DIR /tmp"}, false, []string{"set by the harness"}},
		{"two lines", []string{"maxmemory 1mb\nport 1"}, false, []string{"single line"}},
		{"empty line", []string{" "}, false, []string{"empty config line"}},
		{"bad directive", []string{"no-such-directive 1"}, false, []string{"exited before it was ready", "Bad directive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path {
				t.Setenv("PATH", t.TempDir())
			}
			f := runFake(t, func(tb testing.TB) {
				Start(tb, tc.conf...)
				t.Error("Start returned, want a fatal failure")
			})
			t.Logf("fatal: %s", f.fatal)
			for _, w := range tc.wants {
				if !strings.Contains(f.fatal, w) {
					t.Errorf("fatal message %q does not contain %q", f.fatal, w)
				}
			}
			if tc.path && f.fatal != missingBinary {
				t.Errorf("fatal message = %q, want exactly %q", f.fatal, missingBinary)
			}
		})
	}
}

func TestCleanupKillsAndReaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		act  func(tb testing.TB, s *Server)
	}{
		{"running", func(testing.TB, *Server) {}},
		{"frozen", func(_ testing.TB, s *Server) { s.Freeze() }},
		{"failed test", func(tb testing.TB, _ *Server) { tb.Fatal("test failed") }},
		{"frozen and failed", func(tb testing.TB, s *Server) { s.Freeze(); tb.Fatal("test failed") }},
		{"shut down by itself", func(_ testing.TB, s *Server) { _, _ = s.DoErr("SHUTDOWN", "NOSAVE") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var pid int
			runFake(t, func(tb testing.TB) {
				s := Start(tb)
				pid = s.Pid()
				tc.act(tb, s)
			})
			if pid == 0 {
				t.Fatal("server did not start")
			}
			if !processGone(pid) {
				t.Errorf("pid %d still exists (running or zombie) after cleanup", pid)
			}
		})
	}
}

func TestKillRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t, "maxmemory 3mb")
	c := s.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	port, pid := s.Port(), s.Pid()

	s.Kill()
	if !processGone(pid) {
		t.Errorf("pid %d still exists after Kill", pid)
	}
	if s.Running() || s.Pid() != 0 {
		t.Errorf("after Kill: Running() = %v, Pid() = %d, want false, 0", s.Running(), s.Pid())
	}
	if err := c.Get(ctx, "k").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Errorf("GET on a killed server: err = %v, want a connection error", err)
	}
	if _, err := s.DoErr("PING"); err == nil {
		t.Error("DoErr on a killed server succeeded")
	}
	s.Kill() // harmless

	s.Restart(t)
	if s.Port() != port {
		t.Errorf("port after Restart = %d, want %d", s.Port(), port)
	}
	if s.Pid() == pid || s.Pid() == 0 {
		t.Errorf("pid after Restart = %d, want a new process (old %d)", s.Pid(), pid)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		// A pooled connection to the old process may fail once.
		if err = c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET k after Restart: err = %v, want redis.Nil (nothing persisted)", err)
		}
	}
	if got := s.Do(t, "CONFIG", "GET", "maxmemory").([]any)[1]; got != "3145728" {
		t.Errorf("maxmemory after Restart = %v, want the start config's 3145728", got)
	}

	// Restart of a running server kills it first.
	pid = s.Pid()
	s.Restart(t)
	if s.Pid() == pid || !processGone(pid) {
		t.Errorf("Restart of a running server: pid %d -> %d, old one gone: %v", pid, s.Pid(), processGone(pid))
	}
}

func TestRestartWaitsForPort(t *testing.T) {
	t.Parallel()
	s := Start(t)
	s.Kill()
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		t.Fatalf("holding the port: %v", err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(300 * time.Millisecond)
		_ = ln.Close()
	}()
	s.Restart(t)
	<-released
	if got := s.Do(t, "PING"); got != "PONG" {
		t.Errorf("PING after Restart = %v", got)
	}
	log, _ := os.ReadFile(s.LogPath())
	if !strings.Contains(string(log), "Address already in use") {
		t.Errorf("log does not show a failed bind; Restart did not have to wait:\n%s", log)
	}
}

func TestStartRetriesTakenPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	picks := 0
	s := start(t, func() (int, error) {
		picks++
		if picks == 1 {
			return taken, nil
		}
		return freePort()
	}, nil)
	if s.Port() == taken || picks != 2 {
		t.Errorf("port %d after %d picks, want a second, free port (taken: %d)", s.Port(), picks, taken)
	}
	if got := s.Do(t, "PING"); got != "PONG" {
		t.Errorf("PING = %v", got)
	}
}

func TestStartDetectsForeignServer(t *testing.T) {
	t.Parallel()
	// A server that answers on the chosen port but is not ours must not
	// be taken for ours: the start fails over to another port.
	other := Start(t)
	picks := 0
	s := start(t, func() (int, error) {
		picks++
		if picks == 1 {
			return other.Port(), nil
		}
		return freePort()
	}, nil)
	if s.Port() == other.Port() || s.Pid() == other.Pid() {
		t.Errorf("started on the foreign server's port %d (pid %d)", s.Port(), s.Pid())
	}
}

func TestFreezeThaw(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t)
	c := s.Client(t, func(o *redis.Options) {
		o.MaxRetries = -1
		o.ReadTimeout = 200 * time.Millisecond
	})
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	s.Freeze()
	if !s.Frozen() || !s.Running() {
		t.Errorf("Frozen() = %v, Running() = %v, want true, true", s.Frozen(), s.Running())
	}
	if st := procState(t, s.Pid()); st != 'T' {
		t.Errorf("process state %q after Freeze, want 'T'", st)
	}
	start := time.Now()
	err := c.Ping(ctx).Err()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("PING to a frozen server: err = %v, want a timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("PING to a frozen server failed after %v, want the 200ms read timeout", d)
	}
	s.Thaw()
	if st := procState(t, s.Pid()); st == 'T' {
		t.Errorf("process still stopped after Thaw")
	}
	if err := c.Ping(ctx).Err(); err != nil {
		if err = c.Ping(ctx).Err(); err != nil { // the timed-out conn may be discarded once
			t.Errorf("PING after Thaw: %v", err)
		}
	}
	s.Thaw() // harmless

	s.Freeze()
	pid := s.Pid()
	s.Kill()
	if !processGone(pid) {
		t.Errorf("Kill of a frozen server left pid %d", pid)
	}
}

func TestFreezeKilledReportsError(t *testing.T) {
	t.Parallel()
	f := runFake(t, func(tb testing.TB) {
		s := Start(tb)
		s.Kill()
		s.Freeze()
	})
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "not running") {
		t.Errorf("errors = %q, want one saying the server is not running", f.errors)
	}
}

// procState returns the state letter of pid from /proc.
func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatalf("reading process state: %v", err)
	}
	i := strings.LastIndexByte(string(b), ')')
	return b[i+2]
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	for range 20 {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if p <= 0 || p >= maxPort || p == 6379 {
			t.Fatalf("freePort() = %d", p)
		}
	}
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	n := 0
	WaitFor(t, time.Second, func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
	f := runFake(t, func(tb testing.TB) {
		WaitFor(tb, 30*time.Millisecond, func() bool { return false })
	})
	if !strings.Contains(f.fatal, "not met within 30ms") {
		t.Errorf("fatal message = %q, want a timeout", f.fatal)
	}
}

func TestProcessSignalZero(t *testing.T) {
	t.Parallel()
	// Guards processGone: a live server's pid is visible.
	s := Start(t)
	if processGone(s.Pid()) || syscall.Kill(s.Pid(), 0) != nil {
		t.Errorf("a running server's pid %d looks gone", s.Pid())
	}
}
