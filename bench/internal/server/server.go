// Package server starts throwaway redis-server processes on free loopback
// ports for the benchmarks, and kills, restarts or freezes them on demand.
// It never touches the shared server on 6379.
package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a new process may take to answer.
const readyTimeout = 10 * time.Second

// Server is one redis-server process on 127.0.0.1. Its methods are safe
// for concurrent use.
type Server struct {
	port int
	dir  string
	args []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd     // nil once killed
	done   chan struct{} // closed when cmd has exited and been reaped
	frozen bool
}

// Start runs redis-server, without persistence unless args ask for it, on
// a free 127.0.0.1 port other than 6379, in a directory of tb's, and waits
// until that process answers. The server is killed by tb's cleanup. It
// fails tb when redis-server is missing or does not come up.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s, err := Launch(tb.TempDir(), args...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Kill)
	return s
}

// Launch is [Start] for programs: it runs redis-server in dir with the
// extra command-line arguments args (each "--name value" pair as two
// arguments) and returns once it answers. The caller must Kill it. A port
// taken meanwhile by another process is retried with another one.
func Launch(dir string, args ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("server: redis-server not found in PATH; install it (Debian: apt-get install redis-server)")
	}
	s := &Server{dir: dir, args: args, log: filepath.Join(dir, "redis.log")}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = s.spawn(bin, port)
		if err == nil {
			return s, nil
		}
		if attempt == 5 {
			return nil, fmt.Errorf("server: %v\n--- %s ---\n%s", err, s.log, tail(s.log))
		}
	}
}

// Restart starts the server again, on the same port, in the same directory
// and with the same arguments (so with persistence on, it reloads its
// data), and returns once the new process answers. The server must have
// been killed.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return fmt.Errorf("server: Restart of %s: it is still running", s.Addr())
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return err
	}
	if err := s.spawn(bin, s.port); err != nil {
		return fmt.Errorf("server: restart: %v\n--- %s ---\n%s", err, s.log, tail(s.log))
	}
	return nil
}

// spawn starts the process on port and waits for it.
func (s *Server) spawn(bin string, port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.OpenFile(s.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", s.dir}, s.args...)
	cmd := exec.Command(bin, argv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the program dies without its cleanups, so does the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	_ = logf.Close()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.port, s.cmd, s.done, s.frozen = port, cmd, done, false
	s.mu.Unlock()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-done:
			s.Kill()
			return fmt.Errorf("redis-server on %s exited before it was ready", addr)
		default:
		}
		// The pid check makes sure the answer comes from this process,
		// not from another server that grabbed the port first.
		pid, err := pidAt(addr)
		if err == nil && pid == cmd.Process.Pid {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s not ready after %v (last probe: pid %d, %v)", addr, readyTimeout, pid, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Addr returns the server's "127.0.0.1:port" address; it stays the same
// after Kill, when nothing listens there any more, and after Restart.
func (s *Server) Addr() string {
	return "127.0.0.1:" + strconv.Itoa(s.Port())
}

// Port returns the server's port.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// Running reports whether the process runs (frozen or not).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Frozen reports whether the process is stopped by Freeze.
func (s *Server) Frozen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frozen
}

// Kill resumes the process if frozen, kills it with SIGKILL and waits until
// it is reaped, so that its port refuses connections. Kill on a killed
// server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.frozen = nil, false
}

// Freeze stops the process with SIGSTOP: the kernel still accepts
// connections and buffers requests, but nothing answers until Thaw.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP, true) }

// Thaw resumes a frozen process with SIGCONT.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT, false) }

func (s *Server) signal(sig syscall.Signal, frozen bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("server: %v to 127.0.0.1:%d: the server was killed", sig, s.port)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return err
	}
	s.frozen = frozen
	return nil
}

// freePort returns a loopback port that was free a moment ago, never 6379.
func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if port != 6379 {
			return port, nil
		}
	}
	return 0, fmt.Errorf("server: no free port on 127.0.0.1")
}

// tail returns the end of the log at path, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
