package server

import (
	"bufio"
	"errors"
	"io"
	"net"
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
