package breaker

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxCredit is the default [BudgetSettings.MaxCredit].
const DefaultMaxCredit = 100

// creditSlack absorbs float rounding, so that ten requests at Ratio 0.1
// pay for one retry although 0.1 added ten times is below 1.
const creditSlack = 1e-9

// BudgetSettings configures a [Budget]. A retry is allowed when the
// ceiling has a token AND (the ratio credit has one retry OR the floor
// has a token). A zero BudgetSettings limits nothing. It is a plain
// value: [NewBudget] copies it.
type BudgetSettings struct {
	// Ratio is the number of retries allowed per first attempt, for
	// example 0.1 for at most 10% extra load. 0 means no ratio limit
	// (only MaxPerSecond limits). Must be finite and not negative.
	Ratio float64

	// MaxCredit caps the ratio credit, in retries: every first attempt
	// adds Ratio to the credit and every retry the credit pays for takes
	// 1, but the credit never exceeds MaxCredit, so a long healthy period
	// cannot bank an unbounded burst of retries for the next outage.
	// Default DefaultMaxCredit (100). Must be at least 1.
	MaxCredit float64

	// MinPerSecond is a floor: retries are allowed at this rate even with
	// little traffic (a bucket of burst max(1, ⌈MinPerSecond⌉)), for
	// example 10. 0 means no floor. It only matters with a Ratio: without
	// one, retries are not limited by traffic in the first place.
	MinPerSecond float64

	// MaxPerSecond is a hard ceiling on retries, a token bucket of Burst
	// tokens refilled at this rate, whatever the ratio or the floor
	// allow. 0 means no ceiling. Must not be below MinPerSecond.
	MaxPerSecond float64

	// Burst is the ceiling's bucket size; default max(1, ⌈MaxPerSecond⌉).
	// Setting it without MaxPerSecond is invalid.
	Burst int
}

// DefaultBudgetSettings returns settings for a typical client: retries up
// to 10% of first attempts, and 10 per second whatever the traffic.
func DefaultBudgetSettings() BudgetSettings {
	return BudgetSettings{Ratio: 0.1, MinPerSecond: 10}
}

// Validate reports the first bad setting, naming it; the error matches
// [ErrInvalid].
func (s BudgetSettings) Validate() error {
	if err := checkRate("BudgetSettings.Ratio", s.Ratio); err != nil {
		return err
	}
	if err := checkRate("BudgetSettings.MaxCredit", s.MaxCredit); err != nil {
		return err
	}
	if s.MaxCredit != 0 && s.MaxCredit < 1 {
		return invalid("BudgetSettings.MaxCredit", "(%v) is below 1: the ratio could never pay for a retry", s.MaxCredit)
	}
	if err := checkRate("BudgetSettings.MinPerSecond", s.MinPerSecond); err != nil {
		return err
	}
	if err := checkRate("BudgetSettings.MaxPerSecond", s.MaxPerSecond); err != nil {
		return err
	}
	if s.MaxPerSecond > 0 && s.MaxPerSecond < s.MinPerSecond {
		return invalid("BudgetSettings.MaxPerSecond", "(%v) is below MinPerSecond (%v)", s.MaxPerSecond, s.MinPerSecond)
	}
	if s.Burst < 0 {
		return invalid("BudgetSettings.Burst", "(%d) is negative", s.Burst)
	}
	if s.Burst > 0 && s.MaxPerSecond == 0 {
		return invalid("BudgetSettings.Burst", "(%d) is set without MaxPerSecond", s.Burst)
	}
	return nil
}

func checkRate(setting string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return invalid(setting, "(%v) must be finite and not negative", v)
	}
	return nil
}

// burstFor is the default bucket size of a rate: max(1, ⌈r⌉).
func burstFor(r float64) int {
	if r >= math.MaxInt32 {
		return math.MaxInt32
	}
	return max(1, int(math.Ceil(r)))
}

// Budget limits retries so that a fleet of clients cannot multiply an
// outage: every first attempt is counted with [Budget.Request], and every
// retry must be allowed by [Budget.AllowRetry]. It is safe for concurrent
// use by multiple goroutines, and meant to be shared by several policies
// and clients. A nil *Budget allows every retry; the zero Budget is not
// usable (use [NewBudget]).
type Budget struct {
	requests atomic.Uint64
	_        [56]byte // Request's counter is contended; keep it alone

	ratio     float64
	maxCredit float64
	now       func() time.Time // time.Now; a seam for this package's tests

	mu       sync.Mutex
	seen     uint64  // requests already turned into credit
	credit   float64 // retries the ratio pays for, at most maxCredit
	floor    *rate.Limiter
	ceil     *rate.Limiter
	ceilBack int // ceiling tokens refunded, spent before the bucket's
	retries  uint64
	refused  uint64
}

// NewBudget returns a budget with the given settings, or an error
// matching [ErrInvalid] when they are invalid.
func NewBudget(s BudgetSettings) (*Budget, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b := &Budget{ratio: s.Ratio, maxCredit: s.MaxCredit, now: time.Now}
	if b.maxCredit == 0 {
		b.maxCredit = DefaultMaxCredit
	}
	if s.Ratio > 0 && s.MinPerSecond > 0 {
		b.floor = rate.NewLimiter(rate.Limit(s.MinPerSecond), burstFor(s.MinPerSecond))
	}
	if s.MaxPerSecond > 0 {
		burst := s.Burst
		if burst == 0 {
			burst = burstFor(s.MaxPerSecond)
		}
		b.ceil = rate.NewLimiter(rate.Limit(s.MaxPerSecond), burst)
	}
	return b, nil
}

// Request counts one first attempt, which earns Ratio retries of credit.
// It is one atomic add: no lock, no clock, no allocation.
func (b *Budget) Request() {
	if b != nil {
		b.requests.Add(1)
	}
}

// AllowRetry reports whether a retry may run now, and if so takes it from
// the budget: from the ceiling, and from the ratio credit or else the
// floor. Callers turn a refusal into
// &ThrottledError{Reason: ReasonBudget, Last: lastErr}.
func (b *Budget) AllowRetry() bool {
	if b == nil {
		return true
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.take(now) {
		b.retries++
		return true
	}
	b.refused++
	return false
}

// take decides under mu. The limiters are only used under mu, so checking
// a bucket before drawing from it is exact.
func (b *Budget) take(now time.Time) bool {
	if b.ceil != nil && b.ceilBack == 0 && b.ceil.TokensAt(now) < 1 {
		return false
	}
	if b.ratio > 0 {
		reqs := b.requests.Load()
		b.credit = min(b.credit+float64(reqs-b.seen)*b.ratio, b.maxCredit)
		b.seen = reqs
		switch {
		case b.credit >= 1-creditSlack:
			b.credit = max(b.credit-1, 0)
		case b.floor != nil && b.floor.AllowN(now, 1):
		default:
			return false
		}
	}
	switch {
	case b.ceilBack > 0:
		b.ceilBack--
	case b.ceil != nil:
		b.ceil.AllowN(now, 1)
	}
	return true
}

// Refund gives back one retry that [Budget.AllowRetry] allowed but the
// caller did not run, for example because its delay would end after the
// context's deadline, or before the node's breaker could close: the ratio
// credit (up to MaxCredit) and the ceiling get it back, and Stats counts it
// neither as allowed nor as refused. A Refund with no allowed retry left to
// give back does nothing; a refund the floor paid for goes to the credit.
// Callers must refund only a retry they were allowed and did not run.
func (b *Budget) Refund() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.retries == 0 {
		return
	}
	b.retries--
	if b.ratio > 0 {
		b.credit = min(b.credit+1, b.maxCredit)
	}
	if b.ceil != nil {
		b.ceilBack = min(b.ceilBack+1, b.ceil.Burst())
	}
}

// Stats returns the first attempts counted, the retries allowed (less
// those refunded) and the retries refused so far.
func (b *Budget) Stats() (requests, retries, refused uint64) {
	if b == nil {
		return 0, 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests.Load(), b.retries, b.refused
}
