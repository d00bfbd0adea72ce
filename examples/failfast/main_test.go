package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
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

	for _, want := range []string{
		"LPUSH on a string: WRONGTYPE",
		"class Response, recoverable false, attempts 1:",
		"errors.As(err, &redis.Error) = true",
		"is open: calls fail fast",
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		})
	}

	// The GETs on the stopped server: Connection failures (retried) first,
	// then CircuitOpen ones, in one attempt and far quicker.
	calls := regexp.MustCompile(`GET \d: class (\w+) after (\d+) attempt\(s\), (\S+)`).FindAllStringSubmatch(out, -1)
	if len(calls) != 8 {
		t.Fatalf("got %d GET lines, want 8", len(calls))
	}
	if calls[0][1] != "Connection" {
		t.Errorf("first GET on a stopped server: class %s, want Connection", calls[0][1])
	}
	var open int
	for _, c := range calls {
		if c[1] != "CircuitOpen" {
			if open > 0 {
				t.Errorf("%q after the breaker opened", c[0])
			}
			continue
		}
		open++
		if open == 1 {
			// The call whose retry found the breaker open: it made
			// attempts before that.
			continue
		}
		if c[2] != "1" {
			t.Errorf("%q: a refused call took more than one attempt", c[0])
		}
		took, err := time.ParseDuration(c[3])
		if err != nil {
			t.Fatal(err)
		}
		if took > 50*time.Millisecond {
			t.Errorf("%q: a refused call should not wait", c[0])
		}
	}
	if open < 6 {
		t.Errorf("%d of 8 GETs refused by the breaker, want at least 6", open)
	}
	if n, _ := strconv.Atoi(calls[0][2]); n < 2 {
		t.Errorf("the first failure was not retried: %q", calls[0][0])
	}
}
