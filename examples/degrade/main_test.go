package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/go-retryable/retryable/breaker"
	"github.com/go-retryable/retryable/examples/internal/examplestest"
	"github.com/go-retryable/retryable/examples/internal/program"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name   string
		setup  func(t *testing.T)
		kind   string
		misses int // a redis-server comes back empty; miniredis keeps its data
	}{
		{"redis-server on PATH", func(t *testing.T) { examplestest.RedisOnPath(t) }, program.Process, 3},
		{"no Redis at all", func(t *testing.T) { examplestest.NoRedis(t) }, program.InProcess, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			out := examplestest.Run(t, run)
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at 127.0.0.1:",
				"cache up:",
				"user:1: cache miss, loaded from the database",
				`GET user:1 = "ada", err = <nil>`,
				`GET user:1 = "ada", err = <nil>`,
				"cache down",
				`GET user:1 = "ada", err = <nil>`,
				`GET user:2 = "grace", err = <nil>`,
				"every read was served; the cache's breaker is open",
				"cache back (the server is restarted; its breaker closed ",
				`GET user:1 = "ada", err = <nil>`,
				`GET user:2 = "grace", err = <nil>`,
			)
			if n := strings.Count(out, "cache miss"); n != tt.misses {
				t.Errorf("%d cache misses, want %d", n, tt.misses)
			}
			// While the cache is down the fallback answers every read:
			// with the node's own error until the breaker opens (the read
			// that opens it included), then with the breaker's refusal.
			errs := regexp.MustCompile(`msg="cache unavailable, using database" key=user:\d error="([^"]*)"`).FindAllStringSubmatch(out, -1)
			if len(errs) != 6 {
				t.Fatalf("the fallback ran %d times, want 6 (every read while the cache is down)", len(errs))
			}
			for i, e := range errs {
				refused := strings.HasPrefix(e[1], "breaker: ")
				if want := i >= breaker.DefaultConsecutiveFailures; refused != want {
					t.Errorf("read %d while the cache is down: fallback given %q, want a refusal: %v", i+1, e[1], want)
				}
			}
		})
	}
}
