package main

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/examples/internal/program"
)

func TestMain(m *testing.M) { examplestest.Main(m) }

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T)
		kind  string
	}{
		{"REDIS_ADDR", func(t *testing.T) {
			srv := examplestest.StartServer(t)
			t.Setenv("REDIS_ADDR", srv.Addr())
		}, program.External},
		{"redis-server on PATH", func(t *testing.T) { examplestest.RedisOnPath(t) }, program.Process},
		{"no Redis at all", func(t *testing.T) { examplestest.NoRedis(t) }, program.InProcess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			out := examplestest.Run(t, run)
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at 127.0.0.1:",
				"SET greeting hello",
				"  attempt 1 failed: dial tcp: connection refused (simulated) (class Connection); retry in ",
				"  attempt 2 succeeded: the call recovered\n",
				`GET greeting = "hello", err = <nil>`,
				"GET no-such-key: err == redis.Nil is true (class OK",
			)
			if n := len(regexp.MustCompile(`attempt \d failed`).FindAllString(out, -1)); n != 1 {
				t.Errorf("%d retries, want 1: only the first dial fails", n)
			}
			if n := strings.Count(out, "recovered"); n != 1 {
				t.Errorf("%d calls recovered, want 1: the SET whose first dial failed", n)
			}
			if tt.kind == program.Process {
				// The throwaway server is gone once run returns.
				addr := regexp.MustCompile(`at (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)[1]
				if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					c.Close()
					t.Errorf("the redis-server at %s still runs after the example ended", addr)
				}
			}
		})
	}
}
