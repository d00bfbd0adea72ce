package program_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/examples/internal/program"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

func ping(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	return c.Ping(context.Background()).Err()
}

func TestRedis(t *testing.T) {
	ctx := context.Background()
	t.Run("redis-server", func(t *testing.T) {
		examplestest.RedisOnPath(t)
		srv, err := program.Redis(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if srv.Kind != program.Process || ping(srv.Addr) != nil {
			t.Fatalf("%s at %s: want a redis-server that answers", srv.Kind, srv.Addr)
		}
		srv.Close()
		srv.Close()
		if ping(srv.Addr) == nil {
			t.Error("the redis-server still answers after Close")
		}
	})
	t.Run("miniredis", func(t *testing.T) {
		examplestest.NoRedis(t)
		srv, err := program.Redis(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if srv.Kind != program.InProcess || ping(srv.Addr) != nil {
			t.Fatalf("%s at %s: want a miniredis that answers", srv.Kind, srv.Addr)
		}
	})
}

func TestOwnRedis(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(testing.TB)
		kind  string
	}{
		{"redis-server", func(t testing.TB) { examplestest.RedisOnPath(t) }, program.Process},
		{"miniredis", examplestest.NoRedis, program.InProcess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			t.Setenv("REDIS_ADDR", "127.0.0.1:1") // ignored: not ours to stop
			srv, err := program.OwnRedis(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if srv.Kind != tt.kind || ping(srv.Addr) != nil {
				t.Fatalf("%s at %s, want %s that answers", srv.Kind, srv.Addr, tt.kind)
			}
			srv.Stop()
			if c, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
				c.Close()
				t.Fatal("the stopped server still accepts connections")
			}
			if err := srv.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := ping(srv.Addr); err != nil {
				t.Fatalf("after Start: %v", err)
			}
		})
	}
}

func TestStartCluster(t *testing.T) {
	t.Run("no redis-server", func(t *testing.T) {
		examplestest.NoRedis(t)
		if _, err := program.StartCluster(context.Background(), 3); err != program.ErrNoServer {
			t.Fatalf("StartCluster = %v, want ErrNoServer", err)
		}
	})
	t.Run("three nodes", func(t *testing.T) {
		examplestest.RedisOnPath(t)
		c, err := program.StartCluster(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
		defer cc.Close()
		ctx := context.Background()
		for i := range 20 {
			if err := cc.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		shards, err := cc.ClusterShards(ctx).Result()
		if err != nil || len(shards) != 3 {
			t.Fatalf("%d shards, %v; want 3", len(shards), err)
		}
	})
}

// With REDIS_ADDR set, examples use that server and never stop it.
func ExampleRedis() {
	old, had := os.LookupEnv("REDIS_ADDR")
	os.Setenv("REDIS_ADDR", "cache.example:6379")
	defer func() {
		if had {
			os.Setenv("REDIS_ADDR", old)
		} else {
			os.Unsetenv("REDIS_ADDR")
		}
	}()

	srv, err := program.Redis(context.Background())
	fmt.Println(srv.Kind, srv.Addr, err)
	srv.Close() // does nothing: the server is not the example's
	// Output:
	// REDIS_ADDR cache.example:6379 <nil>
}

func TestOutput(t *testing.T) {
	var buf bytes.Buffer
	out := program.NewOutput(&buf)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			out.Printf("line %d\n", i)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := out.WaitFor(ctx, "line 99\n"); err != nil {
		t.Fatal(err)
	}
	<-done
	if n := strings.Count(buf.String(), "\n"); n != 100 {
		t.Errorf("%d lines written, want 100", n)
	}
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if err := out.WaitFor(short, "line 100"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor a line never written = %v, want the deadline", err)
	}
}

func TestUntil(t *testing.T) {
	ctx := context.Background()
	n := 0
	if err := program.Until(ctx, 10*time.Second, "three polls", func() bool { n++; return n == 3 }); err != nil || n != 3 {
		t.Errorf("Until = %v after %d polls, want nil after 3", err, n)
	}
	err := program.Until(ctx, 20*time.Millisecond, "never", func() bool { return false })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "never: ") {
		t.Errorf("Until a condition that never holds = %v", err)
	}
}

// FailFirstDial's dialer fails the way a restarting Redis does: the policy
// sees a refused dial, which proves the command was not sent.
func ExampleFailFirstDial() {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	dial := program.FailFirstDial()

	_, err := dial(context.Background(), "tcp", l.Addr().String())
	fmt.Println(retryable.Classify(err), retryable.Executed(err))
	c, err := dial(context.Background(), "tcp", l.Addr().String())
	fmt.Println(err)
	c.Close()
	// Output:
	// Connection not executed
	// <nil>
}
