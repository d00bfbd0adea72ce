package breaker

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a clock that moves only when told to: the Budget's and
// Limiter's tests use it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// aheadClock is time.Now plus an offset that only grows. gobreaker reads
// time.Now itself, so a breaker's schedule clock may run ahead of it (to
// test decay without waiting for it) but never behind.
type aheadClock struct{ off atomic.Int64 }

func (c *aheadClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func (c *aheadClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// fixedRand is a backoff.Rand that always draws the top (or the bottom)
// of the range, so that the default schedule's equal jitter gives exactly
// the delay (or half of it).
type fixedRand struct{ top bool }

func (r fixedRand) Int64N(n int64) int64 {
	if r.top {
		return n - 1
	}
	return 0
}

var (
	topRand    = fixedRand{top: true}
	bottomRand = fixedRand{}
)

// recorder records OnStateChange calls.
type recorder struct {
	mu  sync.Mutex
	got []string // "node: from->to"
	tr  []transition
}

func (r *recorder) OnStateChange(node string, from, to State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, node+": "+from.String()+"->"+to.String())
	r.tr = append(r.tr, transition{from, to})
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *recorder) transitions() []transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transition(nil), r.tr...)
}

// checkChain fails unless trs is a chain of real transitions starting at
// Closed and ending at last: every transition reported once, none lost.
func checkChain(t *testing.T, trs []transition, last State) {
	t.Helper()
	prev := Closed
	for i, tr := range trs {
		if tr.from != prev || tr.from == tr.to {
			t.Fatalf("transition %d is %v->%v after a move to %v: %v", i, tr.from, tr.to, prev, trs)
		}
		prev = tr.to
	}
	if prev != last {
		t.Fatalf("transitions end at %v, state is %v", prev, last)
	}
}

// patience bounds every wait of these tests. The machines are small and
// shared: it is generous, and no test asserts how fast anything is.
const patience = 10 * time.Second

// eventually polls cond until it holds, and fails the test after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after %v: %s", patience, what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// idle reports whether b has no engine probe running or pending, and no
// transition being delivered.
func (b *Breaker) idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.running && b.timer == nil && !b.delivering && len(b.events) == 0
}

// stop releases b and waits until no probe of it runs, so that no timer
// or goroutine outlives the test.
func stop(t *testing.T, b *Breaker) {
	t.Helper()
	b.Release()
	eventually(t, "the breaker's probes stopped", b.idle)
}
