package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var buf bytes.Buffer
	start := time.Now()
	if err := run(ctx, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	took := time.Since(start)
	out := buf.String()
	t.Logf("output:\n%s", out)

	// The LOADING parts are exact: the server's replies are counted, the
	// backoff has no jitter.
	const loading = "BusyLoading (LOADING Redis is loading the dataset in memory)"
	want := []string{
		"GET while the server answers LOADING to the next 3 commands:",
		"  attempt 1: " + loading + ": retry in 20ms",
		"  attempt 2: " + loading + ": retry in 40ms",
		"  attempt 3: " + loading + ": retry in 80ms",
		"  attempt 4: succeeded, after BusyLoading",
		`GET config = "v1", err = <nil>`,
		"INCR while the server answers LOADING to the next 2 commands:",
		"  attempt 1: " + loading + ": retry in 20ms",
		"  attempt 2: " + loading + ": retry in 40ms",
		"  attempt 3: succeeded, after BusyLoading",
		"INCR visits = 1, err = <nil>: it ran exactly once",
		"GET with the server stopped:",
	}
	lines := strings.Split(out, "\n")
	if len(lines) < len(want) {
		t.Fatalf("%d lines, want at least %d", len(lines), len(want))
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], w)
		}
	}

	// The stopped server: four retries with growing delays, then the last
	// real error, a Connection one.
	rest := strings.Join(lines[len(want):], "\n")
	for _, d := range []string{"20ms", "40ms", "80ms", "160ms"} {
		if !regexp.MustCompile(`attempt \d: Connection \(.*\): retry in ` + d).MatchString(rest) {
			t.Errorf("no retry in %s after a Connection failure", d)
		}
	}
	if !strings.Contains(rest, "attempt 5: Connection (") || !strings.Contains(rest, "gave up, attempts exhausted") {
		t.Error("the policy did not give up after 5 attempts")
	}
	if !regexp.MustCompile(`GET config: err = .+ \(class Connection\) after`).MatchString(rest) {
		t.Error("the caller did not get the last Connection error")
	}
	// 140 ms + 300 ms of backoff at least.
	if took < 440*time.Millisecond {
		t.Errorf("run took %v: less than its backoff delays", took)
	}
}
