package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// outage takes a Redis address away and brings it back.
type outage interface {
	addr() string     // the address that goes away
	down() error      // make addr unreachable
	downText() string // what down did, for the report
	up() error        // make addr reachable again
	upText() string   // what up did
	close()           // release everything; safe to call twice
}

// embedded is an in-process miniredis, closed and restarted on the same
// port for the outage. miniredis keeps its data across the restart.
type embedded struct {
	m    *miniredis.Miniredis
	host string
}

func startEmbedded() (*embedded, error) {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	return &embedded{m: m, host: m.Addr()}, nil
}

func (e *embedded) addr() string { return e.host }

func (e *embedded) down() error {
	e.m.Close()
	return nil
}

func (e *embedded) downText() string {
	return "the embedded server at " + e.host + " closes: its connections drop and its port refuses new ones"
}

func (e *embedded) up() error {
	if err := e.m.Restart(); err != nil {
		return fmt.Errorf("restart miniredis on %s: %w", e.host, err)
	}
	return nil
}

func (e *embedded) upText() string { return "the embedded server restarted on " + e.host }

func (e *embedded) close() { e.m.Close() }

// closedPort stands for a server the demo cannot stop (REDIS_ADDR): its
// address is a local port nothing listens on, until up opens a forwarder
// there to the real server.
type closedPort struct {
	target string
	local  string
	fw     *forwarder
}

func newClosedPort(target string) (*closedPort, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("reserve a local port: %w", err)
	}
	local := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &closedPort{target: target, local: local}, nil
}

func (c *closedPort) addr() string { return c.local }

// down has nothing to do: the port is closed from the start.
func (c *closedPort) down() error { return nil }

func (c *closedPort) downText() string {
	return "the readers switch to a second client whose address, " + c.local + ", is a closed port"
}

func (c *closedPort) up() error {
	fw, err := startForwarder(c.local, c.target)
	if err != nil {
		return err
	}
	c.fw = fw
	return nil
}

func (c *closedPort) upText() string {
	return "a forwarder to " + c.target + " now listens on " + c.local
}

func (c *closedPort) close() {
	if c.fw != nil {
		c.fw.close()
		c.fw = nil
	}
}

// forwarder is a TCP forwarder from a local address to a Redis server.
type forwarder struct {
	l      net.Listener
	target string
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func startForwarder(local, target string) (*forwarder, error) {
	l, err := net.Listen("tcp", local)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", local, err)
	}
	f := &forwarder{l: l, target: target, conns: make(map[net.Conn]struct{})}
	f.wg.Go(f.serve)
	return f, nil
}

func (f *forwarder) serve() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return // closed
		}
		f.wg.Go(func() { f.pipe(c) })
	}
}

func (f *forwarder) pipe(c net.Conn) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", f.target, time.Second)
	if err != nil {
		return
	}
	defer u.Close()
	if !f.track(c, u) {
		return
	}
	defer f.untrack(c, u)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(u, c)
	go cp(c, u)
	<-done
	// One side ended: close both so the other copy ends too.
	c.Close()
	u.Close()
	<-done
}

// track registers a connection pair, or reports false once the forwarder
// is closed.
func (f *forwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

// close stops listening, closes every connection and waits for the
// forwarder's goroutines.
func (f *forwarder) close() {
	_ = f.l.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
}
