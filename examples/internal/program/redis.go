package program

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"

	"github.com/alicebob/miniredis/v2"
)

// The kinds of [Server].
const (
	External  = "REDIS_ADDR"   // the server at $REDIS_ADDR; never stopped
	Process   = "redis-server" // a throwaway redis-server from PATH
	InProcess = "miniredis"    // an in-process github.com/alicebob/miniredis/v2
)

// Server is the Redis server an example talks to. Close releases it. It is
// safe for concurrent use.
type Server struct {
	// Addr is the server's "host:port".
	Addr string
	// Kind is External, Process or InProcess.
	Kind string

	once  sync.Once
	close func()
}

// Close stops the server if the example started it; it does nothing for an
// External one. Calls after the first do nothing.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.close != nil {
			s.close()
		}
	})
}

// Redis finds a server for an example, so that it runs on any machine with
// only Go installed: the one at REDIS_ADDR when that is set; otherwise a
// throwaway redis-server from PATH on a free loopback port, its data in a
// temporary directory removed by Close; otherwise an in-process miniredis.
func Redis(ctx context.Context) (*Server, error) {
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		return &Server{Addr: addr, Kind: External}, nil
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		p, err := StartProcess(ctx, bin)
		if err != nil {
			return nil, err
		}
		return &Server{Addr: p.Addr(), Kind: Process, close: p.Close}, nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	return &Server{Addr: m.Addr(), Kind: InProcess, close: m.Close}, nil
}

// ErrNoServer is returned by the functions that need a redis-server binary
// when PATH has none.
var ErrNoServer = errors.New("no redis-server on PATH")

// Owned is a Redis server that an example started and may take away for an
// outage: Stop kills it (its port then refuses connections) and Start
// brings it back on the same address. Close releases it. It is safe for
// use by one goroutine at a time.
type Owned struct {
	// Addr is the server's "host:port"; it survives Stop and Start.
	Addr string
	// Kind is Process or InProcess.
	Kind string

	stop  func()
	start func(ctx context.Context) error
	close func()
}

// Stop takes the server away, as a crash would.
func (o *Owned) Stop() { o.stop() }

// Start brings the server back on its address and waits until it answers.
func (o *Owned) Start(ctx context.Context) error { return o.start(ctx) }

// Close stops the server for good and removes what it left.
func (o *Owned) Close() { o.close() }

// OwnRedis starts a server that the example owns, for examples that stage
// an outage: a throwaway redis-server from PATH when there is one, else an
// in-process miniredis. It ignores REDIS_ADDR: an example must not stop a
// server it was only lent.
func OwnRedis(ctx context.Context) (*Owned, error) {
	if bin, err := exec.LookPath("redis-server"); err == nil {
		p, err := StartProcess(ctx, bin)
		if err != nil {
			return nil, err
		}
		return &Owned{Addr: p.Addr(), Kind: Process, stop: p.Stop, start: p.Start, close: p.Close}, nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("start miniredis: %w", err)
	}
	return &Owned{
		Addr:  m.Addr(),
		Kind:  InProcess,
		stop:  m.Close,
		start: func(context.Context) error { return m.Restart() },
		close: m.Close,
	}, nil
}
