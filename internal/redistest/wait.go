package redistest

import (
	"bytes"
	"runtime"
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

// redialer is the function of the goroutine a go-redis pool runs to redial
// a node after PoolSize dials in a row failed.
var redialer = []byte("pool.(*ConnPool).tryDial")

// AwaitRedialers waits, for up to timeout, until no go-redis pool goroutine
// is redialing a node, and reports whether that happened. Such a goroutine
// redials once a second and notices that its client was closed only when
// it wakes up, so goleak would report it: a test whose client dials a node
// that is gone registers this as a cleanup before it builds the client
// (cleanups run last first, so this runs after the client's Close).
func AwaitRedialers(timeout time.Duration) bool {
	buf := make([]byte, 1<<20)
	return Poll(timeout, func() bool {
		n := runtime.Stack(buf, true)
		return !bytes.Contains(buf[:n], redialer)
	})
}
