package redistest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestIsHandshake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		chunk string
		want  bool
	}{
		{"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", true},
		{"*2\r\n$5\r\nhello\r\n$1\r\n3\r\n", true},
		{"*4\r\n$6\r\nclient\r\n$7\r\nsetinfo\r\n", true},
		{"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", true},
		{"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n", true},
		{"*1\r\n$8\r\nREADONLY\r\n", true},
		{"HELLO 3\r\n", true},
		{"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", false},
		{"*1\r\n$4\r\nPING\r\n", false},
		{"PING\r\n", false},
		{"*1\r\n", false},
		{"*1\r\n:5\r\n", false},
		{"", false},
	} {
		t.Run(tc.chunk, func(t *testing.T) {
			if got := isHandshake([]byte(tc.chunk)); got != tc.want {
				t.Errorf("isHandshake(%q) = %v, want %v", tc.chunk, got, tc.want)
			}
		})
	}
}

func TestProxyDropNextReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t)
	p := NewProxy(t, s.Addr())
	c := s.Client(t, func(o *redis.Options) {
		o.Addr = p.Addr()
		o.MaxRetries = -1
	})

	// Armed before the first command: the handshake passes, INCR is lost.
	p.DropNextReply()
	err := c.Incr(ctx, "n").Err()
	if !errors.Is(err, io.EOF) {
		t.Errorf("INCR with a dropped reply: err = %v, want EOF", err)
	}
	if got := s.Do(t, "GET", "n"); got != "1" {
		t.Errorf("n = %v after the dropped INCR, want 1: it ran once", got)
	}
	if p.Drops() != 1 || p.Dials() != 1 {
		t.Errorf("Drops() = %d, Dials() = %d, want 1, 1", p.Drops(), p.Dials())
	}

	// One-shot: the next command goes through on a new connection.
	if v, err := c.Incr(ctx, "n").Result(); err != nil || v != 2 {
		t.Errorf("INCR after the drop = %d, %v, want 2", v, err)
	}
	if p.Dials() != 2 || p.Drops() != 1 {
		t.Errorf("Dials() = %d, Drops() = %d, want 2, 1", p.Dials(), p.Drops())
	}

	// Armed on a pooled connection.
	p.DropNextReply()
	if err := c.Set(ctx, "k", "v", 0).Err(); !errors.Is(err, io.EOF) {
		t.Errorf("SET with a dropped reply: err = %v, want EOF", err)
	}
	if got := s.Do(t, "GET", "k"); got != "v" {
		t.Errorf("k = %v, want v: the SET ran", got)
	}
}

func TestProxyDropFrozenServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t)
	p := NewProxy(t, s.Addr())
	c := s.Client(t, func(o *redis.Options) { o.Addr = p.Addr(); o.MaxRetries = -1 })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	p.DropNextReply()
	start := time.Now()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("PING through a dropping proxy to a frozen server succeeded")
	}
	// No reply comes: the proxy gives up after dropWait, well before
	// go-redis's 3 s read timeout.
	if d := time.Since(start); d < dropWait/2 || d > dropWait+time.Second {
		t.Errorf("dropped PING to a frozen server failed after %v, want about %v", d, dropWait)
	}
	s.Thaw()
}

func TestProxyRefuseAndCloseConns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t)
	p := NewProxy(t, s.Addr())
	c := s.Client(t, func(o *redis.Options) { o.Addr = p.Addr(); o.MaxRetries = -1 })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}

	p.CloseConns()
	// go-redis notices the closed idle connection and dials again.
	WaitFor(t, 5*time.Second, func() bool { return c.Ping(ctx).Err() == nil })
	if p.Dials() < 2 {
		t.Errorf("Dials() = %d after CloseConns and PING, want a redial", p.Dials())
	}

	p.SetRefuse(true)
	p.CloseConns()
	fresh := s.Client(t, func(o *redis.Options) { o.Addr = p.Addr(); o.MaxRetries = -1 })
	before := p.Dials()
	if err := fresh.Ping(ctx).Err(); err == nil {
		t.Error("PING through a refusing proxy succeeded")
	}
	if p.Dials() <= before {
		t.Errorf("Dials() = %d, want refused dials counted (was %d)", p.Dials(), before)
	}
	p.SetRefuse(false)
	if err := fresh.Ping(ctx).Err(); err != nil {
		t.Errorf("PING after SetRefuse(false): %v", err)
	}
}

func TestProxyClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := Start(t)
	p := NewProxy(t, s.Addr())
	c := s.Client(t, func(o *redis.Options) { o.Addr = p.Addr(); o.MaxRetries = -1 })
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	p.Close()
	p.Close() // harmless
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("PING through a closed proxy succeeded")
	}

	// A proxy to a dead target closes the client's connections.
	s.Kill()
	dead := NewProxy(t, s.Addr())
	c2 := s.Client(t, func(o *redis.Options) { o.Addr = dead.Addr(); o.MaxRetries = -1 })
	if err := c2.Ping(ctx).Err(); err == nil {
		t.Error("PING through a proxy to a killed server succeeded")
	}
}

func TestProxyLatency(t *testing.T) {
	t.Parallel()
	s := Start(t)
	p := NewProxy(t, s.Addr())
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	ping := func() time.Duration {
		t.Helper()
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING: %v", err)
		}
		return time.Since(start)
	}
	ping()
	p.SetLatency(150 * time.Millisecond)
	if d := ping(); d < 150*time.Millisecond {
		t.Errorf("PING with 150 ms added took %v", d)
	}
	p.SetLatency(0)
	if d := ping(); d > 100*time.Millisecond {
		t.Errorf("PING after the latency was removed took %v", d)
	}
}
