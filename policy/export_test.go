package policy

import (
	"context"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/breaker"
)

// What the hooks read through the bridge, for this package's external
// tests.

func MaxAttemptsOf(p Policy, cmd string) int { return p.cfg().rulesFor(cmd).maxAttempts }

func AttemptTimeoutOf(p Policy, cmd string) time.Duration {
	return p.cfg().engine.Rules(cmd).AttemptTimeout
}

func HasAttemptTimeout(p Policy) bool {
	c := p.cfg()
	if c.base.attemptTimeout > 0 {
		return true
	}
	for _, r := range c.rules {
		if r.attemptTimeout > 0 {
			return true
		}
	}
	return false
}

func Slow(p Policy) bool                            { return p.cfg().engine.Slow }
func LookupOf(p Policy, args []any) retryable.Info  { return p.cfg().engine.Lookup(args) }
func BudgetOf(p Policy) *breaker.Budget             { return p.cfg().engine.Budget }
func LimiterOf(p Policy) *breaker.Limiter           { return p.cfg().engine.Limiter }
func FallbackOf(p Policy, cmd string) FallbackFunc  { return p.cfg().engine.Rules(cmd).Fallback }
func SwallowsOf(p Policy, cmd string) bool          { return p.cfg().engine.Rules(cmd).Swallow }
func EmitOf(p Policy, ctx context.Context, e Event) { p.cfg().engine.Emit(ctx, e) }
func ObservedOf(p Policy) bool                      { return p.cfg().engine.Observed }
func RetriesDisabled(ctx context.Context) bool      { return retriesDisabled(ctx) }
func SetLogClock(p Policy, now func() time.Time)    { p.cfg().logger.now = now }
