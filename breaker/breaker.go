package breaker

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// State is the state of a node's breaker. The zero value is Closed. Its
// values equal gobreaker's, so gobreaker.State(s) converts.
type State int

// The states.
const (
	// Closed lets every call through and counts failures.
	Closed State = iota
	// HalfOpen lets a few probe calls through to test the node.
	HalfOpen
	// Open refuses every call with an [*OpenError].
	Open
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	default:
		return fmt.Sprintf("State(%d)", int(s))
	}
}

// Outcome is the caller's verdict on a call the breaker allowed. The
// breaker does not inspect errors: the caller classifies them.
type Outcome uint8

// The outcomes. Values above Ignore count as Ignore.
const (
	// Success is a call the node answered (including a miss such as
	// redis.Nil): it resets the run of consecutive failures.
	Success Outcome = iota
	// Failure is a call that says the node is unhealthy (connection
	// errors, timeouts, LOADING, CLUSTERDOWN, ...).
	Failure
	// Ignore is neither: the node answered with an error that is the
	// caller's problem (a wrong type, a decoding error) or the caller
	// gave up. It frees a half-open probe slot without deciding anything.
	Ignore
)

// String returns "success", "failure" or "ignore".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	default:
		return "ignore"
	}
}

// Ticket is the permission [Breaker.Allow] gives to one call; hand it back
// to [Breaker.Done] exactly once with the call's outcome. It is a small
// value: the closed state gives one without allocating. A half-open probe
// that is never reported keeps its slot, so the breaker stays half-open.
type Ticket struct {
	word uint64      // the breaker's state word when the call was allowed
	done func(error) // gobreaker's callback, for half-open probes only
}

// Counts is a snapshot of a breaker, from [Breaker.Counts].
type Counts struct {
	// State is the breaker's state.
	State State
	// Forced is set while the state was set by ForceOpen or ForceClose.
	Forced bool
	// Requests and Failures are the outcomes (successes and failures)
	// and the failures of the current FailureRatio window; both are zero
	// when the ratio is off or no window is running.
	Requests, Failures uint32
	// ConsecutiveFailures is the current run of failures while closed.
	ConsecutiveFailures uint32
	// Openings is the number of times the breaker opened since it was
	// last closed: the n of Settings.OpenBackoff.
	Openings uint32
	// RetryIn is how long the breaker stays open from now, when it is
	// open and not forced.
	RetryIn time.Duration
}

// Internal state codes, kept in the low bits of Breaker.word; the high
// bits count transitions, so that a Ticket knows whether the state it was
// issued in still holds.
const (
	codeClosed       = uint64(Closed)
	codeHalfOpen     = uint64(HalfOpen)
	codeOpen         = uint64(Open)
	codeForcedOpen   = 3
	codeForcedClosed = 4

	codeBits = 3
	codeMask = 1<<codeBits - 1
)

func publicState(code uint64) State {
	switch code {
	case codeForcedOpen:
		return Open
	case codeForcedClosed:
		return Closed
	default:
		return State(code)
	}
}

// Errors reported to gobreaker; gobreaker only sees outcomes through them.
var (
	errFailure = errors.New("breaker: failure")
	errIgnore  = errors.New("breaker: ignored")
)

// noWindow is the windowEnd of a breaker with no ratio window running.
const noWindow = math.MinInt64

type transition struct{ from, to State }

// Breaker is the circuit breaker of one node. It is safe for concurrent
// use by multiple goroutines. A nil *Breaker allows every call.
//
// gobreaker's TwoStepCircuitBreaker is its state machine for the open and
// half-open states; the closed state is handled by atomic counters in
// front of it, so that a successful call costs a few nanoseconds, takes no
// lock, reads no clock and allocates nothing. Failures are counted here
// and reported to gobreaker only when they trip the breaker, through
// gobreaker's ReadyToTrip; the open time is gated here too, so that
// [Settings.OpenBackoff] can make it grow.
type Breaker struct {
	node    string
	cfg     *config
	ratioOn bool
	epoch   time.Time // the clock's reading at New; times below are ns since

	// word is generation<<codeBits | state code. Written under mu only.
	word      atomic.Uint64
	consec    atomic.Uint32
	openings  atomic.Uint32
	openUntil atomic.Int64 // end of the open time, when word is Open
	windowEnd atomic.Int64 // end of the ratio window, or noWindow

	_ [64]byte // keep the contended ratio counter off word's cache line
	// window is requests<<32 | failures of the ratio window.
	window atomic.Uint64
	_      [56]byte

	// mu serialises every call into gobreaker and every transition, so
	// gobreaker is only consulted while the state mirror says so.
	mu         sync.Mutex
	gb         *gobreaker.TwoStepCircuitBreaker[struct{}]
	tripAt     int64         // clock of the failure being reported
	lastOpen   time.Duration // previous open time, for OpenBackoff
	events     []transition  // transitions not yet given to OnStateChange
	delivering bool          // a goroutine is calling OnStateChange
}

// New returns the breaker of the named node, closed. It returns an error,
// matching [ErrInvalid], when s is invalid.
func New(node string, s Settings) (*Breaker, error) {
	c, err := s.config()
	if err != nil {
		return nil, err
	}
	return newBreaker(node, c), nil
}

func newBreaker(node string, c *config) *Breaker {
	b := &Breaker{node: node, cfg: c, ratioOn: c.ratio > 0, epoch: c.now()}
	b.windowEnd.Store(noWindow)
	b.gb = b.newGobreaker()
	return b
}

func (b *Breaker) newGobreaker() *gobreaker.TwoStepCircuitBreaker[struct{}] {
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        b.node,
		MaxRequests: b.cfg.probes,
		// The open time is gated by Allow; gobreaker's own must be as
		// short as possible (it treats 0 as 60 s).
		Timeout:       time.Nanosecond,
		ReadyToTrip:   b.readyToTrip,
		OnStateChange: b.gobreakerChanged,
		IsExcluded:    func(err error) bool { return err == errIgnore },
	})
}

// Node returns the node's name, as given to [New] or [Group.Get].
func (b *Breaker) Node() string { return b.node }

// now returns the clock's reading in ns since the breaker was made.
func (b *Breaker) now() int64 { return int64(b.cfg.now().Sub(b.epoch)) }

// Allow asks whether a call may go to the node. On success, report the
// call's outcome with [Breaker.Done]. Otherwise the error is an
// [*OpenError] wrapping gobreaker.ErrOpenState (open) or
// gobreaker.ErrTooManyRequests (half-open with every probe slot taken).
//
// While closed, Allow is one atomic load.
func (b *Breaker) Allow() (Ticket, error) {
	if b == nil {
		return Ticket{}, nil
	}
	w := b.word.Load()
	if w&codeMask == codeClosed {
		return Ticket{word: w}, nil
	}
	return b.allowSlow(w)
}

func (b *Breaker) allowSlow(w uint64) (Ticket, error) {
	switch w & codeMask {
	case codeForcedClosed:
		return Ticket{word: w}, nil
	case codeForcedOpen:
		return Ticket{}, b.openError(gobreaker.ErrOpenState, 0)
	case codeOpen:
		// Refuse without a lock while the open time runs.
		if until, now := b.openUntil.Load(), b.now(); now < until {
			return Ticket{}, b.openError(gobreaker.ErrOpenState, time.Duration(until-now))
		}
	}

	b.mu.Lock()
	defer b.unlock()
	w = b.word.Load()
	switch w & codeMask {
	case codeClosed, codeForcedClosed:
		return Ticket{word: w}, nil
	case codeForcedOpen:
		return Ticket{}, b.openError(gobreaker.ErrOpenState, 0)
	case codeOpen:
		if until, now := b.openUntil.Load(), b.now(); now < until {
			return Ticket{}, b.openError(gobreaker.ErrOpenState, time.Duration(until-now))
		}
	}
	// Half-open, or open and its time is up: gobreaker moves to half-open
	// (its own open time is 1 ns) and hands out the probe slots.
	done, err := b.gb.Allow()
	if err != nil {
		return Ticket{}, b.openError(err, 0)
	}
	return Ticket{word: b.word.Load(), done: done}, nil
}

func (b *Breaker) openError(err error, retryIn time.Duration) error {
	return &OpenError{Node: b.node, RetryIn: retryIn, Err: err}
}

// Done reports the outcome of a call that [Breaker.Allow] let through.
// Outcomes of calls allowed in an earlier state (before the breaker
// opened, or before ForceOpen, ForceClose or Release) do not count, as in
// gobreaker. While closed, a Success is an atomic load (and an atomic add
// when FailureRatio is set); a Failure also reads the clock in ratio mode.
func (b *Breaker) Done(t Ticket, o Outcome) {
	if b == nil {
		return
	}
	if o == Success && t.done == nil {
		if b.ratioOn {
			b.window.Add(1 << 32)
		}
		if b.consec.Load() != 0 {
			b.consec.Store(0)
		}
		return
	}
	b.doneSlow(t, o)
}

func (b *Breaker) doneSlow(t Ticket, o Outcome) {
	if t.done != nil {
		b.mu.Lock()
		defer b.unlock()
		if b.word.Load() != t.word {
			return // gobreaker would drop it as from another generation
		}
		switch o {
		case Success:
			t.done(nil)
		case Failure:
			t.done(errFailure)
		default:
			t.done(errIgnore)
		}
		return
	}
	if o != Failure || t.word&codeMask != codeClosed || b.word.Load() != t.word {
		return
	}

	c := b.cfg
	n := b.consec.Add(1)
	trip := c.consecutive > 0 && n >= c.consecutive
	var now int64
	if b.ratioOn {
		now = b.now()
		if end := b.windowEnd.Load(); now >= end || end-now > c.interval {
			// A new window opens at this failure. A count racing with
			// this reset may be lost; the ratio is approximate.
			if b.windowEnd.CompareAndSwap(end, now+c.interval) {
				b.window.Store(0)
			}
		}
		if c.ratioTrips(b.window.Add(1<<32 | 1)) {
			trip = true
		}
	}
	if !trip {
		return
	}

	// Let gobreaker decide, through readyToTrip, and make the transition.
	b.mu.Lock()
	defer b.unlock()
	if b.word.Load() != t.word {
		return
	}
	b.tripAt = now
	if done, err := b.gb.Allow(); err == nil {
		done(errFailure)
	}
}

// readyToTrip is gobreaker's ReadyToTrip: it decides from this breaker's
// counters, not gobreaker's, which see failures only. Called under mu.
func (b *Breaker) readyToTrip(gobreaker.Counts) bool {
	c := b.cfg
	if c.consecutive > 0 && b.consec.Load() >= c.consecutive {
		return true
	}
	return b.ratioOn && b.tripAt < b.windowEnd.Load() && c.ratioTrips(b.window.Load())
}

// gobreakerChanged is gobreaker's OnStateChange. gobreaker is only called
// under mu, so this runs under mu (and gobreaker's own mutex).
func (b *Breaker) gobreakerChanged(_ string, _, to gobreaker.State) {
	switch State(to) {
	case Open:
		n := b.openings.Add(1)
		d := b.cfg.openTimeout
		if s := b.cfg.openBackoff; s != nil {
			if bd := s.Delay(int(min(n, math.MaxInt32)), b.lastOpen); bd > 0 {
				d = bd
			}
		}
		b.lastOpen = d
		b.openUntil.Store(satAdd(b.now(), d))
	case Closed:
		b.resetCounts()
	}
	b.setState(uint64(to))
}

// satAdd returns t+d, saturated at the largest time.
func satAdd(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return t + int64(d)
}

// resetCounts forgets the closed-state counters and the run of openings.
// Called under mu.
func (b *Breaker) resetCounts() {
	b.consec.Store(0)
	b.windowEnd.Store(noWindow)
	b.window.Store(0)
	b.openings.Store(0)
	b.lastOpen = 0
}

// setState moves the state word to code, in a new generation, and queues
// the transition for OnStateChange if the public state changed. Called
// under mu; the queue is delivered by unlock.
func (b *Breaker) setState(code uint64) {
	old := b.word.Load()
	b.word.Store((old>>codeBits+1)<<codeBits | code)
	from, to := publicState(old&codeMask), publicState(code)
	if from != to && b.cfg.onChange != nil {
		b.events = append(b.events, transition{from, to})
	}
}

// unlock releases mu, first delivering queued transitions to
// OnStateChange outside the lock. One goroutine delivers at a time, in
// order; a transition queued meanwhile (even by the callback itself) is
// delivered by that goroutine before it leaves.
func (b *Breaker) unlock() {
	if len(b.events) == 0 || b.delivering {
		b.mu.Unlock()
		return
	}
	b.delivering = true
	finished := false
	defer func() {
		if !finished { // the callback panicked: let others deliver
			b.mu.Lock()
			b.delivering = false
			b.mu.Unlock()
		}
	}()
	for len(b.events) > 0 {
		evs := b.events
		b.events = nil
		b.mu.Unlock()
		for _, e := range evs {
			b.cfg.onChange(b.node, e.from, e.to)
		}
		b.mu.Lock()
	}
	b.delivering = false
	b.mu.Unlock()
	finished = true
}

// State returns the breaker's state. An open breaker whose open time is
// up becomes half-open here (and reports it through OnStateChange), as it
// would on the next Allow. A nil *Breaker is Closed.
func (b *Breaker) State() State {
	if b == nil {
		return Closed
	}
	w := b.word.Load()
	if w&codeMask == codeOpen && b.now() >= b.openUntil.Load() {
		b.mu.Lock()
		if b.word.Load()&codeMask == codeOpen && b.now() >= b.openUntil.Load() {
			b.gb.State() // moves gobreaker, and so this breaker, to half-open
		}
		b.unlock()
		w = b.word.Load()
	}
	return publicState(w & codeMask)
}

// Counts returns a snapshot of the breaker's state and counters. The
// fields are read one by one, so under concurrent use they may not be
// from the same instant.
func (b *Breaker) Counts() Counts {
	if b == nil {
		return Counts{}
	}
	c := Counts{State: b.State()}
	w := b.word.Load()
	code := w & codeMask
	c.Forced = code == codeForcedOpen || code == codeForcedClosed
	c.ConsecutiveFailures = b.consec.Load()
	c.Openings = b.openings.Load()
	now := b.now()
	if code == codeOpen {
		c.RetryIn = max(time.Duration(b.openUntil.Load()-now), 0)
	}
	if b.ratioOn && now < b.windowEnd.Load() {
		win := b.window.Load()
		c.Requests, c.Failures = uint32(win>>32), uint32(win)
	}
	return c
}

// ForceOpen isolates the node: every call is refused with an [*OpenError]
// (RetryIn 0) until [Breaker.Release]. Calls allowed before are not
// counted. The change is reported through OnStateChange unless the breaker
// was already open.
func (b *Breaker) ForceOpen() { b.force(codeForcedOpen) }

// ForceClose lets every call through and counts nothing until
// [Breaker.Release]. The change is reported through OnStateChange unless
// the breaker was already closed.
func (b *Breaker) ForceClose() { b.force(codeForcedClosed) }

func (b *Breaker) force(code uint64) {
	b.mu.Lock()
	defer b.unlock()
	if b.word.Load()&codeMask != code {
		b.setState(code)
	}
}

// Release returns the breaker to automatic operation in a fresh closed
// state: counters, the run of openings and gobreaker's state are
// forgotten, and outcomes of calls allowed before are not counted. It
// also resets a breaker that was not forced. The change is reported
// through OnStateChange unless the breaker was already closed.
func (b *Breaker) Release() {
	b.mu.Lock()
	defer b.unlock()
	b.gb = b.newGobreaker()
	b.resetCounts()
	b.setState(codeClosed)
}
