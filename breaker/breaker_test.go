package breaker

import (
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
	"github.com/sony/gobreaker/v2"
)

func newTestBreaker(t *testing.T, s Settings) (*Breaker, *fakeClock, *recorder) {
	t.Helper()
	clock, rec := newFakeClock(), &recorder{}
	s.Now, s.OnStateChange = clock.Now, rec.OnStateChange
	b, err := New("n1", s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, clock, rec
}

// call runs one allowed call with outcome o; it fails the test if the
// breaker refuses.
func call(t *testing.T, b *Breaker, o Outcome) {
	t.Helper()
	tk, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow refused in state %v: %v", b.State(), err)
	}
	b.Done(tk, o)
}

func calls(t *testing.T, b *Breaker, o Outcome, n int) {
	t.Helper()
	for range n {
		call(t, b, o)
	}
}

// refused fails the test unless Allow refuses, and returns the error.
func refused(t *testing.T, b *Breaker) *OpenError {
	t.Helper()
	tk, err := b.Allow()
	if err == nil {
		b.Done(tk, Ignore)
		t.Fatalf("Allow let a call through in state %v", b.State())
	}
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("Allow error %T %v is not an *OpenError", err, err)
	}
	return oe
}

func wantState(t *testing.T, b *Breaker, want State) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("state %v, want %v", got, want)
	}
}

func wantEvents(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	got := r.events()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("transitions %q, want %q", got, want)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{Closed.String(), "closed"},
		{HalfOpen.String(), "half-open"},
		{Open.String(), "open"},
		{State(7).String(), "State(7)"},
		{Success.String(), "success"},
		{Failure.String(), "failure"},
		{Ignore.String(), "ignore"},
		{Outcome(9).String(), "ignore"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	for _, s := range []State{Closed, HalfOpen, Open} {
		if gobreaker.State(s).String() != s.String() {
			t.Errorf("State %v does not convert to gobreaker's %v", s, gobreaker.State(s))
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       Settings
		setting string // "" = valid
	}{
		{"zero", Settings{}, ""},
		{"full", Settings{ConsecutiveFailures: 3, FailureRatio: 1, MinRequests: 5, Interval: time.Second,
			OpenTimeout: time.Second, OpenBackoff: backoff.NewExponential(time.Second, time.Minute, 2), HalfOpenProbes: 3}, ""},
		{"ratio NaN", Settings{FailureRatio: math.NaN()}, "Settings.FailureRatio"},
		{"ratio negative", Settings{FailureRatio: -0.1}, "Settings.FailureRatio"},
		{"ratio above 1", Settings{FailureRatio: 1.5}, "Settings.FailureRatio"},
		{"ratio +Inf", Settings{FailureRatio: math.Inf(1)}, "Settings.FailureRatio"},
		{"interval negative", Settings{Interval: -time.Second}, "Settings.Interval"},
		{"open timeout negative", Settings{OpenTimeout: -1}, "Settings.OpenTimeout"},
		{"open backoff invalid", Settings{OpenBackoff: backoff.Constant(-time.Second)}, "Settings.OpenBackoff"},
		{"open backoff nil func", Settings{OpenBackoff: backoff.Func(nil)}, "Settings.OpenBackoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			_, nerr := New("n", tt.s)
			_, gerr := NewGroup(tt.s)
			if tt.setting == "" {
				if err != nil || nerr != nil || gerr != nil {
					t.Fatalf("Validate %v, New %v, NewGroup %v; want no error", err, nerr, gerr)
				}
				return
			}
			if err == nil || nerr == nil || gerr == nil {
				t.Fatalf("Validate %v, New %v, NewGroup %v; want errors naming %s", err, nerr, gerr, tt.setting)
			}
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "breaker: "+tt.setting+" ") {
				t.Fatalf("error %q does not match ErrInvalid or name %s", err, tt.setting)
			}
			if tt.setting == "Settings.OpenBackoff" && !errors.Is(err, backoff.ErrInvalid) {
				t.Fatalf("error %q does not wrap backoff's error", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	b, clock, _ := newTestBreaker(t, Settings{})
	calls(t, b, Failure, DefaultConsecutiveFailures-1)
	wantState(t, b, Closed)
	call(t, b, Failure)
	wantState(t, b, Open)
	if oe := refused(t, b); oe.RetryIn != DefaultOpenTimeout {
		t.Fatalf("RetryIn %v, want the default open timeout %v", oe.RetryIn, DefaultOpenTimeout)
	}
	clock.Advance(DefaultOpenTimeout)
	probe, err := b.Allow()
	if err != nil {
		t.Fatalf("Allow after the open timeout: %v", err)
	}
	if oe := refused(t, b); !errors.Is(oe, gobreaker.ErrTooManyRequests) {
		t.Fatalf("second probe refused with %v, want ErrTooManyRequests (1 probe by default)", oe)
	}
	b.Done(probe, Success)
	wantState(t, b, Closed)
}

func TestConsecutiveTrip(t *testing.T) {
	b, _, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute})
	calls(t, b, Failure, 2)
	wantState(t, b, Closed)
	if c := b.Counts(); c.ConsecutiveFailures != 2 || c.State != Closed {
		t.Fatalf("Counts %+v, want 2 consecutive failures, closed", c)
	}
	call(t, b, Failure)
	wantState(t, b, Open)
	wantEvents(t, rec, "n1: closed->open")
	oe := refused(t, b)
	if oe.Node != "n1" || oe.RetryIn != time.Minute || !errors.Is(oe, gobreaker.ErrOpenState) {
		t.Fatalf("OpenError %+v, want node n1, RetryIn 1m, ErrOpenState", oe)
	}
	if c := b.Counts(); c.State != Open || c.Openings != 1 || c.RetryIn != time.Minute || c.Forced {
		t.Fatalf("Counts %+v, want open once, RetryIn 1m, not forced", c)
	}
}

func TestSuccessResetsConsecutive(t *testing.T) {
	b, _, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 3})
	for range 10 {
		calls(t, b, Failure, 2)
		call(t, b, Success)
	}
	wantState(t, b, Closed)
	if c := b.Counts(); c.ConsecutiveFailures != 0 {
		t.Fatalf("ConsecutiveFailures %d after a success, want 0", c.ConsecutiveFailures)
	}
	calls(t, b, Failure, 3)
	wantState(t, b, Open)
	wantEvents(t, rec, "n1: closed->open")
}

func TestRatioTrip(t *testing.T) {
	const interval = 10 * time.Second
	type step struct {
		o     Outcome
		n     int
		after time.Duration // clock advance after the step
	}
	tests := []struct {
		name  string
		steps []step
		want  State
	}{
		{"below MinRequests", []step{{Failure, 9, 0}}, Closed},
		{"reaches MinRequests", []step{{Failure, 10, 0}}, Open},
		{"ratio below threshold", []step{{Failure, 1, 0}, {Success, 2, 0}, {Failure, 1, 0}, {Success, 2, 0},
			{Failure, 1, 0}, {Success, 2, 0}, {Failure, 1, 0}, {Success, 2, 0}, {Failure, 1, 0}}, Closed},
		{"ratio at threshold", []step{{Failure, 1, 0}, {Success, 1, 0}, {Failure, 1, 0}, {Success, 1, 0},
			{Failure, 1, 0}, {Success, 1, 0}, {Failure, 1, 0}, {Success, 1, 0}, {Failure, 1, 0}, {Success, 1, 0},
			{Failure, 1, 0}}, Open},
		{"successes before the window do not count", []step{{Success, 100, 0}, {Failure, 10, 0}}, Open},
		{"window expires", []step{{Failure, 5, interval}, {Failure, 5, 0}}, Closed},
		{"window still running", []step{{Failure, 5, interval - 1}, {Failure, 5, 0}}, Open},
		{"ignore counts as nothing", []step{{Failure, 5, 0}, {Ignore, 100, 0}, {Success, 6, 0}, {Failure, 1, 0}}, Open},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clock, _ := newTestBreaker(t, Settings{FailureRatio: 0.5, MinRequests: 10, Interval: interval})
			for _, s := range tt.steps {
				calls(t, b, s.o, s.n)
				clock.Advance(s.after)
			}
			wantState(t, b, tt.want)
		})
	}
}

func TestRatioCounts(t *testing.T) {
	b, clock, _ := newTestBreaker(t, Settings{FailureRatio: 0.9, MinRequests: 100, Interval: time.Second})
	calls(t, b, Success, 5) // no window yet
	if c := b.Counts(); c.Requests != 0 || c.Failures != 0 {
		t.Fatalf("Counts %+v before any failure, want no window", c)
	}
	call(t, b, Failure)
	calls(t, b, Success, 3)
	if c := b.Counts(); c.Requests != 4 || c.Failures != 1 || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v, want 4 requests, 1 failure, no run", c)
	}
	clock.Advance(time.Second)
	if c := b.Counts(); c.Requests != 0 || c.Failures != 0 {
		t.Fatalf("Counts %+v after the window, want zero", c)
	}
}

func TestRatioAndConsecutive(t *testing.T) {
	// Either condition trips when both are set.
	b, _, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 3, FailureRatio: 0.9, MinRequests: 1000})
	calls(t, b, Failure, 3)
	wantState(t, b, Open)
}

func TestIgnore(t *testing.T) {
	b, clock, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 3, OpenTimeout: time.Second, HalfOpenProbes: 2})
	calls(t, b, Ignore, 1000)
	calls(t, b, Failure, 2)
	calls(t, b, Ignore, 1000)
	if c := b.Counts(); c.ConsecutiveFailures != 2 {
		t.Fatalf("Ignore changed the run of failures: %+v", c)
	}
	call(t, b, Failure)
	wantState(t, b, Open)
	clock.Advance(time.Second)

	// Half-open: probes reported Ignore free their slot, forever.
	for i := range 100 {
		p1, err1 := b.Allow()
		p2, err2 := b.Allow()
		if err1 != nil || err2 != nil {
			t.Fatalf("round %d: probes refused: %v, %v", i, err1, err2)
		}
		if oe := refused(t, b); !errors.Is(oe, gobreaker.ErrTooManyRequests) || oe.RetryIn != 0 {
			t.Fatalf("third probe refused with %+v, want ErrTooManyRequests and no RetryIn", oe)
		}
		b.Done(p1, Ignore)
		b.Done(p2, Outcome(200))
		wantState(t, b, HalfOpen)
	}
	calls(t, b, Success, 2)
	wantState(t, b, Closed)
	wantEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->closed")
}

func TestOpenHalfOpenClosed(t *testing.T) {
	b, clock, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 3 * time.Second, HalfOpenProbes: 2})
	call(t, b, Failure)
	clock.Advance(3*time.Second - 1)
	if oe := refused(t, b); oe.RetryIn != 1 {
		t.Fatalf("RetryIn %v, want 1ns", oe.RetryIn)
	}
	wantState(t, b, Open)
	clock.Advance(1)
	p1, err := b.Allow()
	if err != nil {
		t.Fatalf("first probe: %v", err)
	}
	wantState(t, b, HalfOpen)
	p2, err := b.Allow()
	if err != nil {
		t.Fatalf("second probe: %v", err)
	}
	refused(t, b)
	b.Done(p1, Success)
	wantState(t, b, HalfOpen)
	refused(t, b) // a successful probe does not free its slot
	b.Done(p2, Success)
	wantState(t, b, Closed)
	wantEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->closed")
	if c := b.Counts(); c.Openings != 0 || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v after closing, want fresh counters", c)
	}
}

func TestStateMovesToHalfOpen(t *testing.T) {
	b, clock, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second})
	call(t, b, Failure)
	clock.Advance(time.Second)
	wantState(t, b, HalfOpen)
	wantState(t, b, HalfOpen)
	wantEvents(t, rec, "n1: closed->open", "n1: open->half-open")
	call(t, b, Success)
	wantState(t, b, Closed)
}

func TestProbeFailureReopens(t *testing.T) {
	b, clock, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenProbes: 2})
	call(t, b, Failure)
	clock.Advance(time.Second)
	p1, _ := b.Allow()
	p2, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	b.Done(p1, Failure)
	wantState(t, b, Open)
	if oe := refused(t, b); oe.RetryIn != time.Second {
		t.Fatalf("RetryIn %v after a failed probe, want the open timeout", oe.RetryIn)
	}
	// The other probe's outcome belongs to the last half-open state: it
	// must neither close the breaker nor let gobreaker past the open time.
	b.Done(p2, Success)
	wantState(t, b, Open)
	refused(t, b)
	if c := b.Counts(); c.Openings != 2 {
		t.Fatalf("Openings %d, want 2", c.Openings)
	}
	wantEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->open")
}

func TestStaleTicketsDoNotCount(t *testing.T) {
	b, clock, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 2, OpenTimeout: time.Second})
	var old []Ticket
	for range 5 {
		tk, _ := b.Allow()
		old = append(old, tk)
	}
	calls(t, b, Failure, 2)
	clock.Advance(time.Second)
	call(t, b, Success) // the probe closes it: a new closed state
	wantState(t, b, Closed)
	for _, tk := range old {
		b.Done(tk, Failure)
	}
	wantState(t, b, Closed)
	if c := b.Counts(); c.ConsecutiveFailures != 0 {
		t.Fatalf("failures allowed in an earlier state were counted: %+v", c)
	}
}

func TestOpenBackoff(t *testing.T) {
	var prevs []time.Duration
	var mu sync.Mutex
	grow := backoff.Func(func(n int, prev time.Duration) time.Duration {
		mu.Lock()
		prevs = append(prevs, prev)
		mu.Unlock()
		return backoff.NewExponential(time.Second, 8*time.Second, 2).Delay(n, prev)
	})
	b, clock, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour, OpenBackoff: grow})
	call(t, b, Failure)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, d := range want {
		if oe := refused(t, b); oe.RetryIn != d {
			t.Fatalf("opening %d: RetryIn %v, want %v", i+1, oe.RetryIn, d)
		}
		clock.Advance(d - 1)
		refused(t, b)
		clock.Advance(1)
		call(t, b, Failure) // the probe fails: open again, longer
	}
	if c := b.Counts(); c.Openings != uint32(len(want)+1) {
		t.Fatalf("Openings %d, want %d", c.Openings, len(want)+1)
	}
	clock.Advance(8 * time.Second)
	call(t, b, Success) // closes, and forgets the run of openings
	call(t, b, Failure)
	if oe := refused(t, b); oe.RetryIn != time.Second {
		t.Fatalf("RetryIn %v after closing, want the first delay again", oe.RetryIn)
	}
	wantPrev := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 0}
	mu.Lock()
	defer mu.Unlock()
	if len(prevs) != len(wantPrev) {
		t.Fatalf("OpenBackoff called with prev %v, want %v", prevs, wantPrev)
	}
	for i := range prevs {
		if prevs[i] != wantPrev[i] {
			t.Fatalf("OpenBackoff called with prev %v, want %v", prevs, wantPrev)
		}
	}
}

func TestOpenBackoffZeroMeansOpenTimeout(t *testing.T) {
	b, _, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 7 * time.Second, OpenBackoff: backoff.Constant(0)})
	call(t, b, Failure)
	if oe := refused(t, b); oe.RetryIn != 7*time.Second {
		t.Fatalf("RetryIn %v, want OpenTimeout for a zero backoff delay", oe.RetryIn)
	}
}

func TestOpenError(t *testing.T) {
	b, _, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Second})
	call(t, b, Failure)
	_, err := b.Allow()
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T, want *OpenError", err)
	}
	if !errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		t.Fatalf("error %v does not wrap only ErrOpenState", err)
	}
	if want := "breaker: n1: circuit breaker is open (retry in 2s)"; err.Error() != want {
		t.Fatalf("Error() %q, want %q", err, want)
	}
	b.ForceOpen()
	_, err = b.Allow()
	if want := "breaker: n1: circuit breaker is open"; err == nil || err.Error() != want {
		t.Fatalf("forced open: Error() %v, want %q", err, want)
	}
}

func TestForce(t *testing.T) {
	b, clock, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 2, OpenTimeout: time.Second})
	before, _ := b.Allow()

	b.ForceOpen()
	b.ForceOpen()
	wantState(t, b, Open)
	clock.Advance(time.Hour)
	for range 3 {
		if oe := refused(t, b); oe.RetryIn != 0 || !errors.Is(oe, gobreaker.ErrOpenState) {
			t.Fatalf("forced open refused with %+v, want ErrOpenState, no RetryIn", oe)
		}
	}
	wantState(t, b, Open)
	if c := b.Counts(); !c.Forced || c.State != Open {
		t.Fatalf("Counts %+v, want forced open", c)
	}

	b.Release()
	wantState(t, b, Closed)
	b.Done(before, Failure) // from before ForceOpen: not counted
	call(t, b, Failure)
	wantState(t, b, Closed)

	b.ForceClose()
	calls(t, b, Failure, 100)
	wantState(t, b, Closed)
	if c := b.Counts(); !c.Forced || c.ConsecutiveFailures != 1 {
		t.Fatalf("Counts %+v, want forced, and the one failure from before", c)
	}
	b.Release()
	if c := b.Counts(); c.Forced || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v after Release, want fresh", c)
	}
	calls(t, b, Failure, 2)
	wantState(t, b, Open)

	// Release of a breaker opened automatically closes it, fresh.
	b.Release()
	wantState(t, b, Closed)
	call(t, b, Failure)
	wantState(t, b, Closed)

	// ForceOpen of an open breaker changes nothing visible; ForceClose of
	// a half-open one drops its probes.
	calls(t, b, Failure, 1)
	b.ForceOpen()
	b.Release()
	calls(t, b, Failure, 2)
	clock.Advance(time.Second)
	probe, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	b.ForceClose()
	b.Done(probe, Failure)
	wantState(t, b, Closed)
	b.Release()

	wantEvents(t, rec,
		"n1: closed->open", "n1: open->closed", // ForceOpen, Release
		"n1: closed->open", "n1: open->closed", // trip, Release
		"n1: closed->open",                                                 // ForceOpen
		"n1: open->closed",                                                 // Release
		"n1: closed->open", "n1: open->half-open", "n1: half-open->closed", // trip, probe, ForceClose
	)
}

func TestOnStateChangeReentrant(t *testing.T) {
	var b *Breaker
	var got []string
	clock := newFakeClock()
	b, err := New("n1", Settings{ConsecutiveFailures: 1, Now: clock.Now,
		OnStateChange: func(node string, from, to State) {
			// Called outside the breaker's locks: calling back is fine,
			// and a transition made here is reported after this one.
			got = append(got, from.String()+"->"+to.String()+" seen as "+b.State().String())
			if to == Open && b.Counts().Forced == false {
				b.ForceClose()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
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

// TestTransitionsConcurrent hammers one breaker from many goroutines while
// the clock moves, and checks that OnStateChange saw every transition
// exactly once, in order, never two at a time.
func TestTransitionsConcurrent(t *testing.T) {
	for _, tt := range []struct {
		name  string
		s     Settings
		force bool
	}{
		{"consecutive", Settings{ConsecutiveFailures: 3, OpenTimeout: time.Millisecond, HalfOpenProbes: 2}, false},
		{"ratio", Settings{FailureRatio: 0.3, MinRequests: 5, Interval: 5 * time.Millisecond,
			OpenTimeout: time.Millisecond, OpenBackoff: backoff.NewExponential(time.Millisecond, 4*time.Millisecond, 2)}, false},
		{"forced", Settings{ConsecutiveFailures: 2, OpenTimeout: time.Millisecond, HalfOpenProbes: 3}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			rec := &recorder{}
			var inside, overlaps atomic.Int32
			s := tt.s
			s.Now = clock.Now
			s.OnStateChange = func(node string, from, to State) {
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				rec.OnStateChange(node, from, to)
				inside.Add(-1)
			}
			b, err := New("n1", s)
			if err != nil {
				t.Fatal(err)
			}
			const workers, rounds = 8, 3000
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range rounds {
						if i%10 == 0 {
							clock.Advance(50 * time.Microsecond)
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
			if overlaps.Load() != 0 {
				t.Fatalf("OnStateChange ran concurrently with itself %d times", overlaps.Load())
			}
			trs := rec.transitions()
			checkChain(t, trs, publicState(b.word.Load()&codeMask))
			if len(trs) < 10 {
				t.Fatalf("only %d transitions: the test did not exercise the breaker", len(trs))
			}
			if tt.force && len(trs) < rounds/50 {
				// Each ForceClose of a forced-open breaker is one transition.
				t.Fatalf("%d transitions for %d ForceClose calls", len(trs), rounds/50)
			}
			if !tt.force {
				// Without forcing, every internal transition is a visible one.
				if gen := b.word.Load() >> codeBits; uint64(len(trs)) != gen {
					t.Fatalf("%d transitions reported, %d made", len(trs), gen)
				}
			}
			t.Logf("%d transitions", len(trs))
		})
	}
}

func TestNilBreaker(t *testing.T) {
	var b *Breaker
	tk, err := b.Allow()
	if err != nil {
		t.Fatalf("nil breaker refused: %v", err)
	}
	b.Done(tk, Failure)
	if b.State() != Closed || b.Counts() != (Counts{}) {
		t.Fatal("nil breaker is not closed")
	}
}

func TestAllowDoneClosedAllocs(t *testing.T) {
	for _, s := range []Settings{{}, {FailureRatio: 0.5}} {
		b, err := New("n1", s)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(1000, func() {
			tk, _ := b.Allow()
			b.Done(tk, Success)
		}); n != 0 {
			t.Fatalf("%+v: %v allocations per successful call, want 0", s, n)
		}
	}
}

// FuzzBreaker runs random sequences of operations and checks the
// breaker's invariants: transitions form a chain, an open breaker lets no
// call through before its time, a half-open one no more than its probes.
func FuzzBreaker(f *testing.F) {
	f.Add([]byte{1, 1, 1, 1, 1, 1, 4, 0, 0, 0})
	f.Add([]byte{1, 1, 1, 4, 4, 4, 0, 2, 0, 3, 0, 5, 6, 7, 0})
	f.Add([]byte{7, 1, 1, 1, 4, 0, 1, 4, 4, 0, 0, 2, 8, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		clock := newFakeClock()
		rec := &recorder{}
		const probes = 2
		b, err := New("n", Settings{ConsecutiveFailures: 3, FailureRatio: 0.5, MinRequests: 4, Interval: 4 * time.Second,
			OpenTimeout: time.Second, OpenBackoff: backoff.NewExponential(time.Second, 3*time.Second, 2),
			HalfOpenProbes: probes, Now: clock.Now, OnStateChange: rec.OnStateChange})
		if err != nil {
			t.Fatal(err)
		}
		var held []Ticket
		for _, op := range ops {
			switch op % 10 {
			case 0, 1, 2: // a call, done at once
				st, c := b.State(), b.Counts()
				tk, err := b.Allow()
				if err == nil && st == Open && (c.Forced || c.RetryIn > 0) {
					t.Fatalf("an open breaker (%+v) let a call through", c)
				}
				if err == nil {
					b.Done(tk, Outcome(op%3))
				}
			case 3: // a call held open
				if tk, err := b.Allow(); err == nil {
					held = append(held, tk)
				}
			case 4, 5, 6: // finish a held call
				if len(held) > 0 {
					b.Done(held[0], Outcome(op%3))
					held = held[1:]
				}
			case 7:
				clock.Advance(700 * time.Millisecond)
			case 8:
				b.ForceOpen()
			case 9:
				b.Release()
			}
			if b.State() == HalfOpen {
				n := 0
				for _, tk := range held {
					if tk.done != nil && tk.word == b.word.Load() {
						n++
					}
				}
				if n > probes {
					t.Fatalf("%d probes out while half-open, limit %d", n, probes)
				}
			}
		}
		checkChain(t, rec.transitions(), b.State())
	})
}
