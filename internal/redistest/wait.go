package redistest

import (
	"testing"
	"time"
)

// pollInterval is how often WaitFor and Poll check their condition.
const pollInterval = 10 * time.Millisecond

// WaitFor calls cond every 10 ms, first at once, until it returns true, and
// fails the test if that does not happen within timeout. It must run on the
// test's goroutine; [Poll] is the wait that does not fail the test.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitUntil(t, timeout, "condition", cond)
}

// Poll calls cond every 10 ms, first at once, until it returns true, and
// reports whether that happened within timeout; cond runs once more when
// the timeout has passed. It never fails the test, so it suits waits whose
// failure the caller reports itself, and goroutines other than the test's.
func Poll(timeout time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
			if cond() {
				return true
			}
		}
	}
}

// waitUntil is WaitFor with a description of what it waits for.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("redistest: %s not met within %v", what, timeout)
	}
}
