package breaker

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
)

// FuzzSchedule checks the open-time arithmetic for any level and setting:
// never below the floor (so never before gobreaker's Timeout), never
// negative or overflowing, never above the cap; decay never raises a level.
func FuzzSchedule(f *testing.F) {
	f.Add(uint32(1), int64(0), int64(0), int64(0), uint8(0), int64(0))
	f.Add(uint32(maxLevel), int64(time.Second), int64(time.Millisecond), int64(time.Hour), uint8(1), int64(time.Hour))
	f.Add(uint32(math.MaxUint32), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), uint8(2), int64(math.MaxInt64))
	f.Add(uint32(0), int64(-1), int64(1), int64(1), uint8(3), int64(-5))
	f.Fuzz(func(t *testing.T, level uint32, prev, open, maxOpen int64, kind uint8, healthy int64) {
		s := Settings{OpenTimeout: time.Duration(open), MaxOpenTimeout: time.Duration(maxOpen)}
		switch kind % 4 {
		case 1:
			s.OpenBackoff = backoff.NewDecorrelated(time.Duration(max(open, 0)), time.Duration(max(maxOpen, open, 0)))
		case 2:
			s.OpenBackoff = backoff.Constant(time.Duration(max(open, 0)))
		case 3:
			s.OpenBackoff = backoff.NewExponential(time.Duration(max(open, 0)), time.Duration(max(maxOpen, open, 0)), 3)
		}
		if s.Validate() != nil {
			t.Skip()
		}
		for _, r := range []backoff.Rand{nil, topRand, bottomRand} {
			c, err := s.configWith(r)
			if err != nil {
				t.Fatal(err)
			}
			d := c.openTime(level, time.Duration(prev))
			if d < c.floor || c.floor < minOpenTime {
				t.Fatalf("level %d: open time %v below the floor %v (at least %v)", level, d, c.floor, minOpenTime)
			}
			if s.OpenBackoff == nil {
				top := max(orDefault(s.MaxOpenTimeout, max(DefaultMaxOpenTimeout, orDefault(s.OpenTimeout, DefaultOpenTimeout))), c.floor)
				if d > top {
					t.Fatalf("level %d: open time %v above the cap %v", level, d, top)
				}
			}
			if at := satAdd(math.MaxInt64/2, d); at < math.MaxInt64/2 {
				t.Fatalf("probe time overflowed: %d", at)
			}
			if l := c.decayed(level, time.Duration(healthy)); l > level {
				t.Fatalf("decay raised level %d to %d", level, l)
			}
		}
	})
}

// FuzzBreaker runs random sequences of calls, waits, operator actions and
// engine probes coming and going, and checks the breaker's invariants: an
// open breaker lets no call through before its time, a half-open one no
// more callers than its probes and none while engine probes serve it, and
// the transitions form a chain.
func FuzzBreaker(f *testing.F) {
	f.Add([]byte{1, 1, 1, 7, 0, 0, 0})
	f.Add([]byte{1, 1, 1, 7, 3, 3, 3, 4, 0, 5, 0, 7, 8, 9, 0})
	f.Add([]byte{10, 1, 1, 1, 7, 0, 11, 1, 1, 1, 7, 7, 0, 8, 9, 10})
	f.Add([]byte{3, 1, 1, 1, 7, 3, 3, 6, 4, 4, 7, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			t.Skip()
		}
		rec := &recorder{}
		const probes = 2
		b, err := New("n", Settings{ConsecutiveFailures: 3, FailureRatio: 0.5, MinRequests: 4, Interval: time.Minute,
			OpenTimeout: 2 * time.Millisecond, MaxOpenTimeout: 4 * time.Millisecond,
			HalfOpenProbes: probes, OnStateChange: rec.OnStateChange})
		if err != nil {
			t.Fatal(err)
		}
		defer stop(t, b)
		var held []Ticket
		var removes []func()
		defer func() {
			for _, r := range removes {
				r()
			}
		}()
		for i, op := range ops {
			switch op % 12 {
			case 0, 1, 2: // a call, done at once
				w, retry := b.word.Load(), b.RetryIn()
				tk, err := b.Allow()
				if err == nil && stateOf(w) == Open && (w&forcedBit != 0 || retry > 0) && sameGen(w, b.word.Load()) {
					t.Fatalf("an open breaker (RetryIn %v, word %b) let a call through", retry, w)
				}
				if err == nil {
					b.Done(tk, Outcome(op%3))
				}
			case 3, 4: // a call held open
				w := b.word.Load()
				if tk, err := b.Allow(); err == nil {
					if tk.done != nil && w&engineBit != 0 && sameGen(w, tk.word) {
						t.Fatal("a caller probes while engine probes serve the breaker")
					}
					held = append(held, tk)
				}
			case 5, 6: // finish a held call
				if len(held) > 0 {
					b.Done(held[0], Outcome(op%3))
					held = held[1:]
				}
			case 7:
				time.Sleep(5 * time.Millisecond) // past the longest open time
			case 8:
				b.ForceOpen()
			case 9:
				b.Release()
			case 10:
				o := Outcome(i % 3)
				removes = append(removes, b.AddProbe(func(context.Context) Outcome { return o }))
			case 11:
				if len(removes) > 0 {
					removes[0]()
					removes = removes[1:]
				}
			}
			if w := b.word.Load(); stateOf(w) == HalfOpen {
				n := 0
				for _, tk := range held {
					if tk.done != nil && sameGen(tk.word, w) {
						n++
					}
				}
				if n > probes {
					t.Fatalf("%d probes out while half-open, limit %d", n, probes)
				}
			}
		}
		for _, r := range removes {
			r()
		}
		removes = nil
		eventually(t, "the probes stopped", b.idle)
		checkChain(t, rec.transitions(), stateOf(b.word.Load()))
	})
}
