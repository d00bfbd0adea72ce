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
	// HalfOpen lets probes through to test the node.
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

// Outcome is the caller's verdict on a call the breaker allowed, or on a
// [Probe]. The breaker does not inspect errors: the caller classifies
// them. The zero value is Success.
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
// The zero Ticket is that of a nil *Breaker.
type Ticket struct {
	word uint64      // the breaker's state word when the call was allowed
	done func(error) // gobreaker's callback, for half-open probes only
}

// Counts is a snapshot of a breaker, from [Breaker.Counts]. The zero value
// is a fresh closed breaker.
type Counts struct {
	// State is the breaker's state.
	State State
	// Forced is set while the state was set by ForceOpen or ForceClose.
	Forced bool
	// Requests, Failures and ConsecutiveFailures are gobreaker's counts
	// (Requests, TotalFailures, ConsecutiveFailures) of the current state.
	// With FailureRatio they cover gobreaker's rolling window; without
	// it, gobreaker only sees failures and the first success after each
	// run of them, so Requests is not the number of calls.
	Requests, Failures  uint32
	ConsecutiveFailures uint32
	// Level is the level of opening (see Settings.DecayInterval): 0 for
	// a breaker that never opened, and otherwise the level of its last
	// opening, decayed only at the next trip.
	Level uint32
	// RetryIn is what [Breaker.RetryIn] returns.
	RetryIn time.Duration
}

// The breaker's state word: a mirror of gobreaker's state plus flags, in
// one atomic so that the closed state's fast path is one load. The high
// bits count state changes, so that a Ticket knows whether the state it
// was issued in still holds.
const (
	stateMask = 3      // the public State
	forcedBit = 1 << 2 // set by ForceOpen and ForceClose
	failedBit = 1 << 3 // closed, consecutive mode: gobreaker saw a failure last
	engineBit = 1 << 4 // open or half-open: engine probes decide, callers are refused
	genShift  = 5
)

func stateOf(w uint64) State { return State(w & stateMask) }

func sameGen(a, b uint64) bool { return a>>genShift == b>>genShift }

// Errors reported to gobreaker; gobreaker only sees outcomes through them.
var (
	errFailure = errors.New("breaker: failure")
	errIgnore  = errors.New("breaker: ignored")
)

func errOf(o Outcome) error {
	switch o {
	case Success:
		return nil
	case Failure:
		return errFailure
	default:
		return errIgnore
	}
}

type transition struct{ from, to State }

// Breaker is the circuit breaker of one node. It is safe for concurrent
// use by multiple goroutines. A nil *Breaker allows every call, has no
// probes and is always Closed; the zero Breaker is not usable (use [New]
// or a [Group]).
//
// gobreaker's TwoStepCircuitBreaker runs the states (see the package
// documentation); the Breaker adds a lock-free closed state, the open-time
// schedule and the engine probes of [Breaker.AddProbe].
type Breaker struct {
	node  string
	cfg   *config
	ratio bool
	epoch time.Time // the schedule clock's reading at New

	// word mirrors gobreaker's state (see stateMask). Written under mu.
	word atomic.Uint64
	// probeAt is when the open breaker's probe is due, in ns since epoch.
	// Stored before the word that says Open.
	probeAt atomic.Int64
	_       [48]byte // keep word's cache line free of mu's writes

	// mu serialises every call into gobreaker, so that gobreaker's
	// OnStateChange, and so every change of word, runs under it.
	mu       sync.Mutex
	gb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	level    uint32        // the level of opening
	lastOpen time.Duration // the last open time: OpenBackoff's prev
	closedAt int64         // when the breaker last closed, ns since epoch

	probes   []*probeEntry
	next     int         // round robin over probes
	running  bool        // an engine probe round is under way
	timer    *time.Timer // the pending engine probe, or nil
	timerSeq uint64      // identifies the current timer; bumped to cancel

	events     []transition // transitions not yet given to OnStateChange
	delivering bool         // a goroutine is calling OnStateChange
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
	b := &Breaker{node: node, cfg: c, ratio: c.ratio > 0, epoch: c.now()}
	b.gb = b.newGobreaker()
	return b
}

func (b *Breaker) newGobreaker() *gobreaker.TwoStepCircuitBreaker[struct{}] {
	c := b.cfg
	st := gobreaker.Settings{
		Name:        b.node,
		MaxRequests: c.probes,
		// gobreaker's own open time is the schedule's floor, so it has
		// always run out when the schedule says a probe is due: the
		// schedule decides when gobreaker moves to half-open. (1 ns
		// less, as gobreaker's expiry test is strict and the floor is
		// also the shortest open time.)
		Timeout:       c.floor - 1,
		ReadyToTrip:   c.readyToTrip,
		OnStateChange: b.gobreakerChanged,
		IsExcluded:    func(err error) bool { return err == errIgnore },
	}
	if b.ratio {
		st.Interval, st.BucketPeriod = c.interval, c.interval/10
	}
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
}

// Node returns the node's name, as given to [New] or [Group.Get].
func (b *Breaker) Node() string { return b.node }

// now returns the schedule clock's reading in ns since the breaker was made.
func (b *Breaker) now() int64 { return int64(b.cfg.now().Sub(b.epoch)) }

// Allow asks whether a call may go to the node. On success, report the
// call's outcome with [Breaker.Done]. Otherwise the error is an
// [*OpenError] wrapping gobreaker.ErrOpenState (open) or
// gobreaker.ErrTooManyRequests (half-open, no probe slot for this call),
// and it is the only allocation.
//
// While closed, Allow is one atomic load. While open, it refuses without a
// lock. When the open time is up and no [Probe] is registered, Allow moves
// the breaker to half-open and lets up to HalfOpenProbes calls through as
// probes; while a Probe is registered, no call is a probe, and every call
// is refused until the breaker closes.
func (b *Breaker) Allow() (t Ticket, err error) {
	// Small enough to inline: the closed state is the success path of
	// every call through the hooks.
	if b != nil {
		if t.word = b.word.Load(); t.word&stateMask == uint64(Closed) {
			return t, nil
		}
	}
	return b.allowSlow()
}

// allowSlow is Allow when the breaker is nil or not closed.
func (b *Breaker) allowSlow() (Ticket, error) {
	if b == nil {
		return Ticket{}, nil
	}
	w := b.word.Load()
	if stateOf(w) == Closed {
		return Ticket{word: w}, nil
	}
	if err := b.refusal(w); err != nil {
		return Ticket{}, err
	}
	return b.allowProbe()
}

// refusal returns the error of a call refused in state word w, or nil when
// gobreaker is to decide: half-open with callers as probes, or open with
// the open time up and callers as probes.
func (b *Breaker) refusal(w uint64) error {
	switch {
	case w&forcedBit != 0: // forced open; forced closed is Closed
		return b.openError(gobreaker.ErrOpenState, 0)
	case stateOf(w) == HalfOpen:
		if w&engineBit != 0 {
			return b.openError(gobreaker.ErrTooManyRequests, 0)
		}
	case stateOf(w) == Open:
		if d := b.retryIn(w); d > 0 || w&engineBit != 0 {
			return b.openError(gobreaker.ErrOpenState, d)
		}
	}
	return nil
}

func (b *Breaker) allowProbe() (Ticket, error) {
	b.mu.Lock()
	defer b.unlock()
	w := b.word.Load()
	if stateOf(w) == Closed {
		return Ticket{word: w}, nil
	}
	if err := b.refusal(w); err != nil {
		return Ticket{}, err
	}
	done, err := b.gb.Allow() // may move gobreaker to half-open
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
// opened, or before ForceOpen, ForceClose or Release) are dropped, as in
// gobreaker.
//
// While closed, a Success is one atomic load: only the first success after
// a failure goes to gobreaker, to end its run of consecutive failures. A
// Failure goes to gobreaker (a lock, and gobreaker's clock reads). With
// FailureRatio every Success and Failure goes to gobreaker.
func (b *Breaker) Done(t Ticket, o Outcome) {
	// Small enough to inline: a success while closed with no failure
	// reported since the last success is the common case.
	if b == nil || o == Success && t.done == nil && !b.ratio && b.word.Load()&failedBit == 0 {
		return
	}
	b.done(t, o)
}

// done is Done when it has work to do.
func (b *Breaker) done(t Ticket, o Outcome) {
	if b == nil {
		return
	}
	if t.done == nil {
		w := b.word.Load()
		switch {
		case o == Failure:
			if !sameGen(w, t.word) || w&forcedBit != 0 {
				return // stale or forced: no lock for a storm of them
			}
		case o != Success, !b.ratio && w&failedBit == 0:
			return
		}
	}
	b.doneSlow(t, o)
}

func (b *Breaker) doneSlow(t Ticket, o Outcome) {
	b.mu.Lock()
	defer b.unlock()
	w := b.word.Load()
	if !sameGen(w, t.word) {
		return
	}
	if t.done != nil { // a half-open probe of this half-open state
		t.done(errOf(o))
		return
	}
	if w&forcedBit != 0 || stateOf(w) != Closed {
		return
	}
	if !b.ratio {
		// failedBit mirrors gobreaker's ConsecutiveFailures > 0; set it
		// first, as gobreaker may trip and store a new word.
		switch {
		case o == Failure:
			b.word.Store(w | failedBit)
		case w&failedBit != 0:
			b.word.Store(w &^ failedBit)
		default:
			return
		}
	}
	b.report(errOf(o))
}

// report hands one closed-state outcome to gobreaker. Called under mu.
func (b *Breaker) report(err error) {
	if done, aerr := b.gb.Allow(); aerr == nil {
		done(err)
	}
}

// gobreakerChanged is gobreaker's OnStateChange. gobreaker is only called
// under mu, so this runs under mu (and gobreaker's own mutex: it must not
// call gobreaker).
func (b *Breaker) gobreakerChanged(_ string, from, to gobreaker.State) {
	var flags uint64
	switch State(to) {
	case Open:
		now := b.now()
		if State(from) == Closed {
			b.level = b.cfg.decayed(b.level, time.Duration(now-b.closedAt))
		}
		b.level = min(b.level+1, maxLevel)
		prev := b.lastOpen
		if b.level == 1 {
			prev = 0
		}
		d := b.cfg.openTime(b.level, prev)
		b.lastOpen = d
		b.probeAt.Store(satAdd(now, d))
		if len(b.probes) > 0 {
			flags = engineBit
		}
	case HalfOpen:
		flags = b.word.Load() & engineBit
	case Closed:
		b.closedAt = b.now()
	}
	b.stopTimer()
	b.setWord(State(to), flags)
	b.schedule()
}

// satAdd returns t+d, saturated at the largest time.
func satAdd(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return t + int64(d)
}

// setWord moves the state word to state to with the given flags, in a new
// generation, and queues the transition for OnStateChange if the state
// changed. Called under mu; the queue is delivered by unlock.
func (b *Breaker) setWord(to State, flags uint64) {
	old := b.word.Load()
	b.word.Store((old>>genShift+1)<<genShift | flags | uint64(to))
	if from := stateOf(old); from != to && b.cfg.onChange != nil {
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

// State returns the breaker's state. With no [Probe] registered, an open
// breaker whose open time is up becomes half-open here (and reports it
// through OnStateChange), as it would on the next Allow. A nil *Breaker
// is Closed.
func (b *Breaker) State() State {
	if b == nil {
		return Closed
	}
	w := b.word.Load()
	if b.callersDue(w) {
		b.mu.Lock()
		if b.callersDue(b.word.Load()) {
			b.gb.State() // moves gobreaker, and so this breaker, to half-open
		}
		b.unlock()
		w = b.word.Load()
	}
	return stateOf(w)
}

// callersDue reports whether w is an open breaker whose callers may probe
// now.
func (b *Breaker) callersDue(w uint64) bool {
	return w&(stateMask|forcedBit|engineBit) == uint64(Open) && b.retryIn(w) == 0
}

// RetryIn returns how long from now the open breaker's next probe is due:
// 0 when closed (one atomic load), half-open, or open with the probe due.
// A breaker forced open also returns 0, as it has no schedule: it stays
// open until [Breaker.Release], which [Counts].Forced tells. Callers use
// it to skip a retry whose delay ends before the breaker could close. A
// nil *Breaker returns 0.
func (b *Breaker) RetryIn() time.Duration {
	if b == nil {
		return 0
	}
	w := b.word.Load()
	if stateOf(w) == Closed {
		return 0
	}
	return b.retryIn(w)
}

func (b *Breaker) retryIn(w uint64) time.Duration {
	if stateOf(w) != Open || w&forcedBit != 0 {
		return 0
	}
	return max(time.Duration(b.probeAt.Load()-b.now()), 0)
}

// Counts returns a snapshot of the breaker's state and counters. Its
// State is what [Breaker.State] returns, read first.
func (b *Breaker) Counts() Counts {
	if b == nil {
		return Counts{}
	}
	st := b.State()
	b.mu.Lock()
	defer b.unlock()
	w := b.word.Load()
	n := b.gb.Counts()
	return Counts{
		State:               st,
		Forced:              w&forcedBit != 0,
		Requests:            n.Requests,
		Failures:            n.TotalFailures,
		ConsecutiveFailures: n.ConsecutiveFailures,
		Level:               b.level,
		RetryIn:             b.retryIn(w),
	}
}

// ForceOpen isolates the node: every call is refused with an [*OpenError]
// (RetryIn 0) until [Breaker.Release], and no probe runs. It is an
// operator's overlay on gobreaker, which is left as it was and not
// consulted meanwhile. Calls allowed before are not counted. The change
// is reported through OnStateChange unless the breaker was already open.
func (b *Breaker) ForceOpen() { b.force(Open) }

// ForceClose lets every call through and counts nothing until
// [Breaker.Release], and no probe runs: an operator's overlay, like
// ForceOpen. The change is reported through OnStateChange unless the
// breaker was already closed.
func (b *Breaker) ForceClose() { b.force(Closed) }

func (b *Breaker) force(to State) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.unlock()
	if w := b.word.Load(); w&forcedBit == 0 || stateOf(w) != to {
		b.stopTimer()
		b.setWord(to, forcedBit)
	}
}

// Release returns the breaker to automatic operation in a fresh closed
// state: gobreaker is replaced by a new one, the level of opening is 0,
// a pending probe is stopped, and outcomes of calls (and of a probe)
// allowed before are not counted. It also resets a breaker that was not
// forced. The change is reported through OnStateChange unless the breaker
// was already closed. Registered probes stay registered.
func (b *Breaker) Release() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.unlock()
	b.stopTimer()
	b.gb = b.newGobreaker()
	b.level, b.lastOpen, b.closedAt = 0, 0, b.now()
	b.setWord(Closed, 0)
}
