package breaker

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Probe asks the node whether it is back, for example with a PING that
// bypasses the breaker, and returns Success (it answered), Failure (it is
// still unhealthy) or Ignore (no verdict: for example the client that
// reaches the node was closed). ctx carries the deadline of
// [Settings.ProbeTimeout]; the probe must return soon after ctx is done,
// since the breaker runs one probe at a time and waits for it. It must not
// panic, and should not call the breaker's Allow or Done. A nil Probe is
// not registered by [Breaker.AddProbe].
type Probe func(ctx context.Context) Outcome

// probeEntry gives a registered Probe an identity, for its remove func.
type probeEntry struct{ fn Probe }

// retryGap is how long the engine waits when gobreaker is not yet past its
// own open time although the schedule says the probe is due; with the
// schedule's clock being time.Now this does not happen, but the breaker's
// tests may move that clock.
const retryGap = time.Millisecond

// AddProbe registers p as an engine probe of the breaker and returns the
// function that unregisters it (safe to call more than once, and from any
// goroutine). A client that reaches the node registers one, and removes it
// when it is closed.
//
// While at least one probe is registered, callers never act as probes:
// from the moment the breaker opens until it closes, every call is refused
// at once, without a lock. Instead, when the open time is up a timer
// (no goroutine waits meanwhile) takes gobreaker's half-open slot and runs
// one probe, with a deadline of ProbeTimeout:
//
//   - Success: gobreaker closes after HalfOpenProbes successes in a row;
//     until then the next probe runs at once.
//   - Failure: gobreaker opens again; the level of opening goes up by one
//     and the next probe is scheduled after the next, longer, open time.
//   - Ignore: no verdict; the slot is freed and the next registered probe
//     is tried. When every one said Ignore, the breaker falls back to its
//     callers: they may act as probes until it opens again.
//
// Registered probes are tried in turn; at most one runs at a time per
// breaker. ForceOpen, ForceClose and Release stop a pending probe (one
// that is running finishes, and its outcome is dropped). A probe added
// while the breaker is half-open with callers probing takes over only if
// none of them is still out; otherwise it serves from the next opening.
// A nil p registers nothing. On a nil *Breaker, AddProbe does nothing and
// returns a func that does nothing.
func (b *Breaker) AddProbe(p Probe) (remove func()) {
	if b == nil || p == nil {
		return func() {}
	}
	e := &probeEntry{fn: p}
	b.mu.Lock()
	b.probes = append(b.probes, e)
	if w := b.word.Load(); w&(forcedBit|engineBit) == 0 {
		if st := stateOf(w); st == Open || st == HalfOpen && !b.callerProbesOut() {
			b.word.Store(w | engineBit)
			b.schedule()
		}
	}
	b.unlock()
	return func() { b.removeProbe(e) }
}

func (b *Breaker) removeProbe(e *probeEntry) {
	b.mu.Lock()
	defer b.unlock()
	i := slices.Index(b.probes, e)
	if i < 0 {
		return
	}
	b.probes = slices.Delete(b.probes, i, i+1)
	if w := b.word.Load(); len(b.probes) == 0 && w&engineBit != 0 && !b.running {
		// Back to callers as probes. A running round does this itself
		// when it finds no probe left.
		b.stopTimer()
		b.word.Store(w &^ engineBit)
	}
}

// callerProbesOut reports whether callers hold half-open probe slots whose
// outcome gobreaker has not seen. Called under mu.
func (b *Breaker) callerProbesOut() bool {
	n := b.gb.Counts()
	return n.Requests > n.TotalSuccesses+n.TotalFailures+n.TotalExclusions
}

// schedule arms the engine probe's timer if the breaker needs one: engine
// probes decide, none is running or pending, and the breaker is open (the
// timer fires when the probe is due) or half-open (at once). Called under
// mu.
func (b *Breaker) schedule() {
	w := b.word.Load()
	if w&(forcedBit|engineBit) != engineBit || b.running || b.timer != nil || len(b.probes) == 0 {
		return
	}
	var d time.Duration
	switch stateOf(w) {
	case Open:
		d = b.retryIn(w)
	case HalfOpen:
	default:
		return
	}
	b.timerSeq++
	seq := b.timerSeq
	b.timer = time.AfterFunc(d, func() { b.probeRound(seq) })
}

// stopTimer cancels the pending engine probe, if any. A timer whose
// function already started finds its seq outdated and does nothing.
// Called under mu.
func (b *Breaker) stopTimer() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.timerSeq++
}

// probeRound runs engine probes, one at a time, until one gives a verdict
// that needs no immediate follow-up: it is the function of the timer that
// schedule arms, identified by seq.
func (b *Breaker) probeRound(seq uint64) {
	b.mu.Lock()
	if seq != b.timerSeq {
		b.unlock()
		return
	}
	b.timer = nil
	b.running = true
	for ignored := 0; ; {
		w := b.word.Load()
		if w&(forcedBit|engineBit) != engineBit || stateOf(w) == Closed {
			break
		}
		if len(b.probes) == 0 || ignored >= len(b.probes) {
			b.word.Store(w &^ engineBit) // fall back to callers as probes
			break
		}
		done, err := b.gb.Allow() // open: gobreaker moves to half-open
		if errors.Is(err, gobreaker.ErrOpenState) {
			b.probeAt.Store(b.now() + int64(retryGap))
			break
		}
		if err != nil { // callers hold the slots: their outcomes decide
			b.word.Store(w &^ engineBit)
			break
		}
		gen := b.word.Load()
		p := b.probes[b.next%len(b.probes)].fn
		b.next++
		b.unlock() // delivers open->half-open, outside the lock
		o := b.runProbe(p)
		b.mu.Lock()
		if !sameGen(b.word.Load(), gen) {
			break // forced or released meanwhile: the outcome is stale
		}
		done(errOf(o))
		if o == Failure {
			break // open again, level+1: the next probe waits its turn
		}
		if o == Success {
			ignored = 0 // closed, or half-open and more successes needed
		} else {
			ignored++
		}
	}
	b.running = false
	b.schedule()
	b.unlock()
}

func (b *Breaker) runProbe(p Probe) Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.probeTimeout)
	defer cancel()
	return p(ctx)
}
