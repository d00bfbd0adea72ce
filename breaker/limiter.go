package breaker

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is an admission limit for calls: a token bucket refilled at a
// fixed rate, on golang.org/x/time/rate. It is safe for concurrent use by
// multiple goroutines. A nil *Limiter admits everything; the zero Limiter
// is not usable (use [NewLimiter]).
type Limiter struct {
	lim  *rate.Limiter
	wait bool
	now  func() time.Time // refusing mode only; rate.Limiter.Wait uses time.Now
}

// NewLimiter returns a limiter of perSecond calls per second with bursts
// of burst calls (0 means max(1, ⌈perSecond⌉)). With wait set, Admit waits
// for a token; otherwise it refuses at once. perSecond must be positive
// and finite, burst not negative; the error matches [ErrInvalid].
func NewLimiter(perSecond float64, burst int, wait bool) (*Limiter, error) {
	if math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond <= 0 {
		return nil, invalid("NewLimiter perSecond", "(%v) must be positive and finite", perSecond)
	}
	if burst < 0 {
		return nil, invalid("NewLimiter burst", "(%d) is negative", burst)
	}
	if burst == 0 {
		burst = burstFor(perSecond)
	}
	return &Limiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst), wait: wait, now: time.Now}, nil
}

// Admit takes a token for one call. A refusing limiter returns
// &ThrottledError{Reason: ReasonRateLimit} at once when no token is left.
// A waiting limiter waits for a token, but never past ctx's deadline: when
// the wait would end after it, Admit returns that error at once, without
// waiting. If ctx is done before a token is taken, Admit returns ctx.Err()
// unchanged: the caller gave up, it was not throttled.
func (l *Limiter) Admit(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if !l.wait {
		if l.lim.AllowN(l.now(), 1) {
			return nil
		}
		return &ThrottledError{Reason: ReasonRateLimit}
	}
	if err := l.lim.Wait(ctx); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return &ThrottledError{Reason: ReasonRateLimit}
	}
	return nil
}
