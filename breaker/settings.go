package breaker

import (
	"math"
	"time"

	"github.com/go-retryable/retryable/backoff"
	"github.com/sony/gobreaker/v2"
)

// Defaults of [Settings] fields left at zero.
const (
	// DefaultConsecutiveFailures is the trip threshold when neither
	// ConsecutiveFailures nor FailureRatio is set.
	DefaultConsecutiveFailures = 5
	// DefaultMinRequests is the default MinRequests of the ratio mode.
	DefaultMinRequests = 20
	// DefaultInterval is the default Interval of the ratio mode.
	DefaultInterval = 10 * time.Second
	// DefaultOpenTimeout is the default OpenTimeout: the first open time
	// is 25-50 ms. A Redis node has no stand-in, so every moment its
	// breaker stays open after it is back is an outage of its own; a
	// probe costs one PING.
	DefaultOpenTimeout = 50 * time.Millisecond
	// DefaultMaxOpenTimeout is the default MaxOpenTimeout: however long a
	// node stays down, it is probed every 250-500 ms.
	DefaultMaxOpenTimeout = 500 * time.Millisecond
	// DefaultDecayInterval is the default DecayInterval.
	DefaultDecayInterval = 10 * time.Second
	// DefaultHalfOpenProbes is the default HalfOpenProbes.
	DefaultHalfOpenProbes = 1
	// DefaultProbeTimeout is the default ProbeTimeout.
	DefaultProbeTimeout = time.Second
)

const (
	// maxLevel caps the level of opening, so that a node down for days
	// keeps a bounded level to decay from.
	maxLevel = 32
	// minOpenTime is the shortest open time of a custom OpenBackoff (and
	// of a default schedule with a tiny OpenTimeout): gobreaker takes a
	// zero Timeout for 60 s, and a probe a millisecond is plenty.
	minOpenTime = time.Millisecond
)

// Settings configures the breakers of [New] and [NewGroup]. Zero fields
// mean the documented defaults, so Settings{} is a breaker that opens after
// 5 failures in a row, stays open 25-50 ms the first time and up to
// 250-500 ms while probes keep failing, and closes after one successful
// probe. Settings is a plain value: [New] copies what it needs.
//
// Only outcomes reported as [Failure] count against a node; [Success]
// resets the run of consecutive failures; [Ignore] counts as neither.
type Settings struct {
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row (0 = off). When neither it nor FailureRatio is set it is
	// DefaultConsecutiveFailures (5). When both are set, either trips.
	ConsecutiveFailures uint32

	// FailureRatio trips the breaker when failures/requests >= FailureRatio
	// over gobreaker's rolling window of Interval (ten buckets of
	// Interval/10), once at least MinRequests outcomes (successes and
	// failures) are in it. 0 turns the ratio off; otherwise it must be in
	// (0, 1].
	//
	// The ratio costs every call a lock, clock reads and an allocation:
	// each outcome goes to gobreaker, which counts it under its mutex at
	// time.Now, through the callback its TwoStepCircuitBreaker allocates
	// (about 200 ns and 48 bytes a call on a small machine, against a few
	// ns and nothing without the ratio).
	FailureRatio float64

	// MinRequests is the number of outcomes the window needs before
	// FailureRatio may trip it. Default DefaultMinRequests (20).
	MinRequests uint32

	// Interval is the length of the FailureRatio window. Default
	// DefaultInterval (10 s). Negative is invalid.
	Interval time.Duration

	// OpenTimeout is the longest first open time: the first opening lasts
	// a random time in [OpenTimeout/2, OpenTimeout] (equal jitter, so that
	// the breakers of many clients do not probe together), each failed
	// probe doubles it, up to MaxOpenTimeout. Default DefaultOpenTimeout
	// (50 ms). Negative is invalid.
	OpenTimeout time.Duration

	// MaxOpenTimeout caps the open time of the default schedule (the open
	// time is then in [MaxOpenTimeout/2, MaxOpenTimeout]). Default
	// DefaultMaxOpenTimeout (500 ms), or OpenTimeout when that is longer.
	// Below OpenTimeout, or negative, is invalid.
	MaxOpenTimeout time.Duration

	// OpenBackoff, when set, replaces the default schedule
	// backoff.EqualJitter(backoff.NewExponential(OpenTimeout,
	// MaxOpenTimeout, 2)): the breaker stays open OpenBackoff.Delay(level,
	// prev), where level is the level of opening (see DecayInterval) and
	// prev is the previous open time (0 when level is 1). Delays below
	// 1 ms count as 1 ms. OpenTimeout and MaxOpenTimeout are then unused.
	// It is checked by backoff.Validate.
	OpenBackoff backoff.Strategy

	// DecayInterval is how long a node must stay healthy (closed) for its
	// level of opening to drop by one. The level, an ejection multiplier
	// as in Envoy's and gRPC's outlier detection, picks the open time: a
	// trip from closed sets it to max(level - ⌊healthy time since the last
	// close / DecayInterval⌋, 0) + 1, and each failed probe adds one (up
	// to 32). So a node that flaps keeps its longer open times, while one
	// that recovered for good soon starts again from the shortest.
	// Default DefaultDecayInterval (10 s). Negative is invalid.
	DecayInterval time.Duration

	// HalfOpenProbes is the number of successful probes, in a row, that
	// close the breaker; one failed probe opens it again. Probes reported
	// as Ignore free their slot and decide nothing. Default
	// DefaultHalfOpenProbes (1).
	HalfOpenProbes uint32

	// ProbeTimeout is the deadline of the context given to a [Probe].
	// Default DefaultProbeTimeout (1 s). Negative is invalid.
	ProbeTimeout time.Duration

	// OnStateChange, when set, is called once per state transition, with
	// the node's name. It is never called under a lock of the breaker, so
	// it may call the breaker back (even ForceOpen); calls for one breaker
	// never overlap and come in order, but they run on the goroutine of
	// whichever breaker call (or engine probe) caused the transition,
	// possibly after that call's result was observed elsewhere. Breakers
	// of a [Group] share it, so it may run concurrently for different
	// nodes. It must not panic and should return quickly.
	OnStateChange func(node string, from, to State)
}

// Validate reports the first bad setting, naming it; the error matches
// [ErrInvalid]. A zero Settings is valid.
func (s Settings) Validate() error {
	r := s.FailureRatio
	switch {
	case math.IsNaN(r) || r < 0 || r > 1:
		return invalid("Settings.FailureRatio", "(%v) must be 0 (off) or in (0, 1]", r)
	case s.Interval < 0:
		return invalid("Settings.Interval", "(%v) is negative", s.Interval)
	case s.OpenTimeout < 0:
		return invalid("Settings.OpenTimeout", "(%v) is negative", s.OpenTimeout)
	case s.MaxOpenTimeout < 0:
		return invalid("Settings.MaxOpenTimeout", "(%v) is negative", s.MaxOpenTimeout)
	case s.DecayInterval < 0:
		return invalid("Settings.DecayInterval", "(%v) is negative", s.DecayInterval)
	case s.ProbeTimeout < 0:
		return invalid("Settings.ProbeTimeout", "(%v) is negative", s.ProbeTimeout)
	}
	if open := orDefault(s.OpenTimeout, DefaultOpenTimeout); s.MaxOpenTimeout != 0 && s.MaxOpenTimeout < open {
		return invalid("Settings.MaxOpenTimeout", "(%v) is below OpenTimeout (%v)", s.MaxOpenTimeout, open)
	}
	if s.OpenBackoff != nil {
		if err := backoff.Validate(s.OpenBackoff); err != nil {
			return &InvalidError{Setting: "Settings.OpenBackoff", Problem: "is invalid", Err: err}
		}
	}
	return nil
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// config is a validated Settings with its defaults filled in. It is
// immutable and shared by the breakers of a Group; the tests of this
// package set its seams (now, rand) before making breakers.
type config struct {
	consecutive  uint32
	ratio        float64
	minRequests  uint32
	interval     time.Duration
	openBackoff  backoff.Strategy // the schedule, never nil
	floor        time.Duration    // the shortest open time the schedule gives
	decay        time.Duration
	probes       uint32
	probeTimeout time.Duration
	onChange     func(node string, from, to State)

	// now is the clock of the schedule (open times, decay); gobreaker
	// reads time.Now itself.
	now func() time.Time
}

func (s Settings) config() (*config, error) {
	return s.configWith(nil)
}

// configWith returns the config of s; r, when not nil, is the random
// source of the default schedule's jitter (a seam for tests).
func (s Settings) configWith(r backoff.Rand) (*config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c := &config{
		consecutive:  s.ConsecutiveFailures,
		ratio:        s.FailureRatio,
		minRequests:  orDefault(s.MinRequests, DefaultMinRequests),
		interval:     orDefault(s.Interval, DefaultInterval),
		decay:        orDefault(s.DecayInterval, DefaultDecayInterval),
		probes:       orDefault(s.HalfOpenProbes, DefaultHalfOpenProbes),
		probeTimeout: orDefault(s.ProbeTimeout, DefaultProbeTimeout),
		onChange:     s.OnStateChange,
		now:          time.Now,
	}
	if c.consecutive == 0 && c.ratio == 0 {
		c.consecutive = DefaultConsecutiveFailures
	}
	if s.OpenBackoff != nil {
		c.openBackoff, c.floor = s.OpenBackoff, minOpenTime
		return c, nil
	}
	open := orDefault(s.OpenTimeout, DefaultOpenTimeout)
	maxOpen := orDefault(s.MaxOpenTimeout, max(DefaultMaxOpenTimeout, open))
	c.openBackoff = backoff.EqualJitter(backoff.NewExponential(open, maxOpen, 2)).WithRand(r)
	// Equal jitter never waits less than half the delay, and the first
	// delay, OpenTimeout, is the smallest.
	c.floor = max(open/2, minOpenTime)
	return c, nil
}

// openTime returns how long the level-th opening stays open: the
// schedule's delay, never below the floor (so never before gobreaker's
// Timeout, which is the floor).
func (c *config) openTime(level uint32, prev time.Duration) time.Duration {
	return max(c.openBackoff.Delay(int(level), prev), c.floor)
}

// decayed returns the level a trip from closed starts from, after the node
// was healthy for the given time: max(level - ⌊healthy/decay⌋, 0).
func (c *config) decayed(level uint32, healthy time.Duration) uint32 {
	if healthy <= 0 || c.decay <= 0 {
		return level
	}
	if n := healthy / c.decay; n < time.Duration(level) {
		return level - uint32(n)
	}
	return 0
}

// readyToTrip is gobreaker's ReadyToTrip, on gobreaker's own counts.
func (c *config) readyToTrip(n gobreaker.Counts) bool {
	if c.consecutive > 0 && n.ConsecutiveFailures >= c.consecutive {
		return true
	}
	return c.ratio > 0 && n.Requests >= c.minRequests &&
		float64(n.TotalFailures) >= c.ratio*float64(n.Requests)
}
