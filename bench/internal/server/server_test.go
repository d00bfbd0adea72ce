package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ping sends a PING on a new connection and returns the reply line.
func ping(addr string, wait time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestLifecycle(t *testing.T) {
	s := Start(t)
	addr := s.Addr()
	if strings.HasSuffix(addr, ":6379") {
		t.Fatalf("Start used the shared port: %s", addr)
	}
	if got, err := ping(addr, 2*time.Second); err != nil || got != "+PONG" {
		t.Fatalf("PING a running server: %q, %v", got, err)
	}

	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if got, err := ping(addr, 200*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("PING a frozen server: %q, %v; want a timeout", got, err)
	}
	if err := s.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got, err := ping(addr, 2*time.Second); err != nil || got != "+PONG" {
		t.Fatalf("PING a thawed server: %q, %v", got, err)
	}

	// Kill must also end a frozen server.
	if err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := ping(addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("PING a killed server: %v; want connection refused", err)
	}
	if err := s.Freeze(); err == nil {
		t.Fatal("Freeze after Kill: no error")
	}
	s.Kill() // a second Kill does nothing
	if s.Addr() != addr {
		t.Fatalf("Addr changed after Kill: %s, was %s", s.Addr(), addr)
	}
}

func TestRestartKeepsPortAndData(t *testing.T) {
	s := Start(t, "--appendonly", "yes", "--appendfsync", "no")
	addr := s.Addr()
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if s.Running() {
		t.Fatal("Running after Kill")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("Restart moved the server from %s to %s", addr, s.Addr())
	}
	// Restart returns once the process answers; it may still be loading
	// the AOF, as a real restarted server would be.
	v, err := s.Do("GET", "k")
	for end := time.Now().Add(5 * time.Second); err != nil && strings.HasPrefix(err.Error(), "server: LOADING") && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
		v, err = s.Do("GET", "k")
	}
	if err != nil || v != "v" {
		t.Fatalf("GET k after a restart with the AOF on: %v, %v; want v", v, err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("Restart of a running server: no error")
	}
	if _, err := s.Do("NOSUCHCOMMAND"); !errors.As(err, new(ReplyError)) {
		t.Fatalf("an unknown command: %v, want a ReplyError", err)
	}
	info, err := s.Info("server")
	if err != nil || info["tcp_port"] != strconv.Itoa(s.Port()) {
		t.Fatalf("INFO server: tcp_port %q, %v; want %d", info["tcp_port"], err, s.Port())
	}
}

func TestCluster(t *testing.T) {
	c, err := LaunchCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	if n := len(c.Addrs()); n != 3 {
		t.Fatalf("%d addresses, want 3", n)
	}
	// "foo" hashes to slot 12182, the third master's.
	if _, err := c.Masters()[2].Do("SET", "foo", "bar"); err != nil {
		t.Fatalf("SET foo on the master of its slot: %v", err)
	}
	if _, err := c.Masters()[0].Do("SET", "foo", "bar"); err == nil || !strings.HasPrefix(err.Error(), "server: MOVED 12182 ") {
		t.Fatalf("SET foo on another master: %v, want MOVED 12182", err)
	}
}
