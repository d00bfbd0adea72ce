package breaker

import (
	"math"
	"time"

	"github.com/go-retryable/retryable/backoff"
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
	// DefaultOpenTimeout is the default OpenTimeout.
	DefaultOpenTimeout = 5 * time.Second
	// DefaultHalfOpenProbes is the default HalfOpenProbes.
	DefaultHalfOpenProbes = 1
)

// Settings configures the breakers of [New] and [NewGroup]. Zero fields
// mean the documented defaults, so Settings{} is a breaker that opens after
// 5 failures in a row, stays open 5 s and lets one probe through when
// half-open. Settings is a plain value: [New] copies what it needs.
//
// Only outcomes reported as [Failure] count against a node; [Success]
// resets the run of consecutive failures; [Ignore] counts as neither.
type Settings struct {
	// ConsecutiveFailures trips the breaker after this many failures in a
	// row (0 = off). When neither it nor FailureRatio is set it is
	// DefaultConsecutiveFailures (5). When both are set, either trips.
	ConsecutiveFailures uint32

	// FailureRatio trips the breaker when failures/requests >= FailureRatio
	// within one Interval, once at least MinRequests outcomes (successes
	// and failures) were seen in it. 0 turns the ratio off; otherwise it
	// must be in (0, 1].
	//
	// So that a healthy node costs no clock read, the window is anchored
	// lazily: it opens at the first failure after the previous window
	// ended and lasts Interval; successes outside a window are not kept.
	// Under heavy concurrency a count that races with the start of a new
	// window may be lost: the ratio is approximate, never unbounded.
	FailureRatio float64

	// MinRequests is the number of outcomes a window needs before
	// FailureRatio may trip it. Default DefaultMinRequests (20).
	MinRequests uint32

	// Interval is the length of a FailureRatio window. Default
	// DefaultInterval (10 s). Negative is invalid.
	Interval time.Duration

	// OpenTimeout is how long the breaker stays open before it lets
	// probes through (half-open). Default DefaultOpenTimeout (5 s).
	// Negative is invalid.
	OpenTimeout time.Duration

	// OpenBackoff, when set, makes the open time grow while the node keeps
	// failing: the n-th consecutive opening (n = 1 for the first, counted
	// until the breaker closes again) stays open OpenBackoff.Delay(n, prev)
	// where prev is the previous open time (0 the first time). A
	// non-positive delay means OpenTimeout. It is checked by
	// backoff.Validate.
	OpenBackoff backoff.Strategy

	// HalfOpenProbes is the number of calls let through while half-open;
	// all of them must succeed to close the breaker, and one failure opens
	// it again. Probes reported as Ignore free their slot. Default
	// DefaultHalfOpenProbes (1).
	HalfOpenProbes uint32

	// OnStateChange, when set, is called once per state transition, with
	// the node's name. It is never called under a lock of the breaker, so
	// it may call the breaker back (even ForceOpen); calls for one breaker
	// never overlap and come in order, but they run on the goroutine of
	// whichever breaker call caused or found the transition, possibly
	// after that call's result was observed elsewhere. Breakers of a
	// [Group] share it, so it may run concurrently for different nodes.
	// It must not panic and should return quickly.
	OnStateChange func(node string, from, to State)

	// Now is the clock; nil means time.Now. It is a seam for tests: it is
	// read only when a call fails, when the breaker is open, and by
	// State and Counts, never on the success path.
	Now func() time.Time
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
	}
	if s.OpenBackoff != nil {
		if err := backoff.Validate(s.OpenBackoff); err != nil {
			return &InvalidError{Setting: "Settings.OpenBackoff", Problem: "is invalid", Err: err}
		}
	}
	return nil
}

// config is a validated Settings with its defaults filled in. It is
// immutable and shared by the breakers of a Group.
type config struct {
	consecutive uint32
	ratio       float64
	minRequests uint32
	interval    int64 // ns
	openTimeout time.Duration
	openBackoff backoff.Strategy
	probes      uint32
	onChange    func(node string, from, to State)
	now         func() time.Time
}

func (s Settings) config() (*config, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c := &config{
		consecutive: s.ConsecutiveFailures,
		ratio:       s.FailureRatio,
		minRequests: s.MinRequests,
		interval:    int64(s.Interval),
		openTimeout: s.OpenTimeout,
		openBackoff: s.OpenBackoff,
		probes:      s.HalfOpenProbes,
		onChange:    s.OnStateChange,
		now:         s.Now,
	}
	if c.consecutive == 0 && c.ratio == 0 {
		c.consecutive = DefaultConsecutiveFailures
	}
	if c.minRequests == 0 {
		c.minRequests = DefaultMinRequests
	}
	if c.interval == 0 {
		c.interval = int64(DefaultInterval)
	}
	if c.openTimeout == 0 {
		c.openTimeout = DefaultOpenTimeout
	}
	if c.probes == 0 {
		c.probes = DefaultHalfOpenProbes
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// ratioTrips reports whether a packed window (requests<<32 | failures)
// reaches the failure ratio.
func (c *config) ratioTrips(w uint64) bool {
	reqs, fails := uint32(w>>32), uint32(w)
	if c.ratio == 0 || reqs < c.minRequests {
		return false
	}
	return float64(min(fails, reqs)) >= c.ratio*float64(reqs)
}
