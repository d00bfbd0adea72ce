package breaker

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-retryable/retryable/backoff"
	"github.com/sony/gobreaker/v2"
)

// seams are the unexported test seams of a breaker: the jitter's random
// source and the schedule's clock (nil: the defaults).
type seams struct {
	rand  backoff.Rand
	clock func() time.Time
}

// newTestBreaker returns a breaker named n1 that records its transitions,
// and is stopped when the test ends.
func newTestBreaker(t *testing.T, s Settings, sm seams) (*Breaker, *recorder) {
	t.Helper()
	rec := &recorder{}
	if s.OnStateChange == nil {
		s.OnStateChange = rec.OnStateChange
	}
	c, err := s.configWith(sm.rand)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if sm.clock != nil {
		c.now = sm.clock
	}
	b := newBreaker("n1", c)
	t.Cleanup(func() { stop(t, b) })
	return b, rec
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
	oe, ok := errors.AsType[*OpenError](err)
	if !ok {
		t.Fatalf("Allow error %T %v is not an *OpenError", err, err)
	}
	return oe
}

// waitDue waits until the open breaker's probe is due.
func waitDue(t *testing.T, b *Breaker) {
	t.Helper()
	eventually(t, "the probe is due", func() bool { return b.RetryIn() == 0 })
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

// lastOpen returns the open time the schedule gave the last opening.
func (b *Breaker) lastOpenTime() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastOpen
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
			OpenTimeout: time.Second, MaxOpenTimeout: time.Minute, DecayInterval: time.Minute,
			HalfOpenProbes: 3, ProbeTimeout: time.Second}, ""},
		{"open timeout above the default max", Settings{OpenTimeout: time.Minute}, ""},
		{"max equals open", Settings{OpenTimeout: time.Second, MaxOpenTimeout: time.Second}, ""},
		{"custom backoff", Settings{OpenBackoff: backoff.NewExponential(time.Second, time.Minute, 2)}, ""},
		{"ratio NaN", Settings{FailureRatio: math.NaN()}, "Settings.FailureRatio"},
		{"ratio negative", Settings{FailureRatio: -0.1}, "Settings.FailureRatio"},
		{"ratio above 1", Settings{FailureRatio: 1.5}, "Settings.FailureRatio"},
		{"ratio +Inf", Settings{FailureRatio: math.Inf(1)}, "Settings.FailureRatio"},
		{"interval negative", Settings{Interval: -time.Second}, "Settings.Interval"},
		{"open timeout negative", Settings{OpenTimeout: -1}, "Settings.OpenTimeout"},
		{"max open timeout negative", Settings{MaxOpenTimeout: -1}, "Settings.MaxOpenTimeout"},
		{"max below open", Settings{OpenTimeout: time.Second, MaxOpenTimeout: time.Millisecond}, "Settings.MaxOpenTimeout"},
		{"max below default open", Settings{MaxOpenTimeout: 10 * time.Millisecond}, "Settings.MaxOpenTimeout"},
		{"decay negative", Settings{DecayInterval: -time.Second}, "Settings.DecayInterval"},
		{"probe timeout negative", Settings{ProbeTimeout: -time.Second}, "Settings.ProbeTimeout"},
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

// TestSchedule checks the open times of the default schedule and its
// variants at their bounds, and the floor that is gobreaker's Timeout.
func TestSchedule(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		s        Settings
		floor    time.Duration
		level    uint32
		low, top time.Duration // with the jitter at its bottom and top
	}{
		{"default first", Settings{}, 25 * ms, 1, 25 * ms, 50 * ms},
		{"default second", Settings{}, 25 * ms, 2, 50 * ms, 100 * ms},
		{"default cap", Settings{}, 25 * ms, 5, 250 * ms, 500 * ms},
		{"default at the level cap", Settings{}, 25 * ms, maxLevel, 250 * ms, 500 * ms},
		{"long open timeout is its own max", Settings{OpenTimeout: time.Minute}, 30 * time.Second, 3, 30 * time.Second, time.Minute},
		{"max", Settings{OpenTimeout: 10 * ms, MaxOpenTimeout: 30 * ms}, 5 * ms, 3, 15 * ms, 30 * ms},
		{"tiny open timeout", Settings{OpenTimeout: time.Microsecond}, ms, 1, ms, ms},
		{"custom", Settings{OpenBackoff: backoff.Constant(time.Second)}, ms, 4, time.Second, time.Second},
		{"custom below the floor", Settings{OpenBackoff: backoff.Constant(0)}, ms, 1, ms, ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []fixedRand{bottomRand, topRand} {
				c, err := tt.s.configWith(r)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.low
				if r.top {
					want = tt.top
				}
				if c.floor != tt.floor {
					t.Errorf("floor %v, want %v", c.floor, tt.floor)
				}
				if got := c.openTime(tt.level, 0); got != want {
					t.Errorf("top %v: level %d open time %v, want %v", r.top, tt.level, got, want)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Settings{}.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.consecutive != DefaultConsecutiveFailures || c.ratio != 0 || c.probes != DefaultHalfOpenProbes ||
		c.decay != DefaultDecayInterval || c.probeTimeout != DefaultProbeTimeout {
		t.Fatalf("defaults %+v", c)
	}
	if c, _ := (Settings{FailureRatio: 0.5}).config(); c.consecutive != 0 || c.minRequests != DefaultMinRequests || c.interval != DefaultInterval {
		t.Fatalf("ratio defaults %+v: want no consecutive rule", c)
	}
}

func TestConsecutiveTrip(t *testing.T) {
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 3, OpenTimeout: time.Minute}, seams{rand: topRand})
	calls(t, b, Failure, 2)
	wantState(t, b, Closed)
	if c := b.Counts(); c.ConsecutiveFailures != 2 || c.State != Closed || c.Level != 0 {
		t.Fatalf("Counts %+v, want 2 consecutive failures, closed, level 0", c)
	}
	call(t, b, Failure)
	wantState(t, b, Open)
	wantEvents(t, rec, "n1: closed->open")
	oe := refused(t, b)
	if oe.Node != "n1" || oe.RetryIn <= 30*time.Second || oe.RetryIn > time.Minute || !errors.Is(oe, gobreaker.ErrOpenState) {
		t.Fatalf("OpenError %+v, want node n1, RetryIn near 1m, ErrOpenState", oe)
	}
	if c := b.Counts(); c.State != Open || c.Level != 1 || c.RetryIn <= 0 || c.Forced || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v, want open at level 1, RetryIn > 0, not forced, gobreaker's counts cleared", c)
	}
}

// TestSuccessForwarding checks that gobreaker sees every failure and only
// the first success after a run of them.
func TestSuccessForwarding(t *testing.T) {
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 3}, seams{})
	calls(t, b, Success, 100)
	if c := b.Counts(); c.Requests != 0 {
		t.Fatalf("Counts %+v: successes with no failure before went to gobreaker", c)
	}
	for range 10 {
		calls(t, b, Failure, 2)
		calls(t, b, Success, 10)
	}
	if c := b.Counts(); c.Requests != 30 || c.Failures != 20 || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v, want 30 requests (20 failures, 10 first successes), no run", c)
	}
	calls(t, b, Ignore, 100)
	calls(t, b, Failure, 2)
	calls(t, b, Ignore, 100)
	if c := b.Counts(); c.ConsecutiveFailures != 2 {
		t.Fatalf("Ignore changed the run of failures: %+v", c)
	}
	call(t, b, Failure)
	wantState(t, b, Open)
	wantEvents(t, rec, "n1: closed->open")
}

func TestRatioTrip(t *testing.T) {
	type step struct {
		o     Outcome
		n     int
		sleep time.Duration // after the step
	}
	const short = 50 * time.Millisecond
	tests := []struct {
		name     string
		interval time.Duration
		steps    []step
		want     State
	}{
		{"below MinRequests", time.Minute, []step{{Failure, 9, 0}}, Closed},
		{"reaches MinRequests", time.Minute, []step{{Failure, 10, 0}}, Open},
		{"ratio below threshold", time.Minute, []step{{Success, 6, 0}, {Failure, 5, 0}}, Closed},
		{"ratio at threshold", time.Minute, []step{{Success, 5, 0}, {Failure, 5, 0}}, Open},
		{"successes count", time.Minute, []step{{Success, 100, 0}, {Failure, 99, 0}}, Closed},
		{"ignore counts as nothing", time.Minute, []step{{Ignore, 100, 0}, {Failure, 5, 0}, {Ignore, 100, 0}, {Success, 4, 0}, {Failure, 1, 0}}, Open},
		{"window rolls on", short, []step{{Failure, 5, 3 * short}, {Failure, 5, 0}}, Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBreaker(t, Settings{FailureRatio: 0.5, MinRequests: 10, Interval: tt.interval}, seams{})
			for _, s := range tt.steps {
				calls(t, b, s.o, s.n)
				time.Sleep(s.sleep)
			}
			wantState(t, b, tt.want)
		})
	}
}

func TestRatioCounts(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{FailureRatio: 0.9, MinRequests: 100, Interval: time.Minute}, seams{})
	calls(t, b, Success, 5)
	call(t, b, Failure)
	calls(t, b, Success, 3)
	calls(t, b, Ignore, 3)
	if c := b.Counts(); c.Requests != 9 || c.Failures != 1 || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v, want 9 requests, 1 failure, no run", c)
	}
}

func TestRatioAndConsecutive(t *testing.T) {
	// Either condition trips when both are set.
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 3, FailureRatio: 0.9, MinRequests: 1000}, seams{})
	calls(t, b, Success, 10)
	calls(t, b, Failure, 3)
	wantState(t, b, Open)
}

// TestCallerProbes checks the classic half-open state of a breaker with no
// engine probe: callers act as probes once the open time is up.
func TestCallerProbes(t *testing.T) {
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 10 * time.Millisecond, HalfOpenProbes: 2}, seams{})
	call(t, b, Failure)
	if oe := refused(t, b); oe.RetryIn <= 0 || !errors.Is(oe, gobreaker.ErrOpenState) {
		t.Fatalf("refused with %+v, want RetryIn and ErrOpenState", oe)
	}
	waitDue(t, b)
	wantState(t, b, HalfOpen) // State moves it, as Allow would
	for i := range 50 {       // probes reported Ignore free their slot
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
	}
	p1, _ := b.Allow()
	p2, _ := b.Allow()
	b.Done(p1, Success)
	wantState(t, b, HalfOpen)
	refused(t, b) // a successful probe does not free its slot
	b.Done(p2, Success)
	wantState(t, b, Closed)
	wantEvents(t, rec, "n1: closed->open", "n1: open->half-open", "n1: half-open->closed")
	if c := b.Counts(); c.Level != 1 || c.ConsecutiveFailures != 0 {
		t.Fatalf("Counts %+v after closing, want level 1 kept (it decays), no failures", c)
	}
}

// TestProbeFailureGrows checks that each failed probe raises the level and
// the open time, up to the cap, and that outcomes of an earlier half-open
// state are dropped.
func TestProbeFailureGrows(t *testing.T) {
	ms := time.Millisecond
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 4 * ms, MaxOpenTimeout: 16 * ms, HalfOpenProbes: 2},
		seams{rand: topRand})
	call(t, b, Failure)
	for i, want := range []time.Duration{4 * ms, 8 * ms, 16 * ms, 16 * ms} {
		if got, lvl := b.lastOpenTime(), b.Counts().Level; got != want || lvl != uint32(i+1) {
			t.Fatalf("opening %d: open time %v at level %d, want %v at level %d", i+1, got, lvl, want, i+1)
		}
		waitDue(t, b)
		p1, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		p2, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		b.Done(p1, Failure)
		wantState(t, b, Open)
		b.Done(p2, Success) // from the last half-open state: dropped
		wantState(t, b, Open)
	}
	if c := b.Counts(); c.Level != 5 {
		t.Fatalf("Level %d, want 5", c.Level)
	}
	if evs := rec.events(); len(evs) != 9 || evs[8] != "n1: half-open->open" {
		t.Fatalf("transitions %q", evs)
	}
}

// TestDecay checks the level a trip starts from, after a healthy time: it
// decays by one per DecayInterval, and is not reset by closing.
func TestDecay(t *testing.T) {
	const decay = time.Hour
	tests := []struct {
		healthy time.Duration
		want    uint32
	}{
		{0, 4},
		{decay - time.Second, 4},
		{decay, 3},
		{5 * decay / 2, 2},
		{3 * decay, 1},
		{1000 * decay, 1},
	}
	for _, tt := range tests {
		t.Run(tt.healthy.String(), func(t *testing.T) {
			clock := &aheadClock{}
			b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 2 * time.Millisecond, DecayInterval: decay},
				seams{clock: clock.Now})
			call(t, b, Failure)
			for range 2 { // two failed probes: level 3
				waitDue(t, b)
				call(t, b, Failure)
			}
			waitDue(t, b)
			call(t, b, Success)
			wantState(t, b, Closed)
			if c := b.Counts(); c.Level != 3 {
				t.Fatalf("Level %d after closing, want 3 (kept)", c.Level)
			}
			clock.Advance(tt.healthy)
			call(t, b, Failure)
			if c := b.Counts(); c.Level != tt.want {
				t.Fatalf("Level %d after %v healthy, want %d", c.Level, tt.healthy, tt.want)
			}
		})
	}
}

func TestCustomOpenBackoff(t *testing.T) {
	type arg struct {
		level int
		prev  time.Duration
	}
	args := make(chan arg, 10)
	grow := backoff.Func(func(n int, prev time.Duration) time.Duration {
		args <- arg{n, prev}
		return time.Duration(n) * 3 * time.Millisecond
	})
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenBackoff: grow}, seams{})
	call(t, b, Failure)
	for range 2 {
		waitDue(t, b)
		call(t, b, Failure)
	}
	waitDue(t, b)
	call(t, b, Success)
	call(t, b, Failure) // decays: level 4 - 0 + 1
	want := []arg{{1, 0}, {2, 3 * time.Millisecond}, {3, 6 * time.Millisecond}, {4, 9 * time.Millisecond}}
	for i, w := range want {
		if got := <-args; got != w {
			t.Fatalf("call %d of OpenBackoff: %+v, want %+v", i, got, w)
		}
	}
}

func TestOpenError(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenBackoff: backoff.Constant(time.Hour)}, seams{})
	call(t, b, Failure)
	_, err := b.Allow()
	oe, ok := errors.AsType[*OpenError](err)
	if !ok {
		t.Fatalf("error %T, want *OpenError", err)
	}
	if !errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		t.Fatalf("error %v does not wrap only ErrOpenState", err)
	}
	if prefix := "breaker: n1: circuit breaker is open (retry in 59m59."; !strings.HasPrefix(err.Error(), prefix) || oe.RetryIn > time.Hour {
		t.Fatalf("Error() %q, want the prefix %q", err, prefix)
	}
	b.ForceOpen()
	_, err = b.Allow()
	if want := "breaker: n1: circuit breaker is open"; err == nil || err.Error() != want {
		t.Fatalf("forced open: Error() %v, want %q", err, want)
	}
}

func TestRetryIn(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: 20 * time.Millisecond}, seams{rand: topRand})
	if d := b.RetryIn(); d != 0 {
		t.Fatalf("closed: RetryIn %v", d)
	}
	call(t, b, Failure)
	if d := b.RetryIn(); d <= 0 || d > 20*time.Millisecond {
		t.Fatalf("open: RetryIn %v, want in (0, 20ms]", d)
	}
	waitDue(t, b)
	wantState(t, b, HalfOpen)
	if d := b.RetryIn(); d != 0 {
		t.Fatalf("half-open: RetryIn %v", d)
	}
	b.ForceOpen()
	if d, c := b.RetryIn(), b.Counts(); d != 0 || c.RetryIn != 0 || !c.Forced {
		t.Fatalf("forced open: RetryIn %v, Counts %+v; want 0 and Forced", d, c)
	}
	var nb *Breaker
	if nb.RetryIn() != 0 {
		t.Fatal("nil breaker: RetryIn not 0")
	}
}

func TestForce(t *testing.T) {
	b, rec := newTestBreaker(t, Settings{ConsecutiveFailures: 2, OpenTimeout: 2 * time.Millisecond}, seams{})
	before, _ := b.Allow()

	b.ForceOpen()
	b.ForceOpen()
	wantState(t, b, Open)
	time.Sleep(5 * time.Millisecond) // past any open time: forced stays
	for range 3 {
		if oe := refused(t, b); oe.RetryIn != 0 || !errors.Is(oe, gobreaker.ErrOpenState) {
			t.Fatalf("forced open refused with %+v, want ErrOpenState, no RetryIn", oe)
		}
	}
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
		t.Fatalf("Counts %+v, want forced, and gobreaker's one failure from before", c)
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
	if c := b.Counts(); c.Level != 0 {
		t.Fatalf("Level %d after Release, want 0", c.Level)
	}

	// ForceClose of a half-open breaker drops its probes.
	calls(t, b, Failure, 2)
	waitDue(t, b)
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
		"n1: closed->open", "n1: open->half-open", "n1: half-open->closed", // trip, probe, ForceClose
	)
}

func TestStaleTicketsDoNotCount(t *testing.T) {
	b, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 2, OpenTimeout: 2 * time.Millisecond}, seams{})
	var old []Ticket
	for range 5 {
		tk, _ := b.Allow()
		old = append(old, tk)
	}
	calls(t, b, Failure, 2)
	waitDue(t, b)
	call(t, b, Success) // the probe closes it: a new closed state
	wantState(t, b, Closed)
	for _, tk := range old {
		b.Done(tk, Failure)
	}
	wantState(t, b, Closed)
	if c := b.Counts(); c.ConsecutiveFailures != 0 || c.Requests != 0 {
		t.Fatalf("failures allowed in an earlier state were counted: %+v", c)
	}
}

func TestNilBreaker(t *testing.T) {
	var b *Breaker
	tk, err := b.Allow()
	if err != nil {
		t.Fatalf("nil breaker refused: %v", err)
	}
	b.Done(tk, Failure)
	b.AddProbe(func(context.Context) Outcome { return Failure })()
	b.ForceOpen()
	b.ForceClose()
	b.Release()
	if b.State() != Closed || b.Counts() != (Counts{}) || b.RetryIn() != 0 {
		t.Fatal("nil breaker is not closed")
	}
}

// TestAllocs checks that the closed state allocates nothing and that a
// refusal allocates its *OpenError only.
func TestAllocs(t *testing.T) {
	closed, _ := newTestBreaker(t, Settings{}, seams{})
	if n := testing.AllocsPerRun(1000, func() {
		tk, _ := closed.Allow()
		closed.Done(tk, Success)
	}); n != 0 {
		t.Fatalf("%v allocations per successful call, want 0", n)
	}

	timed, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}, seams{})
	call(t, timed, Failure)
	forced, _ := newTestBreaker(t, Settings{}, seams{})
	forced.ForceOpen()
	engine, _ := newTestBreaker(t, Settings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}, seams{})
	defer engine.AddProbe(func(context.Context) Outcome { return Success })()
	call(t, engine, Failure)
	for name, b := range map[string]*Breaker{"timed": timed, "forced": forced, "engine": engine} {
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := b.Allow(); err == nil {
				t.Fatal("allowed")
			}
		}); n > 1 {
			t.Errorf("%s: %v allocations per refusal, want at most 1", name, n)
		}
	}
}
