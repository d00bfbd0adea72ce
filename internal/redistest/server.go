package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

const (
	// missingBinary is the message of a test that cannot find redis-server.
	missingBinary = "redistest: redis-server not found in PATH; install it (Debian: apt-get install redis-server)"

	// readyTimeout bounds how long a fresh process may take to answer.
	readyTimeout = 10 * time.Second
	// startPatience bounds the retries of Start when the chosen port was
	// grabbed by someone else between the probe and redis-server's bind.
	startPatience = 10 * time.Second
	// restartPatience bounds how long Restart waits for its port to be
	// free again (another process may hold it for a while).
	restartPatience = 15 * time.Second
	// minStartAttempts is the number of ports Start tries even when its
	// patience ran out during a slow first attempt.
	minStartAttempts = 5
	// adminTimeout bounds one admin command (Do, Info, ...).
	adminTimeout = 10 * time.Second
)

// errAddrInUse marks a start that failed because the port was taken.
var errAddrInUse = errors.New("address already in use")

// Server is one redis-server process on 127.0.0.1, started by [Start],
// [StartReplica] or [StartCluster]. The process is killed by the cleanup of
// the test that started it. Its port never changes, across [Server.Restart]
// too.
//
// A Server is safe for concurrent use; methods that take a testing.TB must
// be called on that test's goroutine.
type Server struct {
	tb       testing.TB // the test that owns the process
	bin      string
	dir      string
	logPath  string
	conf     []string // the caller's config lines, replayed by Restart
	args     []string // command-line arguments after the config file ("--sentinel")
	password string   // requirepass from conf, for the harness's own probes

	port atomic.Int64 // set once by Start; read without the lock

	mu     sync.Mutex
	proc   *process // nil once killed
	frozen bool
	admin  *redis.Client // lazily built, closed by Kill
}

// process is one run of redis-server. done is closed when it has exited
// and been reaped; err is Wait's result, readable after done.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// exited reports whether the process has exited (and been reaped).
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill resumes the process if stopped, kills it and reaps it.
func (p *process) kill() {
	// Resume a frozen process first, so that nothing of it stays stopped.
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Start runs redis-server on a free 127.0.0.1 port and waits until it
// answers. It always runs with "bind 127.0.0.1", "daemonize no" and a
// private t.TempDir as its dir, and by default with "save \"\"",
// "appendonly no", "repl-diskless-sync-delay 0" (replicas sync at once),
// "rdb-del-sync-files yes" (a replica keeps no copy of the data it synced)
// and "enable-debug-command local". conf adds config lines in redis.conf
// syntax, such as "maxmemory 2mb", and may override the defaults; the
// lines port, bind, dir, daemonize and include are the harness's own and
// fail the test.
//
// The server is killed at t's cleanup, even when the test failed. Start
// fails the test, with the tail of the server's log, when redis-server is
// missing or does not come up; a port taken meanwhile by another process
// is retried with another port.
func Start(t testing.TB, conf ...string) *Server {
	t.Helper()
	return start(t, freePort, conf)
}

// start is Start with the port chooser as a seam for tests, and with args
// for the command line after the config file.
func start(t testing.TB, pick func() (int, error), conf []string, args ...string) *Server {
	t.Helper()
	s := newServer(t, conf)
	s.args = args
	s.mu.Lock()
	defer s.mu.Unlock()
	s.launch(t, pick, startPatience, 0)
	return s
}

// newServer validates conf, finds the binary and registers the cleanup.
func newServer(t testing.TB, conf []string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(missingBinary)
	}
	s := &Server{tb: t, bin: bin, conf: append([]string(nil), conf...)}
	for _, line := range conf {
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("redistest: config line %q must be a single line", line)
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			t.Fatalf("redistest: empty config line in %q", conf)
		}
		switch strings.ToLower(f[0]) {
		case "port", "bind", "dir", "daemonize", "include":
			t.Fatalf("redistest: config line %q: %s is set by the harness", line, f[0])
		case "requirepass":
			if len(f) > 1 {
				s.password = strings.Trim(f[1], `"'`)
			}
		}
	}
	// TempDir before Cleanup: cleanups run last-in first-out, so the
	// process is dead before its directory is removed.
	s.dir = t.TempDir()
	s.logPath = filepath.Join(s.dir, "redis.log")
	t.Cleanup(s.cleanup)
	return s
}

// launch starts the process on a port from pick and waits for it. A port
// found in use makes it pick again, pausing between tries when pick is
// not going to change its mind, until patience has run out (and at least
// minStartAttempts tries were made). s.mu must be held.
func (s *Server) launch(t testing.TB, pick func() (int, error), patience, pause time.Duration) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for attempt := 1; ; attempt++ {
		port, err := pick()
		if err != nil {
			t.Fatalf("redistest: choosing a port: %v", err)
		}
		p, err := s.spawn(port)
		if err == nil {
			s.port.Store(int64(port))
			s.proc, s.frozen = p, false
			return
		}
		if errors.Is(err, errAddrInUse) && (attempt < minStartAttempts || time.Now().Before(deadline)) {
			if pause > 0 {
				time.Sleep(pause)
			}
			continue
		}
		t.Fatalf("redistest: redis-server on 127.0.0.1:%d (attempt %d): %v\n--- tail of %s ---\n%s",
			port, attempt, err, s.logPath, s.logTail(40))
	}
}

// config renders redis.conf for a run on port.
func (s *Server) config(port int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "bind 127.0.0.1\nport %d\ndir %q\ndaemonize no\n", port, s.dir)
	b.WriteString("save \"\"\nappendonly no\nlogfile \"\"\nenable-debug-command local\n")
	// Replicas sync at once instead of after Redis 7's 5 s diskless delay.
	b.WriteString("repl-diskless-sync-delay 0\n")
	// A replica keeps the RDB it received from its master as dump.rdb by
	// default; a Restart would load it and resume replication with a
	// partial resync instead of starting empty. Without persistence, this
	// makes the replica remove the file once it has loaded it.
	b.WriteString("rdb-del-sync-files yes\n")
	for _, line := range s.conf {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// spawn starts redis-server on port and waits until that very process
// answers. On failure the process is gone; an error wrapping errAddrInUse
// means the port was taken.
func (s *Server) spawn(port int) (*process, error) {
	confPath := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(confPath, s.config(port), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	var offset int64
	if st, err := logf.Stat(); err == nil {
		offset = st.Size()
	}
	fmt.Fprintf(logf, "--- redistest: starting redis-server on 127.0.0.1:%d ---\n", port)
	cmd := exec.Command(s.bin, append([]string{confPath}, s.args...)...)
	cmd.Dir = s.dir
	// An *os.File is handed to the child as is: no copying goroutine.
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test binary dies without running cleanups (a panic, a -timeout),
	// the kernel kills the server instead of leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	_ = logf.Close()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := s.waitReady(p, port); err != nil {
		p.kill()
		if s.logContains(offset, "Address already in use") {
			return nil, fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return nil, err
	}
	return p, nil
}

// waitReady polls the port until the server answering it is p: a probe
// that reaches another process's server (a race on the port) does not
// count.
func (s *Server) waitReady(p *process, port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		// The exit is checked first: select picks at random among ready
		// cases, and a dead process must not cost another probe.
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited before it was ready: %v", p.err)
		default:
		}
		pid, err := probe(addr, s.password)
		if err == nil {
			if pid == p.cmd.Process.Pid {
				return nil
			}
			err = fmt.Errorf("the port is answered by another redis-server (pid %d)", pid)
		}
		select {
		case <-p.done:
			return fmt.Errorf("redis-server exited before it was ready: %v", p.err)
		case <-deadline.C:
			return fmt.Errorf("no answer within %v: %v", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// logContains reports whether the log, from offset on, contains s.
func (s *Server) logContains(offset int64, text string) bool {
	f, err := os.Open(s.logPath)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<30))
	return err == nil && bytes.Contains(b, []byte(text))
}

// logTail returns the last n lines of the server's log.
func (s *Server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cleanup kills the process for good; it runs at the owning test's end.
func (s *Server) cleanup() {
	s.mu.Lock()
	defer s.mu.Unlock()
	crashed := s.proc != nil && s.proc.exited()
	s.stopLocked()
	if crashed {
		s.tb.Logf("redistest: redis-server on %s had exited on its own; tail of its log:\n%s", s.Addr(), s.logTail(20))
	}
}

// stopLocked closes the admin client and kills the process, if any.
// s.mu must be held.
func (s *Server) stopLocked() {
	if s.admin != nil {
		_ = s.admin.Close()
		s.admin = nil
	}
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	s.frozen = false
}

// Addr returns the server's "127.0.0.1:port" address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port()) }

// Port returns the server's TCP port. It is never 6379 and stays the same
// across Restart.
func (s *Server) Port() int { return int(s.port.Load()) }

// Pid returns the process id of the running redis-server, or 0 after Kill.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Running reports whether the process is alive (frozen counts as alive):
// false after Kill, or when redis-server exited on its own (SHUTDOWN).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// Frozen reports whether the server is stopped by Freeze.
func (s *Server) Frozen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frozen
}

// LogPath returns the path of the file that collects the server's stdout
// and stderr, across restarts.
func (s *Server) LogPath() string { return s.logPath }

// Kill sends SIGKILL to the server (resuming it first if frozen) and waits
// until the process is gone and reaped. Its data is lost. Kill on a killed
// server does nothing. Connections to it fail; Restart brings it back.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

// Freeze stops the server with SIGSTOP and returns once the kernel reports
// it stopped: connections stay open and commands hang until Thaw, as with a
// server stuck in a long pause. The test's cleanup thaws it before killing
// it. Freezing a killed server reports a test error.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		s.tb.Errorf("redistest: Freeze: redis-server on %s is not running", s.Addr())
		return
	}
	if err := s.proc.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.tb.Errorf("redistest: Freeze %s: %v", s.Addr(), err)
		return
	}
	s.frozen = true
	waitProcState(s.proc.cmd.Process.Pid, true)
}

// Thaw resumes a server stopped by Freeze with SIGCONT. Thaw on a server
// that is not frozen does nothing.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || !s.frozen {
		return
	}
	if err := s.proc.cmd.Process.Signal(syscall.SIGCONT); err != nil && !s.proc.exited() {
		s.tb.Errorf("redistest: Thaw %s: %v", s.Addr(), err)
	}
	s.frozen = false
	waitProcState(s.proc.cmd.Process.Pid, false)
}

// waitProcState waits, for up to two seconds, until /proc says the process
// is stopped (or no longer stopped). Without /proc it returns at once.
func waitProcState(pid int, stopped bool) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return
		}
		state := b[i+2]
		if (state == 'T' || state == 't') == stopped {
			return
		}
	}
}

// Restart starts the server again on the same port with the same config,
// killing it first if it still runs, and waits until it answers. The data
// set starts empty (nothing is persisted), except a cluster node's
// nodes.conf, which is kept, so the node rejoins its cluster. If another
// process holds the port, Restart retries for up to 15 seconds before it
// fails the test.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	port := s.Port()
	s.launch(t, func() (int, error) { return port, nil }, restartPatience, 100*time.Millisecond)
}

// Client returns a go-redis client for the server with go-redis's default
// options (and the server's requirepass, if any), changed by opts. It is
// closed at t's cleanup.
func (s *Server) Client(t testing.TB, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	opt := &redis.Options{Addr: s.Addr(), Password: s.password}
	for _, o := range opts {
		o(opt)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// adminOptions are the options of the harness's own connection: no
// retries, RESP2 replies, no identity or maintenance handshake.
func (s *Server) adminOptions() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr(),
		Password:              s.password,
		Protocol:              2,
		MaxRetries:            -1,
		DialerRetries:         1,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           adminTimeout,
		WriteTimeout:          adminTimeout,
		ContextTimeoutEnabled: true,
		PoolSize:              4,
		DisableIdentity:       true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
}

// adminClient returns the harness's connection to the running server.
func (s *Server) adminClient() (*redis.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil, fmt.Errorf("redistest: redis-server on %s was killed", s.Addr())
	}
	if s.admin == nil {
		s.admin = redis.NewClient(s.adminOptions())
	}
	return s.admin, nil
}

// do runs one command on the admin connection; a nil reply is (nil, nil).
func (s *Server) do(ctx context.Context, args ...any) (any, error) {
	c, err := s.adminClient()
	if err != nil {
		return nil, err
	}
	v, err := c.Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// DoErr runs a command on the harness's own connection (RESP2, no retries,
// 10 s timeout) and returns its reply as go-redis's Do does: string, int64,
// []any, or nil for a nil reply. An error reply is returned as an error.
func (s *Server) DoErr(args ...any) (any, error) {
	return s.do(context.Background(), args...)
}

// Do is DoErr that fails the test on any error (an error reply included).
func (s *Server) Do(t testing.TB, args ...any) any {
	t.Helper()
	v, err := s.DoErr(args...)
	if err != nil {
		t.Fatalf("redistest: %s %v: %v", s.Addr(), args, err)
	}
	return v
}

// Info returns the fields of INFO section as a map ("role" -> "master").
func (s *Server) Info(t testing.TB, section string) map[string]string {
	t.Helper()
	v, err := s.DoErr("INFO", section)
	if err != nil {
		t.Fatalf("redistest: %s INFO %s: %v", s.Addr(), section, err)
	}
	str, _ := v.(string)
	return parseInfo(str)
}

// parseInfo parses an INFO reply into its fields.
func parseInfo(s string) map[string]string {
	m := make(map[string]string)
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// ConfigSet runs CONFIG SET param value, failing the test on error. The
// change is not kept by Restart; pass config lines to Start for that.
func (s *Server) ConfigSet(t testing.TB, param, value string) {
	t.Helper()
	s.Do(t, "CONFIG", "SET", param, value)
}

// Promote turns a replica into a master (REPLICAOF NO ONE). A later
// Restart makes it a replica again, since it replays the start config.
func (s *Server) Promote(t testing.TB) {
	t.Helper()
	s.Do(t, "REPLICAOF", "NO", "ONE")
}
