package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// fastTiming shortens the phases for the REDIS_ADDR test.
func fastTiming() timing {
	return timing{
		normal:  400 * time.Millisecond,
		outage:  1200 * time.Millisecond,
		recover: 8 * time.Second,
		settle:  200 * time.Millisecond,
		pace:    20 * time.Millisecond,
		readers: 3,
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		external bool     // give the demo a server's address, as REDIS_ADDR does, and shorter phases
		lines    []string // substrings that must appear, in this order
	}{
		{
			name: "embedded",
			lines: []string{
				"started an embedded miniredis",
				"phase 1: normal traffic",
				"phase 2: outage: the embedded server",
				"closed -> open: too many failed calls in a row",
				"phase 2 done:",
				"phase 3: recovery: the embedded server restarted",
				"half-open -> closed: the PING succeeded",
				"breaker closed by itself",
				"summary: callers saw",
				"summary: breaker",
			},
		},
		{
			name: "external", external: true,
			lines: []string{
				"a server this demo cannot stop",
				"phase 1: normal traffic",
				"is a closed port",
				"closed -> open: too many failed calls in a row",
				"phase 2 done:",
				"phase 3: recovery: a forwarder to",
				"half-open -> closed: the PING succeeded",
				"breaker closed by itself",
				"summary: callers saw",
				"summary: breaker",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := ""
			var m *miniredis.Miniredis
			if tt.external {
				m = miniredis.RunT(t)
				addr = m.Addr()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var buf bytes.Buffer
			start := time.Now()
			var err error
			if tt.external {
				err = runWith(ctx, &buf, addr, fastTiming())
			} else {
				err = run(ctx, &buf, "")
			}
			if err != nil {
				t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
			}
			took := time.Since(start)
			out := buf.String()
			t.Logf("took %v, output:\n%s", took, out)

			rest := out
			for _, l := range tt.lines {
				i := strings.Index(rest, l)
				if i < 0 {
					t.Fatalf("output lacks %q after the lines before it", l)
				}
				rest = rest[i+len(l):]
			}

			// The outage phase: fallbacks served, writes swallowed, INCRs
			// refused by the open breaker.
			phase2 := regexp.MustCompile(`phase 2 done: (\d+) GETs served by the fallback \(callers saw no error\), (\d+) best-effort SETs swallowed`).FindStringSubmatch(out)
			if phase2 == nil {
				t.Fatal("no phase 2 summary")
			}
			if atoi(t, phase2[1]) == 0 || atoi(t, phase2[2]) == 0 {
				t.Errorf("phase 2: fallbacks %s, swallowed %s: want both > 0", phase2[1], phase2[2])
			}
			if n := count(t, out, `INCR failures the callers saw: .*CircuitOpen=(\d+)`); n == 0 {
				t.Error("no INCR failed fast with CircuitOpen during the outage")
			}
			// After recovery Redis answers again and nothing fails.
			rec := regexp.MustCompile(`phase 3 done: since the breaker closed, (\d+) GETs answered by Redis, (\d+) by the fallback, (\d+) INCRs ok, (\d+) failed`).FindStringSubmatch(out)
			if rec == nil {
				t.Fatal("no phase 3 summary")
			}
			if atoi(t, rec[1]) == 0 || atoi(t, rec[3]) == 0 || atoi(t, rec[4]) != 0 {
				t.Errorf("after recovery: %s", rec[0])
			}
			// The summary: GET and SET never failed for the callers; the
			// breaker opened and closed again.
			if s := line(out, "summary: callers saw"); !regexp.MustCompile(`GET: OK=\d+ \| SET: OK=\d+ \| INCR: OK=\d+ `).MatchString(s) {
				t.Errorf("callers saw failures other than INCR's: %s", s)
			}
			if count(t, out, `summary: engine .*fallbacks=(\d+)`) == 0 || count(t, out, `summary: engine .*swallowed=(\d+)`) == 0 {
				t.Errorf("engine summary: %s", line(out, "summary: engine"))
			}
			if count(t, out, `closed->open=(\d+)`) == 0 || count(t, out, `half-open->closed=(\d+)`) == 0 {
				t.Errorf("breaker summary: %s", line(out, "summary: breaker"))
			}
			if tt.external {
				// The demo cleans up after itself on a server it does not own.
				if keys := m.Keys(); len(keys) != 0 {
					t.Errorf("keys left on the server: %v", keys)
				}
			}
			if took > 20*time.Second {
				t.Errorf("the demo took %v", took)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// count returns the number the first group of re captures in out, or 0.
func count(t *testing.T, out, re string) int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	return atoi(t, m[1])
}

// line returns the first line of out that contains s.
func line(out, s string) string {
	for l := range strings.Lines(out) {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
