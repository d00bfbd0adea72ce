package breaker

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOnStateChangeReentrant(t *testing.T) {
	var b *Breaker
	var got []string
	b, err := New("n1", Settings{ConsecutiveFailures: 1,
		OnStateChange: func(node string, from, to State) {
			// Called outside the breaker's locks: calling back is fine,
			// and a transition made here is reported after this one.
			got = append(got, from.String()+"->"+to.String()+" seen as "+b.State().String())
			if to == Open && !b.Counts().Forced {
				b.ForceClose()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, b)
	call(t, b, Failure)
	want := []string{"closed->open seen as open", "open->closed seen as closed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestOnStateChangePanicDoesNotWedge(t *testing.T) {
	var n atomic.Int32
	b, err := New("n1", Settings{ConsecutiveFailures: 1, OnStateChange: func(string, State, State) {
		if n.Add(1) == 1 {
			panic("boom")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the callback's panic was swallowed")
			}
		}()
		b.ForceOpen()
	}()
	b.Release()
	if n.Load() != 2 {
		t.Fatalf("OnStateChange called %d times, want 2 (deliveries go on after a panic)", n.Load())
	}
}

// TestTransitionsConcurrent hammers one breaker from many goroutines with
// callers as probes, and checks that OnStateChange saw every transition
// exactly once, in order, never two at a time.
func TestTransitionsConcurrent(t *testing.T) {
	for _, tt := range []struct {
		name  string
		s     Settings
		force bool
	}{
		{"consecutive", Settings{ConsecutiveFailures: 3, OpenTimeout: 2 * time.Millisecond, HalfOpenProbes: 2}, false},
		{"ratio", Settings{FailureRatio: 0.3, MinRequests: 5, Interval: 20 * time.Millisecond,
			OpenTimeout: 2 * time.Millisecond, MaxOpenTimeout: 4 * time.Millisecond}, false},
		{"forced", Settings{ConsecutiveFailures: 2, OpenTimeout: 2 * time.Millisecond, HalfOpenProbes: 3}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			var inside, overlaps atomic.Int32
			s := tt.s
			s.OnStateChange = func(node string, from, to State) {
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				rec.OnStateChange(node, from, to)
				inside.Add(-1)
			}
			b, _ := newTestBreaker(t, s, seams{})
			const workers, rounds = 6, 3000
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range rounds {
						if i%10 == 0 {
							time.Sleep(50 * time.Microsecond)
						}
						switch {
						case tt.force && w == 1 && i%50 == 0:
							b.ForceOpen()
						case tt.force && w == 1 && i%50 == 25:
							b.ForceClose()
						case tt.force && w == 1 && i%50 == 40:
							b.Release()
						}
						tk, err := b.Allow()
						if err != nil {
							continue
						}
						// Phases of failures, successes and a mix.
						o := [3]Outcome{Failure, Success, Outcome((i*7 + w) % 3)}[i/40%3]
						b.Done(tk, o)
						_ = b.State()
					}
				})
			}
			wg.Wait()
			eventually(t, "deliveries ended", b.idle)
			if overlaps.Load() != 0 {
				t.Fatalf("OnStateChange ran concurrently with itself %d times", overlaps.Load())
			}
			trs := rec.transitions()
			checkChain(t, trs, stateOf(b.word.Load()))
			if len(trs) < 10 {
				t.Fatalf("only %d transitions: the test did not exercise the breaker", len(trs))
			}
			if tt.force && len(trs) < rounds/50 {
				// Each ForceClose of a forced-open breaker is one transition.
				t.Fatalf("%d transitions for %d ForceClose calls", len(trs), rounds/50)
			}
			if !tt.force {
				// Without forcing, every state change is a visible one.
				if gen := b.word.Load() >> genShift; uint64(len(trs)) != gen {
					t.Fatalf("%d transitions reported, %d made", len(trs), gen)
				}
			}
			t.Logf("%d transitions", len(trs))
		})
	}
}
