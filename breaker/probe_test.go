package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/goleak"
)

// probeLog is a scripted engine probe that records its calls.
type probeLog struct {
	script func(i int) Outcome // the outcome of call i (0-based)

	mu        sync.Mutex
	starts    []time.Time
	deadlines []time.Duration // from each call's start
	inside    atomic.Int32
	overlaps  atomic.Int32
}

func always(o Outcome) func(int) Outcome { return func(int) Outcome { return o } }

func (l *probeLog) probe(ctx context.Context) Outcome {
	if l.inside.Add(1) != 1 {
		l.overlaps.Add(1)
	}
	defer l.inside.Add(-1)
	now := time.Now()
	dl, ok := ctx.Deadline()
	l.mu.Lock()
	i := len(l.starts)
	l.starts = append(l.starts, now)
	if ok {
		l.deadlines = append(l.deadlines, dl.Sub(now))
	} else {
		l.deadlines = append(l.deadlines, -1)
	}
	l.mu.Unlock()
	return l.script(i)
}

func (l *probeLog) calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.starts)
}

// refuseUntilClosed calls the breaker until it is closed, and fails the
// test if a caller was ever let through as a probe.
func refuseUntilClosed(t *testing.T, b *Breaker) {
	t.Helper()
	eventually(t, "the engine closed the breaker", func() bool {
		tk, err := b.Allow()
		if err != nil {
			if _, ok := errors.AsType[*OpenError](err); !ok {
				t.Fatalf("refused with %v, want an *OpenError", err)
			}
			return false
		}
		if tk.done != nil || stateOf(tk.word) != Closed {
			t.Fatalf("a caller was let through as a probe (state %v) while an engine probe is registered", stateOf(tk.word))
		}
		b.Done(tk, Success)
		return true
	})
}

func waitEvents(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d transitions", len(want)), func() bool { return len(rec.events()) >= len(want) })
	wantEvents(t, rec, want...)
}

func TestEngineProbeCloses(t *testing.T) {
	const probeTimeout = 300 * time.Millisecond
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 20 * time.Millisecond,
		HalfOpenProbes: 3, ProbeTimeout: probeTimeout}, seams{})
	pl := &probeLog{script: always(Success)}
	defer b.AddProbe(pl.probe)()
	call(t, b, Failure)
	refuseUntilClosed(t, b)
	waitEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->closed")
	if n := pl.calls(); n != 3 {
		t.Fatalf("%d probe calls, want HalfOpenProbes (3) in a row", n)
	}
	for i, d := range pl.deadlines {
		if d <= 0 || d > probeTimeout {
			t.Fatalf("probe %d ran with a deadline %v from its start, want in (0, %v]", i, d, probeTimeout)
		}
	}
	if c := b.Counts(); c.Level != 1 || c.State != Closed {
		t.Fatalf("Counts %+v, want closed at level 1", c)
	}
}

// TestEngineProbeBacksOff checks that failed engine probes raise the level
// and wait the schedule's growing open times.
func TestEngineProbeBacksOff(t *testing.T) {
	ms := time.Millisecond
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 4 * ms, MaxOpenTimeout: 32 * ms},
		seams{rand: topRand})
	pl := &probeLog{script: func(i int) Outcome { return [...]Outcome{Failure, Failure, Failure, Failure, Success}[i] }}
	defer b.AddProbe(pl.probe)()
	start := time.Now()
	call(t, b, Failure)
	refuseUntilClosed(t, b)
	want := []time.Duration{4 * ms, 8 * ms, 16 * ms, 32 * ms, 32 * ms}
	prev := start
	for i, st := range pl.starts {
		if gap := st.Sub(prev); gap < want[i] {
			t.Fatalf("probe %d ran %v after the last, want at least the open time %v", i, gap, want[i])
		}
		prev = st
	}
	if n := pl.calls(); n != 5 {
		t.Fatalf("%d probe calls, want 5", n)
	}
	if c := b.Counts(); c.Level != 5 {
		t.Fatalf("Level %d, want 5", c.Level)
	}
	eventually(t, "11 transitions", func() bool { return len(rec.events()) == 11 })
}

func TestEngineProbeIgnore(t *testing.T) {
	t.Run("the next probe decides", func(t *testing.T) {
		b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond}, seams{})
		p1, p2 := &probeLog{script: always(Ignore)}, &probeLog{script: always(Success)}
		defer b.AddProbe(p1.probe)()
		defer b.AddProbe(p2.probe)()
		call(t, b, Failure)
		refuseUntilClosed(t, b)
		if p1.calls() != 1 || p2.calls() != 1 {
			t.Fatalf("probes called %d and %d times, want once each", p1.calls(), p2.calls())
		}
	})
	t.Run("all ignore: callers probe", func(t *testing.T) {
		b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond}, seams{})
		pl := &probeLog{script: always(Ignore)}
		defer b.AddProbe(pl.probe)()
		call(t, b, Failure)
		var tk Ticket
		eventually(t, "a caller is let through as a probe", func() bool {
			var err error
			tk, err = b.Allow()
			return err == nil
		})
		if tk.done == nil || pl.calls() != 1 {
			t.Fatalf("caller's ticket %+v after %d probe calls, want a half-open probe after 1", tk, pl.calls())
		}
		b.Done(tk, Success)
		wantState(t, b, Closed)
		waitEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->closed")
	})
}

func TestEngineProbeAdded(t *testing.T) {
	t.Run("while open", func(t *testing.T) {
		b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 20 * time.Millisecond}, seams{})
		call(t, b, Failure)
		pl := &probeLog{script: always(Success)}
		defer b.AddProbe(pl.probe)()
		refuseUntilClosed(t, b)
		if pl.calls() != 1 {
			t.Fatalf("%d probe calls, want 1", pl.calls())
		}
	})
	t.Run("while a caller probes", func(t *testing.T) {
		b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond}, seams{})
		call(t, b, Failure)
		waitDue(t, b)
		caller, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		pl := &probeLog{script: always(Success)}
		defer b.AddProbe(pl.probe)()
		if oe := refused(t, b); !errors.Is(oe, gobreaker.ErrTooManyRequests) {
			t.Fatalf("refused with %v, want ErrTooManyRequests", oe)
		}
		b.Done(caller, Failure) // the caller's verdict; the engine serves from now on
		refuseUntilClosed(t, b)
		if pl.calls() != 1 {
			t.Fatalf("%d probe calls, want 1", pl.calls())
		}
	})
	t.Run("while half-open with no caller out", func(t *testing.T) {
		b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond}, seams{})
		call(t, b, Failure)
		waitDue(t, b)
		wantState(t, b, HalfOpen)
		pl := &probeLog{script: always(Success)}
		defer b.AddProbe(pl.probe)()
		refuseUntilClosed(t, b)
		if pl.calls() != 1 {
			t.Fatalf("%d probe calls, want 1", pl.calls())
		}
	})
}

func TestEngineProbeRemoved(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 200 * time.Millisecond}, seams{})
	// Should the machine stall past the open time before remove, the
	// probe's Ignore hands over to callers all the same.
	pl := &probeLog{script: always(Ignore)}
	remove := b.AddProbe(pl.probe)
	call(t, b, Failure)
	remove()
	remove()
	eventually(t, "no probe pending", b.idle)
	var tk Ticket
	eventually(t, "a caller is let through as a probe", func() bool {
		var err error
		tk, err = b.Allow()
		return err == nil
	})
	b.Done(tk, Success)
	wantState(t, b, Closed)
}

func TestEngineProbeStopped(t *testing.T) {
	for _, tt := range []struct {
		name string
		stop func(*Breaker)
		want State
	}{
		{"ForceOpen", (*Breaker).ForceOpen, Open},
		{"ForceClose", (*Breaker).ForceClose, Closed},
		{"Release", (*Breaker).Release, Closed},
	} {
		t.Run(tt.name+" pending", func(t *testing.T) {
			b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 100 * time.Millisecond}, seams{})
			pl := &probeLog{script: always(Success)}
			defer b.AddProbe(pl.probe)()
			call(t, b, Failure)
			tt.stop(b)
			if !b.idle() {
				t.Fatal("a probe is still pending")
			}
			time.Sleep(250 * time.Millisecond) // past the open time
			if n := pl.calls(); n != 0 {
				t.Fatalf("%d probe calls after %s", n, tt.name)
			}
			wantState(t, b, tt.want)
		})
		t.Run(tt.name+" running", func(t *testing.T) {
			b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Millisecond}, seams{})
			started, finish := make(chan struct{}), make(chan struct{})
			defer b.AddProbe(func(context.Context) Outcome {
				close(started)
				<-finish
				return Failure
			})()
			call(t, b, Failure)
			<-started
			tt.stop(b)
			close(finish)
			eventually(t, "the probe round ended", b.idle)
			wantState(t, b, tt.want) // the probe's Failure was dropped
			if c := b.Counts(); c.Level > 1 {
				t.Fatalf("Level %d: the stale probe counted", c.Level)
			}
		})
	}
}

func TestEngineProbeTimeout(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Millisecond, ProbeTimeout: 20 * time.Millisecond}, seams{})
	errs := make(chan error, 1)
	remove := b.AddProbe(func(ctx context.Context) Outcome {
		<-ctx.Done()
		select {
		case errs <- ctx.Err():
		default:
		}
		return Failure // as a PING to a frozen node would
	})
	call(t, b, Failure)
	if err := <-errs; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("probe context ended with %v, want DeadlineExceeded", err)
	}
	eventually(t, "the timed out probe reopened the breaker", func() bool { return b.Counts().Level >= 2 })
	remove()
	wantState(t, b, Open)
}

// TestEngineProbeNoLeak checks that probes of closed clients, removed by
// their owners, leave no goroutine behind, whatever the breaker was doing.
func TestEngineProbeNoLeak(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Millisecond, HalfOpenProbes: 2}, seams{})
	type client struct {
		closed atomic.Bool
		remove func()
	}
	clients := make([]*client, 5)
	for i := range clients {
		c := &client{}
		c.remove = b.AddProbe(func(ctx context.Context) Outcome {
			if c.closed.Load() {
				return Ignore // redis.ErrClosed: no verdict
			}
			select { // a PING that takes a while
			case <-time.After(time.Millisecond):
				return Failure
			case <-ctx.Done():
				return Failure
			}
		})
		clients[i] = c
	}
	call(t, b, Failure)
	for _, c := range clients {
		time.Sleep(3 * time.Millisecond)
		c.closed.Store(true)
		c.remove()
	}
	eventually(t, "the last probe round ended", b.idle)
	b.Release()
	goleak.VerifyNone(t)
}

// TestEngineConcurrent hammers one breaker with callers, failing and
// recovering probes, probes coming and going, and operators, and checks
// that engine probes never overlap and that OnStateChange saw a chain of
// transitions, never two at a time.
func TestEngineConcurrent(t *testing.T) {
	rec := &recorder{}
	var inside, overlaps atomic.Int32
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 2, OpenTimeout: time.Millisecond, MaxOpenTimeout: 4 * time.Millisecond,
		HalfOpenProbes: 2, ProbeTimeout: 50 * time.Millisecond,
		OnStateChange: func(node string, from, to State) {
			if inside.Add(1) != 1 {
				overlaps.Add(1)
			}
			rec.OnStateChange(node, from, to)
			inside.Add(-1)
		}}, seams{})
	var n atomic.Int32
	pl := &probeLog{script: func(int) Outcome { return Outcome(n.Add(1) % 3) }}
	const workers, rounds = 6, 4000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var remove func()
			for i := range rounds {
				switch {
				case w == 0 && i%100 == 0:
					if remove != nil {
						remove()
						remove = nil
					} else {
						remove = b.AddProbe(pl.probe)
					}
				case w == 1 && i%400 == 200:
					b.ForceOpen()
				case w == 1 && i%400 == 300:
					b.Release()
				}
				if tk, err := b.Allow(); err == nil {
					b.Done(tk, [3]Outcome{Failure, Success, Outcome(i % 3)}[i/50%3])
				}
				if i%20 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
			if remove != nil {
				remove()
			}
		})
	}
	wg.Wait()
	eventually(t, "the last probe round ended", b.idle)
	b.Release()
	if pl.overlaps.Load() != 0 || overlaps.Load() != 0 {
		t.Fatalf("%d overlapping probes, %d overlapping OnStateChange calls", pl.overlaps.Load(), overlaps.Load())
	}
	checkChain(t, rec.transitions(), Closed)
	t.Logf("%d transitions, %d probe calls", len(rec.transitions()), pl.calls())
	if pl.calls() == 0 || len(rec.transitions()) < 10 {
		t.Fatal("the test did not exercise the engine")
	}
}
