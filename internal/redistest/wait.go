package redistest

import (
	"testing"
	"time"
)

// pollInterval is how often WaitFor checks its condition.
const pollInterval = 10 * time.Millisecond

// WaitFor calls cond every 10 ms, first at once, until it returns true, and
// fails the test if that does not happen within timeout.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitUntil(t, timeout, "condition", cond)
}

// waitUntil is WaitFor with a description of what it waits for.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("redistest: %s not met within %v", what, timeout)
	}
}

// poll calls cond every pollInterval until it returns true (then poll
// returns true) or timeout passes (false).
func poll(timeout time.Duration, cond func() bool) bool {
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
