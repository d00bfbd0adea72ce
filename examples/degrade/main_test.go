package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	t.Logf("output:\n%s", out)

	// The lines that must appear, in order.
	want := []string{
		"cache up:",
		"user:1: cache miss, loaded from the database",
		`GET user:1 = "ada", err = <nil>`,
		`GET user:1 = "ada", err = <nil>`,
		"cache down",
		`msg="cache unavailable, using database" key=user:1 error="dial tcp`,
		`GET user:1 = "ada", err = <nil>`,
		`msg="cache unavailable, using database" key=user:2 error="breaker: `,
		`GET user:2 = "grace", err = <nil>`,
		`GET user:1 = "ada", err = <nil>`,
		`GET user:2 = "grace", err = <nil>`,
		"the cache's breaker is open",
	}
	rest := out
	for _, l := range want {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Fatalf("output lacks %q after the lines before it", l)
		}
		rest = rest[i+len(l):]
	}
	if n := strings.Count(out, "cache miss"); n != 1 {
		t.Errorf("%d cache misses, want 1: the second read is a hit", n)
	}
	if n := strings.Count(out, "cache unavailable, using database"); n != 4 {
		t.Errorf("the fallback ran %d times, want 4 (every read while the cache is down)", n)
	}
}
