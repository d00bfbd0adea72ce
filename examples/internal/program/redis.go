package program

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/alicebob/miniredis/v2"
)

// The kinds of [Server].
const (
	External  = "REDIS_ADDR"   // the server at $REDIS_ADDR; never stopped
	Process   = "redis-server" // a throwaway redis-server from PATH
	InProcess = "miniredis"    // an in-process github.com/alicebob/miniredis/v2
)

// Server is the Redis server an example talks to. Close releases it.
type Server struct {
	// Addr is the server's "host:port".
	Addr string
	// Kind is External, Process or InProcess.
	Kind string

	close func()
}

// Close stops the server if the example started it; it does nothing for an
// External one. It is safe to call more than once.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
		s.close = nil
	}
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
