package policy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-retryable/retryable"
	"github.com/go-retryable/retryable/backoff"
	"github.com/go-retryable/retryable/breaker"
)

// Cmd is the part of a go-redis command a policy looks at. Every
// redis.Cmder satisfies it, so a [FallbackFunc] can type-assert the command
// it is given (for example to *redis.StringCmd) and set its value.
type Cmd interface {
	Name() string
	Args() []any
}

// FallbackFunc runs when a command fails for good (graceful degradation). It
// receives the final error. Returning nil turns the call into a success
// (after setting the command's value, if the caller reads one); returning an
// error gives that error to the caller instead. It runs on the caller's
// goroutine and must be safe for concurrent use.
type FallbackFunc func(ctx context.Context, cmd Cmd, err error) error

// RetryOn sets the classes that are retried, replacing the previous set.
// A class covers its kinds: RetryOn(retryable.Connection) also retries
// Timeout and BusyLoading. OK, Response, Data, Canceled and Closed are never
// retried and are an error here.
func RetryOn(classes ...retryable.Class) Option {
	return func(c *config) error {
		for _, cl := range classes {
			switch cl {
			case retryable.OK, retryable.Response, retryable.Data, retryable.Canceled, retryable.Closed:
				return fmt.Errorf("%sRetryOn: %v is never retried", c.prefix(), cl)
			}
			if !knownClass(cl) {
				return fmt.Errorf("%sRetryOn: unknown class %d", c.prefix(), cl)
			}
		}
		c.retryOn = setOf(classes...)
		c.abortOn &^= c.retryOn
		return nil
	}
}

// AbortOn sets classes that stop the retries at once, even when RetryOn or
// RetryIf would retry them. Use it to carve a kind out of a wider class:
// RetryOn(Connection) with AbortOn(Timeout) retries refused connections but
// not timeouts.
func AbortOn(classes ...retryable.Class) Option {
	return func(c *config) error {
		for _, cl := range classes {
			if !knownClass(cl) {
				return fmt.Errorf("%sAbortOn: unknown class %d", c.prefix(), cl)
			}
		}
		c.abortOn = setOf(classes...)
		c.retryOn &^= c.abortOn
		return nil
	}
}

// RetryIf adds a predicate consulted for failures that RetryOn does not
// retry: returning true retries them (the command-safety rule and every limit
// still apply; OK, Response, Data, Canceled and Closed are never retried and
// never reach it). It must be cheap, pure and safe for concurrent use. A nil
// predicate removes it.
func RetryIf(f func(Failure) bool) Option {
	return func(c *config) error {
		c.retryIf = f
		return nil
	}
}

// MaxAttempts caps the number of attempts, the first included: 1 means no
// retries. It must be at least 1; there is no "retry forever".
func MaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%sMaxAttempts: %d attempts: must be at least 1 (1 means no retries)", c.prefix(), n)
		}
		c.maxAttempts = n
		return nil
	}
}

// MaxElapsed caps the time spent retrying, measured from the first failure
// (so the success path never reads the clock). A retry whose delay would end
// past it is not started. Zero means no cap besides the context's deadline.
func MaxElapsed(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%sMaxElapsed: negative duration %v", c.prefix(), d)
		}
		c.maxElapsed = d
		return nil
	}
}

// AttemptTimeout gives each attempt its own deadline, within the caller's.
// It costs a context and a timer per call, so it is off (zero) by default;
// the client's ReadTimeout already bounds each socket read.
func AttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%sAttemptTimeout: negative duration %v", c.prefix(), d)
		}
		c.attemptTimeout = d
		return nil
	}
}

// Backoff sets the delay before each retry. A nil strategy retries at once.
// The strategy is validated here.
func Backoff(s backoff.Strategy) Option {
	return func(c *config) error {
		if s != nil {
			if err := backoff.Validate(s); err != nil {
				return fmt.Errorf("%sBackoff: %w", c.prefix(), err)
			}
		}
		c.backoff = s
		return nil
	}
}

// RetryAmbiguous lets unsafe commands (INCR, LPUSH, EVAL, ...) be retried
// after a failure that leaves it unknown whether they ran (EOF, reset, read
// timeout). Off by default: such a retry may run the command twice. Only set
// it, usually per [Command], for writes the application de-duplicates itself.
func RetryAmbiguous(on bool) Option {
	return func(c *config) error {
		c.retryAmbiguous = on
		return nil
	}
}

// Fallback sets the function that runs when a command fails for good: after
// the last attempt, on a class that is not retried, or when the breaker,
// budget or limiter refuses it. It does not run for OK, Response, Data,
// Canceled or Closed failures: those are the caller's to see. Nil removes it.
func Fallback(f FallbackFunc) Option {
	return func(c *config) error {
		c.fallback = f
		return nil
	}
}

// LogAndContinue makes the named commands swallow a final failure of a
// recoverable class: it is logged (with the policy's Logger, at Warn) and
// reported as an event, and the call returns nil. Use it for best-effort
// writes such as cache fills. Names are case-insensitive.
func LogAndContinue(names ...string) Option {
	return Command(names, swallow)
}

func swallow(c *config) error {
	c.swallow = true
	return nil
}

// Command applies opts to the named commands only, on top of the policy's
// other settings wherever the options are given: Command([]string{"xadd"},
// MaxAttempts(1)) makes XADD fail fast while the rest retries. Only
// per-command options (retries, limits, backoff, fallback)
// are allowed. Names are case-insensitive; "pipeline" and "multi" name
// pipelines and transactions.
func Command(names []string, opts ...Option) Option {
	// With re-applies opts; a copy keeps a caller's later change to the
	// slice it passed with opts... out of the policy.
	opts = slices.Clone(opts)
	return func(c *config) error {
		if len(names) == 0 {
			return fmt.Errorf("%sCommand: no command named", c.prefix())
		}
		low := make([]string, len(names))
		for i, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				return fmt.Errorf("%sCommand: empty command name", c.prefix())
			}
			low[i] = n
		}
		c.overrideOpts = append(c.overrideOpts, override{names: low, opts: opts})
		return nil
	}
}

// MarkIdempotent tells the policy that the named commands may be run twice,
// beyond the built-in table (for example a module command, or an EVALSHA
// script written to be idempotent). Names are case-insensitive.
func MarkIdempotent(names ...string) Option {
	return mark(retryable.Idempotent, "MarkIdempotent", names)
}

// MarkUnsafe tells the policy that the named commands must never run twice,
// overriding the built-in table.
func MarkUnsafe(names ...string) Option { return mark(retryable.Unsafe, "MarkUnsafe", names) }

func mark(k retryable.Kind, opt string, names []string) Option {
	return func(c *config) error {
		if err := c.global(opt); err != nil {
			return err
		}
		if len(names) == 0 {
			return fmt.Errorf("%s%s: no command named", c.prefix(), opt)
		}
		if c.marks == nil {
			c.marks = make(map[string]retryable.Kind)
		}
		for _, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				return fmt.Errorf("%s%s: empty command name", c.prefix(), opt)
			}
			c.marks[n] = k
		}
		return nil
	}
}

// Observe sets a function that receives every decision the engine makes
// (see [Event]). It runs synchronously on failure paths only, so it must be
// fast and safe for concurrent use. Nil removes it.
func Observe(f func(Event)) Option {
	return func(c *config) error {
		if err := c.global("Observe"); err != nil {
			return err
		}
		c.observer = f
		c.sinkChanged = true
		return nil
	}
}

// Logger sets a structured logger for decisions: retries at Debug, breaker
// changes at Info, give-ups, refusals and swallowed errors at Warn. Nil
// turns logging off (the default).
func Logger(l *slog.Logger) Option {
	return func(c *config) error {
		if err := c.global("Logger"); err != nil {
			return err
		}
		c.logger = l
		c.sinkChanged = true
		return nil
	}
}

// Breaker gives every node the policy runs against a circuit breaker with
// these settings. The breakers live in one [breaker.Group] made here and
// shared by every client the policy is installed on (a node is the same node
// whichever client reaches it); [Policy.Breakers] returns it for operators.
// The settings' OnStateChange is kept and the policy also reports each change
// as an event.
func Breaker(s breaker.Settings) Option {
	return func(c *config) error {
		if err := c.global("Breaker"); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("policy: Breaker: %w", err)
		}
		c.breakerSettings = &s
		c.breakers = nil
		return nil
	}
}

// NoBreaker removes the policy's circuit breaker.
func NoBreaker() Option {
	return func(c *config) error {
		if err := c.global("NoBreaker"); err != nil {
			return err
		}
		c.breakerSettings = nil
		c.breakerBase = nil
		c.breakers = nil
		return nil
	}
}

// Budget makes every retry draw from b, so that a fleet of goroutines and
// clients cannot multiply an outage. Share one budget between policies on
// purpose; nil removes it.
func Budget(b *breaker.Budget) Option {
	return func(c *config) error {
		if err := c.global("Budget"); err != nil {
			return err
		}
		c.budget = b
		return nil
	}
}

// Limit admits every command (first attempts and retries) through l. Nil
// removes it.
func Limit(l *breaker.Limiter) Option {
	return func(c *config) error {
		if err := c.global("Limit"); err != nil {
			return err
		}
		c.limiter = l
		return nil
	}
}

// global refuses an option that applies to the whole policy when it is
// given inside [Command], where it would otherwise be silently ignored
// (NoBreaker, Budget(nil), Observe(nil), ...).
func (c *config) global(opt string) error {
	if c.inOverride != "" {
		return fmt.Errorf("policy: Command(%s): %s is not a per-command option", c.inOverride, opt)
	}
	return nil
}

func (c *config) prefix() string {
	if c.inOverride != "" {
		return "policy: Command(" + c.inOverride + "): "
	}
	return "policy: "
}

func knownClass(cl retryable.Class) bool {
	for _, k := range retryable.Classes {
		if k == cl {
			return true
		}
	}
	return false
}
