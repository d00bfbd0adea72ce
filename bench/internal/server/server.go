// Package server starts throwaway redis-server processes on free loopback
// ports for the benchmarks, and kills or freezes them on demand. It never
// touches the shared server on 6379.
package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds how long a new process may take to answer.
const readyTimeout = 10 * time.Second

// Server is one redis-server process on 127.0.0.1, killed by the cleanup of
// the test or benchmark that started it. Its methods are safe for
// concurrent use.
type Server struct {
	addr string
	log  string

	mu   sync.Mutex
	cmd  *exec.Cmd     // nil once killed
	done chan struct{} // closed when cmd has exited and been reaped
}

// Start runs redis-server, without persistence, on a free 127.0.0.1 port
// other than 6379 and waits until that process answers. It fails tb when
// redis-server is missing or does not come up; a port taken meanwhile is
// retried with another one.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatal("server: redis-server not found in PATH; install it (Debian: apt-get install redis-server)")
	}
	dir := tb.TempDir()
	s := &Server{log: filepath.Join(dir, "redis.log")}
	tb.Cleanup(s.Kill)
	for attempt := 1; ; attempt++ {
		err := s.spawn(bin, dir)
		if err == nil {
			return s
		}
		if attempt == 5 {
			tb.Fatalf("server: %v\n--- %s ---\n%s", err, s.log, tail(s.log))
		}
	}
}

// spawn starts the process on a fresh port and waits for it.
func (s *Server) spawn(bin, dir string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.OpenFile(s.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the benchmark binary dies without its cleanups, so does the server.
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
	s.addr, s.cmd, s.done = addr, cmd, done
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
		time.Sleep(10 * time.Millisecond)
	}
}

// Addr returns the server's "127.0.0.1:port" address; it stays the same
// after Kill, when nothing listens there any more.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
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
	s.cmd = nil
}

// Freeze stops the process with SIGSTOP: the kernel still accepts
// connections and buffers requests, but nothing answers until Thaw.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process with SIGCONT.
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("server: %v to %s: the server was killed", sig, s.addr)
	}
	return s.cmd.Process.Signal(sig)
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

// pidAt asks the server at addr for its process id with a raw INFO.
func pidAt(addr string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "INFO server\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(head, "$") {
		return 0, fmt.Errorf("INFO answered %q", strings.TrimSpace(head))
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("INFO answered %q", strings.TrimSpace(head))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range bytes.Lines(body) {
		if v, ok := bytes.CutPrefix(line, []byte("process_id:")); ok {
			return strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	return 0, fmt.Errorf("INFO has no process_id")
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
