package breaker

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a clock that moves only when told to.
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
