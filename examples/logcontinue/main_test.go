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
			const swallowed = `msg="failed to cache, continuing without cache" command=set `
			examplestest.InOrder(t, out,
				"Redis: "+tt.kind+" at 127.0.0.1:",
				`SET report:1 EX 3600: err = <nil>; served "report 1: all systems nominal"`,
				"SET report:bad x EX 0 (a bug): err = ERR invalid expire time", // real Redis and miniredis word the rest differently
				"(class Response)",
				"cache down",
				swallowed+"class=Connection ",
				`SET report:2 EX 3600: err = <nil>; served "report 2`,
				// The fifth failed write opens the breaker; the sixth is
				// refused, and swallowed too.
				`level=WARN msg="retryable: breaker open" `,
				swallowed+"class=Connection ",
				`SET report:6 EX 3600: err = <nil>; served "report 6`,
				swallowed+"class=CircuitOpen ",
				`SET report:7 EX 3600: err = <nil>; served "report 7`,
				"GET report:1 (not best-effort): err = breaker: ",
				"(class CircuitOpen)",
				"cache back (the server is restarted):",
				`level=INFO msg="retryable: breaker closed" `,
				`level=WARN msg="retryable: summary of the outage" `,
				`SET report:8 EX 3600: err = <nil>; served "report 8`,
			)
			if n := strings.Count(out, swallowed); n != 6 {
				t.Errorf("%d swallowed writes logged, want 6: one per SET while the server is down", n)
			}
			if n := strings.Count(out, "class=Connection "); n != breaker.DefaultConsecutiveFailures {
				t.Errorf("%d writes failed on the network, want %d: the breaker opens then", n, breaker.DefaultConsecutiveFailures)
			}
			// The summary counts what the application's warnings said.
			summary := regexp.MustCompile(`msg="retryable: summary of the outage" .*`).FindString(out)
			for _, want := range []string{" swallowed=6 ", " refused=2 "} {
				if !strings.Contains(summary, want) {
					t.Errorf("the summary lacks %q: %s", want, summary)
				}
			}
			if strings.Contains(out, "level=DEBUG") {
				t.Error("the policy's Debug records were written at level Info")
			}
			if strings.Contains(out, "(class OK)") {
				t.Error("a call that should fail succeeded")
			}
		})
	}
}
