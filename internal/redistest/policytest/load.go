package policytest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/internal/redistest"
)

// Call is one call a [Load] made.
type Call struct {
	// Worker is the index of the goroutine that made the call, from 0.
	Worker int
	// Start is when the call began; Took is how long it ran.
	Start time.Time
	Took  time.Duration
	// Err is what the call returned, and Class its retryable.Classify.
	Err   error
	Class retryable.Class
}

// End returns when the call returned.
func (c Call) End() time.Time { return c.Start.Add(c.Took) }

// Load is a load generator started by [StartLoad]: goroutines that call a
// function in a loop and record every call. It is safe for concurrent
// use.
type Load struct {
	workers int
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	mu    sync.Mutex
	calls []Call
}

// StartLoad runs call(worker) in a loop on workers goroutines, worker 0 to
// workers-1, until [Load.Stop], and records every call. Each goroutine
// calls at once and then paces itself with a ticker of period pace: at
// most one call per pace on average, the next one at once after a call
// that overran its slot. A pace of 0 calls back to back.
//
// call runs on the Load's goroutines, so it must not call t.Fatal; and
// since Stop waits for it, it must bound its own time (give each call a
// deadline when the server may hang). The Load is stopped at t's cleanup.
// StartLoad fails the test when workers is below 1 or pace is negative.
func StartLoad(t testing.TB, workers int, pace time.Duration, call func(worker int) error) *Load {
	t.Helper()
	if workers < 1 || pace < 0 {
		t.Fatalf("policytest: StartLoad(workers %d, pace %v): want at least one worker and a pace of 0 or more", workers, pace)
	}
	l := &Load{workers: workers, stop: make(chan struct{})}
	for w := range workers {
		l.wg.Go(func() { l.work(w, pace, call) })
	}
	t.Cleanup(func() { l.Stop() })
	return l
}

// work is one worker's loop.
func (l *Load) work(w int, pace time.Duration, call func(int) error) {
	var tick <-chan time.Time
	if pace > 0 {
		tk := time.NewTicker(pace)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		start := time.Now()
		err := call(w)
		c := Call{Worker: w, Start: start, Took: time.Since(start), Err: err, Class: retryable.Classify(err)}
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
		if tick == nil {
			continue
		}
		select {
		case <-l.stop:
			return
		case <-tick:
		}
	}
}

// Snapshot returns the calls that have returned so far, in the order they
// returned.
func (l *Load) Snapshot() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// Stop stops the workers, waits until their calls in flight have
// returned, and returns every call made, in the order they returned.
// Calling it again returns the same calls.
func (l *Load) Stop() []Call {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
	return l.Snapshot()
}

// AwaitProgress waits until every worker has made n more calls that match
// than it had made when AwaitProgress was called (a nil match counts the
// calls of class OK), and fails the test if that does not happen within
// timeout. It must run on the test's goroutine.
func (l *Load) AwaitProgress(t testing.TB, timeout time.Duration, n int, match func(Call) bool) {
	t.Helper()
	from := l.perWorker(match)
	var now []int
	if !redistest.Poll(timeout, func() bool {
		now = l.perWorker(match)
		return progressed(from, now, n)
	}) {
		t.Fatalf("policytest: not every worker made %d more matching calls within %v: %v before, %v after", n, timeout, from, now)
	}
}

// perWorker is PerWorker of the calls so far, without copying them.
func (l *Load) perWorker(match func(Call) bool) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return PerWorker(l.calls, l.workers, match)
}

// progressed reports whether every count in now is at least n above the
// one in from.
func progressed(from, now []int, n int) bool {
	for w := range now {
		if now[w] < from[w]+n {
			return false
		}
	}
	return true
}
