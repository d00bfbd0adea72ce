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
		`SET report:1 EX 3600: err = <nil>; served "report 1: all systems nominal"`,
		"SET report:bad x EX 0 (a bug): err = ERR invalid expire time", // real Redis and miniredis word the rest differently
		"(class Response)",
		"cache down",
		`msg="retryable: error swallowed" command=set `,
		`SET report:2 EX 3600: err = <nil>; served "report 2`,
		`msg="retryable: error swallowed" command=set `,
		`SET report:3 EX 3600: err = <nil>; served "report 3`,
		"GET report:1 (not best-effort): err = ",
	}
	rest := out
	for _, l := range want {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Fatalf("output lacks %q after the lines before it", l)
		}
		rest = rest[i+len(l):]
	}
	if n := strings.Count(out, "error swallowed"); n != 2 {
		t.Errorf("%d swallowed errors logged, want 2: one per SET while the server is down", n)
	}
	if strings.Contains(out, `msg="retryable: error swallowed" command=get`) {
		t.Error("GET's error was swallowed")
	}
	if strings.Contains(out, "(class OK)") {
		t.Error("a call that should fail succeeded")
	}
}
