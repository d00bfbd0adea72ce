package program

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Proc is a throwaway redis-server process on a free 127.0.0.1 port, with
// its working directory in a temporary directory. It persists nothing.
// Stop and Start take it away and bring it back on the same port, for the
// examples' outages. A Proc is safe for concurrent use.
type Proc struct {
	bin  string
	dir  string
	port int
	conf []string

	mu     sync.Mutex
	cmd    *exec.Cmd     // nil while stopped
	exited chan struct{} // closed when cmd has exited and been reaped
	log    bytes.Buffer  // the server's output since its last start
}

// StartProcess starts bin (a redis-server) on a free loopback port whose
// port+10000 is free too (the cluster bus), with conf as extra command-line
// settings ("--cluster-enabled", "yes", ...), and waits until it answers
// PING. The process is killed if this program dies (on Linux), so a
// crashed example leaves no server behind; Close stops it and removes its
// directory.
func StartProcess(ctx context.Context, bin string, conf ...string) (*Proc, error) {
	dir, err := os.MkdirTemp("", "retryable-example-")
	if err != nil {
		return nil, err
	}
	var last error
	for range 5 { // another process may take the free port first
		port, err := freePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		p := &Proc{bin: bin, dir: dir, port: port, conf: conf}
		if last = p.Start(ctx); last == nil {
			return p, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, last
}

// Addr returns the server's "127.0.0.1:port".
func (p *Proc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Start starts the server again on its port after Stop, and waits until it
// answers. It does nothing if the server runs.
func (p *Proc) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	args := append([]string{
		"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
	}, p.conf...)
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	p.log.Reset()
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := waitPing(ctx, p.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s on port %d: %w\n%s", p.bin, p.port, err, p.log.String())
	}
	p.cmd = cmd
	p.exited = exited
	return nil
}

// Stop kills the server (SIGKILL, as a crash would) and waits until it is
// gone. Clients see refused connections until Start. Stop on a stopped
// server does nothing.
func (p *Proc) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Close stops the server and removes its directory.
func (p *Proc) Close() {
	p.Stop()
	_ = os.RemoveAll(p.dir)
}

// waitPing waits until the server at addr answers PING, for up to 10 s.
func waitPing(ctx context.Context, addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, DisableIdentity: true})
	defer c.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("no answer to PING: %w", err)
		}
		select {
		case <-exited:
			return errors.New("exited")
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// freePort returns a loopback port that was free a moment ago, with
// port+10000 free too, and that is not the shared server's 6379.
func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := port != 6379 && port+10000 <= 65535
		if ok {
			bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
			if ok = err == nil; ok {
				_ = bus.Close()
			}
		}
		_ = l.Close()
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("no free port pair (port, port+10000) on 127.0.0.1")
}
