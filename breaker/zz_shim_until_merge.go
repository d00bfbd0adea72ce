package breaker

import (
	"context"
	"time"
)

// Temporary: the breaker branch brings the real ones.

type Probe func(ctx context.Context) Outcome

func (b *Breaker) AddProbe(p Probe) (remove func()) { return func() {} }

func (b *Breaker) RetryIn() time.Duration {
	if b == nil {
		return 0
	}
	return b.Counts().RetryIn
}

func (b *Budget) Refund() {}
