package main

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/examples/internal/program"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T)
		kind  string
	}{
		{"redis-server on PATH", func(t *testing.T) { examplestest.RedisOnPath(t) }, program.Process},
		{"no Redis at all", func(t *testing.T) { examplestest.NoRedis(t) }, program.InProcess},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			out := examplestest.Run(t, run)
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at 127.0.0.1:",
				"LPUSH on a string: WRONGTYPE",
				"  Response after 1 attempt, recoverable false: ",
				"errors.As(err, &redis.Error) = true",
				"the server is stopped; GET it eight times:",
				"opened the breaker, which refused its retry: it returned the node's own error;",
				" is open: the calls after it fail in microseconds",
				"the server is restarted; the breaker's PING found it and closed the breaker ",
			)
			checkGETs(t, out)
		})
	}
}

// checkGETs checks the GETs, one by one: on the stopped server, calls
// that fail after their retries until the breaker's threshold, the call
// that opens it (its retry refused, the node's error returned), then
// refusals in microseconds; after the restart, an answer.
func checkGETs(t *testing.T, out string) {
	t.Helper()
	calls := regexp.MustCompile(`(?m)^  GET (\d): (.+), (\S+)$`).FindAllStringSubmatch(out, -1)
	if len(calls) != 9 {
		t.Fatalf("got %d GET lines, want 9", len(calls))
	}
	n := breaker.DefaultConsecutiveFailures
	for i, c := range calls {
		want := "CircuitOpen, refused before any attempt (circuit open)"
		switch {
		case i+1 < n:
			want = "Connection after 3 attempts (attempts exhausted)"
		case i+1 == n:
			want = "Connection after 1 attempt (circuit open)"
		case i+1 == 9:
			want = "OK after 1 attempt"
		}
		if c[1] != fmt.Sprint(i+1) || c[2] != want {
			t.Errorf("%q, want GET %d: %s", c[0], i+1, want)
		}
		took, err := time.ParseDuration(c[3])
		if err != nil {
			t.Fatal(err)
		}
		if i+1 > n && i+1 < 9 && took > 50*time.Millisecond {
			t.Errorf("%q: a refused call should not wait", c[0])
		}
	}
}
